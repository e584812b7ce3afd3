package web

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/feature"
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
	if err := s.report(c, int64(u.ID), r.ItemType, r.ItemID, r.Reason, r.Note); err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"status": "reported; moderators will look at it"})
}

// report records a report on an idea or comment the caller may see.
func (s *Server) report(c *gin.Context, reporter int64, itemType string, itemID int64, reason, note string) error {
	if err := s.features.Enabled(c.Request.Context(), feature.BasicModeration); err != nil {
		return err
	}
	a, err := s.actor(c)
	if err == nil && (itemType == "idea" || itemType == "comment") {
		err = s.visibleItem(c, a, itemType, itemID)
	}
	if err != nil {
		return err
	}
	return s.moderation.Report(c.Request.Context(), reporter, itemType, itemID, reason, note)
}

// reportSubmit records a report from the idea page's form and goes back to
// the idea with a thank-you note.
func (s *Server) reportSubmit(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	itemID, _ := strconv.ParseInt(c.PostForm("item_id"), 10, 64)
	ideaID, _ := strconv.ParseInt(c.PostForm("idea_id"), 10, 64)
	if err := s.report(c, int64(u.ID), c.PostForm("item_type"), itemID, c.PostForm("reason"), c.PostForm("note")); err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ideas/%d?reported=1", ideaID))
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
