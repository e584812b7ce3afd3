package backoffice_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/tenant"
	"agora/web/webtest"
)

func TestParticipationFeaturesOnTheEssentialPlan(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "essentials", nil)
	h, c, admin, csrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	essential := tenant.PlanEssential
	c, err := env.Ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &essential}) // invalidates the harness's registry
	require.NoError(t, err)
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	fixture.User(t, env, c, fixture.UserOpts{Email: "mod@example.org", FirstName: "Mo", LastName: "Derator"})

	t.Run("custom statuses API", func(t *testing.T) {
		r := h.Call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"on_hold","title":{"en":"On hold"}}`, auth...)
		p := webtest.RequireProblem(t, r, 403, "feature_unavailable")
		require.Contains(t, p.Detail, "standard")
		require.Equal(t, defaultStatuses, codes(statuses(t, h, c)), "the defaults are there on every plan")
	})

	t.Run("project moderators API", func(t *testing.T) {
		r := h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), `{"email":"mod@example.org"}`, auth...)
		webtest.RequireProblem(t, r, 403, "feature_unavailable")
		page := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/admin/projects/%d", project), "", "Cookie", admin)
		webtest.RequireHTML(t, page, 200)
		require.Contains(t, page.Body, "Available on the standard plan")
		require.NotContains(t, page.Body, fmt.Sprintf(`action="/admin/projects/%d/moderators"`, project))
	})

	t.Run("statuses page", func(t *testing.T) {
		page := h.Call(t, "GET", c.DefaultHost, "/admin/statuses", "", "Cookie", admin)
		webtest.RequireHTML(t, page, 200)
		require.Contains(t, page.Body, "Available on the standard plan")
		require.NotContains(t, page.Body, `action="/admin/statuses"`)
		require.Contains(t, page.Body, "<code>under_consideration</code>")
		// The page form is refused the same way.
		r := h.CallForm(t, c.DefaultHost, "/admin/statuses", "csrf_token="+csrf+"&code=on_hold&title_en=On+hold", "Cookie", admin)
		webtest.RequireHTML(t, r, 403)
		require.Contains(t, r.Body, "Available on the standard plan")
		require.Equal(t, defaultStatuses, codes(statuses(t, h, c)))
	})
}
