package kit

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/user"
)

// SessionCookie is the name of the session cookie: with the __Host- prefix
// over HTTPS (the browser then guarantees Secure, Path=/ and no Domain).
// Either way the cookie is host-only: it never reaches another city's host.
func (k *Kit) SessionCookie(r *http.Request) string {
	if k.Scheme(r) == "https" {
		return "__Host-agora_session"
	}
	return "agora_session"
}

func (k *Kit) csrfCookie(r *http.Request) string {
	if k.Scheme(r) == "https" {
		return "__Host-agora_csrf"
	}
	return "agora_csrf"
}

func (k *Kit) SetCookie(c *gin.Context, name, value string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: name, Value: value, Path: "/", MaxAge: maxAge, HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: k.Scheme(c.Request) == "https",
	})
}

// Authenticate identifies the caller of a city request: a Bearer API token,
// else the session cookie, both looked up in the city's own schema, so a
// token or cookie of another city (or of the operator console) is unknown
// here. A bad Bearer token is refused at once; a stale cookie is cleared and
// the request continues anonymously.
func (k *Kit) Authenticate(c *gin.Context) {
	ctx := c.Request.Context()
	if h := c.GetHeader("Authorization"); h != "" {
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok {
			k.APIError(c, errs.E("auth", errs.Unauthenticated, "Authorization must be 'Bearer <token>'"))
			return
		}
		u, err := k.users.UserByAPIToken(ctx, strings.TrimSpace(token))
		if err != nil {
			k.APIError(c, err)
			return
		}
		c.Set(keyUser, u)
		c.Set(keyBearer, true)
		privateAnswer(c)
		c.Next()
		return
	}
	if token, err := c.Cookie(k.SessionCookie(c.Request)); err == nil && token != "" {
		sess, err := k.users.SessionByToken(ctx, token)
		switch {
		case err == nil:
			c.Set(keySess, sess)
			c.Set(keyUser, sess.User)
			c.Set(keySessionCSRF, sess.CSRFToken)
			privateAnswer(c)
		case errs.CodeOf(err) == errs.Unauthenticated:
			k.SetCookie(c, k.SessionCookie(c.Request), "", -1)
		default:
			k.Unexpected(c, err)
			return
		}
	}
	c.Next()
}

// privateAnswer marks the answer to an identified caller as theirs alone:
// their pages show their name and counts, their API answers their data, so
// no cache may keep it. Handlers that serve what may be cached (a stored
// picture) set their own Cache-Control.
func privateAnswer(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
}

// CurrentUser returns the authenticated user, if any.
func CurrentUser(c *gin.Context) (*user.User, bool) {
	v, ok := c.Get(keyUser)
	if !ok {
		return nil, false
	}
	u, ok := v.(*user.User)
	return u, ok
}

func CurrentSession(c *gin.Context) (*user.Session, bool) {
	v, ok := c.Get(keySess)
	if !ok {
		return nil, false
	}
	sess, ok := v.(*user.Session)
	return sess, ok
}

// CSRFToken is the token a page's forms must send back: the session's when
// logged in, else a per-visitor double-submit token kept in a cookie.
func (k *Kit) CSRFToken(c *gin.Context) string {
	if v := c.GetString(keySessionCSRF); v != "" {
		return v
	}
	if v := c.GetString(keyCSRF); v != "" {
		return v
	}
	if v, err := c.Cookie(k.csrfCookie(c.Request)); err == nil && len(v) >= 32 {
		return v
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	k.SetCookie(c, k.csrfCookie(c.Request), v, int((24 * time.Hour).Seconds()))
	c.Set(keyCSRF, v)
	return v
}

// CSRF protects every unsafe request that a browser could send on the user's
// behalf. Bearer-token requests carry no ambient authority and pass. A
// request with a session must echo the session's CSRF token (X-CSRF-Token
// header or csrf_token form field). An anonymous API request must be JSON,
// which a cross-site form cannot send; an anonymous form must echo the
// visitor's double-submit cookie.
func (k *Kit) CSRF(c *gin.Context) {
	switch c.Request.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		c.Next()
		return
	}
	if c.GetBool(keyBearer) {
		c.Next()
		return
	}
	// The one-click unsubscribe of RFC 8058 is POSTed by mail clients,
	// which have no session and no CSRF token: the signed token in its URL
	// authenticates it, and all it can do is unsubscribe.
	if c.Request.URL.Path == "/unsubscribe" {
		c.Next()
		return
	}
	sent := c.GetHeader("X-CSRF-Token")
	if sent == "" && !strings.HasPrefix(c.ContentType(), "application/json") {
		sent = c.PostForm("csrf_token")
	}
	if want := c.GetString(keySessionCSRF); want != "" {
		if sent == "" || subtle.ConstantTimeCompare([]byte(sent), []byte(want)) != 1 {
			k.csrfFailed(c)
			return
		}
		c.Next()
		return
	}
	if strings.HasPrefix(c.Request.URL.Path, "/api/") {
		// A cross-site page can post text/plain that happens to parse as
		// JSON; it cannot send application/json without CORS. Multipart
		// bodies (uploads) are accepted only by routes that need a login.
		ct := c.ContentType()
		if c.Request.ContentLength != 0 && ct != "application/json" && ct != "multipart/form-data" {
			k.APIError(c, errs.E("csrf", errs.Invalid, "requests to the API must be sent as application/json"))
			return
		}
		c.Next()
		return
	}
	cookie, err := c.Cookie(k.csrfCookie(c.Request))
	if err != nil || len(cookie) < 32 || subtle.ConstantTimeCompare([]byte(cookie), []byte(sent)) != 1 {
		k.csrfFailed(c)
		return
	}
	c.Next()
}

func (k *Kit) csrfFailed(c *gin.Context) {
	if WantsJSON(c) {
		k.APIError(c, errs.E("csrf", errs.Forbidden,
			"missing or wrong CSRF token: send the csrf_token returned by POST /api/v1/session in the X-CSRF-Token header"))
		return
	}
	k.Fail(c, http.StatusForbidden, "forbidden", "error.csrf")
}
