package web

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/site"
	"agora/tenant"
)

//go:embed openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(c *gin.Context) {
	c.Data(http.StatusOK, "application/json", openAPIDoc)
}

// siteResponse is the public description of a city's portal.
type siteResponse struct {
	ID       tenant.ID     `json:"id"`
	Slug     string        `json:"slug"`
	Host     string        `json:"host"`
	Locales  []string      `json:"locales"`
	TimeZone string        `json:"time_zone"`
	Settings site.Settings `json:"settings"`
}

// apiSite returns the city's identity and settings (one city query).
func (s *Server) apiSite(c *gin.Context) {
	t, _ := tenant.FromContext(c.Request.Context())
	st, err := s.site.Settings(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, siteResponse{ID: t.ID, Slug: t.Slug, Host: t.PrimaryHost, Locales: t.Locales, TimeZone: t.TimeZone, Settings: st})
}

// list is the envelope of every list response.
type list[T any] struct {
	Data  []T `json:"data"`
	Total int `json:"total"`
}

func (s *Server) apiPages(c *gin.Context) {
	ps, err := s.site.Pages(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, list[site.Page]{Data: nonNil(ps), Total: len(ps)})
}

func (s *Server) apiPage(c *gin.Context) {
	p, err := s.site.Page(c.Request.Context(), c.Param("slug"))
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, p)
}

func (s *Server) apiTopics(c *gin.Context) {
	ts, err := s.site.Topics(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, list[site.Topic]{Data: nonNil(ts), Total: len(ts)})
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
