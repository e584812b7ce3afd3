package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/config"
	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/email/devsmtp"
	"agora/domain/user"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// dgUser makes a confirmed user with role and returns its id, a Bearer
// credential and a browser session (cookie and CSRF token).
func dgUser(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, addr string, role user.Role) (id int64, bearer, cookie, csrf string) {
	t.Helper()
	users := user.NewService(env.DB)
	ctx := tenanttest.Ctx(c)
	u, err := users.Create(ctx, user.Registration{Email: addr, Password: "correct horse battery", FirstName: "Dee", LastName: "Gest"}, role)
	require.NoError(t, err)
	tok, err := users.CreateToken(ctx, u.ID, "test")
	require.NoError(t, err)
	sess, err := users.Login(ctx, addr, "correct horse battery", "test", "127.0.0.1")
	require.NoError(t, err)
	return int64(u.ID), "Bearer " + tok.Token, "agora_session=" + sess.Token, sess.CSRFToken
}

// dgConsents reads a user's consents straight from the city.
func dgConsents(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, id int64) email.Consents {
	t.Helper()
	cs, err := email.NewConsentService(env.DB).Get(tenanttest.Ctx(c), id)
	require.NoError(t, err)
	return cs
}

// dgSeed gives c a published project that userIDs follow, with an idea
// posted yesterday; it returns the idea's title.
func dgSeed(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, userIDs ...int64) string {
	t.Helper()
	title := "A fountain for " + c.Slug
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		ctx := context.Background()
		var project int64
		if err := tx.GetContext(ctx, &project, `INSERT INTO projects (slug, title, status, visibility, published_at)
			VALUES ('square', '{"en": "The square"}', 'published', 'public', now()) RETURNING id`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO ideas (project_id, author_id, title, status_id, created_at)
			VALUES ($1, $2, $3, (SELECT id FROM idea_statuses WHERE code = 'proposed'), now() - interval '1 day')`, project, userIDs[0], title); err != nil {
			return err
		}
		for _, id := range userIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO follows (user_id, item_type, item_id) VALUES ($1, 'project', $2)`, id, project); err != nil {
				return err
			}
		}
		return nil
	}))
	return title
}

func TestEmailConsents(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "consents")
	h := newHarness(t, env, serverOpts{})
	host := c.DefaultHost
	citizen, bearer, cookie, csrf := dgUser(t, env, c, "cit@example.org", user.RoleCitizen)
	_, adminBearer, _, _ := dgUser(t, env, c, "adm@example.org", user.RoleAdmin)

	requireProblem(t, h.call(t, "GET", host, "/api/v1/me/email-consents", ""), 401, "unauthenticated")
	requireProblem(t, h.call(t, "PUT", host, "/api/v1/me/email-consents", `{"user_digest":false}`), 401, "unauthenticated")
	decode := func(r response) map[string]bool {
		t.Helper()
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		var m map[string]bool
		require.NoError(t, json.Unmarshal([]byte(r.Body), &m))
		return m
	}
	require.Equal(t, map[string]bool{"user_digest": true, "notifications": true, "manual": true},
		decode(h.call(t, "GET", host, "/api/v1/me/email-consents", "", "Authorization", bearer)), "a citizen is subscribed to what citizens get")
	require.Equal(t, map[string]bool{"user_digest": true, "notifications": true, "manual": true, "admin_digest": true, "moderator_digest": true},
		decode(h.call(t, "GET", host, "/api/v1/me/email-consents", "", "Authorization", adminBearer)), "admins also get the staff digests")

	got := decode(h.call(t, "PUT", host, "/api/v1/me/email-consents", `{"user_digest":false}`, "Authorization", bearer))
	require.Equal(t, map[string]bool{"user_digest": false, "notifications": true, "manual": true}, got)
	p := requireProblem(t, h.call(t, "PUT", host, "/api/v1/me/email-consents", `{"newsletter":false}`, "Authorization", bearer), 422, "invalid")
	require.Contains(t, p.Detail, "newsletter")
	require.Equal(t, false, dgConsents(t, env, c, citizen)[email.UserDigest], "a refused request changed nothing")

	// The profile page: one checkbox per campaign, saved by a form.
	page := h.call(t, "GET", host, "/profile", "", "Cookie", cookie)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, `id="email-consents"`)
	require.Contains(t, page.Body, `name="consent_notifications" value="on" checked`)
	require.Contains(t, page.Body, `name="consent_user_digest" value="on">`, "the digest box is unchecked")
	require.NotContains(t, page.Body, "consent_admin_digest", "citizens do not see the staff digests")
	r := h.callForm(t, host, "/profile/email-consents", url.Values{"csrf_token": {csrf}, "consent_user_digest": {"on"}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Equal(t, "/profile?consents=1#email-consents", r.Header.Get("Location"))
	require.Equal(t, email.Consents{email.UserDigest: true, email.Notifications: false, email.Manual: false,
		email.AdminDigest: true, email.ModeratorDigest: true}, dgConsents(t, env, c, citizen))
	// The form keeps its CSRF protection.
	r = h.callForm(t, host, "/profile/email-consents", url.Values{}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusForbidden, r.Status)
	require.True(t, dgConsents(t, env, c, citizen)[email.UserDigest])
}

// TestOneClickUnsubscribe follows the List-Unsubscribe link of a real
// digest: opening it changes nothing and shows a button; a one-click POST
// (as a mail client sends it: no cookie, no CSRF token) answers 200 and
// unsubscribes; the next digest is not sent. The same link on another
// city's host, and a forged one, are refused.
func TestOneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	a := env.City(t, "unsub_a")
	b := env.City(t, "unsub_b")
	h := newHarness(t, env, serverOpts{})
	annA, _, cookieA, _ := dgUser(t, env, a, "ann@example.org", user.RoleCitizen)
	annB, _, _, _ := dgUser(t, env, b, "ann@example.org", user.RoleCitizen)
	require.Equal(t, annA, annB, "the same user id in both cities")
	dgSeed(t, env, a, annA)
	dgSeed(t, env, b, annB)

	cfg, err := config.Load(func(string) string { return "" }) // the harness's secret: the development key
	require.NoError(t, err)
	mailSrv, err := devsmtp.Start("127.0.0.1:0", 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mailSrv.Close() })
	smtp, err := email.NewSMTP(mailSrv.URL())
	require.NoError(t, err)
	digests, err := jobs.NewDigests(jobs.WorkerDeps{DB: env.DB, Registry: env.Registry, Sender: smtp,
		PortalURL: func(host string) string { return "http://" + host }, SecretKey: cfg.SecretKey, Log: discardLogger()})
	require.NoError(t, err)
	run := func(key string) {
		t.Helper()
		now := time.Now()
		task, err := jobs.NewDigestTask(a.ID, digest.User, digest.Period{Key: key, From: now.AddDate(0, 0, -7), To: now.Add(time.Hour)})
		require.NoError(t, err)
		require.NoError(t, jobs.TenantMiddleware(env.Registry, discardLogger())(asynq.HandlerFunc(digests.Send)).ProcessTask(context.Background(), task))
	}
	run("2026-W45")
	msgs := mailSrv.To("ann@example.org")
	require.Len(t, msgs, 1)
	require.Equal(t, "List-Unsubscribe=One-Click", msgs[0].Header.Get("List-Unsubscribe-Post"))
	link, err := url.Parse(strings.Trim(msgs[0].Header.Get("List-Unsubscribe"), "<>"))
	require.NoError(t, err)
	require.Equal(t, a.PrimaryHost, link.Host)
	target := link.RequestURI()

	// Opening the link (a mail scanner does) changes nothing.
	page := h.call(t, "GET", a.PrimaryHost, target, "")
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, `<form method="post" action="/unsubscribe?token=`)
	require.True(t, dgConsents(t, env, a, annA)[email.UserDigest])

	// On city B's host the token is nobody's, and B's user with the same id
	// keeps their digest.
	requireHTML(t, h.call(t, "GET", b.PrimaryHost, target, ""), 404)
	requireHTML(t, h.callForm(t, b.PrimaryHost, target, "List-Unsubscribe=One-Click"), 404)
	require.True(t, dgConsents(t, env, b, annB)[email.UserDigest])
	// A forged token (another user) is refused.
	q := link.Query()
	parts := strings.Split(q.Get("token"), ".")
	parts[1] = "999"
	forged := "/unsubscribe?token=" + url.QueryEscape(strings.Join(parts, "."))
	r := h.callForm(t, a.PrimaryHost, forged, "List-Unsubscribe=One-Click")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, r.Body)

	// RFC 8058's one-click POST: no session, no CSRF token.
	r = h.callForm(t, a.PrimaryHost, target, "List-Unsubscribe=One-Click")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	cs := dgConsents(t, env, a, annA)
	require.False(t, cs[email.UserDigest], "the one-click POST unsubscribes")
	require.True(t, cs[email.Notifications], "from that campaign only")
	require.True(t, dgConsents(t, env, b, annB)[email.UserDigest])
	// Again, from a browser where the user is logged in (the page's
	// button): still no CSRF token needed, and still 200.
	r = h.callForm(t, a.PrimaryHost, target, "", "Cookie", cookieA)
	require.Equal(t, http.StatusOK, r.Status, r.Body)

	run("2026-W46")
	require.Len(t, mailSrv.To("ann@example.org"), 1, "no digest after unsubscribing")
}

func TestDigestSettingsAndPreview(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "dsettings")
	h := newHarness(t, env, serverOpts{})
	host := c.DefaultHost
	adminID, admin, adminCookie, adminCSRF := dgUser(t, env, c, "adm@example.org", user.RoleAdmin)
	_, citizen, _, _ := dgUser(t, env, c, "cit@example.org", user.RoleCitizen)
	title := dgSeed(t, env, c, adminID)
	brussels, err := time.LoadLocation("Europe/Brussels")
	require.NoError(t, err)

	requireProblem(t, h.call(t, "GET", host, "/api/v1/digest-settings", ""), 401, "unauthenticated")
	requireProblem(t, h.call(t, "GET", host, "/api/v1/digest-settings", "", "Authorization", citizen), 403, "forbidden")
	requireProblem(t, h.call(t, "PATCH", host, "/api/v1/digest-settings", `{"hour":9}`, "Authorization", citizen), 403, "forbidden")
	type settings struct {
		Weekday  int       `json:"weekday"`
		Hour     int       `json:"hour"`
		TimeZone string    `json:"time_zone"`
		NextAt   time.Time `json:"next_at"`
	}
	decode := func(r response) settings {
		t.Helper()
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		var s settings
		require.NoError(t, json.Unmarshal([]byte(r.Body), &s))
		return s
	}
	s := decode(h.call(t, "GET", host, "/api/v1/digest-settings", "", "Authorization", admin))
	require.Equal(t, 1, s.Weekday)
	require.Equal(t, 8, s.Hour)
	require.Equal(t, "Europe/Brussels", s.TimeZone)
	require.Equal(t, time.Monday, s.NextAt.In(brussels).Weekday())
	require.Equal(t, 8, s.NextAt.In(brussels).Hour())

	p := requireProblem(t, h.call(t, "PATCH", host, "/api/v1/digest-settings", `{"hour":24}`, "Authorization", admin), 422, "invalid")
	require.True(t, strings.HasPrefix(p.Detail, "hour"), "the problem names the field: %s", p.Detail)
	s = decode(h.call(t, "PATCH", host, "/api/v1/digest-settings", `{"weekday":3,"hour":18}`, "Authorization", admin))
	require.Equal(t, 3, s.Weekday)
	require.Equal(t, time.Wednesday, s.NextAt.In(brussels).Weekday())
	require.Equal(t, 18, s.NextAt.In(brussels).Hour())
	require.True(t, s.NextAt.After(time.Now()))

	// The back-office page and its form.
	page := h.call(t, "GET", host, "/admin/digests", "", "Cookie", adminCookie)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, `<option value="3" selected>Wednesday</option>`)
	require.Contains(t, page.Body, `/admin/digests/preview?kind=admin`)
	r := h.callForm(t, host, "/admin/digests", url.Values{"csrf_token": {adminCSRF}, "weekday": {"5"}, "hour": {"7"}}.Encode(), "Cookie", adminCookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Equal(t, "/admin/digests?msg=digests_saved&n=1", r.Header.Get("Location"))
	s = decode(h.call(t, "GET", host, "/api/v1/digest-settings", "", "Authorization", admin))
	require.Equal(t, [2]int{5, 7}, [2]int{s.Weekday, s.Hour})
	r = h.callForm(t, host, "/admin/digests", url.Values{"csrf_token": {adminCSRF}, "weekday": {"9"}, "hour": {"7"}}.Encode(), "Cookie", adminCookie)
	requireHTML(t, r, 422)
	require.Contains(t, r.Body, `id="weekday-error"`)

	// Previews: the admin's own digest of the last seven days, as HTML.
	r = h.call(t, "GET", host, "/admin/digests/preview?kind=user", "", "Cookie", adminCookie)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Contains(t, r.Body, title)
	require.Contains(t, r.Body, "/unsubscribe?token=")
	require.NotContains(t, r.Header.Get("Content-Security-Policy"), "script-src")
	r = h.call(t, "GET", host, "/admin/digests/preview?kind=admin", "", "Cookie", adminCookie)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Contains(t, r.Body, "New ideas")
	requireHTML(t, h.call(t, "GET", host, "/admin/digests/preview?kind=weekly", "", "Cookie", adminCookie), 422)

	// A plan without the staff digests: locked on the page, refused in preview.
	created, err := env.Provisioner.Create(context.Background(), tenant.Spec{Slug: "dsettings_ess", Name: "Essential", Plan: tenant.PlanEssential,
		Lifecycle: tenant.Active, Locales: []string{"en"}, TimeZone: "Europe/Brussels"})
	require.NoError(t, err)
	ess := created.Tenant
	_, _, essCookie, _ := dgUser(t, env, ess, "adm@example.org", user.RoleAdmin)
	page = h.call(t, "GET", ess.DefaultHost, "/admin/digests", "", "Cookie", essCookie)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "standard plan")
	require.NotContains(t, page.Body, "preview?kind=admin")
	requireHTML(t, h.call(t, "GET", ess.DefaultHost, "/admin/digests/preview?kind=admin", "", "Cookie", essCookie), 403)
	r = h.call(t, "GET", ess.DefaultHost, "/admin/digests/preview?kind=user", "", "Cookie", essCookie)
	requireHTML(t, r, 200) // nothing followed: an empty digest, said so
	require.Contains(t, r.Body, "would not be sent")
}
