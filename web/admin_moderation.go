package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/moderation"
)

// adminModeration is the back office's moderation inbox: reports with their
// reason and excerpt, unread first if asked, searchable, with read, hide and
// restore buttons. Admins and project moderators use it.
func (s *Server) adminModeration(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	if a.Anonymous() {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return
	}
	var projects []int64
	switch {
	case a.Role == "admin":
	case len(a.ModeratorOf) > 0:
		projects = a.ModeratorOf
	default:
		s.fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
		return
	}
	f := moderation.Filter{Projects: projects, Unread: c.Query("unread") == "on", Query: c.Query("q")}
	f.Project, _ = strconv.ParseInt(c.Query("project"), 10, 64)
	rs, err := s.moderation.Inbox(c.Request.Context(), f)
	if err != nil {
		s.pageError(c, err)
		return
	}
	v := view{Reports: rs, ReportFilter: f, Title: s.i18n.T(c.GetString(keyLocale), "moderation.title")}
	s.html(c, http.StatusOK, "admin_moderation", v)
}

// moderationAction handles the inbox's buttons: read/unread, hide/restore.
func (s *Server) moderationAction(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	project, err := s.moderation.ReportProject(c.Request.Context(), id)
	if err != nil {
		s.pageError(c, err)
		return
	}
	if a.Anonymous() || !a.Staff(project) {
		s.fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
		return
	}
	switch c.PostForm("do") {
	case "read", "unread":
		err = s.moderation.MarkRead(c.Request.Context(), id, c.PostForm("do") == "read")
	case "hide", "restore":
		itemID, _ := strconv.ParseInt(c.PostForm("item_id"), 10, 64)
		err = s.moderation.SetHidden(c.Request.Context(), a.UserID, c.PostForm("item_type"), itemID, c.PostForm("do") == "hide")
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/moderation")
}
