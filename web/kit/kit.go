// Package kit is what every area of Agora's web layer shares: who is asking
// (the caller, their session and CSRF token, rate limits, the actor that
// permission rules see), how a request is read (bodies within limits, input
// that must be text, forms, parameters, JSON) and how it is answered (the one
// error-to-status table, problem documents, the renderer with the layout
// chrome, feature gates and role checks for routes). The areas (portal,
// account, backoffice, console) build on it; none of them on each other.
package kit

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"agora/config"
	"agora/domain/feature"
	"agora/domain/notify"
	"agora/domain/operator"
	"agora/domain/user"
	"agora/i18n"
	"agora/tenant"
)

// Deps are what the kit needs: the configuration, the city database (for
// the actor's memberships), Redis (rate limits) and the services that say
// who is asking.
type Deps struct {
	Config        *config.Config
	DB            *tenant.DB
	Redis         *redis.Client // nil: no rate limits
	Log           *slog.Logger
	Users         *user.Service
	Operators     *operator.Service
	Notifications *notify.Service
	Features      *feature.Service
}

// Kit is the shared part of the web layer. Build it once with New; every
// area holds it.
type Kit struct {
	Config        *config.Config
	I18n          *i18n.Catalog
	db            *tenant.DB
	redis         *redis.Client
	log           *slog.Logger
	users         *user.Service
	operators     *operator.Service
	notifications *notify.Service
	features      *feature.Service
	trusted       []*net.IPNet
	inflight      *inFlight
	pages         *Templates // the kit's own pages: error, message
}

// New builds the kit.
func New(d Deps) (*Kit, error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	trusted, err := parseTrusted(d.Config.TrustedProxies)
	if err != nil {
		return nil, err
	}
	k := &Kit{
		Config: d.Config, I18n: cat, db: d.DB, redis: d.Redis, log: d.Log, users: d.Users, operators: d.Operators,
		notifications: d.Notifications, features: d.Features, trusted: trusted,
		inflight: newInFlight(d.Config.HTTPMaxInFlightPerIP),
	}
	if k.pages, err = k.parse(templateFiles, "templates", []string{"layout.html", "field.html"}, false); err != nil {
		return nil, err
	}
	return k, nil
}

// Keys under which the kit keeps per-request values in the gin context.
const (
	keyLocale = "agora.locale"
	keyUser   = "agora.user"
	keySess   = "agora.session"
	keyBearer = "agora.bearer"
	keyCSRF   = "agora.csrf" // the anonymous visitor's double-submit token
	// keySessionCSRF is the CSRF token of the session (a city user's or an
	// operator's) that authenticated the request.
	keySessionCSRF = "agora.session_csrf"
	keyOperator    = "agora.operator"
	keyLocked      = "agora.locked"
	keyRequestID   = "agora.request_id"
	keyActor       = "agora.actor"
)

// RequestID is the id of the request, as logged and echoed in X-Request-Id.
func RequestID(c *gin.Context) string { return c.GetString(keyRequestID) }

// SetRequestID records the id of the request.
func SetRequestID(c *gin.Context, id string) { c.Set(keyRequestID, id) }

// Forget makes the rest of the request anonymous (after the account that
// made it is gone).
func Forget(c *gin.Context) {
	c.Set(keyUser, nil)
	c.Set(keySess, nil)
}

// Locale is the language the request is answered in.
func Locale(c *gin.Context) string {
	if l := c.GetString(keyLocale); l != "" {
		return l
	}
	return i18n.Fallback
}

// SetLocale sets the language the request is answered in.
func SetLocale(c *gin.Context, l string) { c.Set(keyLocale, l) }

// T translates key into the request's language.
func (k *Kit) T(c *gin.Context, key string, args ...any) string {
	return k.I18n.T(Locale(c), key, args...)
}

// City is the request's city (nil on the platform host).
func City(c *gin.Context) *tenant.Tenant {
	t, _ := tenant.FromContext(c.Request.Context())
	return t
}

func parseTrusted(list []string) ([]*net.IPNet, error) {
	var out []*net.IPNet
	for _, p := range list {
		if !strings.Contains(p, "/") {
			if strings.Contains(p, ":") {
				p += "/128"
			} else {
				p += "/32"
			}
		}
		_, n, err := net.ParseCIDR(p)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", p, err)
		}
		out = append(out, n)
	}
	return out, nil
}

// FromTrustedProxy reports whether the direct peer is a configured proxy.
func (k *Kit) FromTrustedProxy(r *http.Request) bool {
	if len(k.trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range k.trusted {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// RequestHost is the Host header, or X-Forwarded-Host when (and only when)
// the request comes from a trusted proxy.
func (k *Kit) RequestHost(r *http.Request) string {
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" && k.FromTrustedProxy(r) {
		first, _, _ := strings.Cut(fh, ",")
		return strings.TrimSpace(first)
	}
	return r.Host
}

// ClientIP is the peer address, or the last X-Forwarded-For hop added by a
// trusted proxy.
func (k *Kit) ClientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" && k.FromTrustedProxy(r) {
		parts := strings.Split(xff, ",")
		return strings.TrimSpace(parts[len(parts)-1])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Scheme is https when the request came over TLS or a trusted proxy says so.
func (k *Kit) Scheme(r *http.Request) string {
	if r.TLS != nil || (k.FromTrustedProxy(r) && r.Header.Get("X-Forwarded-Proto") == "https") {
		return "https"
	}
	return "http"
}

// PortOf returns ":port" of a Host header, or "" (so redirects and links
// keep a development port like :8080).
func PortOf(host string) string {
	for i := len(host) - 1; i >= 0; i-- {
		switch host[i] {
		case ':':
			return host[i:]
		case ']', '.':
			return ""
		}
	}
	return ""
}
