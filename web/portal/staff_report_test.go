package portal_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/project"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestStaffModerateRatherThanReport: a citizen may report someone else's
// idea and comment; the project's staff (an admin, the project's
// moderator) see no report form on the idea page: they moderate instead.
func TestStaffModerateRatherThanReport(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "noreport", nil)
	h, c := s.H, s.City
	ann := fixture.User(t, s.Env, c, fixture.UserOpts{Email: "ann@example.org"})
	annCookie, annCSRF := fixture.Session(t, s.Env, c, ann)
	bob := fixture.User(t, s.Env, c, fixture.UserOpts{Email: "bob@example.org"})
	bobCookie, _ := fixture.Session(t, s.Env, c, bob)
	mod := fixture.User(t, s.Env, c, fixture.UserOpts{Email: "mod@example.org", Role: user.RoleModerator})
	modCookie, _ := fixture.Session(t, s.Env, c, mod)
	_, err := project.NewService(s.Env.DB).AddModerator(tenanttest.Ctx(c), s.Admin.ID, s.Project, "mod@example.org")
	require.NoError(t, err)

	id := webtest.NewIdea(t, h, c.DefaultHost, s.Project, "Benches", "Cookie", annCookie, "X-CSRF-Token", annCSRF)
	r := h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", id), `{"body":"More benches"}`, "Cookie", annCookie, "X-CSRF-Token", annCSRF)
	require.Equal(t, 201, r.Status, r.Body)
	reports := func(cookie string) int {
		t.Helper()
		p := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", id), "", "Cookie", cookie)
		webtest.RequireHTML(t, p, 200)
		require.Contains(t, p.Body, "More benches")
		return strings.Count(p.Body, `action="/reports"`)
	}
	require.Equal(t, 2, reports(bobCookie), "a citizen may report the idea and the comment")
	require.Equal(t, 0, reports(s.Cookie), "an admin moderates instead")
	require.Equal(t, 0, reports(modCookie), "so does the project's moderator")
}
