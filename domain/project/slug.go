package project

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"agora/domain/locale"
	"agora/tenant"
)

// maxSlugBase is the length of a derived slug before any "-2" suffix, so
// the suffixed slug still fits the slug rule (at most 81 characters).
const maxSlugBase = 70

// letters are the Latin letters that carry no accent to strip but still
// have a plain spelling: "Straße" is "strasse", "Œuvre" is "oeuvre".
var letters = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d", 'þ': "th", 'ı': "i",
}

// Slugify turns a title into the address part of a project's URL:
// lower-case ASCII letters, digits and single hyphens, accents dropped
// ("Fête du parc" is "fete-du-parc"). It is "" when nothing of the title
// can be spelt so.
func Slugify(title string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range norm.NFD.String(strings.ToLower(title)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue // the accent of the letter before
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(r)
		case letters[r] != "":
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteString(letters[r])
		default:
			hyphen = true
		}
	}
	s := b.String()
	if len(s) > maxSlugBase {
		s = strings.TrimRight(s[:maxSlugBase], "-")
	}
	return s
}

// slugBase is the slug a project with title t would get in a city whose
// languages are langs: its title in the first language (the city's own
// first, then any) that gives one, "project" when none does, and never
// only digits (a number in a project's address is read as its id).
func slugBase(t locale.Text, langs []string) string {
	order := append([]string(nil), langs...)
	rest := make([]string, 0, len(t))
	for l := range t {
		rest = append(rest, l)
	}
	sort.Strings(rest)
	s := ""
	for _, l := range append(order, rest...) {
		if s = Slugify(t[l]); s != "" {
			break
		}
	}
	if strings.Trim(s, "0123456789") == "" {
		s = strings.TrimSuffix("project-"+s, "-")
	}
	return s
}

// freeSlug is the first of base, base-2, base-3, ... that no project of the
// city other than self uses, read on tx. It locks the city's projects
// against other writes until tx ends, so two projects made at once with the
// same title get two slugs rather than a conflict.
func freeSlug(ctx context.Context, tx *tenant.Tx, base string, self ID) (string, error) {
	if _, err := tx.ExecContext(ctx, `LOCK TABLE projects IN SHARE ROW EXCLUSIVE MODE`); err != nil {
		return "", err
	}
	var used []string
	if err := tx.SelectContext(ctx, &used, `SELECT slug FROM projects WHERE (slug = $1 OR slug LIKE $2) AND id <> $3`,
		base, strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(base)+"-%", self); err != nil {
		return "", err
	}
	taken := make(map[string]bool, len(used))
	for _, s := range used {
		taken[s] = true
	}
	slug := base
	for n := 2; taken[slug]; n++ {
		slug = base + "-" + strconv.Itoa(n)
	}
	return slug, nil
}
