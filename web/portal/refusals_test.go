package portal_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/web/webtest"
)

// What the portal refuses, it says in the page's language: an unknown
// order of the idea list, editing an idea the city has answered.
func TestPortalRefusalsInPageLanguage(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "refusals", nil)
	h, c := s.H, s.City
	h.Register(t, c.DefaultHost, "author@example.org")
	author, acsrf := h.Login(t, c.DefaultHost, "author@example.org")

	r := h.Get(t, c.DefaultHost, "/projects/ideas?sort=bogus", "Cookie", "agora_locale=nl")
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Ideeën kunnen niet in die volgorde getoond worden.")
	require.NotContains(t, r.Body, "is not one of")
	r = h.Get(t, c.DefaultHost, "/projects/ideas?sort=bogus", "Accept-Language", "fr-BE,fr;q=0.9")
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Les idées ne peuvent pas être classées dans cet ordre.")

	r = webtest.PostIdea(t, h, c.DefaultHost, author, acsrf, s.Project, "Benches by the pond", "<p>Three of them</p>")
	ideaID := webtest.DecodeID(t, r, 201)
	r = h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", ideaID), `{"status":"accepted"}`,
		"Cookie", s.Cookie, "X-CSRF-Token", s.CSRF)
	require.Equal(t, 200, r.Status, r.Body)
	edit := fmt.Sprintf("/ideas/%d/edit", ideaID)
	r = h.Get(t, c.DefaultHost, edit, "Cookie", author+"; agora_locale=nl")
	webtest.RequireHTML(t, r, 403)
	require.Contains(t, r.Body, "De stad heeft dit idee beantwoord: het kan niet meer gewijzigd worden.")
	require.NotContains(t, r.Body, "can no longer be edited")
	r = h.CallForm(t, c.DefaultHost, edit, url.Values{"csrf_token": {acsrf}, "title": {"Benches by the big pond"}}.Encode(),
		"Cookie", author+"; agora_locale=fr")
	webtest.RequireHTML(t, r, 403)
	require.Contains(t, r.Body, "La ville a répondu à cette idée : elle ne peut plus être modifiée.")

	// Someone not logged in is asked to, not told their password is wrong.
	r = h.Get(t, c.DefaultHost, edit, "Cookie", "agora_locale=nl")
	webtest.RequireHTML(t, r, 401)
	require.Contains(t, r.Body, "Log eerst in.")
	require.NotContains(t, r.Body, "Verkeerd e-mailadres of wachtwoord")
}

// A comment, a reply, an edited comment or an idea refused for a word the
// city does not allow opens the form it was typed in again, with the text
// and the reason in the page's language.
func TestProfaneTextReopensItsForm(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "profane", nil)
	h, c := s.H, s.City
	h.Register(t, c.DefaultHost, "author@example.org")
	author, acsrf := h.Login(t, c.DefaultHost, "author@example.org")
	nl := author + "; agora_locale=nl"
	const refused = "Dit bevat een woord dat de stad niet toelaat. Formuleer het anders."

	r := h.CallForm(t, c.DefaultHost, "/projects/ideas/ideas", url.Values{"csrf_token": {acsrf}, "title": {"Een bank aan de vijver"},
		"body": {"Wat een klootzak van een plan"}}.Encode(), "Cookie", nl)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, `<details class="panel post-idea" open>`)
	require.Contains(t, r.Body, "Wat een klootzak van een plan")
	require.Contains(t, r.Body, `value="Een bank aan de vijver"`)
	require.Contains(t, r.Body, refused)

	ideaID := webtest.DecodeID(t, webtest.PostIdea(t, h, c.DefaultHost, author, acsrf, s.Project, "Benches by the pond", ""), 201)
	ideaPath := fmt.Sprintf("/ideas/%d", ideaID)
	comment := func(cookie string, v url.Values) webtest.Response {
		v.Set("csrf_token", acsrf)
		return h.CallForm(t, c.DefaultHost, ideaPath+"/comments", v.Encode(), "Cookie", cookie)
	}
	r = comment(nl, url.Values{"body": {"Jij klootzak, geen banken"}})
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, `aria-describedby="comment-error">Jij klootzak, geen banken</textarea>`)
	require.Contains(t, r.Body, `<p class="field-error" id="comment-error">`+refused+`</p>`)

	require.Equal(t, 303, comment(author, url.Values{"body": {"Nice idea"}}).Status)
	var thread struct{ Data []struct{ ID int64 } }
	require.NoError(t, json.Unmarshal([]byte(h.Get(t, c.DefaultHost, "/api/v1"+ideaPath+"/comments").Body), &thread))
	require.Len(t, thread.Data, 1)
	first := thread.Data[0].ID

	r = comment(author+"; agora_locale=fr", url.Values{"body": {"Quel connard"}, "parent_id": {fmt.Sprint(first)}})
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, `<details class="reply" open>`)
	require.Contains(t, r.Body, fmt.Sprintf(`aria-describedby="reply-%d-error">Quel connard</textarea>`, first))
	require.Contains(t, r.Body, "Ce texte contient un mot que la ville n&#39;autorise pas.")

	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/comments/%d/edit", first), url.Values{"csrf_token": {acsrf},
		"idea_id": {fmt.Sprint(ideaID)}, "body": {"Toch een klootzak"}}.Encode(), "Cookie", nl)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, `<details class="edit-comment" open>`)
	require.Contains(t, r.Body, fmt.Sprintf(`aria-describedby="edit-%d-error">Toch een klootzak</textarea>`, first))
	require.Contains(t, r.Body, refused)
	require.Contains(t, h.Get(t, c.DefaultHost, ideaPath).Body, "Nice idea", "the comment is as it was")
}
