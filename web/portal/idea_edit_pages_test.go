package portal_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/project"
	"agora/web/webtest"
)

// TestIdeaPagesForAuthors: the author edits the idea and a comment through
// the page's forms (a bad title comes back with what was typed), another
// citizen reports them and follows the project, and the author deletes the
// idea, which then leaves the project page.
func TestIdeaPagesForAuthors(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "ideaforms", nil)
	h, c := s.H, s.City
	h.Register(t, c.DefaultHost, "author@example.org")
	author, acsrf := h.Login(t, c.DefaultHost, "author@example.org")
	r := h.Call(t, "GET", c.DefaultHost, "/api/v1/projects", "", "Cookie", author)
	var ps struct{ Data []struct{ ID int64 } }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &ps))
	r = webtest.PostIdea(t, h, c.DefaultHost, author, acsrf, project.ID(ps.Data[0].ID), "Shade trees on the square", "<p>Plant them</p>")
	require.Equal(t, 201, r.Status, r.Body)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	ideaPath := fmt.Sprintf("/ideas/%d", it.ID)

	page := h.Call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", author)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, `href="`+ideaPath+`/edit"`)
	form := h.Call(t, "GET", c.DefaultHost, ideaPath+"/edit", "", "Cookie", author)
	webtest.RequireHTML(t, form, 200)
	require.Contains(t, form.Body, `value="Shade trees on the square"`)
	r = h.CallForm(t, c.DefaultHost, ideaPath+"/edit", url.Values{"csrf_token": {acsrf}, "title": {"ab"}, "body": {"kept text"}}.Encode(), "Cookie", author)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "kept text", "what was typed comes back")
	r = h.CallForm(t, c.DefaultHost, ideaPath+"/edit", url.Values{"csrf_token": {acsrf}, "title": {"Shade trees on the market square"},
		"body": {"<p>Plant lime trees</p>"}, "location_name": {"Market square"}, "location_lat": {"51.05"}, "location_lng": {"3.72"}}.Encode(), "Cookie", author)
	require.Equal(t, 303, r.Status, r.Body)
	page = h.Get(t, c.DefaultHost, ideaPath)
	require.Contains(t, page.Body, "Shade trees on the market square")
	require.Contains(t, page.Body, "Market square")

	// Comments: the author edits theirs from the page.
	r = h.CallForm(t, c.DefaultHost, ideaPath+"/comments", url.Values{"csrf_token": {acsrf}, "body": {"First thought"}}.Encode(), "Cookie", author)
	require.Equal(t, 303, r.Status, r.Body)
	require.Equal(t, ideaPath+"#comments", r.Header.Get("Location"))
	r = h.Get(t, c.DefaultHost, "/api/v1"+ideaPath+"/comments")
	var thread struct{ Data []struct{ ID int64 } }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &thread))
	cms := thread.Data
	require.Len(t, cms, 1)
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/comments/%d/edit", cms[0].ID), url.Values{"csrf_token": {acsrf}, "body": {"Second thought"}}.Encode(), "Cookie", author)
	require.Equal(t, 303, r.Status, r.Body)
	require.Equal(t, fmt.Sprintf("%s#comment-%d", ideaPath, cms[0].ID), r.Header.Get("Location"))
	require.Contains(t, h.Get(t, c.DefaultHost, ideaPath).Body, "Second thought")

	// Another citizen: no edit link, a report form; follows the project.
	h.Register(t, c.DefaultHost, "neighbour@example.org")
	other, ocsrf := h.Login(t, c.DefaultHost, "neighbour@example.org")
	page = h.Call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", other)
	require.NotContains(t, page.Body, `href="`+ideaPath+`/edit"`)
	require.Contains(t, page.Body, `action="/reports"`)
	webtest.RequireHTML(t, h.Call(t, "GET", c.DefaultHost, ideaPath+"/edit", "", "Cookie", other), 403)
	r = h.CallForm(t, c.DefaultHost, "/reports", url.Values{"csrf_token": {ocsrf}, "item_type": {"comment"}, "item_id": {fmt.Sprint(cms[0].ID)},
		"idea_id": {fmt.Sprint(it.ID)}, "reason": {"off_topic"}}.Encode(), "Cookie", other)
	require.Equal(t, 303, r.Status, r.Body)
	page = h.Call(t, "GET", c.DefaultHost, r.Header.Get("Location"), "", "Cookie", other)
	require.Contains(t, page.Body, "the moderators will look at it")
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/follows/project/%d", ps.Data[0].ID), url.Values{"csrf_token": {ocsrf}, "follow": {"on"}, "back": {"/projects/ideas"}}.Encode(), "Cookie", other)
	require.Equal(t, 303, r.Status, r.Body)
	page = h.Call(t, "GET", c.DefaultHost, "/projects/ideas", "", "Cookie", other)
	require.Contains(t, page.Body, `aria-pressed="true"`)

	// The author deletes the idea.
	r = h.CallForm(t, c.DefaultHost, ideaPath+"/delete", "csrf_token="+acsrf, "Cookie", author)
	require.Equal(t, 303, r.Status, r.Body)
	require.True(t, strings.HasPrefix(r.Header.Get("Location"), "/projects/ideas"))
	webtest.RequireHTML(t, h.Get(t, c.DefaultHost, ideaPath), 404)
	require.NotContains(t, h.Get(t, c.DefaultHost, "/projects/ideas").Body, "Shade trees")
}
