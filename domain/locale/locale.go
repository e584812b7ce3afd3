// Package locale holds multilingual city content: one string per locale,
// picked with fallback to the city's other locales.
package locale

import (
	"agora/domain/jsonb"
	"database/sql/driver"
	"encoding/json"
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
