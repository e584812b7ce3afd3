package backoffice

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/locale"
	"agora/web/kit"
)

func (s *Backoffice) CreateArea(c *gin.Context) {
	var in struct {
		Title locale.Text `json:"title"`
	}
	if !s.BindJSON(c, &in) {
		return
	}
	out, err := s.site.AddArea(c.Request.Context(), in.Title)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Backoffice) CreateAreaSubmit(c *gin.Context) {
	_, err := s.site.AddArea(c.Request.Context(), kit.TextFromForm(c, "area_title"))
	s.backTo(c, "/admin/projects", "area_created", 1, err)
}
