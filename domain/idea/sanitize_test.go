package idea

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSanitizeKeeps: the rich text of a post survives as written, links
// marked nofollow (and external ones opened apart).
func TestSanitizeKeeps(t *testing.T) {
	cases := []struct {
		name, in, html, text string
	}{
		{"plain text", "More trees", "More trees", "More trees"},
		{"paragraphs and emphasis", "<p>More <strong>trees</strong> and <em>shade</em></p>",
			"<p>More <strong>trees</strong> and <em>shade</em></p>", "More trees and shade"},
		{"lists, headings, quotes, code", "<h2>Why</h2>\n<ul><li>shade</li></ul>\n<blockquote>cool</blockquote>\n<code>x</code>",
			"<h2>Why</h2>\n<ul><li>shade</li></ul>\n<blockquote>cool</blockquote>\n<code>x</code>", "Why shade cool x"},
		{"an external link", `<a href="https://example.org/park">the plan</a>`,
			`<a href="https://example.org/park" rel="nofollow noopener" target="_blank">the plan</a>`, "the plan"},
		{"a local link", `<a href="/projects/park">the project</a>`,
			`<a href="/projects/park" rel="nofollow">the project</a>`, "the project"},
		{"a mailto link", `<a href="mailto:parks@gent.be">write</a>`,
			`<a href="mailto:parks@gent.be" rel="nofollow">write</a>`, "write"},
		{"an image", `<img src="https://example.org/a.png" alt="the square">`,
			`<img src="https://example.org/a.png" alt="the square">`, ""},
		{"surrounding space", "  \n <p>trees</p> \n ", "<p>trees</p>", "trees"},
		{"spaces in the text", "a \n\t  b", "a \n\t  b", "a b"},
		{"a mention", "thanks @ann_b!", "thanks @ann_b!", "thanks @ann_b!"},
		{"non-Latin text", "<p>Bäume für den Platz 🌳</p>", "<p>Bäume für den Platz 🌳</p>", "Bäume für den Platz 🌳"},
		{"empty", "", "", ""},
	}
	for _, c := range cases {
		html, text := Sanitize(c.in)
		require.Equal(t, c.html, html, c.name)
		require.Equal(t, c.text, text, c.name)
	}
}

// TestSanitizeStrips: what runs, styles or frames never survives, and what
// it wrapped is kept only when it is text.
func TestSanitizeStrips(t *testing.T) {
	cases := []struct {
		name, in, html, text string
	}{
		{"a script", "<script>alert(1)</script>hello", "hello", "hello"},
		{"a script in a paragraph", "<p>hi<script>document.cookie</script></p>", "<p>hi</p>", "hi"},
		{"an event handler", `<p onclick="steal()">hi</p>`, "<p>hi</p>", "hi"},
		{"an image's handler", `<img src="x" onerror="alert(1)">`, `<img src="x">`, ""},
		{"a style attribute", `<p style="position:fixed">hi</p>`, "<p>hi</p>", "hi"},
		{"a style element", "<style>body{display:none}</style>after", "after", "after"},
		{"a javascript: link", `<a href="javascript:alert(1)">go</a>`, "go", "go"},
		{"a javascript: link in capitals", `<a href="JaVaScRiPt:alert(1)">go</a>`, "go", "go"},
		{"a javascript: link with an entity", `<a href="jav&#x09;ascript:alert(1)">go</a>`, "go", "go"},
		{"a data: link", `<a href="data:text/html;base64,PHNjcmlwdD4=">go</a>`, "go", "go"},
		{"a vbscript: link", `<a href="vbscript:msgbox(1)">go</a>`, "go", "go"},
		{"an iframe", `<iframe src="https://evil.example"></iframe>after`, "after", "after"},
		{"an object", `<object data="x.swf"></object>after`, "after", "after"},
		{"an svg", `<svg onload="alert(1)"><circle r="1"/></svg>after`, "after", "after"},
		{"a form", `<form action="/x"><input name="q"><button>go</button></form>`, "go", "go"},
		{"a target of the author's", `<a href="/x" target="_top">x</a>`, `<a href="/x" rel="nofollow">x</a>`, "x"},
		{"a class", `<p class="admin">x</p>`, "<p>x</p>", "x"},
		{"a broken attribute", `<img src=x onerror=alert(1)//`, "", ""},
	}
	for _, c := range cases {
		html, text := Sanitize(c.in)
		require.Equal(t, c.html, html, c.name)
		require.Equal(t, c.text, text, c.name)
	}
}

// TestSanitizeNothingRuns throws the usual attacks at Sanitize and checks
// that no trace of what runs is left, in the HTML or in the text.
func TestSanitizeNothingRuns(t *testing.T) {
	attacks := []string{
		`<script>alert(1)</script>`,
		`<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
		`<scr<script>ipt>alert(1)</scr</script>ipt>`,
		`<img src="x" onerror="alert(1)">`,
		`<img src=x OnError=alert(1)>`,
		`<body onload=alert(1)>`,
		`<svg/onload=alert(1)>`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href=" javascript:alert(1)">x</a>`,
		`<a href="&#106;avascript:alert(1)">x</a>`,
		`<a href="java&#x0A;script:alert(1)">x</a>`,
		`<img src="javascript:alert(1)">`,
		`<div style="background:url(javascript:alert(1))">x</div>`,
		`<p style="behavior:url(x.htc)">x</p>`,
		`<iframe srcdoc="<script>alert(1)</script>"></iframe>`,
		`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
		`<details open ontoggle=alert(1)>`,
		`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
		`<base href="javascript:alert(1)//">`,
		`<link rel="stylesheet" href="https://evil.example/x.css">`,
	}
	for _, in := range attacks {
		html, text := Sanitize(in)
		for _, out := range []string{html, text} {
			low := strings.ToLower(out)
			for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "ontoggle", "style=", "<style", "<iframe",
				"<svg", "<meta", "<base", "<link", "srcdoc"} {
				require.NotContains(t, low, bad, "%q gave %q", in, out)
			}
		}
	}
}
