package backoffice_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/web/webtest"
)

func TestStaffStatusAndFeedback(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "answers", nil)
	h, c, admin, acsrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	h.Register(t, c.DefaultHost, "cit@example.org")
	cit, ccsrf := h.Login(t, c.DefaultHost, "cit@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, cit, ccsrf, project, "Light the bridge", "<p>It is dark at night</p>")
	require.Equal(t, 201, r.Status, r.Body)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	path := fmt.Sprintf("/api/v1/ideas/%d", it.ID)

	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, path+"/status", `{"status":"accepted"}`, "Cookie", cit, "X-CSRF-Token", ccsrf), 403, "forbidden")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, path+"/feedback", `{"body":"me"}`, "Cookie", cit, "X-CSRF-Token", ccsrf), 403, "forbidden")
	p := webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, path+"/status", `{"status":"maybe"}`, "Cookie", admin, "X-CSRF-Token", acsrf), 422, "invalid")
	require.Contains(t, p.Detail, "status")
	r = h.Call(t, "POST", c.DefaultHost, path+"/status", `{"status":"under_consideration","note":"Our team looks at it"}`, "Cookie", admin, "X-CSRF-Token", acsrf)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"status":"under_consideration"`)
	r = h.Call(t, "POST", c.DefaultHost, path+"/feedback", `{"body":"<p>We will add lamps in <b>spring</b>.</p><script>x</script>"}`, "Cookie", admin, "X-CSRF-Token", acsrf)
	require.Equal(t, 201, r.Status, r.Body)
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, path+"/feedback", `{"body":"<script>only</script>"}`, "Cookie", admin, "X-CSRF-Token", acsrf), 422, "invalid")

	// The citizen sees both on the idea page, in their language; no staff forms.
	page := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", cit+"; agora_locale=fr")
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "À l&#39;étude")
	require.Contains(t, page.Body, "Réponse officielle")
	require.Contains(t, page.Body, "<b>spring</b>")
	require.NotContains(t, page.Body, "<script>")
	require.NotContains(t, page.Body, `action="/ideas/`+fmt.Sprint(it.ID)+`/status"`)
	// Staff answer from the page too.
	staffPage := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", admin)
	require.Contains(t, staffPage.Body, `action="/ideas/`+fmt.Sprint(it.ID)+`/status"`)
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/ideas/%d/status", it.ID), "csrf_token="+acsrf+"&status=accepted&note=Yes", "Cookie", admin)
	require.Equal(t, 303, r.Status, r.Body)
	require.Contains(t, h.Get(t, c.DefaultHost, path).Body, `"status":"accepted"`)
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/ideas/%d/status", it.ID), "csrf_token="+ccsrf+"&status=rejected", "Cookie", cit)
	webtest.RequireHTML(t, r, 403)
	require.Contains(t, h.Get(t, c.DefaultHost, path).Body, `"status":"accepted"`)
}
