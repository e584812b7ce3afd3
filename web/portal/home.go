package portal

import (
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/web/kit"
)

// Home is the portal's front page: the city's welcome, its published
// projects (filtered by topic or area) and its pages.
func (s *Portal) Home(c *gin.Context) {
	ctx := c.Request.Context()
	h, err := s.site.Home(ctx)
	if err != nil {
		s.PageError(c, err)
		return
	}
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	q := kit.QueryInts(c, "topic", "area", "folder")
	if q.Err != nil {
		s.Fail(c, http.StatusBadRequest, "invalid", "error.bad_filter")
		return
	}
	hf := homeFilter{Topic: q.V["topic"], Area: q.V["area"], Folder: q.V["folder"], Status: project.Published}
	if c.Query("status") == string(project.Archived) {
		hf.Status = project.Archived
	}
	ps, err := s.projects.ListVisible(ctx, a, project.Filter{Status: hf.Status, Topic: hf.Topic, Area: hf.Area, Folder: hf.Folder})
	if err != nil {
		s.PageError(c, err)
		return
	}
	folders, err := s.projects.Folders(ctx)
	if err != nil {
		s.PageError(c, err)
		return
	}
	v := &page{Chrome: kit.Chrome{Settings: &h.Settings}, Home: &h, Projects: ps, TopicFilter: hf.Topic, HomeFilter: &hf, Folders: folders}
	s.pages.Render(c, http.StatusOK, "home", v)
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

// ProjectPage shows a project and its timeline with the current phase.
func (s *Portal) ProjectPage(c *gin.Context) {
	ctx := c.Request.Context()
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.projects.View(ctx, a, c.Param("slug"))
	if err == nil && p.Slug != c.Param("slug") { // a page by its slug only
		err = errs.E("project", errs.NotFound, "no project")
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.renderProject(c, http.StatusOK, p, a, nil)
}

// renderProject shows a project page, with a posting form f kept after an
// error.
func (s *Portal) renderProject(c *gin.Context, status int, p *project.Project, a permission.Actor, f *kit.Form) {
	h, err := s.site.Home(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	iv, err := s.projectIdeas(c, p, a)
	if err != nil {
		s.PageError(c, err)
		return
	}
	if f == nil {
		f = kit.EmptyForm()
	}
	v := &page{Chrome: kit.Chrome{Settings: &h.Settings, Form: f}, Home: &h, Project: p, Ideas: iv, ViewerID: a.UserID, CheckedTopics: kit.CheckedIDs(c, "topics")} // kept when a post is refused
	if !a.Anonymous() {
		if _, v.Following, err = s.follows.Status(c.Request.Context(), a.UserID, "project", int64(p.ID)); err != nil {
			s.PageError(c, err)
			return
		}
	}
	if c.Query("deleted") != "" {
		v.Notice = s.I18n.T(kit.Locale(c), "idea.deleted_notice")
	}
	if iv != nil {
		if v.Statuses, err = s.ideas.Statuses(c.Request.Context()); err != nil {
			s.PageError(c, err)
			return
		}
	}
	v.Title = p.Title.Pick(kit.Locale(c))
	s.pages.Render(c, status, "project", v)
}

// SitePage shows one of the city's static pages.
func (s *Portal) SitePage(c *gin.Context) {
	ctx := c.Request.Context()
	p, err := s.site.Page(ctx, c.Param("slug"))
	if err != nil {
		s.PageError(c, err)
		return
	}
	st, err := s.site.Settings(ctx)
	if err != nil {
		s.PageError(c, err)
		return
	}
	v := &page{Chrome: kit.Chrome{Settings: &st}, Page: &p}
	v.Title = p.Title.Pick(kit.Locale(c))
	s.pages.Render(c, http.StatusOK, "page", v)
}

// Theme serves the city's colours as CSS custom properties, so pages need
// no inline style and the CSP can forbid it.
func (s *Portal) Theme(c *gin.Context) {
	st, err := s.site.Settings(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	statuses, err := s.ideas.Statuses(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
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
