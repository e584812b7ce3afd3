// Package i18n holds Agora's user-interface strings per locale and picks the
// locale a visitor should see.
package i18n

import (
	"embed"
	"fmt"
	"sort"
	"strings"

	"agora/domain/locale"
)

//go:embed *.json
var files embed.FS

// Fallback is the locale whose strings fill any gap in another catalog.
const Fallback = locale.Fallback

// Catalog maps locale → key → UI string.
type Catalog = locale.Catalog

// Load reads the embedded catalogs. Every catalog must have exactly the keys
// of the fallback catalog; a test checks that.
func Load() (*Catalog, error) { return locale.LoadCatalog(files) }

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
