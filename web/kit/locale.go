package kit

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/i18n"
)

// LocaleCookie remembers the language a visitor picked (host-only cookie).
const LocaleCookie = "agora_locale"

// ChooseLocale is the language switcher of every host (/locale?set=fr&to=/):
// it remembers a language the city (or the console) offers and goes back
// to the page, never off the host.
func (k *Kit) ChooseLocale(c *gin.Context) {
	offered := k.I18n.Locales()
	if t := City(c); t != nil {
		offered = t.Locales
	}
	want := c.Query("set")
	if i18n.Negotiate(offered, want, "") == want {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: LocaleCookie, Value: want, Path: "/", MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: k.Scheme(c.Request) == "https",
		})
	}
	to := c.Query("to")
	if u, err := url.Parse(to); err != nil || !strings.HasPrefix(to, "/") || strings.HasPrefix(to, "//") || u.Host != "" || strings.Contains(to, "\\") {
		to = "/"
	}
	c.Redirect(http.StatusSeeOther, to)
}
