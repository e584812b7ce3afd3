package portal_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/fixture"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestPortalShowsPublishedProjectsAndTimeline(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "portal")
	h := webtest.New(t, env, webtest.Options{})
	admin, acsrf := h.SignIn(t, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	mk := func(body string) int64 {
		r := h.Call(t, "POST", c.DefaultHost, "/api/v1/projects", body, "Cookie", admin, "X-CSRF-Token", acsrf)
		require.Equal(t, 201, r.Status, r.Body)
		var p struct{ ID int64 }
		require.NoError(t, json.Unmarshal([]byte(r.Body), &p))
		return p.ID
	}
	park := mk(`{"slug":"park","title":{"en":"A new park","fr":"Un nouveau parc"},"description":{"en":"Where should the trees go?"},"status":"published","topics":[2]}`)
	mk(`{"slug":"secret","title":{"en":"Secret draft"}}`)
	for _, body := range []string{
		`{"title":{"en":"Past ideas"},"method":"ideation","starts_at":"2020-01-01T00:00:00Z","ends_at":"2020-02-01T00:00:00Z"}`,
		`{"title":{"en":"Vote now"},"method":"information","starts_at":"2020-03-01T00:00:00Z","ends_at":"2099-01-01T00:00:00Z"}`,
	} {
		r := h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", park), body, "Cookie", admin, "X-CSRF-Token", acsrf)
		require.Equal(t, 201, r.Status, r.Body)
	}
	home := h.Get(t, c.DefaultHost, "/")
	webtest.RequireHTML(t, home, 200)
	require.Contains(t, home.Body, `href="/projects/park"`)
	require.Contains(t, home.Body, "Vote now")
	require.NotContains(t, home.Body, "Secret draft")
	require.Contains(t, h.Get(t, c.DefaultHost, "/?topic=2").Body, `href="/projects/park"`)
	require.NotContains(t, h.Get(t, c.DefaultHost, "/?topic=3").Body, `href="/projects/park"`)

	page := h.Get(t, c.DefaultHost, "/projects/park", "Accept-Language", "fr")
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "Un nouveau parc")
	require.Contains(t, page.Body, `aria-current="step"`)
	i := strings.Index(page.Body, `aria-current="step"`)
	require.Contains(t, page.Body[i:], "Vote now", "the current phase is the highlighted one")
	webtest.RequireHTML(t, h.Get(t, c.DefaultHost, "/projects/secret"), 404)
	webtest.RequireHTML(t, h.Get(t, c.DefaultHost, "/projects/nope"), 404)
}
