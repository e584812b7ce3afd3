package backoffice_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/web/webtest"
)

// TestStaffEditAndDeletePhases: a phase changes through the API (only the
// fields sent) and the back office form; an edit that breaks the timeline
// is refused naming the phases; deleting a phase keeps its ideas.
func TestStaffEditAndDeletePhases(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "phaseedit", nil)
	h, c, admin, csrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	base := fmt.Sprintf("/api/v1/projects/%d", project)
	r := h.Call(t, "POST", c.DefaultHost, base+"/phases", `{"title":{"en":"Before"},"method":"information","starts_at":"2019-01-01T00:00:00Z","ends_at":"2019-06-01T00:00:00Z"}`, auth...)
	require.Equal(t, 201, r.Status, r.Body)
	var before struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &before))
	r = h.Get(t, c.DefaultHost, base)
	var p struct {
		Phases []struct {
			ID            int64
			Title         map[string]string
			ReactionLimit *int `json:"reaction_limit"`
			Method        string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &p))
	require.Len(t, p.Phases, 2)
	current := p.Phases[1].ID

	// Only the fields sent change.
	r = h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("%s/phases/%d", base, current), `{"reaction_limit":3}`, auth...)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"reaction_limit":3`)
	require.Contains(t, r.Body, `"method":"ideation"`)
	require.Contains(t, r.Body, `"Now"`, "the title stays")
	// Moving the first phase over the current one is refused, naming both.
	r = h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("%s/phases/%d", base, before.ID), `{"ends_at":null}`, auth...)
	p2 := webtest.RequireProblem(t, r, 422, "invalid")
	require.Contains(t, p2.Detail, `"Before"`)
	require.Contains(t, p2.Detail, `"Now"`)
	webtest.RequireProblem(t, h.Call(t, "PATCH", c.DefaultHost, base+"/phases/999999", `{}`, auth...), 404, "not_found")

	// The back office form edits the first phase.
	page := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/admin/projects/%d", project), "", "Cookie", admin)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, fmt.Sprintf(`action="/admin/projects/%d/phases/%d"`, project, before.ID))
	form := url.Values{"csrf_token": {csrf}, "phase_title_en": {"Listening"}, "method": {"information"}, "starts_at": {"2019-01-01"}, "ends_at": {"2019-07-01"}}
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/projects/%d/phases/%d", project, before.ID), form.Encode(), "Cookie", admin)
	require.Equal(t, 303, r.Status, r.Body)
	require.Contains(t, h.Get(t, c.DefaultHost, base).Body, "Listening")
	form.Set("ends_at", "2030-01-01")
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/projects/%d/phases/%d", project, before.ID), form.Encode(), "Cookie", admin)
	webtest.RequireHTML(t, r, 422)

	// Deleting the current phase keeps its ideas in the project.
	r = webtest.PostIdea(t, h, c.DefaultHost, admin, csrf, project, "Benches by the river", "")
	require.Equal(t, 201, r.Status, r.Body)
	require.Equal(t, 204, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("%s/phases/%d", base, current), "", auth...).Status)
	r = h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas?project=%d", project))
	require.Contains(t, r.Body, "Benches by the river")
	require.Contains(t, r.Body, `"phase_id":null`)
}
