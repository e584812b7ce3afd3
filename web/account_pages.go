package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/user"
)

// form carries a submitted form's values and its errors by field, in the
// visitor's language.
type form struct {
	Values map[string]string
	Errors map[string]string
	Error  string // an error about the whole form
}

func newForm(c *gin.Context, fields ...string) *form {
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range fields {
		f.Values[k] = c.PostForm(k)
	}
	return f
}

// explain turns an application error into the form's errors, translated.
// Errors that are not the user's fault are returned for a 500.
func (s *Server) explain(c *gin.Context, f *form, err error) (status int, internal error) {
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		return http.StatusInternalServerError, err
	}
	loc := c.GetString(keyLocale)
	msg := e.Message
	if e.Rule != "" {
		if t := s.i18n.T(loc, "rule."+e.Rule, e.Args...); t != "rule."+e.Rule {
			msg = t
		}
	} else if e.Code == errs.Unauthenticated {
		msg = s.i18n.T(loc, "login.failed")
	}
	if e.Field != "" {
		f.Errors[e.Field] = msg
	} else {
		f.Error = msg
	}
	return statusOf(e.Code), nil
}

// renderForm shows a form page again with its errors.
func (s *Server) renderForm(c *gin.Context, name string, status int, f *form, title string) {
	s.html(c, status, name, view{Form: f, Title: s.i18n.T(c.GetString(keyLocale), title)})
}

// localPath returns p if it is a path on this host, else "/".
func localPath(p string) string {
	u, err := url.Parse(p)
	if err != nil || !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || u.Host != "" || strings.Contains(p, "\\") {
		return "/"
	}
	return p
}

func (s *Server) loginPage(c *gin.Context) {
	f := &form{Values: map[string]string{"next": localPath(c.Query("next"))}, Errors: map[string]string{}}
	s.renderForm(c, "login", http.StatusOK, f, "login.title")
}

func (s *Server) loginSubmit(c *gin.Context) {
	f := newForm(c, "email", "next")
	if ok, wait := s.allow(c, rateCheck{limitLoginIP, s.clientIP(c.Request)}, rateCheck{limitLoginEmail, f.Values["email"]}); !ok {
		s.tooMany(c, wait)
		return
	}
	ctx := c.Request.Context()
	sess, err := s.users.Login(ctx, f.Values["email"], c.PostForm("password"), c.Request.UserAgent(), s.clientIP(c.Request))
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderForm(c, "login", status, f, "login.title")
		return
	}
	if old, ok := currentSession(c); ok {
		_ = s.users.Logout(ctx, old.ID)
	}
	s.setCookie(c, s.sessionCookie(c.Request), sess.Token, int(user.AbsoluteTimeout.Seconds()))
	c.Redirect(http.StatusSeeOther, localPath(f.Values["next"]))
}

func (s *Server) logoutSubmit(c *gin.Context) {
	if sess, ok := currentSession(c); ok {
		if err := s.users.Logout(c.Request.Context(), sess.ID); err != nil {
			s.pageError(c, err)
			return
		}
	}
	s.setCookie(c, s.sessionCookie(c.Request), "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}

func (s *Server) registerPage(c *gin.Context) {
	s.renderForm(c, "register", http.StatusOK, &form{Values: map[string]string{}, Errors: map[string]string{}}, "register.title")
}

func (s *Server) registerSubmit(c *gin.Context) {
	f := newForm(c, "email", "first_name", "last_name")
	if ok, wait := s.allow(c, rateCheck{limitRegisterIP, s.clientIP(c.Request)}); !ok {
		s.tooMany(c, wait)
		return
	}
	ctx := c.Request.Context()
	pw := c.PostForm("password")
	_, err := s.users.Register(ctx, user.Registration{
		Email: f.Values["email"], Password: pw, FirstName: f.Values["first_name"], LastName: f.Values["last_name"],
		Locale: c.GetString(keyLocale),
	})
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderForm(c, "register", status, f, "register.title")
		return
	}
	sess, err := s.users.Login(ctx, f.Values["email"], pw, c.Request.UserAgent(), s.clientIP(c.Request))
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.setCookie(c, s.sessionCookie(c.Request), sess.Token, int(user.AbsoluteTimeout.Seconds()))
	c.Redirect(http.StatusSeeOther, "/profile?welcome=1")
}

// requirePageUser redirects anonymous visitors to the login page.
func (s *Server) requirePageUser(c *gin.Context) (*user.User, bool) {
	u, ok := currentUser(c)
	if !ok {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		c.Abort()
		return nil, false
	}
	return u, true
}

func (s *Server) profilePage(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	f := &form{Values: map[string]string{"first_name": u.FirstName, "last_name": u.LastName, "bio": u.Bio, "locale": u.Locale},
		Errors: map[string]string{}}
	v := view{Form: f, Title: s.i18n.T(c.GetString(keyLocale), "profile.title")}
	if c.Query("welcome") != "" {
		v.Notice = s.i18n.T(c.GetString(keyLocale), "register.welcome")
	} else if c.Query("saved") != "" {
		v.Notice = s.i18n.T(c.GetString(keyLocale), "profile.saved")
	}
	s.html(c, http.StatusOK, "profile", v)
}

func (s *Server) profileSubmit(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	f := newForm(c, "first_name", "last_name", "bio", "locale")
	_, err := s.users.UpdateProfile(c.Request.Context(), u.ID, user.Profile{
		FirstName: f.Values["first_name"], LastName: f.Values["last_name"], Bio: f.Values["bio"], Locale: f.Values["locale"],
	})
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderForm(c, "profile", status, f, "profile.title")
		return
	}
	// The interface follows the language the user chose for their account.
	http.SetCookie(c.Writer, &http.Cookie{Name: localeCookie, Value: f.Values["locale"], Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.scheme(c.Request) == "https"})
	c.Redirect(http.StatusSeeOther, "/profile?saved=1")
}
