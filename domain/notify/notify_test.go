package notify

import (
	"slices"
	"testing"
)

func TestHandles(t *testing.T) {
	cases := map[string][]string{
		"@jane-doe agrees":                      {"jane-doe"},
		"ask @Jane-Doe and @bob, or @jane-doe.": {"jane-doe", "bob"},
		"mail jane@example.org":                 nil,
		"@@twice and a@b":                       nil,
		"end with a dash @ann- ok":              {"ann"},
		"(@x1) [@y-2]":                          {"x1", "y-2"},
		"no mention here":                       nil,
	}
	for text, want := range cases {
		if got := Handles(text); !slices.Equal(got, want) {
			t.Errorf("Handles(%q) = %q, want %q", text, got, want)
		}
	}
}
