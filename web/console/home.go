package console

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/operator"
	"agora/tenant"
	"agora/web/kit"
)

// Home is the operator console: the list of cities for a logged-in
// operator, a sign-in invitation otherwise.
func (s *Console) Home(c *gin.Context) {
	sess, ok := kit.CurrentOperator(c)
	if !ok {
		s.pages.Render(c, http.StatusOK, "platform_home", &page{Chrome: kit.Chrome{Platform: true}})
		return
	}
	ts, err := s.reg.List(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	usage, err := tenant.UsageByCity(c.Request.Context(), s.db.Platform())
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.pages.Render(c, http.StatusOK, "platform_home", &page{Chrome: kit.Chrome{Platform: true, Operator: sess.Operator}, Cities: ts, Usage: usage})
}

func (s *Console) LoginPage(c *gin.Context) {
	f := kit.EmptyForm()
	f.Values["next"] = kit.LocalPath(c.Query("next"))
	s.LoginForm(c, http.StatusOK, &kit.Chrome{Form: f, Platform: true})
}

func (s *Console) LoginSubmit(c *gin.Context) {
	f := kit.NewForm(c, "email", "next")
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitOperatorIP), kit.ByEmail(kit.LimitOperatorMail, f.Values["email"])); !ok {
		s.TooMany(c, wait)
		return
	}
	sess, err := s.operators.Login(c.Request.Context(), f.Values["email"], c.PostForm("password"))
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.LoginForm(c, status, &kit.Chrome{Form: f, Platform: true})
		return
	}
	if old, ok := kit.CurrentOperator(c); ok {
		_ = s.operators.Logout(c.Request.Context(), old.ID)
	}
	s.SetCookie(c, s.OperatorCookie(c.Request), sess.Token, int(operator.AbsoluteTimeout.Seconds()))
	c.Redirect(http.StatusSeeOther, kit.LocalPath(f.Values["next"]))
}

func (s *Console) Logout(c *gin.Context) {
	if sess, ok := kit.CurrentOperator(c); ok {
		if err := s.operators.Logout(c.Request.Context(), sess.ID); err != nil {
			s.PageError(c, err)
			return
		}
	}
	s.SetCookie(c, s.OperatorCookie(c.Request), "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}

// CityURL is how the console links to a city's portal.
func (v *page) CityURL(t *tenant.Tenant) string { return "//" + t.PrimaryHost + v.Port }
