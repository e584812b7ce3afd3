package backoffice_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestStaffHeaderFitsTheScreen: in headless Chromium, every back office
// page fits a 390-pixel phone (nothing scrolls sideways) and, on a
// 1280-pixel screen, the staff header's navigation is one line, in each of
// the city's languages (Dutch and French words are longer).
func TestStaffHeaderFitsTheScreen(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "screens", tenant.PlanPremium)
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.User(t, env, c, fixture.UserOpts{Email: "a.very-long-address.for-the-admin@screens.example.org", FirstName: "Maximiliaan", Role: user.RoleAdmin})
	p := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "riverside", Title: "The riverside and its long name", Phase: &fixture.PhaseOpts{}})
	fixture.Idea(t, env, c, fixture.IdeaOpts{Project: p.ID}) // the home lists the project's unanswered idea
	base := "http://" + c.DefaultHost + ":" + h.Port

	br := webtest.StartBrowser(t, 3*time.Minute)
	ctx := br.Ctx
	size := func(w, hgt int64) {
		t.Helper()
		require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(w, hgt)))
	}
	open := func(path string) {
		t.Helper()
		res, err := chromedp.RunResponse(ctx, chromedp.Navigate(base+path))
		require.NoError(t, err, "open %s", path)
		require.EqualValues(t, 200, res.Status, path)
	}
	open("/login")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#email"), admin.Email), chromedp.SendKeys(chromedp.CSS("#password"), fixture.Password)))
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	require.NoError(t, err)
	require.EqualValues(t, 200, res.Status)
	pages := []string{"/admin", "/admin/projects", fmt.Sprintf("/admin/projects/%d", p.ID), "/admin/users", "/admin/features",
		"/admin/moderation", "/admin/exports", "/admin/digests", "/admin/statuses", "/admin/campaigns"}
	for _, loc := range []string{"en", "nl", "fr"} {
		open("/locale?set=" + loc + "&to=/admin/projects")
		size(390, 844)
		for _, path := range pages {
			open(path)
			fits, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
			require.NoError(t, err)
			require.LessOrEqual(t, fits[0], fits[1], "%s %s scrolls sideways at 390 px", loc, path)
		}
		size(1280, 900)
		for _, path := range pages {
			open(path)
			lines, err := chromedp.Run(ctx, chromedp.Evaluate[int](`new Set([...document.querySelectorAll('.site-header nav[aria-label] > *')].filter(e => e.offsetParent !== null).map(e => Math.round(e.getBoundingClientRect().top + e.getBoundingClientRect().height / 2))).size`))
			require.NoError(t, err)
			require.Equal(t, 1, lines, "%s %s: the header's navigation is on one line at 1280 px", loc, path)
		}
	}
	br.RequireCleanConsole(t)
}
