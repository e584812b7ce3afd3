package account

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/user"
	"agora/tenant"
	"agora/web/kit"
)

// registered is the answer to a registration.
type registered struct {
	Status string `json:"status"`
	Email  string `json:"email"`
}

// Register creates a citizen account: 202, whether or not the address
// already had one (see user.Service.Register).
func (s *Account) Register(c *gin.Context) {
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitRegisterIP)); !ok {
		s.TooMany(c, wait)
		return
	}
	var r user.Registration
	if !s.BindJSON(c, &r) {
		return
	}
	if err := s.users.Register(c.Request.Context(), r); err != nil {
		s.APIError(c, err)
		return
	}
	// The same answer whether or not the address had an account: the
	// confirmation (or, for a taken address, a notice to its owner) is on
	// its way. Log in to get the account.
	c.JSON(http.StatusAccepted, registered{Status: "confirmation_sent", Email: email.Key(r.Email)})
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type sessionResponse struct {
	User      *user.User `json:"user"`
	CSRFToken string     `json:"csrf_token"`
}

// Login checks credentials, rotates the session and sets the cookie.
func (s *Account) Login(c *gin.Context) {
	var r loginRequest
	if !s.BindJSON(c, &r) {
		return
	}
	sess, ok := s.login(c, r.Email, r.Password)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, sessionResponse{User: sess.User, CSRFToken: sess.CSRFToken})
}

// login rate-limits, authenticates and replaces any current session with a
// new one (rotation: a session token known before login is worthless after).
// On failure it has already answered.
func (s *Account) login(c *gin.Context, email, password string) (*user.Session, bool) {
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitLoginIP), kit.ByEmail(kit.LimitLoginEmail, email)); !ok {
		s.TooMany(c, wait)
		return nil, false
	}
	ctx := c.Request.Context()
	sess, err := s.users.Login(ctx, email, password, c.Request.UserAgent(), s.ClientIP(c.Request))
	if err != nil {
		s.APIError(c, err)
		return nil, false
	}
	if old, ok := kit.CurrentSession(c); ok {
		if err := s.users.Logout(ctx, old.ID); err != nil {
			_ = c.Error(err)
		}
	}
	s.SetCookie(c, s.SessionCookie(c.Request), sess.Token, int(user.AbsoluteTimeout.Seconds()))
	return sess, true
}

// Logout ends the current session.
func (s *Account) Logout(c *gin.Context) {
	if sess, ok := kit.CurrentSession(c); ok {
		if err := s.users.Logout(c.Request.Context(), sess.ID); err != nil {
			s.APIError(c, err)
			return
		}
	}
	s.SetCookie(c, s.SessionCookie(c.Request), "", -1)
	c.Status(http.StatusNoContent)
}

// LogoutEverywhere ends every session of the user and revokes their tokens.
func (s *Account) LogoutEverywhere(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	if err := s.users.LogoutEverywhere(c.Request.Context(), u.ID); err != nil {
		s.APIError(c, err)
		return
	}
	s.SetCookie(c, s.SessionCookie(c.Request), "", -1)
	c.Status(http.StatusNoContent)
}

// Me returns the authenticated user, or 401.
func (s *Account) Me(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, u)
}

func (s *Account) CreateToken(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	var r struct {
		Name string `json:"name"`
	}
	if c.Request.ContentLength != 0 && !s.BindJSON(c, &r) {
		return
	}
	t, err := s.users.CreateToken(c.Request.Context(), u.ID, r.Name)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

func (s *Account) Tokens(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	ts, err := s.users.Tokens(c.Request.Context(), u.ID)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[user.APIToken]{Data: kit.NonNil(ts), Total: len(ts)})
}

func (s *Account) RevokeToken(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.APIError(c, errs.InvalidField("tokens", "id", "must be a number"))
		return
	}
	if err := s.users.RevokeToken(c.Request.Context(), u.ID, id); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// Confirm confirms the caller's email with the code from the email.
func (s *Account) Confirm(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	if ok, wait := s.Allow(c, kit.ByUser(kit.LimitConfirmUser, u.ID), s.ByIP(c, kit.LimitConfirmIP)); !ok {
		s.TooMany(c, wait)
		return
	}
	var r struct {
		Code string `json:"code"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	u, err := s.users.ConfirmByCode(c.Request.Context(), u.ID, r.Code)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

// ResendConfirmation queues a new confirmation email.
func (s *Account) ResendConfirmation(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	if ok, wait := s.Allow(c, kit.ByUser(kit.LimitConfirmUser, u.ID)); !ok {
		s.TooMany(c, wait)
		return
	}
	if u.Confirmed() {
		s.APIError(c, errs.E("confirm", errs.Conflict, "your email address is already confirmed"))
		return
	}
	if err := s.users.ResendConfirmation(c.Request.Context(), u.ID); err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "queued"})
}

// RequestReset always answers 202 with the same body, whether or not the
// address has an account.
func (s *Account) RequestReset(c *gin.Context) {
	var r struct {
		Email string `json:"email"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitResetIP), kit.ByEmail(kit.LimitResetEmail, r.Email)); !ok {
		s.TooMany(c, wait)
		return
	}
	if err := s.requestReset(c, r.Email); err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "if an account uses this address, a reset link is on its way"})
}

// CompleteReset sets a new password with the token from the reset link.
func (s *Account) CompleteReset(c *gin.Context) {
	var r struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	if ok, wait := s.Allow(c, s.ByIP(c, kit.LimitResetIP)); !ok {
		s.TooMany(c, wait)
		return
	}
	if err := s.users.ResetPassword(c.Request.Context(), r.Token, r.Password); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// DeleteAccount erases the caller's personal data (password required) and
// ends the session; their contributions stay, anonymised.
func (s *Account) DeleteAccount(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	var r struct {
		Password string `json:"password"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	if err := s.users.DeleteAccount(c.Request.Context(), u.ID, r.Password, s.Config.StorageDir); err != nil {
		s.APIError(c, err)
		return
	}
	s.SetCookie(c, s.SessionCookie(c.Request), "", -1)
	c.Status(http.StatusNoContent)
}

// RequestDataExport queues the caller's personal data archive.
func (s *Account) RequestDataExport(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	e, err := s.users.RequestDataExport(c.Request.Context(), u.ID)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, s.dataExportDoc(*e))
}

func (s *Account) DataExports(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	es, err := s.users.DataExports(c.Request.Context(), u.ID)
	if err != nil {
		s.APIError(c, err)
		return
	}
	out := make([]dataExportDoc, len(es))
	for i, e := range es {
		out[i] = s.dataExportDoc(e)
	}
	c.JSON(http.StatusOK, kit.List[dataExportDoc]{Data: out, Total: len(out)})
}

type dataExportDoc struct {
	user.DataExport
	DownloadURL string `json:"download_url,omitempty"`
}

func (s *Account) dataExportDoc(e user.DataExport) dataExportDoc {
	d := dataExportDoc{DataExport: e}
	if e.State == "ready" {
		d.DownloadURL = "/api/v1/me/data-exports/" + strconv.FormatInt(e.ID, 10) + "/download"
	}
	return d
}

// DownloadDataExport serves a ready archive to its owner only.
func (s *Account) DownloadDataExport(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	if err := s.sendDataExport(c, u); err != nil {
		s.APIError(c, err)
	}
}

// sendDataExport sends the archive named by the :id parameter if it is u's.
func (s *Account) sendDataExport(c *gin.Context, u *user.User) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.E("data export", errs.NotFound, "no such archive")
	}
	path, err := s.users.DataExportFile(c.Request.Context(), u.ID, id, s.Config.StorageDir)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.FileAttachment(path, "my-data.json")
	return nil
}

// ChangeEmail starts an email change: a link goes to the new address.
func (s *Account) ChangeEmail(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	var r struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	if ok, wait := s.Allow(c, kit.ByUser(kit.LimitConfirmUser, u.ID)); !ok {
		s.TooMany(c, wait)
		return
	}
	if err := s.users.RequestEmailChange(c.Request.Context(), u.ID, r.Email, r.Password); err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "a confirmation link was sent to the new address"})
}

// requestReset validates the address, then looks it up and queues the email
// after answering, so the response takes the same time whether or not the
// address has an account.
func (s *Account) requestReset(c *gin.Context, addr string) error {
	if _, err := email.Normalize("user.RequestPasswordReset", "email", addr); err != nil {
		return err
	}
	// A fresh context with only the city: the request's own (and its read
	// scope) ends when the answer is sent.
	t, _ := tenant.FromContext(c.Request.Context())
	ctx := tenant.WithTenant(context.Background(), t)
	log := s.log.With("request_id", kit.RequestID(c))
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.users.RequestPasswordReset(ctx, addr); err != nil {
			log.Error("password reset request failed", "err", err)
		}
	}()
	return nil
}

// Fields lists the registration questions (public: the sign-up form needs them).
func (s *Account) Fields(c *gin.Context) {
	fs, err := s.users.Fields(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[user.Field]{Data: kit.NonNil(fs), Total: len(fs)})
}
