package backoffice

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/moderation"
	"agora/domain/permission"
	"agora/domain/user"
	"agora/web/kit"
)

// ModerationPage is the back office's moderation inbox: reports with their
// reason and excerpt, unread first if asked, searchable, with read, hide and
// restore buttons. Admins and project moderators use it.
func (s *Backoffice) ModerationPage(c *gin.Context) {
	_, projects, ok := s.moderator(c)
	if !ok {
		return
	}
	f := moderation.Filter{Projects: projects, Unread: c.Query("unread") == "on", Query: c.Query("q")}
	f.Project, _ = strconv.ParseInt(c.Query("project"), 10, 64)
	rs, err := s.moderation.Inbox(c.Request.Context(), f)
	if err != nil {
		s.PageError(c, err)
		return
	}
	v := &page{Chrome: kit.Chrome{Title: s.I18n.T(kit.Locale(c), "moderation.title")}, Reports: rs, ReportFilter: f}
	s.pages.Render(c, http.StatusOK, "admin_moderation", v)
}

// ModerationAction handles the inbox's buttons: read/unread, hide/restore.
func (s *Backoffice) ModerationAction(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	project, itemType, itemID, err := s.moderation.ReportItem(c.Request.Context(), id)
	if err != nil {
		s.PageError(c, err)
		return
	}
	if a.Anonymous() || !a.Staff(project) {
		s.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
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
			s.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
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
		err = errs.InvalidField("moderation", "do", "%q is not read, unread, hide, restore or block", c.PostForm("do")).WithRule("choice")
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/moderation")
}

// moderator returns the caller, staff by the route (RequireStaff), and the
// projects whose reports they see: nil for admins (every project).
func (s *Backoffice) moderator(c *gin.Context) (permission.Actor, []int64, bool) {
	a, err := s.Actor(c)
	if err != nil {
		s.Error(c, err)
		return a, nil, false
	}
	if a.Role == "admin" {
		return a, nil, true
	}
	return a, a.ModeratorOf, true
}

// Inbox lists reports (filters: project, unread, q).
func (s *Backoffice) Inbox(c *gin.Context) {
	_, projects, ok := s.moderator(c)
	if !ok {
		return
	}
	project, _ := strconv.ParseInt(c.Query("project"), 10, 64)
	rs, err := s.moderation.Inbox(c.Request.Context(), moderation.Filter{Projects: projects, Project: project,
		Unread: c.Query("unread") == "true", Query: c.Query("q")})
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[moderation.Report]{Data: kit.NonNil(rs), Total: len(rs)})
}

// MarkReport marks a report read ({"read": true}) or unread.
func (s *Backoffice) MarkReport(c *gin.Context) {
	a, _, ok := s.moderator(c)
	if !ok {
		return
	}
	var r struct {
		Read bool `json:"read"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	project, err := s.moderation.ReportProject(c.Request.Context(), id)
	if err == nil && !a.Staff(project) {
		err = errs.E("moderation", errs.NotFound, "no report %d", id)
	}
	if err == nil {
		err = s.moderation.MarkRead(c.Request.Context(), id, r.Read)
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// Hide hides (PUT) or restores (DELETE) /api/v1/moderation/hidden/:type/:id.
func (s *Backoffice) Hide(c *gin.Context) {
	a, _, ok := s.moderator(c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	project, err := s.moderation.ProjectOf(c.Request.Context(), c.Param("type"), id)
	if err == nil && !a.Staff(project) {
		err = errs.E("moderation", errs.Forbidden, "you do not moderate this project")
	}
	if err == nil {
		err = s.moderation.SetHidden(c.Request.Context(), a.UserID, c.Param("type"), id, c.Request.Method == http.MethodPut)
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
