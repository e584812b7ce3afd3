package portal_test

import (
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
}
