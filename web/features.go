package web

import (
	"net/http"

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

// apiFeatures lists the city's features for its admins: allowed by the
// plan, enabled, and the plan that has each.
func (s *Server) apiFeatures(c *gin.Context) {
	flags, err := s.features.Flags(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"plan": city(c).Plan, "data": flags})
}

// apiSetFeatures turns features on or off: {"comments": false, ...}. The
// plan bounds what can be turned on; the whole request is refused if any
// key is.
func (s *Server) apiSetFeatures(c *gin.Context) {
	me, _ := currentUser(c)
	var in map[string]bool
	if !s.bindJSON(c, &in) {
		return
	}
	if err := s.setFeatures(c, int64(me.ID), in); err != nil {
		s.apiError(c, err)
		return
	}
	s.apiFeatures(c)
}

// setFeatures applies every change in one transaction, or none.
func (s *Server) setFeatures(c *gin.Context, actor int64, in map[string]bool) error {
	changes := make(map[feature.Key]bool, len(in))
	for k, v := range in {
		changes[feature.Key(k)] = v
	}
	return s.features.SetMany(c.Request.Context(), actor, changes)
}

// adminFeatures is the back office's feature page: toggles for what the
// plan allows, the rest shown locked with the plan that has it.
func (s *Server) adminFeatures(c *gin.Context) {
	flags, err := s.features.Flags(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	v := view{Flags: flags, Form: &form{Values: map[string]string{}, Errors: map[string]string{}},
		Title: s.i18n.T(c.GetString(keyLocale), "admin.features.title")}
	s.adminNotice(c, &v)
	s.html(c, http.StatusOK, "admin_features", v)
}

// adminFeaturesSubmit saves the toggles: a checked box is on; features the
// plan does not allow are not in the form and stay as they are.
func (s *Server) adminFeaturesSubmit(c *gin.Context) {
	me, _ := currentUser(c)
	flags, err := s.features.Flags(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	in := map[string]bool{}
	for _, f := range flags {
		if f.Allowed {
			in[string(f.Key)] = c.PostForm("f_"+string(f.Key)) == "on"
		}
	}
	// A feature the plan lacks cannot be switched on through the form either.
	for _, k := range c.PostFormArray("enable") {
		in[k] = true
	}
	s.backTo(c, "/admin/features", "features_saved", 1, s.setFeatures(c, int64(me.ID), in))
}
