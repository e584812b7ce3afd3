package account

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/user"
	"agora/web/kit"
)

// renderForm shows a form page again with its errors.
func (s *Account) renderForm(c *gin.Context, name string, status int, f *kit.Form, title string) {
	s.pages.Render(c, status, name, &page{Chrome: kit.Chrome{Form: f, Title: s.I18n.T(kit.Locale(c), title)}})
}

func (s *Account) LoginPage(c *gin.Context) {
	f := &kit.Form{Values: map[string]string{"next": kit.LocalPath(c.Query("next"))}, Errors: map[string]string{}}
	ch := &kit.Chrome{Form: f}
	if c.Query("reset") != "" {
		ch.Notice = s.T(c, "reset.done")
	}
	s.LoginForm(c, http.StatusOK, ch)
}

func (s *Account) LoginSubmit(c *gin.Context) {
	f := kit.NewForm(c, "email", "next")
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitLoginIP), kit.ByEmail(kit.LimitLoginEmail, f.Values["email"])); !ok {
		s.TooMany(c, wait)
		return
	}
	ctx := c.Request.Context()
	sess, err := s.users.Login(ctx, f.Values["email"], c.PostForm("password"), c.Request.UserAgent(), s.ClientIP(c.Request))
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.LoginForm(c, status, &kit.Chrome{Form: f})
		return
	}
	if old, ok := kit.CurrentSession(c); ok {
		_ = s.users.Logout(ctx, old.ID)
	}
	s.SetCookie(c, s.SessionCookie(c.Request), sess.Token, int(user.AbsoluteTimeout.Seconds()))
	c.Redirect(http.StatusSeeOther, kit.LocalPath(f.Values["next"]))
}

func (s *Account) LogoutSubmit(c *gin.Context) {
	if sess, ok := kit.CurrentSession(c); ok {
		if err := s.users.Logout(c.Request.Context(), sess.ID); err != nil {
			s.PageError(c, err)
			return
		}
	}
	s.SetCookie(c, s.SessionCookie(c.Request), "", -1)
	c.Redirect(http.StatusSeeOther, "/")
}

func (s *Account) RegisterPage(c *gin.Context) {
	s.renderRegister(c, http.StatusOK, &kit.Form{Values: map[string]string{}, Errors: map[string]string{}, Multi: map[string][]string{}})
}

// renderRegister shows the sign-up form with the city's own questions.
func (s *Account) renderRegister(c *gin.Context, status int, f *kit.Form) {
	fields, err := s.users.Fields(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.pages.Render(c, status, "register", &page{Chrome: kit.Chrome{Form: f, Title: s.I18n.T(kit.Locale(c), "register.title")}, Fields: fields})
}

func (s *Account) RegisterSubmit(c *gin.Context) {
	f := kit.NewForm(c, "email", "first_name", "last_name")
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitRegisterIP)); !ok {
		s.TooMany(c, wait)
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
		Locale: kit.Locale(c), Fields: answers,
	})
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderRegister(c, status, f)
		return
	}
	// The same page whether or not the address had an account (see
	// user.Service.Register): the email tells the rest.
	loc := kit.Locale(c)
	s.Message(c, http.StatusOK, s.I18n.T(loc, "register.sent_title"), s.I18n.T(loc, "register.sent", strings.TrimSpace(f.Values["email"])), nil)
}

func (s *Account) ProfilePage(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	f := &kit.Form{Values: map[string]string{"first_name": u.FirstName, "last_name": u.LastName, "bio": u.Bio, "locale": u.Locale},
		Errors: map[string]string{}}
	v := &page{Chrome: kit.Chrome{Form: f, Title: s.I18n.T(kit.Locale(c), "profile.title")}}
	loc := kit.Locale(c)
	switch {
	case c.Query("welcome") != "":
		v.Notice = s.I18n.T(loc, "register.welcome")
	case c.Query("saved") != "":
		v.Notice = s.I18n.T(loc, "profile.saved")
	case c.Query("confirmed") != "":
		v.Notice = s.I18n.T(loc, "confirm.done")
	case c.Query("code") != "":
		f.Errors["code"] = s.I18n.T(loc, "rule.code")
	case c.Query("export") != "":
		v.Notice = s.I18n.T(loc, "data.requested")
	case c.Query("delete") != "":
		f.Errors["delete_password"] = s.I18n.T(loc, "rule.wrong_password")
	case c.Query("email_sent") != "":
		v.Notice = s.I18n.T(loc, "email.sent")
	case c.Query("email_error") != "":
		f.Errors["new_email"] = c.Query("email_error")
	case c.Query("avatar_error") != "":
		f.Errors["avatar"] = c.Query("avatar_error")
	case c.Query("consents") != "":
		v.Notice = s.I18n.T(loc, "consents.saved")
	}
	exports, err := s.users.DataExports(c.Request.Context(), u.ID)
	if err != nil {
		s.PageError(c, err)
		return
	}
	v.Exports = exports
	if v.Consents, err = s.consentViews(c, u); err != nil {
		s.PageError(c, err)
		return
	}
	s.pages.Render(c, http.StatusOK, "profile", v)
}

func (s *Account) ProfileSubmit(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	f := kit.NewForm(c, "first_name", "last_name", "bio", "locale")
	_, err := s.users.UpdateProfile(c.Request.Context(), u.ID, user.Profile{
		FirstName: f.Values["first_name"], LastName: f.Values["last_name"], Bio: f.Values["bio"], Locale: f.Values["locale"],
	})
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderForm(c, "profile", status, f, "profile.title")
		return
	}
	// The interface follows the language the user chose for their account.
	http.SetCookie(c.Writer, &http.Cookie{Name: kit.LocaleCookie, Value: f.Values["locale"], Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.Scheme(c.Request) == "https"})
	c.Redirect(http.StatusSeeOther, "/profile?saved=1")
}

// ConfirmLink confirms an email address from the link in the email.
func (s *Account) ConfirmLink(c *gin.Context) {
	loc := kit.Locale(c)
	u, err := s.users.ConfirmByLink(c.Request.Context(), c.Query("token"))
	if err != nil {
		f := kit.EmptyForm()
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.Message(c, status, s.I18n.T(loc, "confirm.title"), "", f)
		return
	}
	// Answer in the account's language, whatever browser opened the link.
	loc = u.Locale
	kit.SetLocale(c, loc)
	s.Message(c, http.StatusOK, s.I18n.T(loc, "confirm.title"), s.I18n.T(loc, "confirm.done"), nil)
}

// ConfirmCode confirms the logged-in user's email with the typed code.
func (s *Account) ConfirmCode(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	if ok, wait := s.Allow(c, kit.ByUser(kit.LimitConfirmUser, u.ID), s.ByIP(c, kit.LimitConfirmIP)); !ok {
		s.TooMany(c, wait)
		return
	}
	if _, err := s.users.ConfirmByCode(c.Request.Context(), u.ID, strings.TrimSpace(c.PostForm("code"))); err != nil {
		c.Redirect(http.StatusSeeOther, "/profile?code=wrong")
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?confirmed=1")
}

func (s *Account) ForgotPage(c *gin.Context) {
	s.renderForm(c, "forgot", http.StatusOK, kit.EmptyForm(), "forgot.title")
}

// ForgotSubmit shows the same answer whether or not the address has an account.
func (s *Account) ForgotSubmit(c *gin.Context) {
	f := kit.NewForm(c, "email")
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitResetIP), kit.ByEmail(kit.LimitResetEmail, f.Values["email"])); !ok {
		s.TooMany(c, wait)
		return
	}
	if err := s.requestReset(c, f.Values["email"]); err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderForm(c, "forgot", status, f, "forgot.title")
		return
	}
	loc := kit.Locale(c)
	s.Message(c, http.StatusOK, s.I18n.T(loc, "forgot.title"), s.I18n.T(loc, "forgot.sent"), nil)
}

func (s *Account) ResetPage(c *gin.Context) {
	f := &kit.Form{Values: map[string]string{"token": c.Query("token")}, Errors: map[string]string{}}
	s.renderForm(c, "reset", http.StatusOK, f, "reset.title")
}

func (s *Account) ResetSubmit(c *gin.Context) {
	f := kit.NewForm(c, "token")
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitResetIP)); !ok {
		s.TooMany(c, wait)
		return
	}
	if err := s.users.ResetPassword(c.Request.Context(), f.Values["token"], c.PostForm("password")); err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderForm(c, "reset", status, f, "reset.title")
		return
	}
	c.Redirect(http.StatusSeeOther, "/login?reset=1")
}

// DataExportSubmit queues the user's archive and returns to the profile.
func (s *Account) DataExportSubmit(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	if _, err := s.users.RequestDataExport(c.Request.Context(), u.ID); err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?export=1")
}

// DeleteAccountSubmit deletes the account after the password is typed again.
func (s *Account) DeleteAccountSubmit(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	if err := s.users.DeleteAccount(c.Request.Context(), u.ID, c.PostForm("password"), s.Config.StorageDir); err != nil {
		if errs.CodeOf(err) == errs.Invalid {
			c.Redirect(http.StatusSeeOther, "/profile?delete=wrong#delete")
			return
		}
		s.PageError(c, err)
		return
	}
	s.SetCookie(c, s.SessionCookie(c.Request), "", -1)
	kit.Forget(c) // the page below is for an anonymous visitor
	loc := kit.Locale(c)
	s.Message(c, http.StatusOK, s.I18n.T(loc, "delete.title"), s.I18n.T(loc, "delete.done"), nil)
}

// InvitationPage shows the form that accepts an invitation.
func (s *Account) InvitationPage(c *gin.Context) {
	inv, err := s.users.InvitationByToken(c.Request.Context(), c.Param("token"))
	if err != nil {
		s.invitationGone(c, err)
		return
	}
	f := &kit.Form{Values: map[string]string{"email": inv.Email}, Errors: map[string]string{}}
	s.pages.Render(c, http.StatusOK, "invitation", &page{Chrome: kit.Chrome{Form: f, Title: s.I18n.T(kit.Locale(c), "invitation.title")}, Invitation: inv})
}

func (s *Account) invitationGone(c *gin.Context, err error) {
	f := kit.EmptyForm()
	status, internal := s.Explain(c, f, err)
	if internal != nil {
		s.PageError(c, internal)
		return
	}
	s.Message(c, status, s.I18n.T(kit.Locale(c), "invitation.title"), "", f)
}

// InvitationSubmit creates the invited account and logs it in.
func (s *Account) InvitationSubmit(c *gin.Context) {
	ctx := c.Request.Context()
	secret := c.Param("token")
	inv, err := s.users.InvitationByToken(ctx, secret)
	if err != nil {
		s.invitationGone(c, err)
		return
	}
	f := kit.NewForm(c, "first_name", "last_name")
	f.Values["email"] = inv.Email
	pw := c.PostForm("password")
	u, err := s.users.AcceptInvitation(ctx, secret, user.Registration{
		FirstName: f.Values["first_name"], LastName: f.Values["last_name"], Password: pw, Locale: kit.Locale(c)})
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.pages.Render(c, status, "invitation", &page{Chrome: kit.Chrome{Form: f, Title: s.I18n.T(kit.Locale(c), "invitation.title")}, Invitation: inv})
		return
	}
	sess, err := s.users.Login(ctx, u.Email, pw, c.Request.UserAgent(), s.ClientIP(c.Request))
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.SetCookie(c, s.SessionCookie(c.Request), sess.Token, int(user.AbsoluteTimeout.Seconds()))
	if u.Role == user.RoleAdmin {
		c.Redirect(http.StatusSeeOther, "/admin/users")
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?welcome=1")
}

// ChangeEmailSubmit starts an email change from the profile page.
func (s *Account) ChangeEmailSubmit(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	if ok, wait := s.Allow(c, kit.ByUser(kit.LimitConfirmUser, u.ID)); !ok {
		s.TooMany(c, wait)
		return
	}
	err := s.users.RequestEmailChange(c.Request.Context(), u.ID, c.PostForm("email"), c.PostForm("password"))
	if err != nil {
		f := kit.EmptyForm()
		if _, internal := s.Explain(c, f, err); internal != nil {
			s.PageError(c, internal)
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

// ConfirmEmailChange switches the account to its new address.
func (s *Account) ConfirmEmailChange(c *gin.Context) {
	loc := kit.Locale(c)
	if _, err := s.users.ConfirmEmailChange(c.Request.Context(), c.Query("token")); err != nil {
		f := kit.EmptyForm()
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		for _, e := range f.Errors {
			f.Error = e
		}
		s.Message(c, status, s.I18n.T(loc, "email.title"), "", f)
		return
	}
	s.Message(c, http.StatusOK, s.I18n.T(loc, "email.title"), s.I18n.T(loc, "email.changed"), nil)
}

// DataExportDownload serves the user's archive from the profile page.
func (s *Account) DataExportDownload(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	if err := s.sendDataExport(c, u); err != nil {
		s.PageError(c, err)
	}
}
