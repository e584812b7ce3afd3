package portal_test

import (
	"fmt"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/idea"
	"agora/fixture"
	"agora/web/webtest"
)

func TestIdeaPlaceAndListFilters(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "places", nil)
	h, c, admin, csrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	post := func(body string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, "/api/v1/ideas", body, auth...)
	}

	var placed int64
	t.Run("place", func(t *testing.T) {
		require.Equal(t, "location_lat", webtest.RequireProblem(t, post(fmt.Sprintf(`{"project_id":%d,"title":"Half a place","location_lat":50.8}`, project)), 422, "invalid").Field)
		require.Equal(t, "location_lat", webtest.RequireProblem(t, post(fmt.Sprintf(`{"project_id":%d,"title":"Off the map","location_lat":95,"location_lng":4}`, project)), 422, "invalid").Field)
		r := post(fmt.Sprintf(`{"project_id":%d,"title":"Flowers on the square","location_lat":50.8467,"location_lng":4.35247,"location_name":"Grand-Place"}`, project))
		it := webtest.Decode[struct {
			ID           int64    `json:"id"`
			LocationLat  *float64 `json:"location_lat"`
			LocationName string   `json:"location_name"`
		}](t, r, 201)
		require.NotNil(t, it.LocationLat)
		require.InDelta(t, 50.8467, *it.LocationLat, 1e-9)
		require.Equal(t, "Grand-Place", it.LocationName)
		placed = it.ID
	})

	t.Run("the idea page shows the place", func(t *testing.T) {
		require.NotZero(t, placed)
		page := h.Get(t, c.DefaultHost, fmt.Sprintf("/ideas/%d", placed))
		webtest.RequireHTML(t, page, 200)
		require.Contains(t, page.Body, "Grand-Place")
		require.Contains(t, page.Body, "50.84670, 4.35247")
	})

	t.Run("filters and sorts", func(t *testing.T) {
		first := s.Phase
		early := webtest.NewIdea(t, h, c.DefaultHost, project, "Early idea", auth...)
		// The first phase ends; ideas now go into the second.
		fixture.Exec(t, env, c, `UPDATE phases SET ends_at = '2021-01-01' WHERE id = $1`, []any{first})
		second := webtest.DecodeID(t, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", project),
			`{"title":{"en":"Second"},"method":"ideation","starts_at":"2021-01-01T00:00:00Z","posting_enabled":true,"reacting_enabled":true}`, auth...), 201)
		late := webtest.NewIdea(t, h, c.DefaultHost, project, "Late idea", auth...)
		lateAccepted := webtest.NewIdea(t, h, c.DefaultHost, project, "Late accepted idea", auth...)
		lateViewed := webtest.NewIdea(t, h, c.DefaultHost, project, "Late viewed idea", auth...)
		require.Equal(t, 200, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", lateAccepted), `{"status":"accepted"}`, auth...).Status)
		require.Equal(t, 200, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", lateViewed), `{"status":"viewed"}`, auth...).Status)
		// Another project, in an area.
		area := webtest.DecodeID(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"Harbour"}}`, auth...), 201)
		harbour := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "harbour", Title: "Harbour", Phase: &fixture.PhaseOpts{}}).ID
		require.Equal(t, 200, h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", harbour), fmt.Sprintf(`{"areas":[%d]}`, area), auth...).Status)
		boats := webtest.NewIdea(t, h, c.DefaultHost, harbour, "Boats", auth...)

		ids := func(q string) []idea.ID {
			t.Helper()
			l := webtest.Decode[struct {
				Data []struct {
					ID idea.ID `json:"id"`
				} `json:"data"`
				Total int `json:"total"`
			}](t, h.Get(t, c.DefaultHost, "/api/v1/ideas"+q), 200)
			require.Len(t, l.Data, l.Total)
			var out []idea.ID
			for _, d := range l.Data {
				out = append(out, d.ID)
			}
			return out
		}
		sorted := func(xs ...idea.ID) []idea.ID {
			sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
			return xs
		}
		require.Contains(t, ids(fmt.Sprintf("?phase=%d", first)), early)
		require.NotContains(t, ids(fmt.Sprintf("?phase=%d", first)), late)
		require.Equal(t, sorted(late, lateAccepted, lateViewed), sorted(ids(fmt.Sprintf("?phase=%d", second))...))
		require.Equal(t, []idea.ID{boats}, ids(fmt.Sprintf("?area=%d", area)))
		require.Empty(t, ids(fmt.Sprintf("?area=%d&project=%d", area, project)))
		// By status: in the statuses' order, newest first within one.
		require.Equal(t, []idea.ID{late, lateViewed, lateAccepted}, ids(fmt.Sprintf("?phase=%d&sort=status", second)))
	})

	t.Run("bad parameters", func(t *testing.T) {
		require.Equal(t, "sort", webtest.RequireProblem(t, h.Get(t, c.DefaultHost, "/api/v1/ideas?sort=bogus"), 422, "invalid").Field)
		require.Equal(t, "project", webtest.RequireProblem(t, h.Get(t, c.DefaultHost, "/api/v1/ideas?project=abc"), 422, "invalid").Field)
		require.Equal(t, "phase", webtest.RequireProblem(t, h.Get(t, c.DefaultHost, "/api/v1/ideas?phase=-1"), 422, "invalid").Field)
		require.Equal(t, "area", webtest.RequireProblem(t, h.Get(t, c.DefaultHost, "/api/v1/ideas?area=1.5"), 422, "invalid").Field)
		require.Equal(t, 200, h.Get(t, c.DefaultHost, "/api/v1/ideas?sort=status").Status)
	})
}
