package backoffice_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/web/webtest"
)

// TestAdminsTurnParticipationOff: a city's admins turn comments, reactions
// and follows off; every route of those features refuses with
// feature_unavailable, the idea page says so instead of offering the forms,
// and turning them on again restores them.
func TestAdminsTurnParticipationOff(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "switches", nil)
	h, c, admin, csrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	r := webtest.PostIdea(t, h, c.DefaultHost, admin, csrf, project, "Night buses", "<p>After midnight</p>")
	require.Equal(t, 201, r.Status, r.Body)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	ideaPath := fmt.Sprintf("/ideas/%d", it.ID)

	set := func(body string) {
		t.Helper()
		r := h.Call(t, "PATCH", c.DefaultHost, "/api/v1/features", body, auth...)
		require.Equal(t, 200, r.Status, r.Body)
	}
	set(`{"comments":false,"reactions":false,"follows":false,"ideation":false}`)
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1"+ideaPath+"/comments", `{"body":"Yes"}`, auth...), 403, "feature_unavailable")
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, "/api/v1"+ideaPath+"/reaction", `{"mode":"like"}`, auth...), 403, "feature_unavailable")
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, "/api/v1/follows/idea/"+fmt.Sprint(it.ID), "", auth...), 403, "feature_unavailable")
	webtest.RequireProblem(t, webtest.PostIdea(t, h, c.DefaultHost, admin, csrf, project, "Another idea", ""), 403, "feature_unavailable")
	page := h.Call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", admin)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "This city has turned this off.")
	require.NotContains(t, page.Body, `id="comment-body"`, "no comment form")
	require.NotContains(t, page.Body, `name="mode" value="like"`, "no like button")
	require.NotContains(t, h.Call(t, "GET", c.DefaultHost, "/projects/ideas", "", "Cookie", admin).Body, `action="/projects/ideas/ideas"`, "no idea form")

	set(`{"comments":true,"reactions":true,"follows":true,"ideation":true}`)
	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, "/api/v1"+ideaPath+"/comments", `{"body":"Yes"}`, auth...).Status)
	require.Equal(t, 200, h.Call(t, "PUT", c.DefaultHost, "/api/v1"+ideaPath+"/reaction", `{"mode":"like"}`, auth...).Status)
	require.Equal(t, 200, h.Call(t, "PUT", c.DefaultHost, "/api/v1/follows/idea/"+fmt.Sprint(it.ID), "", auth...).Status)
}
