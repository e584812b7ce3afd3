// Package locale holds multilingual city content: one string per locale,
// picked with fallback to the city's other locales.
package locale

import (
	"database/sql/driver"
	"encoding/json"
	"unicode/utf8"

	"agora/domain/errs"
	"agora/domain/jsonb"
)

// Text is a multilingual value stored as a JSON object {"en": "...", "fr": "..."}.
type Text map[string]string

// Pick returns the text in the first of prefs that has a non-empty value,
// falling back to any language-only match (nl for nl-BE), then to any value
// at all so content is never blank just because a translation is missing.
func (t Text) Pick(prefs ...string) string {
	for _, p := range prefs {
		if s := t[p]; s != "" {
			return s
		}
		if len(p) > 2 {
			if s := t[p[:2]]; s != "" {
				return s
			}
		}
	}
	// Deterministic last resort: the alphabetically first non-empty value.
	best := ""
	var bestKey string
	for k, v := range t {
		if v != "" && (best == "" || k < bestKey) {
			best, bestKey = v, k
		}
	}
	return best
}

// Scan reads a jsonb value.
func (t *Text) Scan(src any) error {
	m := Text{}
	if err := jsonb.Scan("locale.Text", src, &m); err != nil {
		return err
	}
	*t = m
	return nil
}

// Value writes the text as a JSON string for a jsonb column.
func (t Text) Value() (driver.Value, error) {
	if t == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[string]string(t))
	return string(b), err
}

// Limits of multilingual content that people type.
const (
	MaxTitle       = 200     // characters of a title or label, per language
	MaxDescription = 100_000 // bytes of a (rich text) description, per language
	maxLanguages   = 20
)

// CheckTitle validates a multilingual title: present in at least one
// language, at most MaxTitle characters in each, keyed by locale codes.
// Errors are errs.Invalid naming field.
func CheckTitle(op, field string, t Text) error {
	if t.Pick() == "" {
		return errs.InvalidField(op, field, "is required in at least one language").WithRule("required")
	}
	return checkEach(op, field, t, func(s string) bool { return utf8.RuneCountInString(s) <= MaxTitle },
		errs.InvalidField(op, field, "must be at most %d characters", MaxTitle).WithRule("too_long", MaxTitle))
}

// CheckDescription validates an optional multilingual description: at most
// MaxDescription bytes in each language, keyed by locale codes.
func CheckDescription(op, field string, t Text) error {
	return checkEach(op, field, t, func(s string) bool { return len(s) <= MaxDescription },
		errs.InvalidField(op, field, "must be at most %d characters", MaxDescription).WithRule("too_long", MaxDescription))
}

func checkEach(op, field string, t Text, ok func(string) bool, tooLong error) error {
	if len(t) > maxLanguages {
		return errs.InvalidField(op, field, "has more than %d languages", maxLanguages).WithRule("languages", maxLanguages)
	}
	for k, v := range t {
		if len(k) < 2 || len(k) > 10 {
			return errs.InvalidField(op, field, "%q is not a language code", k).WithRule("language_code")
		}
		if !ok(v) {
			return tooLong
		}
	}
	return nil
}
