package moderation

import (
	"testing"

	"agora/domain/errs"
)

func TestCheckLanguage(t *testing.T) {
	cases := []struct {
		locales []string
		text    string
		refused bool
	}{
		{[]string{"en"}, "What the FUCK is this", true},
		{[]string{"en"}, "Scunthorpe deserves a park", false}, // whole words only
		{[]string{"nl", "fr"}, "Quelle merde, ce carrefour!", true},
		{[]string{"nl"}, "Quelle merde", false}, // not one of the city's languages
		{[]string{"nl"}, "Wat een klootzak.", true},
		{[]string{"fr"}, "Un projet enculé", true},
		{[]string{"en"}, "A perfectly polite idea", false},
	}
	for _, c := range cases {
		err := CheckLanguage("test", "body", c.locales, "title", c.text)
		if got := err != nil; got != c.refused {
			t.Errorf("%q with %v: refused %v, want %v", c.text, c.locales, got, c.refused)
		}
		if err != nil && errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%q: code %v", c.text, errs.CodeOf(err))
		}
	}
}
