package portal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestPortalFitsAPhone: in headless Chromium, the citizen's pages (home,
// project, idea with comments, sign-up, log-in, a logged-in idea page) fit
// a 360- and a 390-pixel phone: nothing scrolls sideways, in each of the
// city's languages, with long words a citizen may type.
func TestPortalFitsAPhone(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "phones")
	h := webtest.New(t, env, webtest.Options{})
	p := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "riverside", Title: "Herinrichting van de Scheldekaaien en het Zuidpark", Phase: &fixture.PhaseOpts{}})
	author := fixture.User(t, env, c, fixture.UserOpts{FirstName: "Maximiliaan", LastName: "Vandenbroucke-Verhaegen"})
	it := fixture.Idea(t, env, c, fixture.IdeaOpts{Project: p.ID, Author: author,
		Title: "Fietsenstallingsuitbreidingsplannen aan het Sint-Pietersstation",
		Body:  "Een fietsenstallingcapaciteitsuitbreiding https://www.example.org/een/heel/lange/verwijzing/naar/het/plan/van/de/stad\n\nNog een alinea."})
	fixture.Comment(t, env, c, fixture.CommentOpts{Idea: it.ID, Author: author, Body: "Arbeidsongeschiktheidsverzekeringsmaatschappij, zeker weten."})
	citizen := fixture.User(t, env, c, fixture.UserOpts{})
	base := "http://" + c.DefaultHost + ":" + h.Port

	br := webtest.StartBrowser(t, 3*time.Minute)
	ctx := br.Ctx
	open := func(path string) {
		t.Helper()
		res, err := chromedp.RunResponse(ctx, chromedp.Navigate(base+path))
		require.NoError(t, err, "open %s", path)
		require.EqualValues(t, 200, res.Status, path)
	}
	check := func(label string, pages []string) {
		t.Helper()
		for _, loc := range []string{"en", "nl", "fr"} {
			open("/locale?set=" + loc + "&to=/")
			for _, width := range []int64{360, 390} {
				require.NoError(t, chromedp.Do(ctx, chromedp.EmulateViewport(width, 800)))
				for _, path := range pages {
					open(path)
					fits, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
					require.NoError(t, err)
					require.LessOrEqual(t, fits[0], fits[1], "%s, %s %s scrolls sideways at %d px", label, loc, path, width)
				}
			}
		}
	}
	pages := []string{"/", "/projects/riverside", fmt.Sprintf("/ideas/%d", it.ID), "/register", "/login"}
	check("anonymous", pages)
	open("/login")
	require.NoError(t, chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS("#email"), citizen.Email), chromedp.SendKeys(chromedp.CSS("#password"), fixture.Password)))
	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
	require.NoError(t, err)
	require.EqualValues(t, 200, res.Status)
	check("logged in", []string{"/", fmt.Sprintf("/ideas/%d", it.ID)})
	br.RequireCleanConsole(t)
}
