package portal

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/project"
	"agora/web/kit"
)

func (s *Portal) Projects(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return
	}
	topic, _ := strconv.ParseInt(c.Query("topic"), 10, 64)
	area, _ := strconv.ParseInt(c.Query("area"), 10, 64)
	ps, err := s.projects.ListVisible(c.Request.Context(), a, project.Filter{Status: project.Status(c.Query("status")), Topic: topic, Area: area})
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[project.Project]{Data: kit.NonNil(ps), Total: len(ps)})
}

func (s *Portal) Project(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return
	}
	p, err := s.projects.View(c.Request.Context(), a, c.Param("id"))
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}
