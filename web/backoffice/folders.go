package backoffice

import (
	"agora/domain/project"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/locale"
	"agora/web/kit"
)

func (s *Backoffice) CreateFolder(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var in struct {
		Title locale.Text `json:"title"`
	}
	if !s.BindJSON(c, &in) {
		return
	}
	out, err := s.projects.AddFolder(c.Request.Context(), me.ID, in.Title)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Backoffice) DeleteFolder(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	if err := s.projects.RemoveFolder(c.Request.Context(), me.ID, id); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Backoffice) CreateFolderSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	_, err := s.projects.AddFolder(c.Request.Context(), me.ID, kit.TextFromForm(c, "folder_title"))
	s.backTo(c, "/admin/projects", "folder_created", 1, err)
}

func (s *Backoffice) DeleteFolderSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	err := s.projects.RemoveFolder(c.Request.Context(), me.ID, id)
	s.backTo(c, "/admin/projects", "folder_deleted", 1, err)
}

// --- ordering ---

func (s *Backoffice) MoveProjectSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	delta := 1
	if c.PostForm("direction") == "up" {
		delta = -1
	}
	err := s.projects.Move(c.Request.Context(), me.ID, project.ID(id), delta)
	s.backTo(c, "/admin/projects", "moved", 1, err)
}

// --- header images ---
