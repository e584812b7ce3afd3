package idea

import (
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// What a person types is stored as typed and escaped once, by the page
// that shows it. Titles and place names are plain text: stored raw,
// escaped by html/template. Bodies of ideas and comments are rich text,
// stored as sanitised HTML; a body typed as plain text (a textarea without
// JavaScript) becomes paragraphs and line breaks, and TextOf gives it back
// exactly as it was typed, for the edit box and for exports.

// bodyPolicy allows the rich text of a user-generated post and nothing that
// runs: no script, no event handler, no javascript: URL, no style.
var bodyPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	return p
}()

// Sanitize returns the safe HTML of a body and its plain text (for search
// and exports, see TextOf). A body with no HTML element in it is plain
// text: it is escaped, its blank-line separated blocks become paragraphs
// and its other line breaks <br>.
func Sanitize(body string) (html, text string) {
	if !IsHTML(body) {
		html = PlainToHTML(body)
	} else {
		html = strings.TrimSpace(bodyPolicy.Sanitize(body))
	}
	return html, TextOf(html)
}

// tagName finds what could open or close an element: "<" or "</", a name,
// then the end of the name.
var tagName = regexp.MustCompile(`</?([a-zA-Z][a-zA-Z0-9-]*)(?:[\s/>]|$)`)

// IsHTML reports whether s has a tag of a name HTML knows ("<p>", "</em>",
// "<img src=x", "<script"), so it is read as HTML; "<pas>", "a < b" or
// "I <3 trees" are plain text.
func IsHTML(s string) bool {
	for _, m := range tagName.FindAllStringSubmatch(s, -1) {
		if atom.Lookup([]byte(strings.ToLower(m[1]))) != 0 {
			return true
		}
	}
	return false
}

var blankLine = regexp.MustCompile(`\n[ \t]*\n\s*`)

// PlainToHTML escapes plain text and keeps its shape: each block between
// blank lines a paragraph, each other line break a <br>.
func PlainToHTML(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n"))
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, p := range blankLine.Split(s, -1) {
		lines := strings.Split(p, "\n")
		for i := range lines {
			lines[i] = html.EscapeString(strings.TrimSpace(lines[i]))
		}
		b.WriteString("<p>" + strings.Join(lines, "<br>") + "</p>")
	}
	return b.String()
}

// BodyHTML is the HTML of a stored body. A body stored before plain text
// became paragraphs is its text escaped, with no tag (every body stored
// since has one): it gets its paragraphs and line breaks back.
func BodyHTML(stored string) string {
	if stored == "" || strings.Contains(stored, "<") {
		return stored
	}
	return PlainToHTML(html.UnescapeString(stored))
}

// blockElements end a paragraph of text: what comes after starts after a
// blank line.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
	atom.Ul: true, atom.Ol: true, atom.Dl: true, atom.Blockquote: true, atom.Pre: true, atom.Table: true, atom.Hr: true,
	atom.Figure: true, atom.Section: true, atom.Article: true, atom.Aside: true, atom.Header: true, atom.Footer: true,
}

// lineElements end a line: list items, table rows, definitions.
var lineElements = map[atom.Atom]bool{atom.Li: true, atom.Tr: true, atom.Dt: true, atom.Dd: true}

var manyBreaks = regexp.MustCompile(`\n{3,}`)

// TextOf is the plain text of sanitised HTML, entities decoded: paragraphs
// and other blocks separated by a blank line ("<p>a</p><p>b</p>" is
// "a\n\nb"), list items and <br> by a line break, and inside a line runs
// of white space one space, as a browser shows them. The HTML that
// PlainToHTML makes of a text gives that text back.
func TextOf(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return strings.Join(strings.Fields(s), " ")
	}
	var b strings.Builder
	pending := 0 // line breaks owed before the next text
	z := xhtml.NewTokenizer(strings.NewReader(s))
	for tt := z.Next(); tt != xhtml.ErrorToken; tt = z.Next() {
		tok := z.Token()
		switch tt {
		case xhtml.TextToken:
			text := strings.Map(func(r rune) rune {
				if r == '\n' || r == '\t' || r == '\r' || r == '\f' {
					return ' '
				}
				return r
			}, tok.Data)
			if strings.TrimSpace(text) == "" {
				if pending == 0 {
					b.WriteString(text)
				}
				continue
			}
			if b.Len() > 0 {
				b.WriteString(strings.Repeat("\n", pending))
			}
			pending = 0
			b.WriteString(text)
		case xhtml.StartTagToken, xhtml.EndTagToken, xhtml.SelfClosingTagToken:
			switch a := tok.DataAtom; {
			case a == atom.Br:
				pending = min(pending+1, 2)
			case blockElements[a]:
				pending = 2
			case lineElements[a] && tt != xhtml.EndTagToken:
				pending = max(pending, 1)
			}
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(manyBreaks.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}

// textPolicy keeps the text of HTML and drops what runs or styles, with
// what it wraps.
var textPolicy = bluemonday.StrictPolicy()

// PlainTitle is a title or a place name as it is stored: what was typed,
// on one line, runs of white space one space, and never escaped (pages
// escape it when they show it). Only markup is dropped, when there is some
// (see IsHTML): "<b>Bike</b> lanes" is "Bike lanes", but "Auto's & <pas>"
// stays as it is.
func PlainTitle(s string) string {
	if IsHTML(s) {
		s = html.UnescapeString(textPolicy.Sanitize(s))
	}
	return strings.Join(strings.Fields(s), " ")
}
