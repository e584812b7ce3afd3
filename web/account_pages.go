package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/user"
)

// form carries a submitted form's values and its errors by field, in the
// visitor's language.
type form struct {
	Values map[string]string
	Multi  map[string][]string // answers to the city's own questions, by key
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
	loc := c.GetString(keyLocale)
	v := view{Form: f, Title: s.i18n.T(loc, "login.title")}
	if c.Query("reset") != "" {
		v.Notice = s.i18n.T(loc, "reset.done")
	}
	s.html(c, http.StatusOK, "login", v)
}

func (s *Server) loginSubmit(c *gin.Context) {
	f := newForm(c, "email", "next")
	if ok, wait := s.allow(c, rateCheck{limitLoginIP, s.clientIP(c.Request)}, byEmail(limitLoginEmail, f.Values["email"])); !ok {
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
	s.renderRegister(c, http.StatusOK, &form{Values: map[string]string{}, Errors: map[string]string{}, Multi: map[string][]string{}})
}

// renderRegister shows the sign-up form with the city's own questions.
func (s *Server) renderRegister(c *gin.Context, status int, f *form) {
	fields, err := s.users.Fields(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.html(c, status, "register", view{Form: f, Fields: fields, Title: s.i18n.T(c.GetString(keyLocale), "register.title")})
}

func (s *Server) registerSubmit(c *gin.Context) {
	f := newForm(c, "email", "first_name", "last_name")
	if ok, wait := s.allow(c, rateCheck{limitRegisterIP, s.clientIP(c.Request)}); !ok {
		s.tooMany(c, wait)
		return
	}
	ctx := c.Request.Context()
	pw := c.PostForm("password")
	answers := user.Answers{}
	f.Multi = map[string][]string{}
	if err := c.Request.ParseMultipartForm(1 << 20); err != nil && c.Request.PostForm == nil {
		_ = c.Request.ParseForm()
	}
	for k, vs := range c.Request.PostForm {
		if key, ok := strings.CutPrefix(k, "field_"); ok {
			answers[key] = vs
			f.Multi[key] = vs
		}
	}
	err := s.users.Register(ctx, user.Registration{
		Email: f.Values["email"], Password: pw, FirstName: f.Values["first_name"], LastName: f.Values["last_name"],
		Locale: c.GetString(keyLocale), Fields: answers,
	})
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderRegister(c, status, f)
		return
	}
	// The same page whether or not the address had an account (see
	// user.Service.Register): the email tells the rest.
	loc := c.GetString(keyLocale)
	s.html(c, http.StatusOK, "message", view{Title: s.i18n.T(loc, "register.sent_title"),
		Notice: s.i18n.T(loc, "register.sent", strings.TrimSpace(f.Values["email"]))})
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
	loc := c.GetString(keyLocale)
	switch {
	case c.Query("welcome") != "":
		v.Notice = s.i18n.T(loc, "register.welcome")
	case c.Query("saved") != "":
		v.Notice = s.i18n.T(loc, "profile.saved")
	case c.Query("confirmed") != "":
		v.Notice = s.i18n.T(loc, "confirm.done")
	case c.Query("code") != "":
		f.Errors["code"] = s.i18n.T(loc, "rule.code")
	case c.Query("export") != "":
		v.Notice = s.i18n.T(loc, "data.requested")
	case c.Query("delete") != "":
		f.Errors["delete_password"] = s.i18n.T(loc, "rule.wrong_password")
	case c.Query("email_sent") != "":
		v.Notice = s.i18n.T(loc, "email.sent")
	case c.Query("email_error") != "":
		f.Errors["new_email"] = c.Query("email_error")
	case c.Query("avatar_error") != "":
		f.Errors["avatar"] = c.Query("avatar_error")
	case c.Query("consents") != "":
		v.Notice = s.i18n.T(loc, "consents.saved")
	}
	exports, err := s.users.DataExports(c.Request.Context(), u.ID)
	if err != nil {
		s.pageError(c, err)
		return
	}
	v.Exports = exports
	if v.Consents, err = s.consentViews(c, u); err != nil {
		s.pageError(c, err)
		return
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

// confirmLink confirms an email address from the link in the email.
func (s *Server) confirmLink(c *gin.Context) {
	loc := c.GetString(keyLocale)
	u, err := s.users.ConfirmByLink(c.Request.Context(), c.Query("token"))
	if err != nil {
		f := &form{Values: map[string]string{}, Errors: map[string]string{}}
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.html(c, status, "message", view{Title: s.i18n.T(loc, "confirm.title"), Form: f})
		return
	}
	// Answer in the account's language, whatever browser opened the link.
	loc = u.Locale
	c.Set(keyLocale, loc)
	s.html(c, http.StatusOK, "message", view{Title: s.i18n.T(loc, "confirm.title"), Notice: s.i18n.T(loc, "confirm.done")})
}

// confirmCode confirms the logged-in user's email with the typed code.
func (s *Server) confirmCode(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	if ok, wait := s.allow(c, rateCheck{limitConfirmUser, strconv.FormatInt(int64(u.ID), 10)}, rateCheck{limitConfirmIP, s.clientIP(c.Request)}); !ok {
		s.tooMany(c, wait)
		return
	}
	if _, err := s.users.ConfirmByCode(c.Request.Context(), u.ID, strings.TrimSpace(c.PostForm("code"))); err != nil {
		c.Redirect(http.StatusSeeOther, "/profile?code=wrong")
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?confirmed=1")
}

func (s *Server) forgotPage(c *gin.Context) {
	s.renderForm(c, "forgot", http.StatusOK, &form{Values: map[string]string{}, Errors: map[string]string{}}, "forgot.title")
}

// forgotSubmit shows the same answer whether or not the address has an account.
func (s *Server) forgotSubmit(c *gin.Context) {
	f := newForm(c, "email")
	if ok, wait := s.allow(c, rateCheck{limitResetIP, s.clientIP(c.Request)}, byEmail(limitResetEmail, f.Values["email"])); !ok {
		s.tooMany(c, wait)
		return
	}
	if err := s.requestReset(c, f.Values["email"]); err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderForm(c, "forgot", status, f, "forgot.title")
		return
	}
	loc := c.GetString(keyLocale)
	s.html(c, http.StatusOK, "message", view{Title: s.i18n.T(loc, "forgot.title"), Notice: s.i18n.T(loc, "forgot.sent")})
}

func (s *Server) resetPage(c *gin.Context) {
	f := &form{Values: map[string]string{"token": c.Query("token")}, Errors: map[string]string{}}
	s.renderForm(c, "reset", http.StatusOK, f, "reset.title")
}

func (s *Server) resetSubmit(c *gin.Context) {
	f := newForm(c, "token")
	if ok, wait := s.allow(c, rateCheck{limitResetIP, s.clientIP(c.Request)}); !ok {
		s.tooMany(c, wait)
		return
	}
	if err := s.users.ResetPassword(c.Request.Context(), f.Values["token"], c.PostForm("password")); err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderForm(c, "reset", status, f, "reset.title")
		return
	}
	c.Redirect(http.StatusSeeOther, "/login?reset=1")
}

// dataExportSubmit queues the user's archive and returns to the profile.
func (s *Server) dataExportSubmit(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	if _, err := s.users.RequestDataExport(c.Request.Context(), u.ID); err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?export=1")
}

// deleteAccountSubmit deletes the account after the password is typed again.
func (s *Server) deleteAccountSubmit(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	if err := s.users.DeleteAccount(c.Request.Context(), u.ID, c.PostForm("password"), s.cfg.StorageDir); err != nil {
		if errs.CodeOf(err) == errs.Invalid {
			c.Redirect(http.StatusSeeOther, "/profile?delete=wrong#delete")
			return
		}
		s.pageError(c, err)
		return
	}
	s.setCookie(c, s.sessionCookie(c.Request), "", -1)
	c.Set(keyUser, (*user.User)(nil)) // the page below is for an anonymous visitor
	loc := c.GetString(keyLocale)
	s.html(c, http.StatusOK, "message", view{Title: s.i18n.T(loc, "delete.title"), Notice: s.i18n.T(loc, "delete.done")})
}

// invitationPage shows the form that accepts an invitation.
func (s *Server) invitationPage(c *gin.Context) {
	inv, err := s.users.InvitationByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.invitationGone(c, err)
		return
	}
	f := &form{Values: map[string]string{"email": inv.Email}, Errors: map[string]string{}}
	s.html(c, http.StatusOK, "invitation", view{Form: f, Title: s.i18n.T(c.GetString(keyLocale), "invitation.title"), Invitation: inv})
}

func (s *Server) invitationGone(c *gin.Context, err error) {
	f := &form{Values: map[string]string{}, Errors: map[string]string{}}
	status, internal := s.explain(c, f, err)
	if internal != nil {
		s.pageError(c, internal)
		return
	}
	s.html(c, status, "message", view{Title: s.i18n.T(c.GetString(keyLocale), "invitation.title"), Form: f})
}

// invitationSubmit creates the invited account and logs it in.
func (s *Server) invitationSubmit(c *gin.Context) {
	ctx := c.Request.Context()
	secret := c.Param("token")
	inv, err := s.users.InvitationByToken(ctx, secret)
	if err != nil {
		s.invitationGone(c, err)
		return
	}
	f := newForm(c, "first_name", "last_name")
	f.Values["email"] = inv.Email
	pw := c.PostForm("password")
	u, err := s.users.AcceptInvitation(ctx, secret, user.Registration{
		FirstName: f.Values["first_name"], LastName: f.Values["last_name"], Password: pw, Locale: c.GetString(keyLocale)})
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.html(c, status, "invitation", view{Form: f, Title: s.i18n.T(c.GetString(keyLocale), "invitation.title"), Invitation: inv})
		return
	}
	sess, err := s.users.Login(ctx, u.Email, pw, c.Request.UserAgent(), s.clientIP(c.Request))
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.setCookie(c, s.sessionCookie(c.Request), sess.Token, int(user.AbsoluteTimeout.Seconds()))
	if u.Role == user.RoleAdmin {
		c.Redirect(http.StatusSeeOther, "/admin/users")
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?welcome=1")
}

// changeEmailSubmit starts an email change from the profile page.
func (s *Server) changeEmailSubmit(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	if ok, wait := s.allow(c, rateCheck{limitConfirmUser, strconv.FormatInt(int64(u.ID), 10)}); !ok {
		s.tooMany(c, wait)
		return
	}
	err := s.users.RequestEmailChange(c.Request.Context(), u.ID, c.PostForm("email"), c.PostForm("password"))
	if err != nil {
		f := &form{Values: map[string]string{}, Errors: map[string]string{}}
		if _, internal := s.explain(c, f, err); internal != nil {
			s.pageError(c, internal)
			return
		}
		msg := f.Error
		for _, e := range f.Errors {
			msg = e
		}
		c.Redirect(http.StatusSeeOther, "/profile?email_error="+url.QueryEscape(msg)+"#email")
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?email_sent=1#email")
}

// confirmEmailChange switches the account to its new address.
func (s *Server) confirmEmailChange(c *gin.Context) {
	loc := c.GetString(keyLocale)
	if _, err := s.users.ConfirmEmailChange(c.Request.Context(), c.Query("token")); err != nil {
		f := &form{Values: map[string]string{}, Errors: map[string]string{}}
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		for _, e := range f.Errors {
			f.Error = e
		}
		s.html(c, status, "message", view{Title: s.i18n.T(loc, "email.title"), Form: f})
		return
	}
	s.html(c, http.StatusOK, "message", view{Title: s.i18n.T(loc, "email.title"), Notice: s.i18n.T(loc, "email.changed")})
}

// dataExportDownload serves the user's archive from the profile page.
func (s *Server) dataExportDownload(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	if err := s.sendDataExport(c, u); err != nil {
		s.pageError(c, err)
	}
}
