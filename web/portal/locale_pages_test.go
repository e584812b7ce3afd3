package portal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/web/webtest"
)

// TestPagesSpeakTheirLanguage: an idea page counts its followers in the
// plural form of its language (French says "1 abonné" and "0 abonné",
// Dutch "1 volger", English "2 followers") and writes its date the way the
// language does, with the month's name, never as an ISO date.
func TestPagesSpeakTheirLanguage(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "words", nil)
	h, c := s.H, s.City
	id := webtest.NewIdea(t, h, c.DefaultHost, s.Project, "Shade trees", "Cookie", s.Cookie, "X-CSRF-Token", s.CSRF)
	path := fmt.Sprintf("/ideas/%d", id)
	zone, err := time.LoadLocation(c.TimeZone)
	require.NoError(t, err)
	today := time.Now().In(zone)
	months := map[string][]string{
		"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		"fr": {"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		"nl": {"januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december"},
	}
	month := func(l string) string { return months[l][today.Month()-1] }
	dates := map[string]string{
		"en": fmt.Sprintf("%s %d, %d", month("en"), today.Day(), today.Year()),
		"fr": fmt.Sprintf("%d %s %d", today.Day(), month("fr"), today.Year()),
		"nl": fmt.Sprintf("%d %s %d", today.Day(), month("nl"), today.Year()),
	}
	page := func(l string) string {
		t.Helper()
		r := h.Get(t, c.DefaultHost, path, "Accept-Language", l)
		webtest.RequireHTML(t, r, 200)
		require.NotContains(t, r.Body, today.Format("2006-01-02"), "no ISO date on a %s page", l)
		require.Contains(t, r.Body, dates[l], "%s date", l)
		return r.Body
	}
	require.Contains(t, page("fr"), "· 1 abonné</p>", "the author follows their idea")
	require.Contains(t, page("nl"), "· 1 volger</p>")
	require.Contains(t, page("en"), "· 1 follower</p>")

	auth := []string{"Cookie", s.Cookie, "X-CSRF-Token", s.CSRF}
	require.Equal(t, 200, h.Call(t, "DELETE", c.DefaultHost, "/api/v1/follows/idea/"+fmt.Sprint(id), "", auth...).Status)
	require.Contains(t, page("fr"), "· 0 abonné</p>", "French counts zero as one")
	require.Contains(t, page("en"), "· 0 followers</p>")
	require.Contains(t, page("nl"), "· 0 volgers</p>")
}
