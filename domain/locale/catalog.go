package locale

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// Fallback is the locale whose strings fill any gap in another catalog.
const Fallback = "en"

// Catalog maps locale → key → string: the fixed texts of Agora's pages and
// emails, as opposed to a city's own content (Text).
type Catalog struct {
	msgs map[string]map[string]string
}

// LoadCatalog reads one <locale>.json file per locale from the root of fsys.
// The fallback catalog must exist.
func LoadCatalog(fsys fs.FS) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".json" {
			continue
		}
		b, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("catalog %s: %w", e.Name(), err)
		}
		c.msgs[strings.TrimSuffix(e.Name(), ".json")] = m
	}
	if c.msgs[Fallback] == nil {
		return nil, fmt.Errorf("catalog: no %s.json", Fallback)
	}
	return c, nil
}

// Locales lists the locales that have a catalog.
func (c *Catalog) Locales() []string {
	out := make([]string, 0, len(c.msgs))
	for l := range c.msgs {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// Keys returns the keys of one locale's catalog, sorted.
func (c *Catalog) Keys(locale string) []string {
	out := make([]string, 0, len(c.msgs[locale]))
	for k := range c.msgs[locale] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// T returns the string for key in locale (nl-BE falls back to nl, then to
// English), formatted with args. A missing key shows as the key itself.
func (c *Catalog) T(locale, key string, args ...any) string {
	s, ok := c.msgs[locale][key]
	if !ok && len(locale) > 2 {
		s, ok = c.msgs[locale[:2]][key]
	}
	if !ok {
		s, ok = c.msgs[Fallback][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 && strings.Contains(s, "%") {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// PluralCategory is the CLDR plural category of the whole number n in
// locale, among those Agora's catalogs carry: "one" or "other". English
// and Dutch use one for 1 only; French for 0 and 1 ("0 abonné", "1 abonné",
// "2 abonnés"). A region (nl-BE) follows its language; an unknown language
// follows English.
func PluralCategory(locale string, n int64) string {
	if n < 0 {
		n = -n
	}
	lang := locale
	if len(lang) > 2 {
		lang = lang[:2]
	}
	switch {
	case lang == "fr" && (n == 0 || n == 1):
		return "one"
	case lang != "fr" && n == 1:
		return "one"
	}
	return "other"
}

// N is T for a count with its noun: it takes the plural form of key for n
// in locale (key.one or key.other, by PluralCategory) and formats it with
// n first, then args. A form missing from a catalog falls back to
// key.other, then to key itself.
func (c *Catalog) N(locale, key string, n int64, args ...any) string {
	a := append([]any{n}, args...)
	for _, k := range []string{key + "." + PluralCategory(locale, n), key + ".other"} {
		if s := c.T(locale, k, a...); s != k {
			return s
		}
	}
	return c.T(locale, key, a...)
}
