package portal_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestPortalInBrowser opens a city's portal by its host name in headless
// Chromium, as a citizen would: the home page with its topics, the language
// switch, and a static page.
func TestPortalInBrowser(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	c := env.City(t, "brugge")
	base := "http://" + c.DefaultHost + ":" + h.Port

	br := webtest.StartBrowser(t, 3*time.Minute)
	bctx := br.Ctx

	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, "text of %s", sel)
		return strings.TrimSpace(s)
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		require.NoError(t, err, "evaluate %s", js)
		return s
	}
	topics := func() []string {
		t.Helper()
		ts, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
			`Array.from(document.querySelectorAll('ul.chips a[data-topic]')).map(e => e.textContent.trim())`))
		require.NoError(t, err)
		return ts
	}
	// click follows a link and returns the status of the page it leads to.
	click := func(sel string) int64 {
		t.Helper()
		res, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(sel)))
		require.NoError(t, err, "click %s", sel)
		require.NotNil(t, res, "click %s led nowhere", sel)
		return res.Status
	}

	// Home page, in the city's default language.
	res, err := chromedp.RunResponse(bctx, chromedp.Navigate(base+"/"))
	require.NoError(t, err, "open %s", base)
	require.EqualValues(t, http.StatusOK, res.Status)
	require.NoError(t, chromedp.Do(bctx, chromedp.WaitVisible(chromedp.CSS(`#projects-h`))))
	require.Equal(t, "en", eval(`document.documentElement.lang`))
	require.Equal(t, "City brugge", text(`.hero h1`))
	require.Equal(t, "Projects", text(`#projects-h`))
	ts := topics()
	require.Len(t, ts, 8)
	require.Contains(t, ts, "Mobility")
	// theme.css came from the city's host and passed the CSP.
	require.Equal(t, "#1d4ed8", eval(`getComputedStyle(document.documentElement).getPropertyValue('--primary').trim()`))

	// Switch to French with the language link: back on the home page, in French.
	require.Equal(t, "Français", text(`nav.locales a[hreflang="fr"]`))
	require.EqualValues(t, http.StatusOK, click(`nav.locales a[hreflang="fr"]`))
	require.Equal(t, "fr", eval(`document.documentElement.lang`))
	require.Equal(t, "/", eval(`location.pathname`))
	require.Equal(t, "Projets", text(`#projects-h`))
	require.Equal(t, "City brugge", text(`.hero h1`))
	require.Contains(t, topics(), "Mobilité")

	// Open the About page: it stays in French.
	require.EqualValues(t, http.StatusOK, click(`a[href="/pages/about"]`))
	require.Equal(t, "/pages/about", eval(`location.pathname`))
	require.Equal(t, "fr", eval(`document.documentElement.lang`))
	require.Equal(t, "À propos de cette plateforme", text(`article.page h1`))

	// Switch to Dutch there: back on the About page, in Dutch.
	require.Equal(t, "Nederlands", text(`nav.locales a[hreflang="nl"]`))
	require.EqualValues(t, http.StatusOK, click(`nav.locales a[hreflang="nl"]`))
	require.Equal(t, "/pages/about", eval(`location.pathname`))
	require.Equal(t, "nl", eval(`document.documentElement.lang`))
	require.Equal(t, "Over dit platform", text(`article.page h1`))
	require.Contains(t, text(`article.page`), "werken de stad en haar inwoners samen")
	require.Equal(t, "http://"+c.DefaultHost+":"+h.Port+"/pages/about", eval(`location.href`))

	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(png), "\x89PNG"), "a PNG screenshot")
	f, err := os.CreateTemp(t.TempDir(), "agora-portal-*.png")
	require.NoError(t, err)
	_, err = f.Write(png)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	t.Logf("screenshot: %s", f.Name())

	br.RequireCleanConsole(t)
}
