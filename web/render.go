package web

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

	"agora/domain/feature"
	"agora/domain/idea"
	"agora/domain/locale"
	"agora/domain/moderation"
	"agora/domain/notify"
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

// partials are the templates every page may use; every other file in
// templates/ is a page, rendered inside layout.html.
var partials = []string{"layout.html", "field.html", "project_fields.html", "idea_fields.html"}

// templateFuncs are the few helpers templates need beyond view's methods.
var templateFuncs = template.FuncMap{
	// dict pairs the page's view with one item, for sub-templates.
	"dict": func(v view, item any) map[string]any { return map[string]any{"v": v, "c": item} },
	"deref": func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	},
	"deref64": func(n *int64) int64 {
		if n == nil {
			return 0
		}
		return *n
	},
	"coord": func(f *float64) string {
		if f == nil {
			return ""
		}
		return strconv.FormatFloat(*f, 'f', 5, 64)
	},
}

// parseTemplates parses layout.html with each page once, at start-up.
func parseTemplates() (map[string]*template.Template, error) {
	out := map[string]*template.Template{}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		if slices.Contains(partials, path.Base(f)) {
			continue
		}
		name := strings.TrimSuffix(path.Base(f), ".html")
		t, err := template.New("layout.html").Funcs(templateFuncs).ParseFS(templateFiles,
			"templates/layout.html", "templates/field.html", "templates/project_fields.html", "templates/idea_fields.html", f)
		if err != nil {
			return nil, fmt.Errorf("templates: %w", err)
		}
		out[name] = t
	}
	return out, nil
}

// view is the data every page template gets.
type view struct {
	Locale        string
	Locales       []string
	Path          string
	City          *tenant.Tenant
	Settings      *site.Settings
	Platform      bool
	Title         string
	Error         *errorView
	Home          *site.Home
	Page          *site.Page
	User          *user.User
	CSRF          string
	Form          *form
	Notice        string
	Operator      *operator.Operator
	Cities        []*tenant.Tenant
	Usage         map[tenant.ID]tenant.Usage
	Reports       []moderation.Report
	ReportFilter  moderation.Filter
	Mail          []mailView
	Exports       []user.DataExport
	Admin         *adminView
	Fields        []user.Field
	Projects      []project.Project
	Project       *project.Project
	TopicFilter   int64
	HomeFilter    *homeFilter
	Folders       []project.Folder
	AdminProjects *adminProjectsView
	Ideas         *ideasView
	Idea          *idea.Idea
	IdeaBody      template.HTML
	ReactDenial   *denialView
	DislikesOn    bool
	Feedback      []idea.Feedback
	Statuses      []idea.Status // the city's idea statuses (staff's choices, list filters)
	IdeaStatuses  *statusesView
	// Idea page extras: reactions left in a limited phase (-1: no limit),
	// whether the viewer may add pictures, and errors of the last forms.
	ReactionsLeft int
	CanEditIdea   bool
	ReactionError string
	ImageError    string
	StaffError    string
	StatusHistory []idea.StatusChange
	Flags         []feature.Flag
	ConsoleCity   *cityView // the console's /cities/:slug
	CheckedTopics []int64   // the idea edit form's topics
	Comments      []idea.Comment
	CommentDenial *denialView
	ViewerID      int64
	Moderates     bool
	Following     bool
	Notifications []notify.Notification
	Unread        int  // the signed-in user's unread notifications
	ModeratesAny  bool // the signed-in user moderates a project (the inbox link)
	Invitation    *user.Invitation
	Consents      []consentView    // the profile's email choices
	Digests       *digestsView     // /admin/digests
	Unsubscribe   *unsubscribeView // /unsubscribe
	CityExports   *exportsView
	Campaigns     *campaignsView
	Jobs          *jobsView // the console's /jobs page

	port  string // ":8080" when the request came on a non-default port
	token string // the invitation token in the page's URL

	t func(key string, args ...any) string
}

type errorView struct{ Title, Body string }

// T translates a UI string into the page's language.
func (v view) T(key string, args ...any) string { return v.t(key, args...) }

// L picks city content in the page's language, then the city's others.
func (v view) L(t locale.Text) string {
	prefs := []string{v.Locale}
	if v.City != nil {
		prefs = append(prefs, v.City.Locales...)
	}
	return t.Pick(prefs...)
}

// fieldView is one labelled input of a form, with its value and error.
type fieldView struct {
	Name, Type, Autocomplete, Label, Value, Error string
}

// Field describes the form input name for the "field" template.
func (v view) Field(name, typ, autocomplete string) fieldView {
	f := fieldView{Name: name, Type: typ, Autocomplete: autocomplete, Label: v.T("field." + name)}
	if v.Form != nil {
		f.Value, f.Error = v.Form.Values[name], v.Form.Errors[name]
	}
	return f
}

// Initial is the first letter of a name, upper-cased ("?" for none).
func (v view) Initial(name string) string {
	for _, r := range name {
		return strings.ToUpper(string(r))
	}
	return "?"
}

// Answer is the submitted answer to a registration question (first value).
func (v view) Answer(key string) string {
	if v.Form == nil || len(v.Form.Multi[key]) == 0 {
		return ""
	}
	return v.Form.Multi[key][0]
}

// Chosen reports whether value was among the submitted answers to key.
func (v view) Chosen(key, value string) bool {
	return v.Form != nil && slices.Contains(v.Form.Multi[key], value)
}

// FieldError is the error of registration question key.
func (v view) FieldError(key string) string {
	if v.Form == nil {
		return ""
	}
	return v.Form.Errors["fields."+key]
}

// CurrentPhase is the phase of p running now, if any.
func (v view) CurrentPhase(p project.Project) *project.Phase {
	if ph, ok := project.CurrentPhase(p.Phases, time.Now()); ok {
		return &ph
	}
	return nil
}

// IsCurrent reports whether phase ph runs now.
func (v view) IsCurrent(ph project.Phase) bool { return ph.Current(time.Now()) }

// Date formats a time as a date in the page's language.
func (v view) Date(t time.Time) string {
	loc := time.UTC
	if v.City != nil {
		if l, err := time.LoadLocation(v.City.TimeZone); err == nil {
			loc = l
		}
	}
	return t.In(loc).Format("2006-01-02")
}

// TopicName is the title of topic id among the city's topics.
func (v view) TopicName(id int64) string {
	if v.Home != nil {
		for _, t := range v.Home.Topics {
			if t.ID == id {
				return v.L(t.Title)
			}
		}
	}
	return ""
}

// AreaName is the title of area id among the city's areas.
func (v view) AreaName(id int64) string {
	if v.Home != nil {
		for _, a := range v.Home.Areas {
			if a.ID == id {
				return v.L(a.Title)
			}
		}
	}
	return ""
}

// ReportReasons are the reasons a report can give.
func (v view) ReportReasons() []string { return moderation.Reasons }

// PlainText is sanitised HTML as the text to edit it from.
func (v view) PlainText(html string) string {
	_, text := idea.Sanitize(strings.NewReplacer("</p>", "\n\n", "<br>", "\n", "<br/>", "\n").Replace(html))
	return text
}

// TopicIn reports whether the idea edit form has topic id checked.
func (v view) TopicIn(id int64) bool { return slices.Contains(v.CheckedTopics, id) }

// AreaChecked reports whether the edited project has area id.
func (v view) AreaChecked(id int64) bool {
	return v.AdminProjects != nil && v.AdminProjects.Project != nil && slices.Contains(v.AdminProjects.Project.Areas, id)
}

// FolderName is the title of folder id.
func (v view) FolderName(id *int64) string {
	if id == nil {
		return ""
	}
	folders := v.Folders
	if v.AdminProjects != nil {
		folders = v.AdminProjects.Folders
	}
	for _, f := range folders {
		if f.ID == *id {
			return v.L(f.Title)
		}
	}
	return ""
}

// FormValue is a submitted value, or the edited project's current one.
func (v view) FormValue(name string) string {
	if v.Form != nil {
		if val, ok := v.Form.Values[name]; ok && val != "" {
			return val
		}
	}
	if v.AdminProjects != nil && v.AdminProjects.Project != nil {
		p := v.AdminProjects.Project
		switch name {
		case "slug":
			return p.Slug
		case "status":
			return string(p.Status)
		case "visibility":
			return p.Visibility
		case "folder_id":
			if p.FolderID != nil {
				return strconv.FormatInt(*p.FolderID, 10)
			}
		}
	}
	return ""
}

// FormText is the edited project's text field name in locale l.
func (v view) FormText(name, l string) string {
	if v.AdminProjects == nil || v.AdminProjects.Project == nil {
		return ""
	}
	switch name {
	case "title":
		return v.AdminProjects.Project.Title[l]
	case "description":
		return v.AdminProjects.Project.Description[l]
	}
	return ""
}

// TopicChecked reports whether the edited project has topic id.
func (v view) TopicChecked(id int64) bool {
	return v.AdminProjects != nil && v.AdminProjects.Project != nil && slices.Contains(v.AdminProjects.Project.Topics, id)
}

// PlanNames and LifecycleNames list the console's choices.
func (v view) PlanNames() []string      { return []string{"essential", "standard", "premium"} }
func (v view) LifecycleNames() []string { return []string{"trial", "active", "suspended", "churned"} }

// ProjectStatuses, VisibilityNames and PhaseToggles list form choices.
func (v view) ProjectStatuses() []string { return []string{"draft", "published", "archived"} }
func (v view) VisibilityNames() []string { return []string{"public", "groups", "admins"} }
func (v view) PhaseToggles() []string {
	return []string{"posting", "commenting", "reacting", "dislikes"}
}

// Safe marks HTML that was sanitised when stored.
func (v view) Safe(s string) template.HTML { return template.HTML(s) }

// CanDelete reports whether the viewer may delete comment cm.
func (v view) CanDelete(cm idea.Comment) bool {
	return cm.DeletedBy == nil && v.ViewerID != 0 && (v.Moderates || (cm.AuthorID != nil && *cm.AuthorID == v.ViewerID))
}

// IdeaSorts lists the orders of an idea list.
func (v view) IdeaSorts() []string { return idea.Sorts }

// TopicTitle is the title of topic id, from the idea page's site data.
func (v view) TopicTitle(id int64) string { return v.TopicName(id) }

// UsageOf is a city's last measured usage, if any.
func (v view) UsageOf(id tenant.ID) *tenant.Usage {
	if u, ok := v.Usage[id]; ok {
		return &u
	}
	return nil
}

// Bytes formats a size for people.
func (v view) Bytes(n int64) string {
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

// RoleNames lists the roles, for selects.
func (v view) RoleNames() []string { return []string{"citizen", "moderator", "admin"} }

// PageNumbers lists the pages of the admin's user list.
func (v view) PageNumbers() []int {
	if v.Admin == nil {
		return nil
	}
	out := make([]int, 0, v.Admin.Pages)
	for i := 1; i <= v.Admin.Pages && i <= 100; i++ {
		out = append(out, i)
	}
	return out
}

// InvitationToken is the token of the invitation link being accepted.
func (v view) InvitationToken() string { return v.token }

// Paragraphs splits plain text into paragraphs for display.
func (v view) Paragraphs(s string) []string {
	var out []string
	for _, p := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Rich renders staff-written text: HTML goes through the same sanitiser as
// ideas (no script, handler, style or javascript: URL survives); plain text
// becomes paragraphs.
func (v view) Rich(s string) template.HTML {
	if !strings.Contains(s, "<") {
		var b strings.Builder
		for _, p := range v.Paragraphs(s) {
			b.WriteString("<p>")
			b.WriteString(template.HTMLEscapeString(p))
			b.WriteString("</p>")
		}
		return template.HTML(b.String())
	}
	html, _ := idea.Sanitize(s)
	return template.HTML(html)
}

// LanguageName is the name of a locale in that language.
func (v view) LanguageName(l string) string {
	names := map[string]string{"en": "English", "fr": "Français", "nl": "Nederlands", "de": "Deutsch",
		"es": "Español", "it": "Italiano", "pt": "Português", "da": "Dansk", "sv": "Svenska", "pl": "Polski"}
	if n, ok := names[l[:2]]; ok {
		return n
	}
	return l
}

// html renders a page template inside the layout. The template executes into
// a buffer first so a template error becomes a clean 500, not half a page.
func (s *Server) html(c *gin.Context, status int, name string, v view) {
	loc := c.GetString(keyLocale)
	if loc == "" {
		loc = "en"
	}
	v.Locale = loc
	v.Path = c.Request.URL.Path
	v.t = func(key string, args ...any) string { return s.i18n.T(loc, key, args...) }
	if t, ok := tenant.FromContext(c.Request.Context()); ok && v.City == nil {
		v.City = t
	}
	if u, ok := currentUser(c); ok && v.User == nil {
		v.User = u
	}
	if v.User != nil && v.City != nil && v.Notifications == nil {
		if n, mod, err := s.notifications.Header(c.Request.Context(), int64(v.User.ID)); err == nil {
			v.Unread, v.ModeratesAny = n, mod
		} else {
			_ = c.Error(err) // the page still renders, without the badge
		}
	}
	v.CSRF = s.csrfToken(c)
	v.port = portOf(c.Request.Host)
	v.token = c.Param("token")
	if op, ok := currentOperator(c); ok && v.Operator == nil {
		v.Operator = op.Operator
	}
	if v.City != nil {
		v.Locales = v.City.Locales
	} else if v.Platform {
		v.Locales = s.i18n.Locales()
	}
	var buf bytes.Buffer
	page, ok := s.pages[name]
	if !ok {
		_ = c.Error(fmt.Errorf("render: no page template %q", name))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(s.i18n.T(loc, "error.internal.body")))
		return
	}
	if err := page.Execute(&buf, v); err != nil {
		_ = c.Error(fmt.Errorf("render %s: %w", name, err))
		c.Data(http.StatusInternalServerError, "text/plain; charset=utf-8", []byte(s.i18n.T(loc, "error.internal.body")))
		return
	}
	c.Header("Content-Language", loc)
	c.Header("Vary", "Accept-Language, Cookie")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}

func jsonEncode(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	return enc.Encode(v)
}
