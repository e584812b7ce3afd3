package portal_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/web/webtest"
)

// TestStaffRichTextIsSanitised: project and information-phase descriptions
// may be rich text; what reaches the page keeps the formatting and loses
// anything that runs. Plain text still becomes paragraphs, escaped.
func TestStaffRichTextIsSanitised(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "richtext", nil)
	h, c, admin, csrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	evil := `<p>Plan <b>bold</b></p><script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">go</a>`
	b, _ := json.Marshal(map[string]any{"description": map[string]string{"en": evil}})
	r := h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", project), string(b), auth...)
	require.Equal(t, 200, r.Status, r.Body)
	b, _ = json.Marshal(map[string]any{"title": map[string]string{"en": "Learn"}, "method": "information", "starts_at": "2019-01-01T00:00:00Z",
		"ends_at": "2019-06-01T00:00:00Z", "description": map[string]string{"en": "First line <3 & more\n\nSecond <i>paragraph</i>"}})
	r = h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", project), string(b), auth...)
	require.Equal(t, 201, r.Status, r.Body)

	page := h.Get(t, c.DefaultHost, "/projects/ideas")
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "<b>bold</b>")
	for _, bad := range []string{"<script", "onerror", "javascript:", "alert("} {
		require.False(t, strings.Contains(page.Body, bad), "the page carries %q", bad)
	}
	require.Contains(t, page.Body, "<i>paragraph</i>", "HTML in a phase description is kept when safe")
}
