package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/moderation"
	"agora/domain/permission"
	"agora/tenant"
)

// apiReport records the caller's report on an idea or a comment.
func (s *Server) apiReport(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	var r struct {
		ItemType string `json:"item_type"`
		ItemID   int64  `json:"item_id"`
		Reason   string `json:"reason"`
		Note     string `json:"note"`
	}
	if !s.bindJSON(c, &r) {
		return
	}
	a, err := s.actor(c)
	if err == nil && (r.ItemType == "idea" || r.ItemType == "comment") {
		err = s.visibleItem(c, a, r.ItemType, r.ItemID)
	}
	if err == nil {
		err = s.moderation.Report(c.Request.Context(), int64(u.ID), r.ItemType, r.ItemID, r.Reason, r.Note)
	}
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"status": "reported; moderators will look at it"})
}

// visibleItem answers errs.NotFound unless the actor may see the project,
// idea or comment (topics and areas are public).
func (s *Server) visibleItem(c *gin.Context, a permission.Actor, itemType string, id int64) error {
	project := id
	switch itemType {
	case "project":
	case "idea", "comment":
		p, err := s.moderation.ProjectOf(c.Request.Context(), itemType, id)
		if err != nil {
			return err
		}
		project = p
	default:
		return nil
	}
	if _, err := s.visibleProject(c, a, project); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return errs.E("visibility", errs.NotFound, "no %s %d", itemType, id)
		}
		return err
	}
	return nil
}

// moderator returns the caller as staff: admins see every project's
// reports, moderators those of their projects.
func (s *Server) moderator(c *gin.Context) (permission.Actor, []int64, bool) {
	a, err := s.actor(c)
	if err != nil {
		s.apiError(c, err)
		return a, nil, false
	}
	switch {
	case a.Anonymous():
		s.apiError(c, errs.E("moderation", errs.Unauthenticated, "log in as city staff"))
		return a, nil, false
	case a.Role == "admin":
		return a, nil, true
	case len(a.ModeratorOf) > 0:
		return a, a.ModeratorOf, true
	}
	s.apiError(c, errs.E("moderation", errs.Forbidden, "only admins and project moderators moderate"))
	return a, nil, false
}

// apiInbox lists reports (filters: project, unread, q).
func (s *Server) apiInbox(c *gin.Context) {
	_, projects, ok := s.moderator(c)
	if !ok {
		return
	}
	project, _ := strconv.ParseInt(c.Query("project"), 10, 64)
	rs, err := s.moderation.Inbox(c.Request.Context(), moderation.Filter{Projects: projects, Project: project,
		Unread: c.Query("unread") == "true", Query: c.Query("q")})
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, list[moderation.Report]{Data: nonNil(rs), Total: len(rs)})
}

// apiMarkReport marks a report read ({"read": true}) or unread.
func (s *Server) apiMarkReport(c *gin.Context) {
	a, _, ok := s.moderator(c)
	if !ok {
		return
	}
	var r struct {
		Read bool `json:"read"`
	}
	if !s.bindJSON(c, &r) {
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
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// apiHide hides (PUT) or restores (DELETE) /api/v1/moderation/hidden/:type/:id.
func (s *Server) apiHide(c *gin.Context) {
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
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// checkLanguage applies the profanity filter of the city's languages.
func (s *Server) checkLanguage(c *gin.Context, field string, texts ...string) error {
	t, _ := tenant.FromContext(c.Request.Context())
	return moderation.CheckLanguage("language", field, t.Locales, texts...)
}
