package backoffice_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/tenant"
	"agora/web/webtest"
)

type statusDoc struct {
	Code   string            `json:"code"`
	Title  map[string]string `json:"title"`
	Custom bool              `json:"custom"`
}

func statuses(t *testing.T, h *webtest.Harness, c *tenant.Tenant) []statusDoc {
	t.Helper()
	return webtest.Decode[struct {
		Data []statusDoc `json:"data"`
	}](t, h.Get(t, c.DefaultHost, "/api/v1/statuses"), 200).Data
}

func codes(ss []statusDoc) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Code)
	}
	return out
}

var defaultStatuses = []string{"proposed", "viewed", "under_consideration", "accepted", "rejected", "implemented"}

func TestCustomIdeaStatuses(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "statuses", nil)
	h, c, admin, csrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	cit := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "cit@example.org", FirstName: "Cas", LastName: "Citizen"}))

	list := statuses(t, h, c)
	require.Equal(t, defaultStatuses, codes(list))
	for _, s := range list {
		require.False(t, s.Custom)
		require.NotEmpty(t, s.Title["en"])
	}
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"mine","title":{"en":"Mine"}}`, "Authorization", cit), 403, "forbidden")

	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"on_hold","title":{"en":"On hold","fr":"En attente"},"color":"#123456"}`, auth...)
	st := webtest.Decode[statusDoc](t, r, 201)
	require.True(t, st.Custom)
	require.Equal(t, "on_hold", st.Code)
	require.Equal(t, "code", webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"on_hold","title":{"en":"Again"}}`, auth...), 422, "invalid").Field)
	list = statuses(t, h, c)
	require.Equal(t, append(append([]string{}, defaultStatuses...), "on_hold"), codes(list))
	require.True(t, list[6].Custom)

	it := webtest.NewIdea(t, h, c.DefaultHost, project, "Wait and see", auth...)
	r = h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", it), `{"status":"on_hold","note":"Later"}`, auth...)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"status":"on_hold"`)
	require.Contains(t, r.Body, `"On hold"`)
	page := h.Get(t, c.DefaultHost, fmt.Sprintf("/ideas/%d", it), "Cookie", "agora_locale=fr")
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "En attente")

	// A used status stays, even once no idea has it any more.
	webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/on_hold", "", auth...), 409, "conflict")
	require.Equal(t, 200, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", it), `{"status":"proposed"}`, auth...).Status)
	webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/on_hold", "", auth...), 409, "conflict")
	// Defaults always stay.
	webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/accepted", "", auth...), 403, "forbidden")
	webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/nothing_here", "", auth...), 404, "not_found")
	// An unused custom status goes.
	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"parked","title":{"en":"Parked"}}`, auth...).Status)
	webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/parked", "", "Authorization", cit), 403, "forbidden")
	r = h.Call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/parked", "", auth...)
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)
	require.NotContains(t, codes(statuses(t, h, c)), "parked")

	t.Run("back office page", func(t *testing.T) {
		// The back office lists them with the form to add one.
		page := h.Call(t, "GET", c.DefaultHost, "/admin/statuses", "", "Cookie", admin)
		webtest.RequireHTML(t, page, 200)
		require.Contains(t, page.Body, `action="/admin/statuses"`)
		require.Contains(t, page.Body, "<code>on_hold</code>")
		require.NotContains(t, page.Body, "Available on the standard plan")
		r := h.CallForm(t, c.DefaultHost, "/admin/statuses", "csrf_token="+csrf+"&code=from_form&title_en=From+the+form&color=%23abcdef", "Cookie", admin)
		require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
		require.Contains(t, codes(statuses(t, h, c)), "from_form")
	})
}
