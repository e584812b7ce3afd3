package kit

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/operator"
)

// The operator console's caller: an operator's session cookie or API token,
// looked up in the platform schema, never a city's.

// OperatorCookie is the console's session cookie, host-only on the platform
// host. City hosts never read it, and the console never reads city cookies.
func (k *Kit) OperatorCookie(r *http.Request) string {
	if k.Scheme(r) == "https" {
		return "__Host-agora_operator"
	}
	return "agora_operator"
}

// AuthenticateOperator identifies the operator of a console request from the
// console cookie, looked up in the platform schema.
func (k *Kit) AuthenticateOperator(c *gin.Context) {
	// The platform API takes an operator token instead of the cookie.
	if h := c.GetHeader("Authorization"); h != "" {
		secret, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			k.APIError(c, errs.E("auth", errs.Unauthenticated, "Authorization must be 'Bearer <token>'"))
			return
		}
		o, err := k.operators.ByToken(c.Request.Context(), strings.TrimSpace(secret))
		if err != nil {
			k.APIError(c, err)
			return
		}
		c.Set(keyOperator, &operator.Session{Operator: o})
		c.Set(keyBearer, true)
		c.Next()
		return
	}
	if secret, err := c.Cookie(k.OperatorCookie(c.Request)); err == nil && secret != "" {
		sess, err := k.operators.SessionByToken(c.Request.Context(), secret)
		switch {
		case err == nil:
			c.Set(keyOperator, sess)
			c.Set(keySessionCSRF, sess.CSRFToken)
		case errs.CodeOf(err) == errs.Unauthenticated:
			k.SetCookie(c, k.OperatorCookie(c.Request), "", -1)
		default:
			k.Unexpected(c, err)
			return
		}
	}
	c.Next()
}

func CurrentOperator(c *gin.Context) (*operator.Session, bool) {
	v, ok := c.Get(keyOperator)
	if !ok {
		return nil, false
	}
	sess, ok := v.(*operator.Session)
	return sess, ok
}

// RequireOperator lets only a logged-in operator through; anyone else is sent
// to the console's login, which brings them back.
func (k *Kit) RequireOperator(c *gin.Context) {
	if _, ok := CurrentOperator(c); !ok {
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

// RequireOperatorAPI answers 401 to an API call without an operator.
func (k *Kit) RequireOperatorAPI(c *gin.Context) {
	if _, ok := CurrentOperator(c); !ok {
		k.APIError(c, errs.E("platform", errs.Unauthenticated, "log in to the console or send an operator token"))
		return
	}
	c.Next()
}
