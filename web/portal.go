package web

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/tenant"
	"agora/web/i18n"
)

// localeCookie remembers the language a visitor picked (host-only cookie).
const localeCookie = "agora_locale"

// home is the portal's front page: the city's welcome, its published
// projects (filtered by topic or area) and its pages.
func (s *Server) home(c *gin.Context) {
	ctx := c.Request.Context()
	h, err := s.site.Home(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	q := queryInts(c, "topic", "area", "folder")
	if q.err != nil {
		s.fail(c, http.StatusBadRequest, "invalid", "error.bad_filter")
		return
	}
	hf := homeFilter{Topic: q.v["topic"], Area: q.v["area"], Folder: q.v["folder"], Status: project.Published}
	if c.Query("status") == string(project.Archived) {
		hf.Status = project.Archived
	}
	ps, err := s.projects.List(ctx, project.Filter{Status: hf.Status, Topic: hf.Topic, Area: hf.Area, Folder: hf.Folder})
	if err != nil {
		s.pageError(c, err)
		return
	}
	folders, err := s.projects.Folders(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	v := view{Settings: &h.Settings, Home: &h, Projects: project.Visible(ps, a, time.Now()), TopicFilter: hf.Topic, HomeFilter: &hf, Folders: folders}
	s.html(c, http.StatusOK, "home", v)
}

// homeFilter is the home page's choice of projects.
type homeFilter struct {
	Topic, Area, Folder int64
	Status              project.Status
}

// Link is the home page's address with one filter changed (0 or "" clears it).
func (f homeFilter) Link(name string, value any) string {
	q := url.Values{}
	set := func(k string, v int64) {
		if v > 0 {
			q.Set(k, strconv.FormatInt(v, 10))
		}
	}
	g := f
	var n int64
	switch v := value.(type) {
	case int:
		n = int64(v)
	case int64:
		n = v
	}
	switch name {
	case "topic":
		g.Topic = n
	case "area":
		g.Area = n
	case "folder":
		g.Folder = n
	case "status":
		g.Status = project.Status(fmt.Sprint(value))
	}
	set("topic", g.Topic)
	set("area", g.Area)
	set("folder", g.Folder)
	if g.Status == project.Archived {
		q.Set("status", string(project.Archived))
	}
	if len(q) == 0 {
		return "/"
	}
	return "/?" + q.Encode()
}

// Any reports whether any filter is set.
func (f homeFilter) Any() bool {
	return f.Topic != 0 || f.Area != 0 || f.Folder != 0 || f.Status == project.Archived
}

// projectPage shows a project and its timeline with the current phase.
func (s *Server) projectPage(c *gin.Context) {
	ctx := c.Request.Context()
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	p, err := s.projects.Get(ctx, c.Param("slug"))
	if err == nil && (p.Slug != c.Param("slug") || !project.CanView(*p, a, time.Now())) {
		err = errs.E("project", errs.NotFound, "no project")
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.renderProject(c, http.StatusOK, p, a, nil)
}

// renderProject shows a project page, with a posting form f kept after an
// error.
func (s *Server) renderProject(c *gin.Context, status int, p *project.Project, a permission.Actor, f *form) {
	h, err := s.site.Home(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	iv, err := s.projectIdeas(c, p, a)
	if err != nil {
		s.pageError(c, err)
		return
	}
	if f == nil {
		f = &form{Values: map[string]string{}, Errors: map[string]string{}}
	}
	v := view{Settings: &h.Settings, Home: &h, Project: p, Ideas: iv, Form: f, ViewerID: a.UserID,
		CheckedTopics: checkedIDs(c, "topics")} // kept when a post is refused
	if !a.Anonymous() {
		if _, v.Following, err = s.follows.Status(c.Request.Context(), a.UserID, "project", p.ID); err != nil {
			s.pageError(c, err)
			return
		}
	}
	if c.Query("deleted") != "" {
		v.Notice = s.i18n.T(c.GetString(keyLocale), "idea.deleted_notice")
	}
	if iv != nil {
		if v.Statuses, err = s.ideas.Statuses(c.Request.Context()); err != nil {
			s.pageError(c, err)
			return
		}
	}
	v.Title = p.Title.Pick(c.GetString(keyLocale))
	s.html(c, status, "project", v)
}

// page shows one of the city's static pages.
func (s *Server) page(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := s.site.Page(ctx, c.Param("slug"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	st, err := s.site.Settings(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	v := view{Settings: &st, Page: &p}
	v.Title = p.Title.Pick(c.GetString(keyLocale))
	s.html(c, http.StatusOK, "page", v)
}

// setLocale stores the visitor's language choice and returns to the page
// they were on. Only local paths are accepted as targets.
func (s *Server) setLocale(c *gin.Context) {
	offered := s.i18n.Locales()
	if t, ok := tenant.FromContext(c.Request.Context()); ok {
		offered = t.Locales
	}
	want := c.Query("set")
	if i18n.Negotiate(offered, want, "") == want {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: localeCookie, Value: want, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.scheme(c.Request) == "https",
		})
	}
	to := c.Query("to")
	if u, err := url.Parse(to); err != nil || !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || u.Host != "" || strings.Contains(to, "\\") {
		to = "/"
	}
	c.Redirect(http.StatusSeeOther, to)
}

// theme serves the city's colours as CSS custom properties, so pages need
// no inline style and the CSP can forbid it.
func (s *Server) theme(c *gin.Context) {
	st, err := s.site.Settings(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	statuses, err := s.ideas.Statuses(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	var css strings.Builder
	fmt.Fprintf(&css, ":root { --primary: %s; --accent: %s; }\n", st.PrimaryColor, st.AccentColor)
	// Each idea status in its colour (codes and colours are checked by the
	// database: [a-z0-9_] and #rrggbb).
	for _, x := range statuses {
		fmt.Fprintf(&css, "[data-status=%q] { --status: %s; }\n", x.Code, x.Color)
	}
	h := fnv.New64a()
	h.Write([]byte(css.String()))
	etag := fmt.Sprintf(`"%x"`, h.Sum64())
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Header("ETag", etag)
	c.Header("Cache-Control", "public, max-age=300")
	// Colours are guaranteed #rrggbb by the database CHECK constraints.
	c.Data(http.StatusOK, "text/css; charset=utf-8", []byte(css.String()))
}

func (s *Server) notFound(c *gin.Context) {
	s.fail(c, http.StatusNotFound, "not_found", "error.not_found")
}

func (s *Server) methodNotAllowed(c *gin.Context) {
	c.Render(http.StatusMethodNotAllowed, problemRender{Problem{
		Type: "about:blank", Title: http.StatusText(http.StatusMethodNotAllowed), Status: http.StatusMethodNotAllowed,
		Code: "method_not_allowed", Detail: c.Request.Method + " is not allowed on " + c.Request.URL.Path,
	}})
}
