// Package web is Agora's HTTP surface: the city portals and their JSON API on
// city hosts, the operator console on the platform host, health endpoints on
// every host. routes.go lists every route.
package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"agora/config"
	"agora/domain/campaign"
	"agora/domain/email/devsmtp"
	"agora/domain/export"
	"agora/domain/feature"
	"agora/domain/follow"
	"agora/domain/idea"
	"agora/domain/moderation"
	"agora/domain/notify"
	"agora/domain/operator"
	"agora/domain/project"
	"agora/domain/site"
	"agora/domain/user"
	"agora/jobs"
	"agora/tenant"
	"agora/web/i18n"
)

// Deps are what the web server needs; cmd wires them.
type Deps struct {
	Config   *config.Config
	DB       *tenant.DB
	Registry *tenant.Registry
	Redis    *redis.Client
	Log      *slog.Logger
	// DevMail, in `agora dev`, is the mail capture shown at /dev/mail on the
	// platform host. Nil in production: the page does not exist.
	DevMail *devsmtp.Server
	// Inspector reads the job queues for the console's /jobs page. Nil: the
	// page says the queue is not configured.
	Inspector *asynq.Inspector
}

// Server serves every host of the installation.
type Server struct {
	cfg           *config.Config
	db            *tenant.DB
	reg           *tenant.Registry
	redis         *redis.Client
	log           *slog.Logger
	i18n          *i18n.Catalog
	pages         map[string]*template.Template
	site          *site.Service
	users         *user.Service
	projects      *project.Service
	ideas         *idea.Service
	features      *feature.Service
	exports       *export.Service
	campaigns     *campaign.Service
	follows       *follow.Service
	notifications *notify.Service
	moderation    *moderation.Service
	operators     *operator.Service
	ops           *tenant.Operations
	devMail       *devsmtp.Server
	jobs          *jobs.Monitor // nil without Deps.Inspector
	trusted       []*net.IPNet
	inflight      *inFlight
	city          *gin.Engine
	platform      *gin.Engine
}

// New builds the server and its routes.
func New(d Deps) (*Server, error) {
	cat, err := i18n.Load()
	if err != nil {
		return nil, err
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	trusted, err := parseTrusted(d.Config.TrustedProxies)
	if err != nil {
		return nil, err
	}
	// Web requests wait for database connections within bounds: a clear 503
	// rather than a hang, and no city holds more than its share of a pool.
	db := d.DB.WithLimits(tenant.Limits{AcquireTimeout: d.Config.DBAcquireTimeout, CityMaxConns: d.Config.DBCityMaxConns})
	s := &Server{
		cfg: d.Config, db: db, inflight: newInFlight(d.Config.HTTPMaxInFlightPerIP), reg: d.Registry, redis: d.Redis, log: d.Log,
		i18n: cat, pages: pages, site: site.NewService(db), users: user.NewService(db), projects: project.NewService(db), ideas: idea.NewService(db), features: feature.NewService(db), exports: export.NewService(db, d.Config.StorageDir, export.NewSigner(d.Config.SecretKey)), follows: follow.NewService(db), notifications: notify.NewService(db), moderation: moderation.NewService(db), operators: operator.NewService(d.DB.Platform()), ops: tenant.NewOperations(db, d.Registry, d.Config.PlatformHost, d.Config.StorageDir), trusted: trusted, devMail: d.DevMail,
	}
	if d.Inspector != nil {
		s.jobs = jobs.NewMonitor(d.Inspector, d.Registry)
	}
	s.campaigns = campaign.NewService(db)
	s.city = s.engine()
	s.platform = s.engine()
	s.routes()
	return s, nil
}

func (s *Server) engine() *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	// Agora decides which proxies to believe itself (requestHost, clientIP).
	_ = e.SetTrustedProxies(nil)
	e.RemoveExtraSlash = true
	return e
}

// CityEngine is the engine serving city hosts; benchmarks add routes to it to
// compare against the real ones under the same middleware.
func (s *Server) CityEngine() *gin.Engine { return s.city }

// ServeHTTP dispatches by host: health checks on any host (load balancers
// probe by IP), the operator console on the platform host, everything else to
// the city portals, which resolve the host to a city or refuse it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		// Answer HEAD like GET. The server still sees the original HEAD
		// request, so net/http drops the body.
		get := *r
		get.Method = http.MethodGet
		r = &get
	}
	switch r.URL.Path {
	case "/healthz":
		s.healthz(w, r)
		return
	case "/readyz":
		s.readyz(w, r)
		return
	}
	ip := s.clientIP(r)
	if !s.inflight.enter(ip) {
		s.tooManyInFlight(w, r)
		return
	}
	defer s.inflight.leave(ip)
	if h, err := tenant.NormalizeHost(s.requestHost(r)); err == nil && h == s.cfg.PlatformHost {
		s.platform.ServeHTTP(w, r)
		return
	}
	s.city.ServeHTTP(w, r)
}

// Run serves on the configured address until ctx ends, then shuts down
// gracefully, letting requests in flight finish (up to 20 s).
func (s *Server) Run(ctx context.Context) error {
	srv := &http.Server{
		Addr:    s.cfg.HTTPAddr,
		Handler: s,
		// Headers must arrive quickly; bodies are read whole, each route
		// group within its own deadline (readBody), before any database work.
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       90 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}
	ln, err := net.Listen("tcp", s.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.cfg.HTTPAddr, err)
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("http server listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("http server shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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

// fromTrustedProxy reports whether the direct peer is a configured proxy.
func (s *Server) fromTrustedProxy(r *http.Request) bool {
	if len(s.trusted) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	for _, n := range s.trusted {
		if ip != nil && n.Contains(ip) {
			return true
		}
	}
	return false
}

// requestHost is the Host header, or X-Forwarded-Host when (and only when)
// the request comes from a trusted proxy.
func (s *Server) requestHost(r *http.Request) string {
	if fh := r.Header.Get("X-Forwarded-Host"); fh != "" && s.fromTrustedProxy(r) {
		first, _, _ := strings.Cut(fh, ",")
		return strings.TrimSpace(first)
	}
	return r.Host
}

// clientIP is the peer address, or the last X-Forwarded-For hop added by a
// trusted proxy.
func (s *Server) clientIP(r *http.Request) string {
	if xff := r.Header.Get("X-Forwarded-For"); xff != "" && s.fromTrustedProxy(r) {
		parts := strings.Split(xff, ",")
		return strings.TrimSpace(parts[len(parts)-1])
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// scheme is https when the request came over TLS or a trusted proxy says so.
func (s *Server) scheme(r *http.Request) string {
	if r.TLS != nil || (s.fromTrustedProxy(r) && r.Header.Get("X-Forwarded-Proto") == "https") {
		return "https"
	}
	return "http"
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}

// readyz answers 200 when PostgreSQL and Redis both answer within 2 s.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	check := func(err error) string {
		if err != nil {
			return "unavailable"
		}
		return "ok"
	}
	pg := check(s.db.Platform().PingContext(ctx))
	rd := "ok"
	if s.redis != nil {
		rd = check(s.redis.Ping(ctx).Err())
	}
	status := http.StatusOK
	overall := "ok"
	if pg != "ok" || rd != "ok" {
		status, overall = http.StatusServiceUnavailable, "unavailable"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":%q,"postgres":%q,"redis":%q}`, overall, pg, rd)
}
