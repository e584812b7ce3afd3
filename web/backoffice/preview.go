package backoffice

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/email"
	"agora/web/kit"
)

// emailPreview answers a back-office preview of an email of campaign k as
// the signed-in staff member would get it: render builds its HTML from the
// city's branding and the staff member's own unsubscribe and preferences
// links. The page is the email itself, which styles itself inline and runs
// no script.
func (s *Backoffice) emailPreview(c *gin.Context, k email.Campaign,
	render func(m *email.Composer, b email.Branding, unsubscribe, preferences string) (string, error)) {
	settings, err := s.site.Settings(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	me, _ := kit.CurrentUser(c)
	base := s.Scheme(c.Request) + "://" + c.Request.Host
	token := email.Unsubscribe{TenantID: kit.City(c).ID, UserID: int64(me.ID), Campaign: k}.Token(s.Config.SecretKey)
	html, err := render(s.composer, email.Branding{CityName: settings.Name, PrimaryColor: settings.PrimaryColor, PortalURL: base},
		base+"/unsubscribe?token="+token, base+"/profile#email-consents")
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(html))
}
