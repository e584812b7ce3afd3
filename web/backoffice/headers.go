package backoffice

import (
	"agora/domain/user"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/project"
	"agora/web/kit"
)

func (s *Backoffice) SetProjectHeader(c *gin.Context) {
	a, id, ok := s.projectStaff(c)
	if !ok {
		return
	}
	data, err := kit.ReadImage(c, "header_image")
	if err == nil {
		var p *project.Project
		if p, err = s.projects.SetHeader(c.Request.Context(), user.ID(a.UserID), project.ID(id), data, s.Config.StorageDir); err == nil {
			c.JSON(http.StatusOK, p)
			return
		}
	}
	s.APIError(c, err)
}

func (s *Backoffice) ProjectHeaderSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	data, err := kit.ReadImage(c, "header_image")
	if err == nil {
		_, err = s.projects.SetHeader(c.Request.Context(), me.ID, project.ID(id), data, s.Config.StorageDir)
	}
	if err != nil {
		s.adminProjectError(c, id, kit.EmptyForm(), err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=header_saved")
}
