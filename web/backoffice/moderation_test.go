package backoffice_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/web/webtest"
)

func TestReportsInboxAndHiding(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "moderated", nil)
	h, c, admin, acsrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	h.Register(t, c.DefaultHost, "ann@example.org")
	h.Register(t, c.DefaultHost, "bob@example.org")
	ann, acs := h.Login(t, c.DefaultHost, "ann@example.org")
	bob, bcs := h.Login(t, c.DefaultHost, "bob@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "Buy cheap watches here", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	r = h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID), `{"body":"Rude words"}`, "Cookie", ann, "X-CSRF-Token", acs)
	var cm struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &cm))

	report := func(body string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, "/api/v1/reports", body, "Cookie", bob, "X-CSRF-Token", bcs)
	}
	require.Equal(t, 201, report(fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, it.ID)).Status)
	require.Equal(t, 201, report(fmt.Sprintf(`{"item_type":"comment","item_id":%d,"reason":"abuse","note":"insulting"}`, cm.ID)).Status)
	require.Equal(t, 201, report(fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, it.ID)).Status, "reporting again updates, no duplicate")
	webtest.RequireProblem(t, report(fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"ugly"}`, it.ID)), 422, "invalid")
	webtest.RequireProblem(t, report(`{"item_type":"idea","item_id":99999,"reason":"spam"}`), 404, "not_found")

	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports", "", "Cookie", bob), 403, "forbidden")
	inbox := h.Call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports?unread=true", "", "Cookie", admin)
	require.Equal(t, 200, inbox.Status, inbox.Body)
	require.Contains(t, inbox.Body, `"total":2`)
	require.Contains(t, inbox.Body, "Buy cheap watches here")
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports?q=insulting", "", "Cookie", admin).Body, `"total":1`)
	var rs struct{ Data []struct{ ID int64 } }
	require.NoError(t, json.Unmarshal([]byte(inbox.Body), &rs))
	require.Equal(t, 204, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/reports/%d/read", rs.Data[0].ID), `{"read":true}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports?unread=true", "", "Cookie", admin).Body, `"total":1`)

	// Hide the comment and the idea: gone from the portal; restore brings them back.
	hide := func(method, typ string, id int64) int {
		return h.Call(t, method, c.DefaultHost, fmt.Sprintf("/api/v1/moderation/hidden/%s/%d", typ, id), "", "Cookie", admin, "X-CSRF-Token", acsrf).Status
	}
	require.Equal(t, 403, h.Call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/hidden/comment/%d", cm.ID), "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	require.Equal(t, 204, hide("PUT", "comment", cm.ID))
	thread := h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID))
	require.NotContains(t, thread.Body, "Rude words")
	require.Contains(t, thread.Body, `"deleted_by":"hidden"`)
	require.Equal(t, 204, hide("PUT", "idea", it.ID))
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)), 404, "not_found")
	require.Contains(t, h.Get(t, c.DefaultHost, "/api/v1/ideas").Body, `"total":0`)
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports", "", "Cookie", admin).Body, `"hidden":true`)
	require.Equal(t, 204, hide("DELETE", "idea", it.ID))
	require.Equal(t, 200, h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)).Status)
}

func TestModerationInboxPage(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "inboxpage", nil)
	h, c, admin, acsrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	h.Register(t, c.DefaultHost, "ann@example.org")
	ann, acs := h.Login(t, c.DefaultHost, "ann@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "Visit my shop online", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, "/api/v1/reports", fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, it.ID),
		"Cookie", ann, "X-CSRF-Token", acs).Status)

	webtest.RequireHTML(t, h.Call(t, "GET", c.DefaultHost, "/admin/moderation", "", "Cookie", ann), 403)
	page := h.Call(t, "GET", c.DefaultHost, "/admin/moderation?unread=on", "", "Cookie", admin+"; agora_locale=nl")
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "Visit my shop online")
	require.Contains(t, page.Body, "Spam")
	require.Contains(t, page.Body, "Verbergen")
	var reportID int64
	{
		r := h.Call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports", "", "Cookie", admin)
		var rs struct{ Data []struct{ ID int64 } }
		require.NoError(t, json.Unmarshal([]byte(r.Body), &rs))
		reportID = rs.Data[0].ID
	}
	form := fmt.Sprintf("csrf_token=%s&do=hide&item_type=idea&item_id=%d", acsrf, it.ID)
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), form, "Cookie", admin)
	require.Equal(t, 303, r.Status, r.Body)
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)), 404, "not_found")
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+acsrf+"&do=read", "Cookie", admin)
	require.Equal(t, 303, r.Status)
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, "/admin/moderation?unread=on", "", "Cookie", admin).Body, "Nothing reported.")
	// A citizen cannot act on reports.
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+acs+"&do=restore&item_type=idea&item_id="+fmt.Sprint(it.ID), "Cookie", ann)
	webtest.RequireHTML(t, r, 403)
}

func TestModerationInboxBlocksTheAuthor(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "blockauthor", nil)
	h, c, admin, csrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	ritaUser := fixture.User(t, env, c, fixture.UserOpts{Email: "rita@example.org", FirstName: "Rita", LastName: "Spammer"})
	authorID, author := int64(ritaUser.ID), fixture.Token(t, env, c, ritaUser)
	reporter := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "rex@example.org", FirstName: "Rex", LastName: "Reporter"}))
	modUser := fixture.User(t, env, c, fixture.UserOpts{Email: "mod@example.org", FirstName: "Mo", LastName: "Derator"})
	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), `{"email":"mod@example.org"}`, auth...).Status)
	it := webtest.NewIdea(t, h, c.DefaultHost, project, "Cheap watches for sale", "Authorization", author)
	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, "/api/v1/reports", fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, it),
		"Authorization", reporter).Status)
	var reportID int64
	fixture.Exec(t, env, c, `SELECT id FROM reports WHERE item_id = $1`, []any{it}, &reportID)
	blocked := func() bool {
		var b bool
		fixture.Exec(t, env, c, `SELECT coalesce(blocked_until > now(), false) FROM users WHERE id = $1`, []any{authorID}, &b)
		return b
	}

	page := h.Call(t, "GET", c.DefaultHost, "/admin/moderation", "", "Cookie", admin)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "Cheap watches for sale")
	require.Contains(t, page.Body, "Rita Spammer")
	require.Contains(t, page.Body, `class="row-form block-author"`)
	require.Contains(t, page.Body, `name="do" value="block"`)

	// A project moderator sees the report but cannot block.
	modCookie, modCSRF := fixture.Session(t, env, c, modUser)
	modPage := h.Call(t, "GET", c.DefaultHost, "/admin/moderation", "", "Cookie", modCookie)
	webtest.RequireHTML(t, modPage, 200)
	require.Contains(t, modPage.Body, "Cheap watches for sale")
	require.NotContains(t, modPage.Body, `value="block"`)
	r := h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+modCSRF+"&do=block&days=7", "Cookie", modCookie)
	webtest.RequireHTML(t, r, 403)
	require.False(t, blocked())
	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it), `{"body":"Still here"}`, "Authorization", author).Status)

	// The admin blocks the author for a week.
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+csrf+"&do=block&days=7", "Cookie", admin)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.True(t, blocked())
	var days float64
	fixture.Exec(t, env, c, `SELECT extract(epoch FROM blocked_until - now()) / 86400 FROM users WHERE id = $1`, []any{authorID}, &days)
	require.InDelta(t, 7, days, 0.01)
	page = h.Call(t, "GET", c.DefaultHost, "/admin/moderation", "", "Cookie", admin)
	require.Contains(t, page.Body, "blocked until")
	require.NotContains(t, page.Body, `value="block"`)

	// The block ends the author's credentials; logged in again, they read but do not post.
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Authorization", author), 401, "unauthenticated")
	cookie, acsrf := fixture.Session(t, env, c, ritaUser)
	r = h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it), `{"body":"Let me in"}`, "Cookie", cookie, "X-CSRF-Token", acsrf)
	webtest.RequireProblem(t, r, 403, "forbidden")
	require.Equal(t, 200, h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it), "", "Cookie", cookie).Status)
	// A bad action is refused.
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+csrf+"&do=explode", "Cookie", admin)
	webtest.RequireHTML(t, r, 422)

	t.Run("blocking needs a number of days", func(t *testing.T) {
		// A malformed or missing duration is refused; it does not lift the block.
		for _, form := range []string{"do=block&days=abc", "do=block"} {
			r := h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+csrf+"&"+form, "Cookie", admin)
			webtest.RequireHTML(t, r, 422)
			require.True(t, blocked(), "after %s the author is still blocked", form)
		}
	})
}
