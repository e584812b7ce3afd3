package portal_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/tenant"
	"agora/web/webtest"
)

// TestReactionPagePostIsOneWrite walks a reaction posted from the idea page:
// after the session is read, the whole of it is one write transaction (the
// idea service decides and writes in it), and nothing is read again after
// the write (the answer is a redirect).
func TestReactionPagePostIsOneWrite(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "walk", nil)
	h, c, project := s.H, s.City, s.Project
	fixture.User(t, h.Env, c, fixture.UserOpts{Email: "walker@example.org"})
	cookie, csrf := h.Login(t, c.DefaultHost, "walker@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, cookie, csrf, project, "A bench by the river", "Please")
	require.Equal(t, 201, r.Status, r.Body)
	for _, mode := range []string{"like", "like", "dislike"} { // like, take it back, dislike
		var tr tenant.Trace
		form := url.Values{"csrf_token": {csrf}, "mode": {mode}}
		req := httptest.NewRequest(http.MethodPost, "/ideas/1/reaction", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", cookie)
		req.Host = c.DefaultHost
		req = req.WithContext(tenant.WithTrace(req.Context(), &tr))
		rec := httptest.NewRecorder()
		h.Server.ServeHTTP(rec, req)
		require.Equal(t, http.StatusSeeOther, rec.Code, rec.Body.String())
		require.Equal(t, "/ideas/1", rec.Header().Get("Location"))
		lines := tr.Lines()
		var begins []string
		for _, l := range lines {
			if strings.HasPrefix(l, "BEGIN") {
				begins = append(begins, l)
			}
		}
		t.Logf("%s: %d statements and transactions", mode, len(lines))
		require.Equal(t, []string{"BEGIN READ ONLY", "BEGIN"}, begins, "the session, then one write")
		require.Contains(t, lines[1], "FROM sessions", "the read scope holds the session lookup")
		require.Equal(t, "BEGIN", lines[2], "nothing else is read before the write")
		require.Contains(t, lines[len(lines)-1], "INSERT INTO activities", "nothing is read after the write")
	}
}
