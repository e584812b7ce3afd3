package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/moderation"
	"agora/domain/user"
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
	project, itemType, itemID, err := s.moderation.ReportItem(c.Request.Context(), id)
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
		// The reported item, whatever the form says: a moderator acts on
		// their projects' reports only.
		err = s.moderation.SetHidden(c.Request.Context(), a.UserID, itemType, itemID, c.PostForm("do") == "hide")
	case "block":
		// Blocking an account is for city admins, not project moderators.
		if a.Role != "admin" {
			s.fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
			return
		}
		var author int64
		days, derr := strconv.Atoi(c.PostForm("days"))
		if derr != nil || days < 1 {
			err = errs.InvalidField("moderation", "days", "block for a whole number of days, at least 1").WithRule("range", 1, 3650)
		} else if author, err = s.moderation.ReportAuthor(c.Request.Context(), id); err == nil {
			_, err = s.users.Block(c.Request.Context(), user.ID(a.UserID), user.ID(author), days)
		}
	default:
		err = errs.InvalidField("moderation", "do", "%q is not read, unread, hide, restore or block", c.PostForm("do"))
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/moderation")
}
