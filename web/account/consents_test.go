package account_test

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
	"agora/fixture"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// consentsOf reads a user's consents straight from the city.
func consentsOf(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, id int64) email.Consents {
	t.Helper()
	cs, err := email.NewConsentService(env.DB).Get(tenanttest.Ctx(c), id)
	require.NoError(t, err)
	return cs
}

func TestEmailConsents(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "consents")
	h := webtest.New(t, env, webtest.Options{})
	host := c.DefaultHost
	citUser := fixture.User(t, env, c, fixture.UserOpts{Email: "cit@example.org"})
	citizen := int64(citUser.ID)
	bearer := fixture.Token(t, env, c, citUser)
	cookie, csrf := fixture.Session(t, env, c, citUser)
	adminBearer := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "adm@example.org", Role: user.RoleAdmin}))

	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/me/email-consents", ""), 401, "unauthenticated")
	webtest.RequireProblem(t, h.Call(t, "PUT", host, "/api/v1/me/email-consents", `{"user_digest":false}`), 401, "unauthenticated")
	decode := func(r webtest.Response) map[string]bool {
		t.Helper()
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		var m map[string]bool
		require.NoError(t, json.Unmarshal([]byte(r.Body), &m))
		return m
	}
	require.Equal(t, map[string]bool{"user_digest": true, "notifications": true, "manual": true},
		decode(h.Call(t, "GET", host, "/api/v1/me/email-consents", "", "Authorization", bearer)), "a citizen is subscribed to what citizens get")
	require.Equal(t, map[string]bool{"user_digest": true, "notifications": true, "manual": true, "admin_digest": true, "moderator_digest": true},
		decode(h.Call(t, "GET", host, "/api/v1/me/email-consents", "", "Authorization", adminBearer)), "admins also get the staff digests")

	got := decode(h.Call(t, "PUT", host, "/api/v1/me/email-consents", `{"user_digest":false}`, "Authorization", bearer))
	require.Equal(t, map[string]bool{"user_digest": false, "notifications": true, "manual": true}, got)
	p := webtest.RequireProblem(t, h.Call(t, "PUT", host, "/api/v1/me/email-consents", `{"newsletter":false}`, "Authorization", bearer), 422, "invalid")
	require.Contains(t, p.Detail, "newsletter")
	require.Equal(t, false, consentsOf(t, env, c, citizen)[email.UserDigest], "a refused request changed nothing")

	// The profile page: one checkbox per campaign, saved by a form.
	page := h.Call(t, "GET", host, "/profile", "", "Cookie", cookie)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, `id="email-consents"`)
	require.Contains(t, page.Body, `name="consent_notifications" value="on" checked`)
	require.Contains(t, page.Body, `name="consent_user_digest" value="on">`, "the digest box is unchecked")
	require.NotContains(t, page.Body, "consent_admin_digest", "citizens do not see the staff digests")
	r := h.CallForm(t, host, "/profile/email-consents", url.Values{"csrf_token": {csrf}, "consent_user_digest": {"on"}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Equal(t, "/profile?consents=1#email-consents", r.Header.Get("Location"))
	require.Equal(t, email.Consents{email.UserDigest: true, email.Notifications: false, email.Manual: false,
		email.AdminDigest: true, email.ModeratorDigest: true}, consentsOf(t, env, c, citizen))
	// The form keeps its CSRF protection.
	r = h.CallForm(t, host, "/profile/email-consents", url.Values{}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusForbidden, r.Status)
	require.True(t, consentsOf(t, env, c, citizen)[email.UserDigest])
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
	h := webtest.New(t, env, webtest.Options{})
	annAUser := fixture.User(t, env, a, fixture.UserOpts{Email: "ann@example.org"})
	annA := int64(annAUser.ID)
	cookieA, _ := fixture.Session(t, env, a, annAUser)
	annBUser := fixture.User(t, env, b, fixture.UserOpts{Email: "ann@example.org"})
	annB := int64(annBUser.ID)
	require.Equal(t, annA, annB, "the same user id in both cities")
	// In each city Ann follows a project with a new idea: her digest has news.
	for _, city := range []struct {
		c   *tenant.Tenant
		ann *user.User
	}{{a, annAUser}, {b, annBUser}} {
		p := fixture.Project(t, env, city.c, fixture.ProjectOpts{Slug: "square", Title: "The square", Phase: &fixture.PhaseOpts{}})
		fixture.Idea(t, env, city.c, fixture.IdeaOpts{Project: p.ID, Author: city.ann, Title: "A fountain for " + city.c.Slug})
		fixture.Follow(t, env, city.c, city.ann, "project", int64(p.ID))
	}

	cfg, err := config.Load(func(string) string { return "" }) // the harness's secret: the development key
	require.NoError(t, err)
	mailSrv, err := devsmtp.Start("127.0.0.1:0", 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mailSrv.Close() })
	smtp, err := email.NewSMTP(mailSrv.URL())
	require.NoError(t, err)
	digests, err := jobs.NewDigests(jobs.WorkerDeps{DB: env.DB, Registry: env.Registry, Sender: smtp,
		PortalURL: func(host string) string { return "http://" + host }, SecretKey: cfg.SecretKey, Log: webtest.DiscardLogger()})
	require.NoError(t, err)
	run := func(key string) {
		t.Helper()
		now := time.Now()
		task, err := jobs.NewDigestTask(a.ID, digest.User, digest.Period{Key: key, From: now.AddDate(0, 0, -7), To: now.Add(time.Hour)})
		require.NoError(t, err)
		require.NoError(t, jobs.TenantMiddleware(env.Registry, webtest.DiscardLogger())(asynq.HandlerFunc(digests.Send)).ProcessTask(context.Background(), task))
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
	page := h.Call(t, "GET", a.PrimaryHost, target, "")
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, `<form method="post" action="/unsubscribe?token=`)
	require.True(t, consentsOf(t, env, a, annA)[email.UserDigest])

	// On city B's host the token is nobody's, and B's user with the same id
	// keeps their digest.
	webtest.RequireHTML(t, h.Call(t, "GET", b.PrimaryHost, target, ""), 404)
	webtest.RequireHTML(t, h.CallForm(t, b.PrimaryHost, target, "List-Unsubscribe=One-Click"), 404)
	require.True(t, consentsOf(t, env, b, annB)[email.UserDigest])
	// A forged token (another user) is refused.
	q := link.Query()
	parts := strings.Split(q.Get("token"), ".")
	parts[1] = "999"
	forged := "/unsubscribe?token=" + url.QueryEscape(strings.Join(parts, "."))
	r := h.CallForm(t, a.PrimaryHost, forged, "List-Unsubscribe=One-Click")
	require.Equal(t, http.StatusUnprocessableEntity, r.Status, r.Body)

	// RFC 8058's one-click POST: no session, no CSRF token.
	r = h.CallForm(t, a.PrimaryHost, target, "List-Unsubscribe=One-Click")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	cs := consentsOf(t, env, a, annA)
	require.False(t, cs[email.UserDigest], "the one-click POST unsubscribes")
	require.True(t, cs[email.Notifications], "from that campaign only")
	require.True(t, consentsOf(t, env, b, annB)[email.UserDigest])
	// Again, from a browser where the user is logged in (the page's
	// button): still no CSRF token needed, and still 200.
	r = h.CallForm(t, a.PrimaryHost, target, "", "Cookie", cookieA)
	require.Equal(t, http.StatusOK, r.Status, r.Body)

	run("2026-W46")
	require.Len(t, mailSrv.To("ann@example.org"), 1, "no digest after unsubscribing")
}
