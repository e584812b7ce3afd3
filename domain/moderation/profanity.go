package moderation

import (
	"embed"
	"strings"
	"unicode"

	"agora/domain/errs"
)

//go:embed words/*.txt
var wordFiles embed.FS

// profane holds the refused words per language, loaded once.
var profane = func() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	entries, _ := wordFiles.ReadDir("words")
	for _, e := range entries {
		b, err := wordFiles.ReadFile("words/" + e.Name())
		if err != nil {
			continue
		}
		set := map[string]bool{}
		for _, w := range strings.Fields(string(b)) {
			set[strings.ToLower(w)] = true
		}
		out[strings.TrimSuffix(e.Name(), ".txt")] = set
	}
	return out
}()

// CheckLanguage refuses text containing a profane word of any of the city's
// locales, naming the field; words match whole and case-insensitively.
func CheckLanguage(op, field string, locales []string, texts ...string) error {
	for _, text := range texts {
		words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		for _, l := range locales {
			set := profane[l[:2]]
			for _, w := range words {
				if set[w] {
					return errs.InvalidField(op, field, "contains a word this city does not allow; please rephrase").WithRule("profanity")
				}
			}
		}
	}
	return nil
}
