package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/tenant"
)

// Problem is an RFC 7807 problem document with Agora's stable code.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Code     string `json:"code"`
	Detail   string `json:"detail,omitempty"`
	Field    string `json:"field,omitempty"`
	Instance string `json:"instance,omitempty"`
}

// wantsJSON reports whether the client should get problem+json rather than an
// HTML page: API paths always, other paths when Accept prefers JSON.
func wantsJSON(c *gin.Context) bool {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		return true
	}
	accept := c.GetHeader("Accept")
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}

// fail ends the request with status: a problem document for API clients, an
// error page in the visitor's language for browsers. key names the i18n
// strings key+".title" and key+".body"; args fill the body.
func (s *Server) fail(c *gin.Context, status int, code, key string, args ...any) {
	loc := c.GetString(keyLocale)
	if loc == "" {
		loc = "en"
	}
	title := s.i18n.T(loc, key+".title")
	detail := s.i18n.T(loc, key+".body", args...)
	if wantsJSON(c) {
		c.Header("Content-Language", loc)
		c.Render(status, problemRender{Problem{
			Type: "about:blank", Title: title, Status: status, Code: code, Detail: detail,
			Instance: c.Request.URL.Path,
		}})
		c.Abort()
		return
	}
	s.html(c, status, "error", view{Title: title, Error: &errorView{Title: title, Body: detail}})
	c.Abort()
}

// statusOf maps an application error code to its HTTP status; the one place
// that does.
func statusOf(code errs.Code) int {
	switch code {
	case errs.NotFound:
		return http.StatusNotFound
	case errs.Invalid:
		return http.StatusUnprocessableEntity
	case errs.Conflict:
		return http.StatusConflict
	case errs.Forbidden:
		return http.StatusForbidden
	case errs.Unauthenticated:
		return http.StatusUnauthorized
	case errs.FeatureUnavailable:
		return http.StatusForbidden
	case errs.RateLimited:
		return http.StatusTooManyRequests
	}
	return http.StatusInternalServerError
}

// unexpected answers a request that failed with an error that is not the
// caller's doing: 503 with Retry-After when the database had no connection
// to spare (tenant.ErrBusy), else a logged 500.
func (s *Server) unexpected(c *gin.Context, err error) {
	if errors.Is(err, tenant.ErrBusy) {
		_ = c.Error(err)
		c.Header("Retry-After", "2")
		s.fail(c, http.StatusServiceUnavailable, "busy", "error.busy")
		return
	}
	_ = c.Error(err)
	s.fail(c, http.StatusInternalServerError, "internal", "error.internal")
}

// apiError answers an API request that failed with err. Application errors
// show their safe message; anything else is logged and shown as internal.
func (s *Server) apiError(c *gin.Context, err error) {
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		s.unexpected(c, err)
		return
	}
	status := statusOf(e.Code)
	detail := e.Message
	if e.Field != "" {
		detail = e.Field + ": " + detail
	}
	c.Render(status, problemRender{Problem{
		Type: "about:blank", Title: http.StatusText(status), Status: status, Code: string(e.Code),
		Detail: detail, Field: e.Field, Instance: c.Request.URL.Path,
	}})
	c.Abort()
}

// pageError answers a page request that failed with err.
func (s *Server) pageError(c *gin.Context, err error) {
	switch code := errs.CodeOf(err); code {
	case errs.NotFound:
		s.fail(c, http.StatusNotFound, "not_found", "error.not_found")
	case errs.Internal:
		s.unexpected(c, err)
	default:
		// A refused request: say why, in the visitor's language.
		f := &form{Values: map[string]string{}, Errors: map[string]string{}}
		status, _ := s.explain(c, f, err)
		msg := f.Error
		for _, m := range f.Errors {
			msg = m
		}
		s.fail(c, status, string(code), "error.refused", msg)
	}
}

type problemRender struct{ p Problem }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonEncode(w, r.p)
}

func (r problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
}
