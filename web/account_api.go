package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/user"
	"agora/tenant"
)

// bindJSON decodes a JSON body into v: one JSON value and nothing after it,
// no unknown fields. Malformed JSON is answered 400 (bad_request) saying
// where it breaks; a well-formed value of the wrong shape 422 naming the
// field.
func (s *Server) bindJSON(c *gin.Context, v any) bool {
	dec := json.NewDecoder(c.Request.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// One value per body: anything after it but white space is an error.
		if _, terr := dec.Token(); terr != io.EOF {
			err = errTrailingData
		}
	}
	if err == nil {
		return true
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &te):
		field := te.Field
		if field == "" {
			s.apiError(c, errs.E("decode", errs.Invalid, "the body must be a JSON object"))
			return false
		}
		s.apiError(c, errs.InvalidField("decode", field, "must be a %s", jsonKind(te.Type.Kind())))
	case errors.As(err, &se):
		s.malformed(c, fmt.Sprintf("the body is not valid JSON (at byte %d): %s", se.Offset, se.Error()))
	case errors.Is(err, io.EOF):
		s.malformed(c, "the body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		s.malformed(c, "the body is not valid JSON: it ends too early")
	case errors.Is(err, errTrailingData):
		s.malformed(c, "the body must hold one JSON value and nothing after it")
	default:
		// Unknown fields and the like: well-formed JSON of the wrong shape.
		s.apiError(c, errs.E("decode", errs.Invalid, "%s", strings.TrimPrefix(err.Error(), "json: ")))
	}
	return false
}

var errTrailingData = errors.New("trailing data after the JSON value")

// jsonKind names a Go kind the way a JSON author thinks of it.
func jsonKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Slice, reflect.Array:
		return "list"
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Float32, reflect.Float64:
		return "number"
	}
	if k >= reflect.Int && k <= reflect.Uint64 {
		return "whole number"
	}
	return k.String()
}

// malformed answers 400: the request's syntax is broken (not a rule).
func (s *Server) malformed(c *gin.Context, detail string) {
	c.Render(http.StatusBadRequest, problemRender{Problem{
		Type: "about:blank", Title: http.StatusText(http.StatusBadRequest), Status: http.StatusBadRequest,
		Code: "bad_request", Detail: detail, Instance: c.Request.URL.Path,
	}})
	c.Abort()
}

// requireUser ends the request with 401 unless someone is authenticated.
func (s *Server) requireUser(c *gin.Context) (*user.User, bool) {
	u, ok := currentUser(c)
	if !ok {
		s.apiError(c, errs.E("auth", errs.Unauthenticated, "log in first"))
		return nil, false
	}
	return u, true
}

// registered is the answer to a registration.
type registered struct {
	Status string `json:"status"`
	Email  string `json:"email"`
}

// apiRegister creates a citizen account: 202, whether or not the address
// already had one (see user.Service.Register).
func (s *Server) apiRegister(c *gin.Context) {
	if ok, wait := s.allow(c, rateCheck{limitRegisterIP, s.clientIP(c.Request)}); !ok {
		s.tooMany(c, wait)
		return
	}
	var r user.Registration
	if !s.bindJSON(c, &r) {
		return
	}
	if err := s.users.Register(c.Request.Context(), r); err != nil {
		s.apiError(c, err)
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

// apiLogin checks credentials, rotates the session and sets the cookie.
func (s *Server) apiLogin(c *gin.Context) {
	var r loginRequest
	if !s.bindJSON(c, &r) {
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
func (s *Server) login(c *gin.Context, email, password string) (*user.Session, bool) {
	if ok, wait := s.allow(c, rateCheck{limitLoginIP, s.clientIP(c.Request)}, byEmail(limitLoginEmail, email)); !ok {
		s.tooMany(c, wait)
		return nil, false
	}
	ctx := c.Request.Context()
	sess, err := s.users.Login(ctx, email, password, c.Request.UserAgent(), s.clientIP(c.Request))
	if err != nil {
		s.apiError(c, err)
		return nil, false
	}
	if old, ok := currentSession(c); ok {
		if err := s.users.Logout(ctx, old.ID); err != nil {
			_ = c.Error(err)
		}
	}
	s.setCookie(c, s.sessionCookie(c.Request), sess.Token, int(user.AbsoluteTimeout.Seconds()))
	return sess, true
}

// apiLogout ends the current session.
func (s *Server) apiLogout(c *gin.Context) {
	if sess, ok := currentSession(c); ok {
		if err := s.users.Logout(c.Request.Context(), sess.ID); err != nil {
			s.apiError(c, err)
			return
		}
	}
	s.setCookie(c, s.sessionCookie(c.Request), "", -1)
	c.Status(http.StatusNoContent)
}

// apiLogoutEverywhere ends every session of the user and revokes their tokens.
func (s *Server) apiLogoutEverywhere(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	if err := s.users.LogoutEverywhere(c.Request.Context(), u.ID); err != nil {
		s.apiError(c, err)
		return
	}
	s.setCookie(c, s.sessionCookie(c.Request), "", -1)
	c.Status(http.StatusNoContent)
}

// apiMe returns the authenticated user, or 401.
func (s *Server) apiMe(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, u)
}

func (s *Server) apiCreateToken(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	var r struct {
		Name string `json:"name"`
	}
	if c.Request.ContentLength != 0 && !s.bindJSON(c, &r) {
		return
	}
	t, err := s.users.CreateToken(c.Request.Context(), u.ID, r.Name)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, t)
}

func (s *Server) apiTokens(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	ts, err := s.users.Tokens(c.Request.Context(), u.ID)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, list[user.APIToken]{Data: nonNil(ts), Total: len(ts)})
}

func (s *Server) apiRevokeToken(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.apiError(c, errs.InvalidField("tokens", "id", "must be a number"))
		return
	}
	if err := s.users.RevokeToken(c.Request.Context(), u.ID, id); err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// apiConfirm confirms the caller's email with the code from the email.
func (s *Server) apiConfirm(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	if ok, wait := s.allow(c, rateCheck{limitConfirmUser, strconv.FormatInt(int64(u.ID), 10)}, rateCheck{limitConfirmIP, s.clientIP(c.Request)}); !ok {
		s.tooMany(c, wait)
		return
	}
	var r struct {
		Code string `json:"code"`
	}
	if !s.bindJSON(c, &r) {
		return
	}
	u, err := s.users.ConfirmByCode(c.Request.Context(), u.ID, r.Code)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

// apiResendConfirmation queues a new confirmation email.
func (s *Server) apiResendConfirmation(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	if ok, wait := s.allow(c, rateCheck{limitConfirmUser, strconv.FormatInt(int64(u.ID), 10)}); !ok {
		s.tooMany(c, wait)
		return
	}
	if u.Confirmed() {
		s.apiError(c, errs.E("confirm", errs.Conflict, "your email address is already confirmed"))
		return
	}
	if err := s.users.ResendConfirmation(c.Request.Context(), u.ID); err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "queued"})
}

// apiRequestReset always answers 202 with the same body, whether or not the
// address has an account.
func (s *Server) apiRequestReset(c *gin.Context) {
	var r struct {
		Email string `json:"email"`
	}
	if !s.bindJSON(c, &r) {
		return
	}
	if ok, wait := s.allow(c, rateCheck{limitResetIP, s.clientIP(c.Request)}, byEmail(limitResetEmail, r.Email)); !ok {
		s.tooMany(c, wait)
		return
	}
	if err := s.requestReset(c, r.Email); err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "if an account uses this address, a reset link is on its way"})
}

// apiCompleteReset sets a new password with the token from the reset link.
func (s *Server) apiCompleteReset(c *gin.Context) {
	var r struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if !s.bindJSON(c, &r) {
		return
	}
	if ok, wait := s.allow(c, rateCheck{limitResetIP, s.clientIP(c.Request)}); !ok {
		s.tooMany(c, wait)
		return
	}
	if err := s.users.ResetPassword(c.Request.Context(), r.Token, r.Password); err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// apiDeleteAccount erases the caller's personal data (password required) and
// ends the session; their contributions stay, anonymised.
func (s *Server) apiDeleteAccount(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	var r struct {
		Password string `json:"password"`
	}
	if !s.bindJSON(c, &r) {
		return
	}
	if err := s.users.DeleteAccount(c.Request.Context(), u.ID, r.Password, s.cfg.StorageDir); err != nil {
		s.apiError(c, err)
		return
	}
	s.setCookie(c, s.sessionCookie(c.Request), "", -1)
	c.Status(http.StatusNoContent)
}

// apiRequestDataExport queues the caller's personal data archive.
func (s *Server) apiRequestDataExport(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	e, err := s.users.RequestDataExport(c.Request.Context(), u.ID)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, s.dataExportDoc(*e))
}

func (s *Server) apiDataExports(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	es, err := s.users.DataExports(c.Request.Context(), u.ID)
	if err != nil {
		s.apiError(c, err)
		return
	}
	out := make([]dataExportDoc, len(es))
	for i, e := range es {
		out[i] = s.dataExportDoc(e)
	}
	c.JSON(http.StatusOK, list[dataExportDoc]{Data: out, Total: len(out)})
}

type dataExportDoc struct {
	user.DataExport
	DownloadURL string `json:"download_url,omitempty"`
}

func (s *Server) dataExportDoc(e user.DataExport) dataExportDoc {
	d := dataExportDoc{DataExport: e}
	if e.State == "ready" {
		d.DownloadURL = "/api/v1/me/data-exports/" + strconv.FormatInt(e.ID, 10) + "/download"
	}
	return d
}

// apiDownloadDataExport serves a ready archive to its owner only.
func (s *Server) apiDownloadDataExport(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	if err := s.sendDataExport(c, u); err != nil {
		s.apiError(c, err)
	}
}

// sendDataExport sends the archive named by the :id parameter if it is u's.
func (s *Server) sendDataExport(c *gin.Context, u *user.User) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return errs.E("data export", errs.NotFound, "no such archive")
	}
	path, err := s.users.DataExportFile(c.Request.Context(), u.ID, id, s.cfg.StorageDir)
	if err != nil {
		return err
	}
	c.Header("Cache-Control", "no-store")
	c.FileAttachment(path, "my-data.json")
	return nil
}

// apiChangeEmail starts an email change: a link goes to the new address.
func (s *Server) apiChangeEmail(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	var r struct {
		Email    string `json:"email"`
		Password string `json:"password"`
	}
	if !s.bindJSON(c, &r) {
		return
	}
	if ok, wait := s.allow(c, rateCheck{limitConfirmUser, strconv.FormatInt(int64(u.ID), 10)}); !ok {
		s.tooMany(c, wait)
		return
	}
	if err := s.users.RequestEmailChange(c.Request.Context(), u.ID, r.Email, r.Password); err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, gin.H{"status": "a confirmation link was sent to the new address"})
}

// requestReset validates the address, then looks it up and queues the email
// after answering, so the response takes the same time whether or not the
// address has an account.
func (s *Server) requestReset(c *gin.Context, addr string) error {
	if _, err := email.Normalize("user.RequestPasswordReset", "email", addr); err != nil {
		return err
	}
	// A fresh context with only the city: the request's own (and its read
	// scope) ends when the answer is sent.
	t, _ := tenant.FromContext(c.Request.Context())
	ctx := tenant.WithTenant(context.Background(), t)
	log := s.log.With("request_id", c.GetString(keyRequestID))
	go func() {
		ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := s.users.RequestPasswordReset(ctx, addr); err != nil {
			log.Error("password reset request failed", "err", err)
		}
	}()
	return nil
}
