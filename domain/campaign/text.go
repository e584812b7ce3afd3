package campaign

import (
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	xhtml "golang.org/x/net/html"
)

// bodyPolicy is the part of rich text that reads well in every mail client
// and runs nothing: paragraphs, headings, lists, emphasis, quotes and links
// to web or mail addresses. No style, image, script, handler or relative
// link (it would lead nowhere from a mailbox) survives.
var bodyPolicy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("p", "br", "strong", "b", "em", "i", "u", "s", "ul", "ol", "li", "h2", "h3", "h4", "blockquote", "hr")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	return p
}()

// SanitizeBody returns the email-safe HTML of a campaign's text. Plain text
// (no markup) becomes paragraphs, its single line breaks kept.
func SanitizeBody(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return ""
	}
	if !strings.Contains(s, "<") {
		var b strings.Builder
		for _, p := range strings.Split(s, "\n\n") {
			if p = strings.TrimSpace(p); p != "" {
				b.WriteString("<p>" + strings.ReplaceAll(html.EscapeString(p), "\n", "<br>") + "</p>")
			}
		}
		s = b.String()
	}
	out := strings.TrimSpace(bodyPolicy.Sanitize(s))
	if strings.TrimSpace(PlainText(out)) == "" {
		return ""
	}
	return out
}

var blankLines = regexp.MustCompile(`\n{3,}`)

// PlainText renders sanitised HTML as the plain-text part of an email:
// blocks become paragraphs, list items dashes, and links show their address
// after their text.
func PlainText(s string) string {
	var (
		b     strings.Builder
		hrefs []string // the open links' addresses
		since []int    // where each open link's text began
	)
	block := func() {
		if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n\n") {
			if strings.HasSuffix(b.String(), "\n") {
				b.WriteString("\n")
			} else {
				b.WriteString("\n\n")
			}
		}
	}
	z := xhtml.NewTokenizer(strings.NewReader(s))
	for tt := z.Next(); tt != xhtml.ErrorToken; tt = z.Next() { // io.EOF ends it
		tok := z.Token()
		switch tt {
		case xhtml.TextToken:
			text := strings.Join(strings.Fields(tok.Data), " ")
			if text == "" {
				continue
			}
			cur := b.String()
			if cur != "" && !strings.HasSuffix(cur, "\n") && !strings.HasSuffix(cur, " ") &&
				(tok.Data[0] == ' ' || tok.Data[0] == '\n' || tok.Data[0] == '\t') {
				b.WriteString(" ")
			}
			b.WriteString(text)
			if last := tok.Data[len(tok.Data)-1]; last == ' ' || last == '\n' || last == '\t' {
				b.WriteString(" ")
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			switch tok.Data {
			case "p", "h2", "h3", "h4", "blockquote", "ul", "ol":
				block()
			case "li":
				if b.Len() > 0 && !strings.HasSuffix(b.String(), "\n") {
					b.WriteString("\n")
				}
				b.WriteString("- ")
			case "br":
				b.WriteString("\n")
			case "hr":
				block()
				b.WriteString("----")
				block()
			case "a":
				href := ""
				for _, a := range tok.Attr {
					if a.Key == "href" {
						href = a.Val
					}
				}
				hrefs, since = append(hrefs, href), append(since, b.Len())
			}
		case xhtml.EndTagToken:
			switch tok.Data {
			case "p", "h2", "h3", "h4", "blockquote", "ul", "ol":
				block()
			case "a":
				if n := len(hrefs); n > 0 {
					href, from := hrefs[n-1], since[n-1]
					hrefs, since = hrefs[:n-1], since[:n-1]
					label := strings.TrimSpace(b.String()[from:])
					if href != "" && label != href && label != strings.TrimPrefix(href, "mailto:") {
						b.WriteString(" (" + href + ")")
					}
				}
			}
		}
	}
	lines := strings.Split(b.String(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.TrimSpace(blankLines.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}
