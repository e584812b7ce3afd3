package i18n_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/i18n"
)

// TestCatalogsMatchEnglish: every catalog has exactly the keys of en.json, no
// empty string, and the same format verbs in the same order, so a translation
// can neither miss a string nor break a Sprintf.
func TestCatalogsMatchEnglish(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load()
	require.NoError(t, err)
	locales := c.Locales()
	require.Contains(t, locales, i18n.Fallback)
	require.Subset(t, locales, []string{"en", "fr", "nl"})
	want := c.Keys(i18n.Fallback)
	require.NotEmpty(t, want)
	verbs := regexp.MustCompile(`%[-+# 0]*[0-9]*(\.[0-9]+)?[a-zA-Z%]`)
	for _, l := range locales {
		t.Run(l, func(t *testing.T) {
			t.Parallel()
			got := c.Keys(l)
			var missing, extra []string
			gotSet, wantSet := map[string]bool{}, map[string]bool{}
			for _, k := range got {
				gotSet[k] = true
			}
			for _, k := range want {
				wantSet[k] = true
				if !gotSet[k] {
					missing = append(missing, k)
				}
			}
			for _, k := range got {
				if !wantSet[k] {
					extra = append(extra, k)
				}
			}
			require.Empty(t, missing, "%s.json lacks keys of en.json", l)
			require.Empty(t, extra, "%s.json has keys en.json does not", l)
			for _, k := range want {
				s := c.T(l, k)
				require.NotEqual(t, k, s, "%s: %s is missing", l, k)
				require.NotEmpty(t, strings.TrimSpace(s), "%s: %s is empty", l, k)
				require.Equal(t, verbs.FindAllString(c.T(i18n.Fallback, k), -1), verbs.FindAllString(s, -1),
					"%s: %s has other format verbs than English", l, k)
			}
		})
	}
}

func TestTranslate(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load()
	require.NoError(t, err)
	require.Equal(t, "Page introuvable", c.T("fr", "error.not_found.title"))
	require.Equal(t, "Pagina niet gevonden", c.T("nl-BE", "error.not_found.title"), "region falls back to language")
	require.Equal(t, "Page not found", c.T("de", "error.not_found.title"), "unknown locale falls back to English")
	require.Equal(t, "no.such.key", c.T("fr", "no.such.key"))
	require.Contains(t, c.T("fr", "error.unknown_host.body", "x.example"), "x.example")
}

func TestNegotiate(t *testing.T) {
	t.Parallel()
	enFrNl := []string{"en", "fr", "nl"}
	tests := []struct {
		name    string
		offered []string
		cookie  string
		accept  string
		want    string
	}{
		{"nothing asked: first offered", enFrNl, "", "", "en"},
		{"first offered is the city's default", []string{"nl", "fr"}, "", "", "nl"},
		{"exact match", enFrNl, "", "fr", "fr"},
		{"cookie wins when offered", enFrNl, "nl", "fr", "nl"},
		{"cookie wins over q=1", enFrNl, "fr", "nl;q=1, en;q=0.9", "fr"},
		{"cookie not offered is ignored", enFrNl, "de", "nl", "nl"},
		{"cookie is matched exactly", enFrNl, "NL", "fr", "fr"},
		{"q-values order preferences", enFrNl, "", "fr;q=0.5, nl;q=0.8, de", "nl"},
		{"unordered q-values", enFrNl, "", "en;q=0.1, fr;q=0.9", "fr"},
		{"q=0 means not acceptable", enFrNl, "", "fr;q=0, nl;q=0.2", "nl"},
		{"q=0 alone falls back", []string{"fr", "nl"}, "", "nl;q=0", "fr"},
		{"equal q keeps header order", enFrNl, "", "nl;q=0.7, fr;q=0.7", "nl"},
		{"region falls back to language", enFrNl, "", "nl-BE", "nl"},
		{"region falls back, case-insensitive", enFrNl, "", "NL-be,en;q=0.5", "nl"},
		{"exact region beats language", []string{"fr-BE", "fr-FR"}, "", "fr-FR", "fr-FR"},
		{"language matches an offered region", []string{"en", "nl-BE"}, "", "nl", "nl-BE"},
		{"spaces around parts", enFrNl, "", "  de ;q=0.9 ,  fr ; q=0.8 ", "fr"},
		{"unsupported: first offered", enFrNl, "", "de-DE, es;q=0.8", "en"},
		{"unsupported with other default", []string{"fr", "nl"}, "", "de", "fr"},
		{"wildcard: first offered", []string{"nl", "fr"}, "", "*", "nl"},
		{"malformed q is ignored", enFrNl, "", "fr;q=abc, nl;q=0.5", "nl"},
		{"garbage header", enFrNl, "", ";;,,;q=", "en"},
		{"one-letter tag", enFrNl, "", "f", "en"},
		{"nothing offered", nil, "fr", "fr", i18n.Fallback},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tc.want, i18n.Negotiate(tc.offered, tc.cookie, tc.accept))
		})
	}
}

// TestNegotiateWhiteSpace: RFC 9110 allows optional white space before ";q=";
// the tag must still match exactly.
func TestNegotiateWhiteSpace(t *testing.T) {
	t.Parallel()
	require.Equal(t, "fr-FR", i18n.Negotiate([]string{"fr-BE", "fr-FR"}, "", "fr-FR ;q=0.9, fr-BE;q=0.5"))
}

// TestPlurals: a count with its noun takes the form its language uses:
// French says one for 0 and 1, English and Dutch for 1 only; every key with
// plural forms has both, in every catalog.
func TestPlurals(t *testing.T) {
	t.Parallel()
	c, err := i18n.Load()
	require.NoError(t, err)
	cases := []struct {
		locale string
		n      int64
		want   string
	}{
		{"en", 0, "0 followers"}, {"en", 1, "1 follower"}, {"en", 2, "2 followers"},
		{"fr", 0, "0 abonné"}, {"fr", 1, "1 abonné"}, {"fr", 2, "2 abonnés"},
		{"nl", 0, "0 volgers"}, {"nl", 1, "1 volger"}, {"nl", 2, "2 volgers"},
		{"nl-BE", 1, "1 volger"}, {"de", 1, "1 follower"},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, c.N(tc.locale, "idea.followers", tc.n), "%s %d", tc.locale, tc.n)
	}
	require.Equal(t, "no.such.key", c.N("en", "no.such.key", 1), "a key without forms shows as itself")
	require.Equal(t, "1 utilisateur", c.N("fr", "platform.usage.users", 1))
	require.Equal(t, "2 ideeën", c.N("nl", "platform.usage.ideas", 2))
	require.Equal(t, "1 failed task: 0 waiting to retry, 1 archived after its last attempt.", c.N("en", "jobs.failed_summary", 1, 0, 1))
	require.Equal(t, "Ze gaat naar 1 persoon met een bevestigd adres; 0 van hen willen geen campagnes krijgen en worden overgeslagen.", c.N("nl", "campaigns.send_reach", 1, 0))
	for _, k := range c.Keys(i18n.Fallback) {
		if base, ok := strings.CutSuffix(k, ".one"); ok {
			require.NotEqual(t, base+".other", c.T("en", base+".other"), "%s has no .other form", base)
		}
	}
}
