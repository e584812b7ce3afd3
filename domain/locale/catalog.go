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
