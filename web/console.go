package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/operator"
	"agora/tenant"
)

const keyOperator = "agora.operator"

// operatorCookie is the console's session cookie, host-only on the platform
// host. City hosts never read it, and the console never reads city cookies.
func (s *Server) operatorCookie(r *http.Request) string {
	if s.scheme(r) == "https" {
		return "__Host-agora_operator"
	}
	return "agora_operator"
}

// authenticateOperator identifies the operator of a console request from the
// console cookie, looked up in the platform schema.
func (s *Server) authenticateOperator(c *gin.Context) {
	// The platform API takes an operator token instead of the cookie.
	if h := c.GetHeader("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			s.apiError(c, errs.E("auth", errs.Unauthenticated, "Authorization must be 'Bearer <token>'"))
			return
		}
		o, err := s.operators.ByToken(c.Request.Context(), strings.TrimSpace(secret))
		if err != nil {
			s.apiError(c, err)
			return
		}
		c.Set(keyOperator, &operator.Session{Operator: o})
		c.Set(keyBearer, true)
		c.Next()
		return
	}
	if secret, err := c.Cookie(s.operatorCookie(c.Request)); err == nil && secret != "" {
		sess, err := s.operators.SessionByToken(c.Request.Context(), secret)
		switch {
		case err == nil:
			c.Set(keyOperator, sess)
			c.Set(keySessionCSRF, sess.CSRFToken)
		case errs.CodeOf(err) == errs.Unauthenticated:
			s.setCookie(c, s.operatorCookie(c.Request), "", -1)
		default:
			s.unexpected(c, err)
			return
		}
	}
	c.Next()
}

func currentOperator(c *gin.Context) (*operator.Session, bool) {
	v, ok := c.Get(keyOperator)
	if !ok {
		return nil, false
	}
	sess, ok := v.(*operator.Session)
	return sess, ok
}

// requireOperator lets only a logged-in operator through; anyone else is sent
// to the console's login, which brings them back.
func (s *Server) requireOperator(c *gin.Context) {
	if _, ok := currentOperator(c); !ok {
		next := c.Request.URL.RequestURI()
		if c.Request.Method != http.MethodGet {
			next = c.Request.URL.Path
		}
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(next))
		c.Abort()
		return
	}
	c.Next()
}

// consoleHome is the operator console: the list of cities for a logged-in
// operator, a sign-in invitation otherwise.
func (s *Server) consoleHome(c *gin.Context) {
	sess, ok := currentOperator(c)
	if !ok {
		s.html(c, http.StatusOK, "platform_home", view{Platform: true})
		return
	}
	ts, err := s.reg.List(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	usage, err := tenant.UsageByCity(c.Request.Context(), s.db.Platform())
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.html(c, http.StatusOK, "platform_home", view{Platform: true, Operator: sess.Operator, Cities: ts, Usage: usage})
}

func (s *Server) consoleLoginPage(c *gin.Context) {
	v := view{Platform: true, Form: &form{Values: map[string]string{"next": localPath(c.Query("next"))}, Errors: map[string]string{}}}
	v.Title = s.i18n.T(c.GetString(keyLocale), "login.title")
	s.html(c, http.StatusOK, "login", v)
}

func (s *Server) consoleLoginSubmit(c *gin.Context) {
	f := newForm(c, "email", "next")
	if ok, wait := s.allow(c, rateCheck{limitOperatorIP, s.clientIP(c.Request)}, byEmail(limitOperatorMail, f.Values["email"])); !ok {
		s.tooMany(c, wait)
		return
	}
	sess, err := s.operators.Login(c.Request.Context(), f.Values["email"], c.PostForm("password"))
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		v := view{Platform: true, Form: f, Title: s.i18n.T(c.GetString(keyLocale), "login.title")}
		s.html(c, status, "login", v)
		return
	}
	if old, ok := currentOperator(c); ok {
		_ = s.operators.Logout(c.Request.Context(), old.ID)
	}
	s.setCookie(c, s.operatorCookie(c.Request), sess.Token, int(operator.AbsoluteTimeout.Seconds()))
	c.Redirect(http.StatusSeeOther, localPath(f.Values["next"]))
}

func (s *Server) consoleLogout(c *gin.Context) {
	if sess, ok := currentOperator(c); ok {
		if err := s.operators.Logout(c.Request.Context(), sess.ID); err != nil {
			s.pageError(c, err)
			return
		}
	}
	s.setCookie(c, s.operatorCookie(c.Request), "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}

// cityURL is how the console links to a city's portal.
func (v view) CityURL(t *tenant.Tenant) string { return "//" + t.PrimaryHost + v.port }
