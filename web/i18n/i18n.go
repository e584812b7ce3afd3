// Package i18n holds Agora's user-interface strings per locale and picks the
// locale a visitor should see.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"sort"
	"strings"
)

//go:embed *.json
var files embed.FS

// Fallback is the locale whose strings fill any gap in another catalog.
const Fallback = "en"

// Catalog maps locale → key → string.
type Catalog struct {
	msgs map[string]map[string]string
}

// Load reads the embedded catalogs. Every catalog must have exactly the keys
// of the fallback catalog; a test checks that.
func Load() (*Catalog, error) {
	entries, err := files.ReadDir(".")
	if err != nil {
		return nil, err
	}
	c := &Catalog{msgs: map[string]map[string]string{}}
	for _, e := range entries {
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("i18n %s: %w", e.Name(), err)
		}
		c.msgs[strings.TrimSuffix(e.Name(), path.Ext(e.Name()))] = m
	}
	if c.msgs[Fallback] == nil {
		return nil, fmt.Errorf("i18n: no %s catalog", Fallback)
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

// Keys returns the keys of one catalog (for tests).
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
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Negotiate picks the locale to show: the cookie's choice when the city offers
// it, else the best match of the Accept-Language header among offered, else
// offered[0].
func Negotiate(offered []string, cookie, acceptLanguage string) string {
	if len(offered) == 0 {
		return Fallback
	}
	for _, o := range offered {
		if cookie != "" && o == cookie {
			return o
		}
	}
	type pref struct {
		tag string
		q   float64
	}
	var prefs []pref
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		tag = strings.TrimSpace(tag)
		if tag == "" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if _, err := fmt.Sscanf(v, "%g", &q); err != nil {
				q = 0
			}
		}
		prefs = append(prefs, pref{strings.ToLower(tag), q})
	}
	sort.SliceStable(prefs, func(i, j int) bool { return prefs[i].q > prefs[j].q })
	for _, p := range prefs {
		if p.q <= 0 {
			continue
		}
		for _, o := range offered {
			if strings.ToLower(o) == p.tag {
				return o
			}
		}
		for _, o := range offered {
			if strings.EqualFold(o[:2], p.tag[:min(2, len(p.tag))]) {
				return o
			}
		}
	}
	return offered[0]
}
