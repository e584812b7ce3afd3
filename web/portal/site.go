package portal

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/site"
	"agora/tenant"
	"agora/web/kit"
)

// siteResponse is the public description of a city's portal.
type siteResponse struct {
	ID       tenant.ID     `json:"id"`
	Slug     string        `json:"slug"`
	Host     string        `json:"host"`
	Locales  []string      `json:"locales"`
	TimeZone string        `json:"time_zone"`
	Settings site.Settings `json:"settings"`
}

// Site returns the city's identity and settings (one city query).
func (s *Portal) Site(c *gin.Context) {
	t, _ := tenant.FromContext(c.Request.Context())
	st, err := s.site.Settings(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, siteResponse{ID: t.ID, Slug: t.Slug, Host: t.PrimaryHost, Locales: t.Locales, TimeZone: t.TimeZone, Settings: st})
}

func (s *Portal) Pages(c *gin.Context) {
	ps, err := s.site.Pages(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[site.Page]{Data: kit.NonNil(ps), Total: len(ps)})
}

func (s *Portal) Page(c *gin.Context) {
	p, err := s.site.Page(c.Request.Context(), c.Param("slug"))
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Portal) Topics(c *gin.Context) {
	ts, err := s.site.Topics(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[site.Topic]{Data: kit.NonNil(ts), Total: len(ts)})
}

func (s *Portal) Statuses(c *gin.Context) {
	list, err := s.ideas.Statuses(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": kit.NonNil(list)})
}

func (s *Portal) Folders(c *gin.Context) {
	list, err := s.projects.Folders(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": kit.NonNil(list)})
}

func (s *Portal) Areas(c *gin.Context) {
	list, err := s.site.Areas(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": kit.NonNil(list)})
}
