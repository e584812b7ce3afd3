package web

import (
	"github.com/gin-gonic/gin"

	"agora/domain/feature"
)

// gate lets a request through when the city may use feature k; otherwise it
// answers the feature_unavailable problem (API) or page and returns false.
// Every route of a plan-bound feature calls it first.
func (s *Server) gate(c *gin.Context, k feature.Key) bool {
	err := s.features.Enabled(c.Request.Context(), k)
	if err == nil {
		return true
	}
	if wantsJSON(c) {
		s.apiError(c, err)
	} else {
		s.pageError(c, err)
	}
	return false
}
