package web

import (
	"agora/domain/feature"
	"agora/web/kit"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"

	"agora/i18n"
	"agora/tenant"
)

// requestID gives every request an id: the X-Request-Id of a trusted proxy, or
// a fresh one. It is echoed in the response and in every log line.
func (s *Server) requestID(c *gin.Context) {
	id := c.GetHeader("X-Request-Id")
	if id == "" || len(id) > 64 || !s.kit.FromTrustedProxy(c.Request) {
		b := make([]byte, 8)
		_, _ = rand.Read(b)
		id = hex.EncodeToString(b)
	}
	kit.SetRequestID(c, id)
	c.Header("X-Request-Id", id)
	c.Next()
}

// accessLog writes one structured line per request and records its
// duration by route pattern (the metrics).
func (s *Server) accessLog(c *gin.Context) {
	start := time.Now()
	c.Next()
	s.metrics.ObserveRequest(c.FullPath(), c.Request.Method, c.Writer.Status(), time.Since(start))
	attrs := []slog.Attr{
		slog.String("request_id", kit.RequestID(c)),
		slog.String("method", c.Request.Method),
		slog.String("host", c.Request.Host),
		slog.String("path", c.Request.URL.Path),
		slog.Int("status", c.Writer.Status()),
		slog.Float64("duration_ms", float64(time.Since(start).Microseconds())/1000),
		slog.Int("bytes", c.Writer.Size()),
		slog.String("ip", s.kit.ClientIP(c.Request)),
	}
	if t, ok := tenant.FromContext(c.Request.Context()); ok {
		attrs = append(attrs, slog.String("tenant", t.Slug), slog.Int64("tenant_id", int64(t.ID)))
	}
	level := slog.LevelInfo
	if c.Writer.Status() >= 500 {
		level = slog.LevelError
	}
	if len(c.Errors) > 0 {
		attrs = append(attrs, slog.String("error", c.Errors.String()))
	}
	s.log.LogAttrs(c.Request.Context(), level, "request", attrs...)
}

// recovery turns a panic into a logged 500 with a friendly page or problem.
func (s *Server) recovery(c *gin.Context) {
	defer func() {
		if p := recover(); p != nil {
			if err, ok := p.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(p)
			}
			_ = c.Error(fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
			if !c.Writer.Written() {
				s.kit.Fail(c, http.StatusInternalServerError, "internal", "error.internal")
			}
			c.Abort()
		}
	}()
	c.Next()
}

// contentSecurityPolicy allows only Agora's own assets: no inline script or
// style, no framing.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'self'; object-src 'none'; frame-ancestors 'none'"

func (s *Server) securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(self)")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	if s.kit.Scheme(c.Request) == "https" {
		h.Set("Strict-Transport-Security", "max-age=31536000")
	}
	c.Next()
}

// resolveCity is the tenant door of the HTTP side: it maps the request's host
// to a city before any city query can run. Unknown hosts get 404, IP literals
// and malformed hosts 400, secondary hosts a 301 to the primary host,
// suspended cities a 503 maintenance page. Nothing in the path, query or any
// header other than Host (and X-Forwarded-Host from a trusted proxy) can
// choose the city.
func (s *Server) resolveCity(c *gin.Context) {
	raw := s.kit.RequestHost(c.Request)
	host, err := tenant.NormalizeHost(raw)
	if err != nil {
		kit.SetLocale(c, i18n.Negotiate(s.kit.I18n.Locales(), "", c.GetHeader("Accept-Language")))
		s.kit.Fail(c, http.StatusBadRequest, "invalid", "error.bad_host")
		return
	}
	t, res, err := s.reg.Resolve(c.Request.Context(), host)
	if err != nil {
		s.kit.Unexpected(c, err)
		return
	}
	switch res {
	case tenant.Unknown:
		kit.SetLocale(c, i18n.Negotiate(s.kit.I18n.Locales(), "", c.GetHeader("Accept-Language")))
		s.kit.Fail(c, http.StatusNotFound, "not_found", "error.unknown_host", host)
		return
	case tenant.Redirect:
		target := s.kit.Scheme(c.Request) + "://" + t.PrimaryHost + kit.PortOf(raw) + c.Request.URL.RequestURI()
		c.Redirect(http.StatusMovedPermanently, target)
		c.Abort()
		return
	}
	c.Request = c.Request.WithContext(tenant.WithTenant(c.Request.Context(), t))
	cookie, _ := c.Cookie(kit.LocaleCookie)
	kit.SetLocale(c, i18n.Negotiate(t.Locales, cookie, c.GetHeader("Accept-Language")))
	if t.IsSuspended() {
		c.Header("Retry-After", "3600")
		s.kit.Fail(c, http.StatusServiceUnavailable, "suspended", "error.suspended", t.Name)
		return
	}
	c.Next()
}

// platformLocale picks the operator console's language.
func (s *Server) platformLocale(c *gin.Context) {
	cookie, _ := c.Cookie(kit.LocaleCookie)
	kit.SetLocale(c, i18n.Negotiate(s.kit.I18n.Locales(), cookie, c.GetHeader("Accept-Language")))
	c.Next()
}

// readScope lets the reads of one city request (its session, then its page)
// share one read-only transaction, ended when the request is done.
func (s *Server) readScope(c *gin.Context) {
	ctx, end := s.db.ReadScope(c.Request.Context())
	defer end()
	// The city's feature switches are read once per request too.
	c.Request = c.Request.WithContext(feature.WithMemo(ctx))
	c.Next()
}
