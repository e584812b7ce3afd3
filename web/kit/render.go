package kit

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/idea"
	"agora/domain/locale"
	"agora/domain/operator"
	"agora/domain/project"
	"agora/domain/site"
	"agora/domain/user"
	"agora/tenant"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Static is the file system of the assets every page uses (/static/...).
func Static() http.FileSystem {
	sub, _ := fs.Sub(staticFiles, "static")
	return http.FS(sub)
}

// layoutFiles are the kit's templates every page is parsed with: the
// layout (the chrome around every page) and the labelled field partial.
var layoutFiles = []string{"templates/layout.html", "templates/field.html"}

// funcs are the few helpers templates need beyond the methods of their data.
var funcs = template.FuncMap{
	// dict pairs the page's data with one item, for sub-templates.
	"dict": func(v any, item any) map[string]any { return map[string]any{"v": v, "c": item} },
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"coord": func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', 5, 64)
	},
}

// Templates are the page templates of one area, each parsed once with the
// layout, the kit's partials and the area's own partials.
type Templates struct {
	k     *Kit
	pages map[string]*template.Template
}

// Parse reads the pages of an area: every .html file in dir of fsys is a
// page rendered inside the layout, except the partials (file names in dir)
// that every page of the area may use.
func (k *Kit) Parse(fsys fs.FS, dir string, partials ...string) (*Templates, error) {
	return k.parse(fsys, dir, partials, true)
}

// parse is Parse; the kit's own pages (withLayout false) find the layout
// among their own files.
func (k *Kit) parse(fsys fs.FS, dir string, partials []string, withLayout bool) (*Templates, error) {
	files, err := fs.Glob(fsys, dir+"/*.html")
	if err != nil {
		return nil, err
	}
	var shared []string
	for _, p := range partials {
		shared = append(shared, dir+"/"+p)
	}
	out := &Templates{k: k, pages: map[string]*template.Template{}}
	for _, f := range files {
		if slices.Contains(partials, path.Base(f)) {
			continue
		}
		t := template.New("layout.html").Funcs(funcs)
		if withLayout {
			t, err = t.ParseFS(templateFiles, layoutFiles...)
		}
		if err == nil {
			t, err = t.ParseFS(fsys, append(append([]string{}, shared...), f)...)
		}
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		out.pages[strings.TrimSuffix(path.Base(f), ".html")] = t
	}
	return out, nil
}

// Data is what a page template gets: a struct of its own that embeds
// Chrome, the part the layout reads.
type Data interface{ chrome() *Chrome }

// Chrome is what every page shows around its content (the layout): the
// language, the city or the console, who is logged in, the form's CSRF
// token, a notice. Render fills it; a page sets Title, and Notice, Form or
// Settings when it has them. Its methods are the helpers every template may
// use.
type Chrome struct {
	Locale   string
	Locales  []string
	Path     string
	City     *tenant.Tenant
	Settings *site.Settings // the portal's name and colours, when the page has read them
	Platform bool           // the operator console
	Title    string
	User     *user.User
	Operator *operator.Operator
	CSRF     string
	Port     string // ":8080" when the request came on a non-default port
	Notice   string
	Form     *Form
	// Unread and ModeratesAny are the header's badge and inbox link.
	Unread       int
	ModeratesAny bool

	t func(key string, args ...any) string
	n func(key string, n int64, args ...any) string
}

func (ch *Chrome) chrome() *Chrome { return ch }

// Render renders page name with d inside the layout, after filling its
// chrome. The template executes into a buffer first so a template error
// becomes a clean 500, not half a page.
func (t *Templates) Render(c *gin.Context, status int, name string, d Data) {
	k := t.k
	loc := Locale(c)
	ch := d.chrome()
	ch.Locale = loc
	ch.Path = c.Request.URL.Path
	ch.t = func(key string, args ...any) string { return k.I18n.T(loc, key, args...) }
	ch.n = func(key string, n int64, args ...any) string { return k.I18n.N(loc, key, n, args...) }
	if ch.City == nil {
		ch.City = City(c)
	}
	if u, ok := CurrentUser(c); ok && ch.User == nil {
		ch.User = u
	}
	if ch.User != nil && ch.City != nil {
		if n, mod, err := k.notifications.Header(c.Request.Context(), int64(ch.User.ID)); err == nil {
			ch.Unread, ch.ModeratesAny = n, mod
		} else {
			_ = c.Error(err) // the page still renders, without the badge
		}
	}
	ch.CSRF = k.CSRFToken(c)
	ch.Port = PortOf(c.Request.Host)
	if op, ok := CurrentOperator(c); ok && ch.Operator == nil {
		ch.Operator = op.Operator
	}
	if ch.City != nil {
		ch.Locales = ch.City.Locales
	} else if ch.Platform {
		ch.Locales = k.I18n.Locales()
	}
	var buf bytes.Buffer
	page, ok := t.pages[name]
	if !ok {
		_ = c.Error(fmt.Errorf("render: no page template %q", name))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(k.I18n.T(loc, "error.internal.body")))
		return
	}
	if err := page.Execute(&buf, d); err != nil {
		_ = c.Error(fmt.Errorf("render %s: %w", name, err))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(k.I18n.T(loc, "error.internal.body")))
		return
	}
	c.Header("Content-Language", loc)
	c.Header("Vary", "Accept-Language, Cookie")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

// ErrorView is the title and text of an error page.
type ErrorView struct{ Title, Body string }

// errorPage is the data of the error page.
type errorPage struct {
	Chrome
	Error *ErrorView
}

// Message renders the kit's message page: a title, a notice and the
// form's error, if any, with a way home.
func (k *Kit) Message(c *gin.Context, status int, title, notice string, f *Form) {
	k.pages.Render(c, status, "message", &Chrome{Title: title, Notice: notice, Form: f})
}

// LoginForm renders the sign-in form, the same on a city's portal and on the
// console (ch.Platform), with the form's values and errors in ch.Form and
// a notice if ch has one.
func (k *Kit) LoginForm(c *gin.Context, status int, ch *Chrome) {
	ch.Title = k.T(c, "login.title")
	k.pages.Render(c, status, "login", ch)
}

// T translates a UI string into the page's language.
func (ch *Chrome) T(key string, args ...any) string { return ch.t(key, args...) }

// N translates a count with its noun into the page's language, in the
// plural form the language uses for count (key.one or key.other): count
// is any whole number, and fills the string's first verb, args the rest.
func (ch *Chrome) N(key string, count any, args ...any) string {
	var n int64
	switch v := count.(type) {
	case int:
		n = int64(v)
	case int32:
		n = int64(v)
	case int64:
		n = v
	default:
		return ch.t(key, append([]any{count}, args...)...)
	}
	return ch.n(key, n, args...)
}

// L picks city content in the page's language, then the city's others.
func (ch *Chrome) L(t locale.Text) string {
	prefs := []string{ch.Locale}
	if ch.City != nil {
		prefs = append(prefs, ch.City.Locales...)
	}
	return t.Pick(prefs...)
}

// FieldView is one labelled input of a form, with its value and error.
type FieldView struct {
	Name, Type, Autocomplete, Label, Value, Error string
}

// Field describes the form input name for the "field" template.
func (ch *Chrome) Field(name, typ, autocomplete string) FieldView {
	f := FieldView{Name: name, Type: typ, Autocomplete: autocomplete, Label: ch.T("field." + name)}
	if ch.Form != nil {
		f.Value, f.Error = ch.Form.Values[name], ch.Form.Errors[name]
	}
	return f
}

// Initial is the first letter of a name, upper-cased ("?" for none).
func (ch *Chrome) Initial(name string) string {
	for _, r := range name {
		return strings.ToUpper(string(r))
	}
	return "?"
}

// Answer is the submitted answer to a registration question (first value).
func (ch *Chrome) Answer(key string) string {
	if ch.Form == nil || len(ch.Form.Multi[key]) == 0 {
		return ""
	}
	return ch.Form.Multi[key][0]
}

// Chosen reports whether value was among the submitted answers to key.
func (ch *Chrome) Chosen(key, value string) bool {
	return ch.Form != nil && slices.Contains(ch.Form.Multi[key], value)
}

// FieldError is the error of registration question key.
func (ch *Chrome) FieldError(key string) string {
	if ch.Form == nil {
		return ""
	}
	return ch.Form.Errors["fields."+key]
}

// CurrentPhase is the phase of p running now, if any.
func (ch *Chrome) CurrentPhase(p project.Project) *project.Phase {
	if ph, ok := project.CurrentPhase(p.Phases, time.Now()); ok {
		return &ph
	}
	return nil
}

// IsCurrent reports whether phase ph runs now.
func (ch *Chrome) IsCurrent(ph project.Phase) bool { return ph.Current(time.Now()) }

// Zone is the city's time zone (UTC without a city).
func (ch *Chrome) Zone() *time.Location {
	if ch.City != nil {
		if l, err := time.LoadLocation(ch.City.TimeZone); err == nil {
			return l
		}
	}
	return time.UTC
}

// Date writes the day of t in the city's time zone the way the page's
// language writes dates, with the catalog's month names: "December 4,
// 2026", "4 décembre 2026", "4 december 2026".
func (ch *Chrome) Date(t time.Time) string {
	t = t.In(ch.Zone())
	return ch.t("date.long", t.Day(), ch.t(fmt.Sprintf("month.%d", int(t.Month()))), t.Year())
}

// DateTime is Date with the time of day (24-hour clock).
func (ch *Chrome) DateTime(t time.Time) string {
	return ch.t("date.time", ch.Date(t), t.In(ch.Zone()).Format("15:04"))
}

// ISODate is the day of t in the city's time zone as 2026-12-04: the value
// of a date input, not text for people.
func (ch *Chrome) ISODate(t time.Time) string { return t.In(ch.Zone()).Format("2006-01-02") }

// Safe marks HTML that was sanitised when stored.
func (ch *Chrome) Safe(s string) template.HTML { return template.HTML(s) }

// Bytes formats a size for people.
func (ch *Chrome) Bytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// Paragraphs splits plain text into paragraphs for display.
func (ch *Chrome) Paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Rich renders staff-written text as ideas are: HTML goes through the same
// sanitiser (no script, handler, style or javascript: URL survives); plain
// text becomes paragraphs and line breaks, escaped.
func (ch *Chrome) Rich(s string) template.HTML {
	html, _ := idea.Sanitize(s)
	return template.HTML(html)
}

// LanguageName is the name of a locale in that language.
func (ch *Chrome) LanguageName(l string) string {
	names := map[string]string{"en": "English", "fr": "Français", "nl": "Nederlands", "de": "Deutsch",
		"es": "Español", "it": "Italiano", "pt": "Português", "da": "Dansk", "sv": "Svenska", "pl": "Polski"}
	if n, ok := names[l[:2]]; ok {
		return n
	}
	return l
}

// JSONEncode writes v as JSON, HTML-escaped, the one way answers are encoded.
func JSONEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}
