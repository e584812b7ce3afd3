package idea

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSanitizeKeeps: the rich text of a post survives as written, links
// marked nofollow (and external ones opened apart); plain text becomes a
// paragraph. The text keeps the blocks apart.
func TestSanitizeKeeps(t *testing.T) {
	cases := []struct {
		name, in, html, text string
	}{
		{"plain text", "More trees", "<p>More trees</p>", "More trees"},
		{"paragraphs and emphasis", "<p>More <strong>trees</strong> and <em>shade</em></p>",
			"<p>More <strong>trees</strong> and <em>shade</em></p>", "More trees and shade"},
		{"lists, headings, quotes, code", "<h2>Why</h2>\n<ul><li>shade</li></ul>\n<blockquote>cool</blockquote>\n<code>x</code>",
			"<h2>Why</h2>\n<ul><li>shade</li></ul>\n<blockquote>cool</blockquote>\n<code>x</code>", "Why\n\nshade\n\ncool\n\nx"},
		{"an external link", `<a href="https://example.org/park">the plan</a>`,
			`<a href="https://example.org/park" rel="nofollow noopener" target="_blank">the plan</a>`, "the plan"},
		{"a local link", `<a href="/projects/park">the project</a>`,
			`<a href="/projects/park" rel="nofollow">the project</a>`, "the project"},
		{"a mailto link", `<a href="mailto:parks@gent.be">write</a>`,
			`<a href="mailto:parks@gent.be" rel="nofollow">write</a>`, "write"},
		{"an image", `<img src="https://example.org/a.png" alt="the square">`,
			`<img src="https://example.org/a.png" alt="the square">`, ""},
		{"surrounding space", "  \n <p>trees</p> \n ", "<p>trees</p>", "trees"},
		{"spaces in the text", "a \n\t  b", "<p>a<br>b</p>", "a\nb"},
		{"a mention", "thanks @ann_b!", "<p>thanks @ann_b!</p>", "thanks @ann_b!"},
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

// TestSanitizePlainText: a body typed as plain text (a textarea without
// JavaScript) keeps its paragraphs and line breaks, is escaped once, and
// its text is what was typed, apostrophes, accents, < and & included.
func TestSanitizePlainText(t *testing.T) {
	cases := []struct {
		name, in, html, text string
	}{
		{"French paragraphs", "L'école d'à côté\n\nC'est « super » & <pas> cher",
			"<p>L&#39;école d&#39;à côté</p><p>C&#39;est « super » &amp; &lt;pas&gt; cher</p>", "L'école d'à côté\n\nC'est « super » & <pas> cher"},
		{"a Dutch line break", "Auto's op het plein\nkunnen weg", "<p>Auto&#39;s op het plein<br>kunnen weg</p>", "Auto's op het plein\nkunnen weg"},
		{"Windows line ends", "een\r\ntwee\r\n\r\ndrie", "<p>een<br>twee</p><p>drie</p>", "een\ntwee\n\ndrie"},
		{"blank lines of spaces", "a\n \n\n\nb", "<p>a</p><p>b</p>", "a\n\nb"},
		{"a heart and a comparison", "I <3 trees, a < b > c", "<p>I &lt;3 trees, a &lt; b &gt; c</p>", "I <3 trees, a < b > c"},
		{"quotes", `say "yes" & 'no'`, "<p>say &#34;yes&#34; &amp; &#39;no&#39;</p>", `say "yes" & 'no'`},
		{"an entity typed as text", "&amp; stays", "<p>&amp;amp; stays</p>", "&amp; stays"},
	}
	for _, c := range cases {
		html, text := Sanitize(c.in)
		require.Equal(t, c.html, html, c.name)
		require.Equal(t, c.text, text, c.name)
		again, _ := Sanitize(text)
		require.Equal(t, html, again, "%s: the text saved again gives the same body", c.name)
	}
}

// TestTextOfKeepsBlocksApart: words of two blocks never run together, and
// entities become characters.
func TestTextOfKeepsBlocksApart(t *testing.T) {
	cases := []struct{ in, text string }{
		{"<p>a</p><p>b</p>", "a\n\nb"},
		{"<h2>Titel</h2><p>tekst</p>", "Titel\n\ntekst"},
		{"<ul><li>een</li><li>twee</li></ul><p>drie</p>", "een\ntwee\n\ndrie"},
		{"<p>l&#39;été &amp; <strong>l&#39;hiver</strong></p>", "l'été & l'hiver"},
		{"<p>a<br>b<br/>c</p>", "a\nb\nc"},
		{"<div>x</div><div>y</div>", "x\n\ny"},
		{"<blockquote><p>cité</p></blockquote>suite", "cité\n\nsuite"},
		{"plain & simple", "plain & simple"},
		{"", ""},
	}
	for _, c := range cases {
		require.Equal(t, c.text, TextOf(c.in), c.in)
	}
}

// TestPlainTitleIsStoredAsTyped: a title or a place keeps its apostrophes,
// quotes, ampersands and angle brackets unescaped (pages escape them), also
// when its markup is dropped; only white space is tidied.
func TestPlainTitleIsStoredAsTyped(t *testing.T) {
	require.Equal(t, "L'école d'à côté & <pas> cher", PlainTitle("  L'école d'à côté &\n <pas> cher "))
	require.Equal(t, `Auto's "weg"`, PlainTitle(`Auto's "weg"`))
	require.Equal(t, "a &amp; b", PlainTitle("a &amp; b"))
	require.Equal(t, "Auto's & fietsen", PlainTitle("<b>Auto's</b> & fietsen"))
}

// TestBodyHTMLOfBodiesStoredBefore: a body typed as plain text and stored
// before it became paragraphs (escaped text, no tag) is shown with its
// paragraphs and line breaks and edited as typed; bodies with markup are
// as stored.
func TestBodyHTMLOfBodiesStoredBefore(t *testing.T) {
	old := "L&#39;école d&#39;à côté\n\nC&#39;est « super » &amp; cher\net &lt;3"
	require.Equal(t, "<p>L&#39;école d&#39;à côté</p><p>C&#39;est « super » &amp; cher<br>et &lt;3</p>", BodyHTML(old))
	require.Equal(t, "L'école d'à côté\n\nC'est « super » & cher\net <3", TextOf(BodyHTML(old)))
	for _, stored := range []string{"", "<p>a</p><p>b</p>", "<p>Auto&#39;s<br>weg</p>", "<strong>x</strong>"} {
		require.Equal(t, stored, BodyHTML(stored))
	}
}

// TestIsHTML: what reads as HTML, and what is plain text with angle
// brackets in it.
func TestIsHTML(t *testing.T) {
	for in, want := range map[string]bool{
		"<p>x</p>": true, "a</em>": true, "<br/>": true, "<img src=x onerror=alert(1)//": true, "<SCRIPT SRC=x>": true,
		"C'est <pas> cher": false, "a < b > c": false, "I <3 trees": false, "x<y": false, "<goedkoper>": false, "": false,
	} {
		require.Equal(t, want, IsHTML(in), "%q", in)
	}
}
