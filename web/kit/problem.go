package kit

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

// WantsJSON reports whether the client should get problem+json rather than an
// HTML page: API paths always, other paths when Accept prefers JSON.
func WantsJSON(c *gin.Context) bool {
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		return true
	}
	accept := c.GetHeader("Accept")
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}

// Fail ends the request with status: a problem document for API clients, an
// error page in the visitor's language for browsers. key names the i18n
// strings key+".title" and key+".body"; args fill the body.
func (k *Kit) Fail(c *gin.Context, status int, code, key string, args ...any) {
	loc := c.GetString(keyLocale)
	if loc == "" {
		loc = "en"
	}
	title := k.I18n.T(loc, key+".title")
	detail := k.I18n.T(loc, key+".body", args...)
	if WantsJSON(c) {
		c.Header("Content-Language", loc)
		c.Render(status, problemRender{Problem{
			Type: "about:blank", Title: title, Status: status, Code: code, Detail: detail,
			Instance: c.Request.URL.Path,
		}})
		c.Abort()
		return
	}
	k.pages.Render(c, status, "error", &errorPage{Chrome: Chrome{Title: title}, Error: &ErrorView{Title: title, Body: detail}})
	c.Abort()
}

// StatusOf maps an application error code to its HTTP status; the one place
// that does.
func StatusOf(code errs.Code) int {
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

// Unexpected answers a request that failed with an error that is not the
// caller's doing: 503 with Retry-After when the database had no connection
// to spare (tenant.ErrBusy), else a logged 500.
func (k *Kit) Unexpected(c *gin.Context, err error) {
	if errors.Is(err, tenant.ErrBusy) {
		_ = c.Error(err)
		c.Header("Retry-After", "2")
		k.Fail(c, http.StatusServiceUnavailable, "busy", "error.busy")
		return
	}
	_ = c.Error(err)
	k.Fail(c, http.StatusInternalServerError, "internal", "error.internal")
}

// APIError answers an API request that failed with err. Application errors
// show their safe message; anything else is logged and shown as internal.
func (k *Kit) APIError(c *gin.Context, err error) {
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		k.Unexpected(c, err)
		return
	}
	status := StatusOf(e.Code)
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

// TranslatedAPIError is APIError with the detail in the caller's language,
// through the error's rule, for API clients that show the refusal to a
// person as it comes (the back office's own scripts, a city's tools).
func (k *Kit) TranslatedAPIError(c *gin.Context, err error) {
	e, ok := errs.As(err)
	if !ok || e.Code == errs.Internal {
		k.Unexpected(c, err)
		return
	}
	status, detail, _ := k.Refusal(c, err)
	c.Header("Content-Language", Locale(c))
	c.Render(status, problemRender{Problem{
		Type: "about:blank", Title: http.StatusText(status), Status: status, Code: string(e.Code),
		Detail: detail, Field: e.Field, Instance: c.Request.URL.Path,
	}})
	c.Abort()
}

// PageError answers a page request that failed with err.
func (k *Kit) PageError(c *gin.Context, err error) {
	switch code := errs.CodeOf(err); code {
	case errs.NotFound:
		k.Fail(c, http.StatusNotFound, "not_found", "error.not_found")
	case errs.Internal:
		k.Unexpected(c, err)
	default:
		// A refused request: say why, in the visitor's language.
		status, msg, _ := k.Refusal(c, err)
		k.Fail(c, status, string(code), "error.refused", msg)
	}
}

type problemRender struct{ p Problem }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return JSONEncode(w, r.p)
}

func (r problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
}

// NotFound answers 404: a page in the visitor's language, or a problem.
func (k *Kit) NotFound(c *gin.Context) {
	k.Fail(c, http.StatusNotFound, "not_found", "error.not_found")
}

// MethodNotAllowed answers 405 with a problem document.
func (k *Kit) MethodNotAllowed(c *gin.Context) {
	c.Render(http.StatusMethodNotAllowed, problemRender{Problem{
		Type: "about:blank", Title: http.StatusText(http.StatusMethodNotAllowed), Status: http.StatusMethodNotAllowed,
		Code: "method_not_allowed", Detail: c.Request.Method + " is not allowed on " + c.Request.URL.Path,
	}})
}

// Error answers a request that failed with err: a problem document for API
// clients (APIError), a page for browsers (PageError).
func (k *Kit) Error(c *gin.Context, err error) {
	if WantsJSON(c) {
		k.APIError(c, err)
		return
	}
	k.PageError(c, err)
}
