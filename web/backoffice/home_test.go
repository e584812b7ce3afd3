package backoffice_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/feature"
	"agora/domain/idea"
	"agora/domain/moderation"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// homeCity fills a city with what its back office home counts: reports
// unread (and one read), ideas unanswered (and one with feedback, one with a
// new status), pending invitations; it returns the city's admin.
func homeCity(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, unread, unanswered, pending int) *user.User {
	t.Helper()
	ctx := tenanttest.Ctx(c)
	admin := fixture.User(t, env, c, fixture.UserOpts{Role: user.RoleAdmin})
	p := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "streets", Title: "Safer streets", Phase: &fixture.PhaseOpts{}})
	ideas := idea.NewService(env.DB)
	staff := fixture.Actor(t, env, c, admin)
	answered := fixture.Idea(t, env, c, fixture.IdeaOpts{Project: p.ID, Title: "Answered idea"})
	_, err := ideas.AddFeedback(ctx, staff, answered.ID, "<p>We will look at it.</p>")
	require.NoError(t, err)
	moved := fixture.Idea(t, env, c, fixture.IdeaOpts{Project: p.ID, Title: "Viewed idea"})
	_, err = ideas.SetStatus(ctx, staff, moved.ID, "viewed", "")
	require.NoError(t, err)
	for i := range unanswered {
		fixture.Idea(t, env, c, fixture.IdeaOpts{Project: p.ID, Title: fmt.Sprintf("Open idea %d", i)})
	}
	reporter := fixture.User(t, env, c, fixture.UserOpts{})
	mod := moderation.NewService(env.DB)
	for i := range unread + 1 {
		it := fixture.Idea(t, env, c, fixture.IdeaOpts{Project: p.ID, Title: fmt.Sprintf("Reported idea %d", i)})
		_, err = ideas.SetStatus(ctx, staff, it.ID, "viewed", "") // answered: only the reports count
		require.NoError(t, err)
		require.NoError(t, mod.Report(ctx, int64(reporter.ID), "idea", int64(it.ID), "spam", ""))
	}
	fixture.Exec(t, env, c, `UPDATE reports SET read_at = now() WHERE id = (SELECT min(id) FROM reports)`, nil)
	addrs := make([]string, pending)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("invitee%d@example.org", i)
	}
	_, _, err = user.NewService(env.DB).Invite(ctx, addrs[:1], user.RoleAdmin)
	require.NoError(t, err)
	if len(addrs) > 1 {
		_, _, err = user.NewService(env.DB).Invite(ctx, addrs[1:], user.RoleCitizen)
		require.NoError(t, err)
	}
	return admin
}

func TestBackOfficeHomeCountsWhatNeedsAttention(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "homecounts") // the standard plan
	other := env.City(t, "homeother")
	h := webtest.New(t, env, webtest.Options{})
	admin := homeCity(t, env, c, 2, 3, 4)
	otherAdmin := homeCity(t, env, other, 5, 6, 7)
	cookie, _ := fixture.Session(t, env, c, admin)

	r := h.Call(t, "GET", c.DefaultHost, "/admin", "", "Cookie", cookie)
	webtest.RequireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, `href="/admin/moderation?unread=on">2 unread reports</a>`)
	require.Contains(t, r.Body, "3 ideas without an answer")
	require.Contains(t, r.Body, `<a href="/projects/streets?status=proposed">Safer streets</a> <span class="count">3</span>`)
	require.Contains(t, r.Body, "4 pending invitations")
	// Seats: the admin and the invited admin, of the standard plan's 5.
	require.Contains(t, r.Body, "2 admin seats taken of 5")
	require.Contains(t, r.Body, "0 moderator seats taken of 20")
	require.Contains(t, r.Body, "The standard plan")
	// Nothing of the other city shows.
	for _, s := range []string{"5 unread", "6 ideas", "7 pending"} {
		require.NotContains(t, r.Body, s)
	}
	// The staff navigation leads home.
	require.Contains(t, r.Body, `<a href="/admin">Back office</a>`)

	ocookie, _ := fixture.Session(t, env, other, otherAdmin)
	r = h.Call(t, "GET", other.DefaultHost, "/admin", "", "Cookie", ocookie)
	webtest.RequireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, "5 unread reports")
	require.Contains(t, r.Body, "6 ideas without an answer")
	require.Contains(t, r.Body, "7 pending invitations")

	// Counts agree in number in each language: French says one for 1.
	one := env.City(t, "homeone")
	oneAdmin := homeCity(t, env, one, 1, 1, 1)
	ocookie, _ = fixture.Session(t, env, one, oneAdmin)
	r = h.Call(t, "GET", one.DefaultHost, "/admin", "", "Cookie", ocookie+"; agora_locale=fr")
	webtest.RequireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, "1 signalement non lu")
	require.Contains(t, r.Body, "1 idée sans réponse")
	require.Contains(t, r.Body, "1 invitation en attente")
}

func TestBackOfficeHomeLinksFollowFeatures(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	standard := env.City(t, "homelinks")
	premium := env.CityOnPlan(t, "homepremium", tenant.PlanPremium)
	h := webtest.New(t, env, webtest.Options{})
	links := func(c *tenant.Tenant) string {
		a := fixture.User(t, env, c, fixture.UserOpts{Role: user.RoleAdmin})
		cookie, _ := fixture.Session(t, env, c, a)
		r := h.Call(t, "GET", c.DefaultHost, "/admin", "", "Cookie", cookie)
		webtest.RequireHTML(t, r, http.StatusOK)
		return r.Body
	}
	body := links(standard)
	for _, p := range []string{"/admin/projects", "/admin/users", "/admin/moderation", "/admin/statuses", "/admin/exports",
		"/admin/features", "/admin/digests"} {
		require.Contains(t, body, `<a href="`+p+`"><strong>`, p)
	}
	require.NotContains(t, body, `href="/admin/campaigns"`, "campaigns come with the premium plan")
	require.Contains(t, links(premium), `<a href="/admin/campaigns"><strong>`)

	// A feature its admins turned off takes its page's link with it.
	require.NoError(t, feature.NewService(env.DB).Set(tenanttest.Ctx(standard), 0, feature.Exports, false))
	body = links(standard)
	require.NotContains(t, body, `<a href="/admin/exports"><strong>`)
	require.Contains(t, body, `<a href="/admin/statuses"><strong>`)
}

func TestBackOfficeHomeIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "homeguard")
	h := webtest.New(t, env, webtest.Options{})
	r := h.Call(t, "GET", c.DefaultHost, "/admin", "")
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Contains(t, r.Header.Get("Location"), "/login?next=")
	for _, role := range []user.Role{user.RoleCitizen, user.RoleModerator} {
		u := fixture.User(t, env, c, fixture.UserOpts{Role: role})
		cookie, _ := fixture.Session(t, env, c, u)
		webtest.RequireHTML(t, h.Call(t, "GET", c.DefaultHost, "/admin", "", "Cookie", cookie), http.StatusForbidden)
	}
}

// TestBackOfficeHomeReadsInOneTransaction: the home's counts are read in the
// request's one read transaction, in as many statements for a busy city as
// for a quiet one.
func TestBackOfficeHomeReadsInOneTransaction(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	quiet, busy := env.City(t, "homequiet"), env.City(t, "homebusy")
	h := webtest.New(t, env, webtest.Options{})
	trace := func(c *tenant.Tenant, a *user.User) []string {
		cookie, _ := fixture.Session(t, env, c, a)
		h.Call(t, "GET", c.DefaultHost, "/admin", "", "Cookie", cookie) // the session's first use is behind us
		var tr tenant.Trace
		req := httptest.NewRequest(http.MethodGet, "/admin", nil)
		req.Host = c.DefaultHost
		req.Header.Set("Cookie", cookie)
		req = req.WithContext(tenant.WithTrace(req.Context(), &tr))
		rec := httptest.NewRecorder()
		h.Server.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return tr.Lines()
	}
	small := trace(quiet, homeCity(t, env, quiet, 1, 1, 1))
	large := trace(busy, homeCity(t, env, busy, 12, 15, 9))
	for _, lines := range [][]string{small, large} {
		require.Equal(t, []string{"BEGIN READ ONLY"}, slices.DeleteFunc(slices.Clone(lines), func(l string) bool {
			return l != "BEGIN" && l != "BEGIN READ ONLY"
		}), "one read transaction: %q", lines)
	}
	require.Len(t, large, len(small), "as many statements for a busy city: %q", large)
}
