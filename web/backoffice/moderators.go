package backoffice

import (
	"agora/domain/user"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/project"
	"agora/web/kit"
)

func (s *Backoffice) Moderators(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	list, err := s.projects.Moderators(c.Request.Context(), project.ID(id))
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": kit.NonNil(list)})
}

// addModerator adds a moderator (within the plan's feature and seats: the
// project service decides).
func (s *Backoffice) addModerator(c *gin.Context, actor, projectID int64, email string) (*project.Moderator, error) {
	return s.projects.AddModerator(c.Request.Context(), user.ID(actor), project.ID(projectID), email)
}

func (s *Backoffice) AddModerator(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	var in struct {
		Email string `json:"email"`
	}
	if !s.BindJSON(c, &in) {
		return
	}
	m, err := s.addModerator(c, int64(me.ID), id, in.Email)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

func (s *Backoffice) RemoveModerator(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	uid, _ := strconv.ParseInt(c.Param("user"), 10, 64)
	if err := s.projects.RemoveModerator(c.Request.Context(), me.ID, project.ID(id), user.ID(uid)); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Backoffice) AddModeratorSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	f := kit.NewForm(c, "email")
	if _, err := s.addModerator(c, int64(me.ID), id, f.Values["email"]); err != nil {
		s.adminProjectError(c, id, f, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=moderator_added")
}

func (s *Backoffice) RemoveModeratorSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	uid, _ := strconv.ParseInt(c.Param("user"), 10, 64)
	if err := s.projects.RemoveModerator(c.Request.Context(), me.ID, project.ID(id), user.ID(uid)); err != nil {
		s.adminProjectError(c, id, kit.EmptyForm(), err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=moderator_removed")
}

// --- areas ---
