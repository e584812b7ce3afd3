package backoffice_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/web/webtest"
)

// homeOrder lists the slugs of the project cards on a home page, in order.
func homeOrder(t *testing.T, r webtest.Response) []string {
	t.Helper()
	webtest.RequireHTML(t, r, 200)
	const marker = `<h3><a href="/projects/`
	var out []string
	rest := r.Body
	for {
		i := strings.Index(rest, marker)
		if i < 0 {
			return out
		}
		rest = rest[i+len(marker):]
		out = append(out, rest[:strings.IndexByte(rest, '"')])
	}
}

func TestFoldersAreasOrderingAndHomeFilters(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "folders", nil)
	h, c, admin, csrf, ideasID, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	parks := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "parks", Title: "Parks", Phase: &fixture.PhaseOpts{}}).ID
	streets := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "streets", Title: "Streets", Phase: &fixture.PhaseOpts{}}).ID
	citUser := fixture.User(t, env, c, fixture.UserOpts{Email: "cit@example.org", FirstName: "Cas", LastName: "Citizen"})
	cit := fixture.Token(t, env, c, citUser)

	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/folders", `{"title":{"en":"Mine"}}`, "Authorization", cit), 403, "forbidden")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"Mine"}}`, "Authorization", cit), 403, "forbidden")
	folder := webtest.DecodeID(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/folders", `{"title":{"en":"Green city"}}`, auth...), 201)
	north := webtest.DecodeID(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"North"}}`, auth...), 201)
	south := webtest.DecodeID(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"South"}}`, auth...), 201)
	require.Equal(t, "title", webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/folders", `{"title":{}}`, auth...), 422, "invalid").Field)

	patch := func(id int64, body string) webtest.Response {
		return h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", id), body, auth...)
	}
	r := patch(int64(parks), fmt.Sprintf(`{"folder_id":%d}`, folder))
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, fmt.Sprintf(`"folder_id":%d`, folder))
	require.Equal(t, 200, patch(int64(streets), fmt.Sprintf(`{"areas":[%d]}`, north)).Status)
	require.Equal(t, 200, patch(int64(ideasID), fmt.Sprintf(`{"areas":[%d]}`, south)).Status)
	require.Equal(t, "folder_id", webtest.RequireProblem(t, patch(int64(streets), `{"folder_id":999999}`), 422, "invalid").Field)
	folders := h.Get(t, c.DefaultHost, "/api/v1/folders")
	require.Contains(t, folders.Body, `"projects":1`)

	home := func(q string) webtest.Response { return h.Get(t, c.DefaultHost, "/"+q) }
	require.Equal(t, []string{"ideas", "parks", "streets"}, homeOrder(t, home("")))
	require.Equal(t, []string{"parks"}, homeOrder(t, home(fmt.Sprintf("?folder=%d", folder))))
	require.Equal(t, []string{"streets"}, homeOrder(t, home(fmt.Sprintf("?area=%d", north))))
	require.Equal(t, []string{"ideas"}, homeOrder(t, home(fmt.Sprintf("?area=%d", south))))
	require.Empty(t, homeOrder(t, home(fmt.Sprintf("?area=%d&folder=%d", north, folder))))
	page := home(fmt.Sprintf("?folder=%d", folder))
	require.Contains(t, page.Body, "Green city")
	require.Contains(t, page.Body, "North")
	for _, bad := range []string{"?topic=abc", "?area=x", "?folder=-1"} {
		webtest.RequireHTML(t, home(bad), 400)
	}

	// Manual order: the back office moves projects up and down.
	move := func(id int64, dir, cookie, token string) webtest.Response {
		return h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/projects/%d/move", id), "csrf_token="+token+"&direction="+dir, "Cookie", cookie)
	}
	r = move(int64(streets), "up", admin, csrf)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Contains(t, r.Header.Get("Location"), "/admin/projects")
	require.Equal(t, []string{"ideas", "streets", "parks"}, homeOrder(t, home("")))
	require.Equal(t, http.StatusSeeOther, move(int64(ideasID), "down", admin, csrf).Status)
	require.Equal(t, []string{"streets", "ideas", "parks"}, homeOrder(t, home("")))
	require.Equal(t, http.StatusSeeOther, move(int64(streets), "up", admin, csrf).Status, "the first stays first")
	require.Equal(t, []string{"streets", "ideas", "parks"}, homeOrder(t, home("")))
	citCookie, citCSRF := fixture.Session(t, env, c, citUser)
	webtest.RequireHTML(t, move(int64(parks), "up", citCookie, citCSRF), 403)
	require.Equal(t, []string{"streets", "ideas", "parks"}, homeOrder(t, home("")))

	// Deleting a folder keeps its projects.
	require.Equal(t, http.StatusNoContent, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/folders/%d", folder), "", auth...).Status)
	require.Contains(t, h.Get(t, c.DefaultHost, "/api/v1/projects/parks").Body, `"folder_id":null`)
	require.Equal(t, []string{"streets", "ideas", "parks"}, homeOrder(t, home("")))
}
