package portal_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"
	xhtml "golang.org/x/net/html"

	"agora/domain/export"
	"agora/domain/permission"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// What citizens type in French and Dutch: apostrophes, quotes, guillemets,
// accents, an ampersand, angle brackets, paragraphs and a line break.
const (
	frenchTitle = `L'école "d'à côté" & <pas> cher`
	frenchBody  = "L'école d'à côté\n\nC'est « super » & <pas> cher"
	frenchPlace = "Place de l'Église & <co>"
	dutchTitle  = "Auto's weg van het plein"
	dutchBody   = "Auto's op het plein\nkunnen weg\n\nDat is 'beter' & <goedkoper>"
	dutchPlace  = "Sint-Jan's plein"
)

// TestTypedTextRoundTrips: a title, a place and a body typed through the
// API and through the page's form without JavaScript are stored as typed,
// shown on the idea's page escaped once with their paragraphs and line
// breaks, given back exactly in the edit boxes (saving them again changes
// nothing), and exported as typed to XLSX and CSV under headers in the
// city's language. Comments too.
func TestTypedTextRoundTrips(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "typedtext", nil)
	h, env := s.H, s.Env
	_, err := env.Ops.Update(context.Background(), s.City.Slug, tenant.Update{Locales: []string{"nl", "fr", "en"}})
	require.NoError(t, err)
	env.Registry.Invalidate()
	c, err := env.Registry.Get(context.Background(), s.City.ID)
	require.NoError(t, err)
	host := c.DefaultHost
	h.Register(t, host, "author@example.org")
	author, csrf := h.Login(t, host, "author@example.org")

	// The API: the answer holds the title and place as typed, the body as
	// HTML escaped once.
	b, _ := json.Marshal(map[string]any{"project_id": s.Project, "title": frenchTitle, "body": frenchBody, "location_name": frenchPlace})
	r := h.Call(t, "POST", host, "/api/v1/ideas", string(b), "Cookie", author, "X-CSRF-Token", csrf)
	require.Equal(t, 201, r.Status, r.Body)
	var doc struct {
		ID           int64
		Title, Body  string
		LocationName string `json:"location_name"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &doc))
	require.Equal(t, frenchTitle, doc.Title)
	require.Equal(t, frenchPlace, doc.LocationName)
	require.Equal(t, "<p>L&#39;école d&#39;à côté</p><p>C&#39;est « super » &amp; &lt;pas&gt; cher</p>", doc.Body)
	french := doc.ID

	// The project page's form, without JavaScript.
	r = h.CallForm(t, host, "/projects/ideas/ideas", formOf("csrf_token", csrf, "title", dutchTitle, "body", dutchBody, "location_name", dutchPlace),
		"Cookie", author)
	require.Equal(t, 303, r.Status, r.Body)
	var dutch int64
	_, err = fmt.Sscanf(r.Header.Get("Location"), "/ideas/%d", &dutch)
	require.NoError(t, err, r.Header.Get("Location"))

	for _, it := range []struct {
		id                 int64
		title, body, place string
		html               string // the body as the page carries it
	}{
		{french, frenchTitle, frenchBody, frenchPlace, "<p>L&#39;école d&#39;à côté</p><p>C&#39;est « super » &amp; &lt;pas&gt; cher</p>"},
		{dutch, dutchTitle, dutchBody, dutchPlace, "<p>Auto&#39;s op het plein<br>kunnen weg</p><p>Dat is &#39;beter&#39; &amp; &lt;goedkoper&gt;</p>"},
	} {
		path := fmt.Sprintf("/ideas/%d", it.id)
		page := h.Get(t, host, path)
		webtest.RequireHTML(t, page, 200)
		require.Contains(t, page.Body, "<h1>"+escapeOnce(it.title)+"</h1>")
		require.Contains(t, page.Body, `<div class="rich">`+it.html+`</div>`, "paragraphs and line breaks are shown")
		require.Contains(t, page.Body, escapeOnce(it.place))
		for _, twice := range []string{"&amp;#39;", "&amp;amp;", "&amp;lt;", "&amp;#34;"} {
			require.NotContains(t, page.Body, twice, "%s: nothing is escaped twice", path)
		}

		// The edit box gives back exactly what was typed; saving it again
		// changes nothing.
		form := h.Call(t, "GET", host, path+"/edit", "", "Cookie", author)
		webtest.RequireHTML(t, form, 200)
		fields := formFields(t, form.Body)
		require.Equal(t, it.title, fields["title"])
		require.Equal(t, it.body, fields["body"])
		require.Equal(t, it.place, fields["location_name"])
		r = h.CallForm(t, host, path+"/edit", formOf("csrf_token", csrf, "title", fields["title"], "body", fields["body"],
			"location_name", fields["location_name"]), "Cookie", author)
		require.Equal(t, 303, r.Status, r.Body)
		again := h.Get(t, host, path)
		require.Contains(t, again.Body, `<div class="rich">`+it.html+`</div>`)
		require.Contains(t, again.Body, "<h1>"+escapeOnce(it.title)+"</h1>")
	}

	// Comments: one through the API, one through the page's form; each
	// shown escaped once with its paragraphs, and given back exactly in its
	// edit box.
	b, _ = json.Marshal(map[string]any{"body": frenchBody})
	r = h.Call(t, "POST", host, fmt.Sprintf("/api/v1/ideas/%d/comments", french), string(b), "Cookie", author, "X-CSRF-Token", csrf)
	require.Equal(t, 201, r.Status, r.Body)
	var cm struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &cm))
	frenchComment := cm.ID
	r = h.CallForm(t, host, fmt.Sprintf("/ideas/%d/comments", dutch), formOf("csrf_token", csrf, "body", dutchBody), "Cookie", author)
	require.Equal(t, 303, r.Status, r.Body)
	r = h.Get(t, host, fmt.Sprintf("/api/v1/ideas/%d/comments", dutch))
	var thread struct{ Data []struct{ ID int64 } }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &thread))
	require.Len(t, thread.Data, 1)
	dutchComment := thread.Data[0].ID
	for _, cm := range []struct {
		idea, id   int64
		body, html string
	}{
		{french, frenchComment, frenchBody, "<p>L&#39;école d&#39;à côté</p><p>C&#39;est « super » &amp; &lt;pas&gt; cher</p>"},
		{dutch, dutchComment, dutchBody, "<p>Auto&#39;s op het plein<br>kunnen weg</p><p>Dat is &#39;beter&#39; &amp; &lt;goedkoper&gt;</p>"},
	} {
		page := h.Call(t, "GET", host, fmt.Sprintf("/ideas/%d", cm.idea), "", "Cookie", author)
		webtest.RequireHTML(t, page, 200)
		require.Contains(t, page.Body, `<div class="rich">`+cm.html+`</div>`)
		require.Equal(t, cm.body, formFields(t, page.Body)[fmt.Sprintf("edit-%d", cm.id)], "the comment's edit box")
	}

	// The exports, XLSX and CSV: the text as typed, under Dutch headers.
	ctx := tenanttest.Ctx(c)
	admin := permission.Actor{UserID: int64(s.Admin.ID), Role: "admin"}
	svc := export.NewService(env.DB, env.StorageDir, export.Signer{})
	for _, kind := range []export.Kind{export.Ideas, export.Comments} {
		for _, format := range export.Formats {
			e, err := svc.Request(ctx, admin, kind, format, export.Filters{})
			require.NoError(t, err)
			require.NoError(t, svc.Build(ctx, e.ID))
			e, err = svc.Get(ctx, admin, e.ID)
			require.NoError(t, err)
			rows := exportRows(t, filepath.Join(export.Dir(env.StorageDir, c.ID), e.FileName), format, string(kind))
			col := map[string]int{}
			for i, name := range rows[0] {
				col[name] = i
			}
			byID := map[string][]string{}
			for _, row := range rows[1:] {
				byID[row[0]] = row
			}
			if kind == export.Ideas {
				require.Equal(t, []string{"ID", "Project-ID", "Project", "Fase-ID", "Titel", "Tekst", "Status", "Auteur-ID", "Auteur"}, rows[0][:9], format)
				for _, it := range []struct {
					id                 int64
					title, body, place string
				}{{french, frenchTitle, frenchBody, frenchPlace}, {dutch, dutchTitle, dutchBody, dutchPlace}} {
					row := byID[fmt.Sprint(it.id)]
					require.NotNil(t, row, "%s: idea %d", format, it.id)
					require.Equal(t, it.title, row[col["Titel"]], format)
					require.Equal(t, it.body, row[col["Tekst"]], format)
					require.Equal(t, it.place, row[col["Plaats"]], format)
				}
				continue
			}
			require.Contains(t, rows[0], "Tekst", format)
			require.Equal(t, frenchBody, byID[fmt.Sprint(frenchComment)][col["Tekst"]], format)
			require.Equal(t, dutchBody, byID[fmt.Sprint(dutchComment)][col["Tekst"]], format)
		}
	}
}

// formOf is a form body of name, value pairs.
func formOf(pairs ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		v.Set(pairs[i], pairs[i+1])
	}
	return v.Encode()
}

// escapeOnce is s as html/template writes it in a page's text.
func escapeOnce(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// formFields reads a page's inputs and text areas, by id, as a browser
// would fill them in: their values, unescaped.
func formFields(t *testing.T, page string) map[string]string {
	t.Helper()
	doc, err := xhtml.Parse(strings.NewReader(page))
	require.NoError(t, err)
	out := map[string]string{}
	var walk func(n *xhtml.Node)
	walk = func(n *xhtml.Node) {
		if n.Type == xhtml.ElementNode && (n.Data == "input" || n.Data == "textarea") {
			var id, value string
			for _, a := range n.Attr {
				switch a.Key {
				case "id":
					id = a.Val
				case "value":
					value = a.Val
				}
			}
			if n.Data == "textarea" {
				var b strings.Builder
				for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
					b.WriteString(ch.Data)
				}
				value = b.String()
			}
			out[id] = value
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	return out
}

// exportRows reads an export file's rows, header first.
func exportRows(t *testing.T, path string, format export.Format, sheet string) [][]string {
	t.Helper()
	if format == export.XLSX {
		f, err := excelize.OpenFile(path)
		require.NoError(t, err)
		defer f.Close()
		rows, err := f.GetRows(sheet)
		require.NoError(t, err)
		return rows
	}
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	br := bufio.NewReader(fh)
	bom := make([]byte, 3)
	_, err = io.ReadFull(br, bom)
	require.NoError(t, err)
	require.Equal(t, "\ufeff", string(bom))
	rows, err := csv.NewReader(br).ReadAll()
	require.NoError(t, err)
	return rows
}

// TestBodiesStoredBeforeReadAsTyped: an idea body and a comment typed as
// plain text and stored escaped, without paragraphs, before bodies kept
// their shape, are shown with their paragraphs and line breaks, edited as
// typed and exported as typed.
func TestBodiesStoredBeforeReadAsTyped(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "oldtext", nil)
	h, env, c := s.H, s.Env, s.City
	ctx := tenanttest.Ctx(c)
	const stored = "Auto&#39;s op het plein\nkunnen weg\n\nDat is &#39;beter&#39; &amp; &lt;goedkoper&gt;"
	const shown = "<p>Auto&#39;s op het plein<br>kunnen weg</p><p>Dat is &#39;beter&#39; &amp; &lt;goedkoper&gt;</p>"
	var ideaID, commentID int64
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.GetContext(ctx, &ideaID, `INSERT INTO ideas (project_id, phase_id, author_id, title, body, body_text, status_id)
			VALUES ($1, $2, $3, 'Auto''s weg', $4, 'Auto&#39;s op het plein kunnen weg', (SELECT id FROM idea_statuses WHERE code = 'proposed')) RETURNING id`,
			s.Project, s.Phase, s.Admin.ID, stored); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &commentID, `INSERT INTO comments (idea_id, author_id, body) VALUES ($1, $2, $3) RETURNING id`,
			ideaID, s.Admin.ID, stored); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE ideas SET comments_count = 1 WHERE id = $1`, ideaID)
		return err
	}))
	path := fmt.Sprintf("/ideas/%d", ideaID)
	page := h.Call(t, "GET", c.DefaultHost, path, "", "Cookie", s.Cookie)
	webtest.RequireHTML(t, page, 200)
	require.Equal(t, 2, strings.Count(page.Body, `<div class="rich">`+shown+`</div>`), "the idea and its comment")
	require.Equal(t, dutchBody, formFields(t, page.Body)[fmt.Sprintf("edit-%d", commentID)])
	form := h.Call(t, "GET", c.DefaultHost, path+"/edit", "", "Cookie", s.Cookie)
	webtest.RequireHTML(t, form, 200)
	require.Equal(t, dutchBody, formFields(t, form.Body)["body"])

	admin := permission.Actor{UserID: int64(s.Admin.ID), Role: "admin"}
	svc := export.NewService(env.DB, env.StorageDir, export.Signer{})
	for _, kind := range []export.Kind{export.Ideas, export.Comments} {
		e, err := svc.Request(ctx, admin, kind, export.CSV, export.Filters{})
		require.NoError(t, err)
		require.NoError(t, svc.Build(ctx, e.ID))
		e, err = svc.Get(ctx, admin, e.ID)
		require.NoError(t, err)
		rows := exportRows(t, filepath.Join(export.Dir(env.StorageDir, c.ID), e.FileName), export.CSV, string(kind))
		require.Len(t, rows, 2)
		text := slices.Index(rows[0], "Text")
		require.NotEqual(t, -1, text, "%s: %v", kind, rows[0])
		require.Equal(t, dutchBody, rows[1][text], kind)
	}
}
