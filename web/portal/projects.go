package portal

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
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
	ps, err := s.projects.List(c.Request.Context(), project.Filter{Status: project.Status(c.Query("status")), Topic: topic, Area: area})
	if err != nil {
		s.APIError(c, err)
		return
	}
	ps = project.Visible(ps, a, time.Now())
	c.JSON(http.StatusOK, kit.List[project.Project]{Data: kit.NonNil(ps), Total: len(ps)})
}

func (s *Portal) Project(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return
	}
	p, err := s.projects.Get(c.Request.Context(), c.Param("id"))
	if err == nil && !project.CanView(*p, a, time.Now()) {
		err = errs.E("projects", errs.NotFound, "no project %q", c.Param("id"))
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}
