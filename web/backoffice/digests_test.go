package backoffice_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestDigestSettingsAndPreview(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "dsettings")
	h := webtest.New(t, env, webtest.Options{})
	host := c.DefaultHost
	admUser := fixture.User(t, env, c, fixture.UserOpts{Email: "adm@example.org", Role: user.RoleAdmin})
	admin := fixture.Token(t, env, c, admUser)
	adminCookie, adminCSRF := fixture.Session(t, env, c, admUser)
	citizen := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "cit@example.org"}))
	// The admin follows a project with a new idea: their digest has news.
	title := "A fountain for " + c.Slug
	square := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "square", Title: "The square", Phase: &fixture.PhaseOpts{}})
	fixture.Idea(t, env, c, fixture.IdeaOpts{Project: square.ID, Author: admUser, Title: title})
	fixture.Follow(t, env, c, admUser, "project", int64(square.ID))
	brussels, err := time.LoadLocation("Europe/Brussels")
	require.NoError(t, err)

	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/digest-settings", ""), 401, "unauthenticated")
	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/digest-settings", "", "Authorization", citizen), 403, "forbidden")
	webtest.RequireProblem(t, h.Call(t, "PATCH", host, "/api/v1/digest-settings", `{"hour":9}`, "Authorization", citizen), 403, "forbidden")
	type settings struct {
		Weekday  int       `json:"weekday"`
		Hour     int       `json:"hour"`
		TimeZone string    `json:"time_zone"`
		NextAt   time.Time `json:"next_at"`
	}
	decode := func(r webtest.Response) settings {
		t.Helper()
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		var s settings
		require.NoError(t, json.Unmarshal([]byte(r.Body), &s))
		return s
	}
	s := decode(h.Call(t, "GET", host, "/api/v1/digest-settings", "", "Authorization", admin))
	require.Equal(t, 1, s.Weekday)
	require.Equal(t, 8, s.Hour)
	require.Equal(t, "Europe/Brussels", s.TimeZone)
	require.Equal(t, time.Monday, s.NextAt.In(brussels).Weekday())
	require.Equal(t, 8, s.NextAt.In(brussels).Hour())

	p := webtest.RequireProblem(t, h.Call(t, "PATCH", host, "/api/v1/digest-settings", `{"hour":24}`, "Authorization", admin), 422, "invalid")
	require.True(t, strings.HasPrefix(p.Detail, "hour"), "the problem names the field: %s", p.Detail)
	s = decode(h.Call(t, "PATCH", host, "/api/v1/digest-settings", `{"weekday":3,"hour":18}`, "Authorization", admin))
	require.Equal(t, 3, s.Weekday)
	require.Equal(t, time.Wednesday, s.NextAt.In(brussels).Weekday())
	require.Equal(t, 18, s.NextAt.In(brussels).Hour())
	require.True(t, s.NextAt.After(time.Now()))

	// The back-office page and its form.
	page := h.Call(t, "GET", host, "/admin/digests", "", "Cookie", adminCookie)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, `<option value="3" selected>Wednesday</option>`)
	require.Contains(t, page.Body, `/admin/digests/preview?kind=admin`)
	r := h.CallForm(t, host, "/admin/digests", url.Values{"csrf_token": {adminCSRF}, "weekday": {"5"}, "hour": {"7"}}.Encode(), "Cookie", adminCookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Equal(t, "/admin/digests?msg=digests_saved&n=1", r.Header.Get("Location"))
	s = decode(h.Call(t, "GET", host, "/api/v1/digest-settings", "", "Authorization", admin))
	require.Equal(t, [2]int{5, 7}, [2]int{s.Weekday, s.Hour})
	r = h.CallForm(t, host, "/admin/digests", url.Values{"csrf_token": {adminCSRF}, "weekday": {"9"}, "hour": {"7"}}.Encode(), "Cookie", adminCookie)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, `id="weekday-error"`)

	// Previews: the admin's own digest of the last seven days, as HTML.
	r = h.Call(t, "GET", host, "/admin/digests/preview?kind=user", "", "Cookie", adminCookie)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Contains(t, r.Body, title)
	require.Contains(t, r.Body, "/unsubscribe?token=")
	require.NotContains(t, r.Header.Get("Content-Security-Policy"), "script-src")
	r = h.Call(t, "GET", host, "/admin/digests/preview?kind=admin", "", "Cookie", adminCookie)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.Contains(t, r.Body, "New ideas")
	webtest.RequireHTML(t, h.Call(t, "GET", host, "/admin/digests/preview?kind=weekly", "", "Cookie", adminCookie), 422)

	// A plan without the staff digests: locked on the page, refused in preview.
	created, err := env.Provisioner.Create(context.Background(), tenant.Spec{Slug: "dsettings_ess", Name: "Essential", Plan: tenant.PlanEssential,
		Lifecycle: tenant.Active, Locales: []string{"en"}, TimeZone: "Europe/Brussels"})
	require.NoError(t, err)
	ess := created.Tenant
	essCookie, _ := fixture.Session(t, env, ess, fixture.User(t, env, ess, fixture.UserOpts{Email: "adm@example.org", Role: user.RoleAdmin}))
	page = h.Call(t, "GET", ess.DefaultHost, "/admin/digests", "", "Cookie", essCookie)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "standard plan")
	require.NotContains(t, page.Body, "preview?kind=admin")
	webtest.RequireHTML(t, h.Call(t, "GET", ess.DefaultHost, "/admin/digests/preview?kind=admin", "", "Cookie", essCookie), 403)
	r = h.Call(t, "GET", ess.DefaultHost, "/admin/digests/preview?kind=user", "", "Cookie", essCookie)
	webtest.RequireHTML(t, r, 200) // nothing followed: an empty digest, said so
	require.Contains(t, r.Body, "would not be sent")
}
