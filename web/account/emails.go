package account

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/user"
	"agora/tenant"
	"agora/web/kit"
)

// consentView is one campaign type on the profile page.
type consentView struct {
	Campaign   email.Campaign
	Subscribed bool
}

// consentViews lists the campaigns u may receive with u's choices.
func (s *Account) consentViews(c *gin.Context, u *user.User) ([]consentView, error) {
	cs, err := s.consents.Get(c.Request.Context(), int64(u.ID))
	if err != nil {
		return nil, err
	}
	var out []consentView
	for _, k := range email.CampaignsFor(string(u.Role)) {
		out = append(out, consentView{Campaign: k, Subscribed: cs[k]})
	}
	return out, nil
}

// consentDoc is the caller's choices as the API shows them: the campaigns
// their role may receive.
func consentDoc(u *user.User, cs email.Consents) map[email.Campaign]bool {
	out := map[email.Campaign]bool{}
	for _, k := range email.CampaignsFor(string(u.Role)) {
		out[k] = cs[k]
	}
	return out
}

// EmailConsents returns the caller's choice per campaign type.
func (s *Account) EmailConsents(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	cs, err := s.consents.Get(c.Request.Context(), int64(u.ID))
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, consentDoc(u, cs))
}

// SetEmailConsents records the choices in the body ({"user_digest":
// false, ...}); campaigns not named keep theirs.
func (s *Account) SetEmailConsents(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	var in email.Consents
	if !s.BindJSON(c, &in) {
		return
	}
	cs, err := s.consents.Set(c.Request.Context(), int64(u.ID), in)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, consentDoc(u, cs))
}

// ProfileConsentsSubmit saves the profile's checkboxes: a checked box
// subscribes, an unchecked one of the campaigns shown unsubscribes.
func (s *Account) ProfileConsentsSubmit(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	in := email.Consents{}
	for _, k := range email.CampaignsFor(string(u.Role)) {
		in[k] = c.PostForm("consent_"+string(k)) == "on"
	}
	if _, err := s.consents.Set(c.Request.Context(), int64(u.ID), in); err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?consents=1#email-consents")
}

// --- one-click unsubscribe ---

// unsubscribeView is the data of the unsubscribe page.
type unsubscribeView struct {
	Token    string
	Campaign email.Campaign
	Done     bool
}

// unsubscribeToken checks the token of an unsubscribe link against the
// secret and the request's city. A token of another city is not found here.
func (s *Account) unsubscribeToken(c *gin.Context) (email.Unsubscribe, error) {
	u, err := email.ParseUnsubscribe(s.Config.SecretKey, c.Query("token"))
	if err != nil {
		return u, err
	}
	if t, ok := tenant.FromContext(c.Request.Context()); !ok || t.ID != u.TenantID {
		return u, errs.E("unsubscribe", errs.NotFound, "this unsubscribe link belongs to another platform")
	}
	return u, nil
}

// UnsubscribePage confirms, with a button, before unsubscribing: mail
// scanners open links, and opening one must change nothing.
func (s *Account) UnsubscribePage(c *gin.Context) {
	u, err := s.unsubscribeToken(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	loc := kit.Locale(c)
	s.pages.Render(c, http.StatusOK, "unsubscribe", &page{Chrome: kit.Chrome{Title: s.I18n.T(loc, "unsubscribe.title")}, Unsubscribe: &unsubscribeView{Token: c.Query("token"), Campaign: u.Campaign}})
}

// UnsubscribeSubmit is the one-click unsubscribe of RFC 8058: a mail client
// POSTs "List-Unsubscribe=One-Click" to the link, or the visitor presses the
// SitePage's button. The signed token is the credential (no session, no CSRF
// token: see csrf). It answers 200 once the choice is recorded.
func (s *Account) UnsubscribeSubmit(c *gin.Context) {
	u, err := s.unsubscribeToken(c)
	if err == nil {
		err = s.consents.Unsubscribe(c.Request.Context(), u)
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	loc := kit.Locale(c)
	s.pages.Render(c, http.StatusOK, "unsubscribe", &page{Chrome: kit.Chrome{Title: s.I18n.T(loc, "unsubscribe.title")}, Unsubscribe: &unsubscribeView{Campaign: u.Campaign, Done: true}})
}

// --- digest schedule and previews (admins) ---
