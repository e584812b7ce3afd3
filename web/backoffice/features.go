package backoffice

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/feature"
	"agora/web/kit"
)

// Features lists the city's features for its admins: allowed by the
// plan, enabled, and the plan that has each.
func (s *Backoffice) Features(c *gin.Context) {
	flags, err := s.features.Flags(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"plan": kit.City(c).Plan, "data": flags})
}

// SetFeatures turns features on or off: {"comments": false, ...}. What
// this release has built and the plan bound what can be turned on; the
// whole request is refused, in the caller's language, if any key is.
func (s *Backoffice) SetFeatures(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var in map[string]bool
	if !s.BindJSON(c, &in) {
		return
	}
	if err := s.setFeatures(c, int64(me.ID), in); err != nil {
		s.TranslatedAPIError(c, err)
		return
	}
	s.Features(c)
}

// setFeatures applies every change in one transaction, or none.
func (s *Backoffice) setFeatures(c *gin.Context, actor int64, in map[string]bool) error {
	changes := make(map[feature.Key]bool, len(in))
	for k, v := range in {
		changes[feature.Key(k)] = v
	}
	return s.features.SetMany(c.Request.Context(), actor, changes)
}

// FeaturesPage is the back office's feature page: toggles for what the
// plan allows, the rest shown locked with the plan that has it, and what
// Agora has not built yet marked as coming, without a toggle.
func (s *Backoffice) FeaturesPage(c *gin.Context) {
	flags, err := s.features.Flags(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	v := &page{Chrome: kit.Chrome{Form: kit.EmptyForm(), Title: s.I18n.T(kit.Locale(c), "admin.features.title")}, Flags: flags}
	s.adminNotice(c, v)
	s.pages.Render(c, http.StatusOK, "admin_features", v)
}

// FeaturesSubmit saves the toggles: a checked box is on; features the
// plan does not allow or Agora has not built are not in the form and stay
// as they are.
func (s *Backoffice) FeaturesSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	flags, err := s.features.Flags(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	in := map[string]bool{}
	for _, f := range flags {
		if f.Allowed && !f.Coming {
			in[string(f.Key)] = c.PostForm("f_"+string(f.Key)) == "on"
		}
	}
	// A feature the plan lacks or Agora has not built cannot be switched on
	// through the form either.
	for _, k := range c.PostFormArray("enable") {
		in[k] = true
	}
	s.backTo(c, "/admin/features", "features_saved", 1, s.setFeatures(c, int64(me.ID), in))
}
