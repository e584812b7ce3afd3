package web

import (
	"fmt"
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
	topic, _ := strconv.ParseInt(c.Query("topic"), 10, 64)
	ps, err := s.projects.List(ctx, project.Filter{Status: project.Published, Topic: topic})
	if err != nil {
		s.pageError(c, err)
		return
	}
	v := view{Settings: &h.Settings, Home: &h, Projects: project.Visible(ps, a, time.Now()), TopicFilter: topic}
	s.html(c, http.StatusOK, "home", v)
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
	st, err := s.site.Settings(c.Request.Context())
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
	v := view{Settings: &st, Project: p, Ideas: iv, Form: f}
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
	etag := fmt.Sprintf(`"%x"`, st.UpdatedAt.UnixNano())
	if c.GetHeader("If-None-Match") == etag {
		c.Status(http.StatusNotModified)
		return
	}
	c.Header("ETag", etag)
	c.Header("Cache-Control", "public, max-age=300")
	// Colours are guaranteed #rrggbb by the database CHECK constraints.
	c.Data(http.StatusOK, "text/css; charset=utf-8",
		[]byte(fmt.Sprintf(":root { --primary: %s; --accent: %s; }\n", st.PrimaryColor, st.AccentColor)))
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
