package project

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/locale"
)

func TestSlugify(t *testing.T) {
	for _, tc := range []struct{ title, want string }{
		{"Fête du parc", "fete-du-parc"},
		{"  Été 2027 : la Grand-Place!  ", "ete-2027-la-grand-place"},
		{"Straße & Œuvre", "strasse-oeuvre"},
		{"Zuidpark — fase één", "zuidpark-fase-een"},
		{"Łódź", "lodz"},
		{"already-a-slug", "already-a-slug"},
		{"!!!", ""},
		{"Κέντρο", ""},
		{strings.Repeat("long ", 30), strings.TrimRight(strings.Repeat("long-", 14), "-")},
	} {
		got := Slugify(tc.title)
		require.Equal(t, tc.want, got, "Slugify(%q)", tc.title)
		if got != "" {
			require.Regexp(t, slugRe, got)
		}
	}
}

func TestSlugBase(t *testing.T) {
	for _, tc := range []struct {
		name  string
		title locale.Text
		langs []string
		want  string
	}{
		{"the city's first language", locale.Text{"en": "Park party", "fr": "Fête du parc"}, []string{"fr", "en"}, "fete-du-parc"},
		{"another language when the first gives none", locale.Text{"fr": "???", "nl": "Parkfeest"}, []string{"fr", "en"}, "parkfeest"},
		{"nothing to spell", locale.Text{"en": "!!!"}, []string{"en"}, "project"},
		{"never only digits", locale.Text{"en": "2027"}, []string{"en"}, "project-2027"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := slugBase(tc.title, tc.langs)
			require.Equal(t, tc.want, got)
			require.Regexp(t, slugRe, got)
		})
	}
}
