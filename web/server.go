// Package web is Agora's HTTP surface: the server, its middleware and
// routes.go, the map of every route with its gate and role. The handlers
// live in the areas below it: portal (citizens), account (a person's own
// account), backoffice (city staff) and console (the operator), all over
// kit (who is asking and how we answer).
package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"agora/config"
	"agora/domain/campaign"
	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/email/devsmtp"
	"agora/domain/export"
	"agora/domain/feature"
	"agora/domain/follow"
	"agora/domain/group"
	"agora/domain/idea"
	"agora/domain/moderation"
	"agora/domain/notify"
	"agora/domain/operator"
	"agora/domain/project"
	"agora/domain/site"
	"agora/domain/user"
	"agora/jobs"
	"agora/metrics"
	"agora/tenant"
	"agora/web/account"
	"agora/web/backoffice"
	"agora/web/console"
	"agora/web/kit"
	"agora/web/portal"
)

// Deps are what the web server needs, built by cmd: the configuration, the
// database and registry, Redis, and the services of every area. The city
// services must be built over a DB with the web's limits (see
// tenant.DB.WithLimits), so that no request hangs on a busy pool.
type Deps struct {
	Config   *config.Config
	DB       *tenant.DB
	Registry *tenant.Registry
	Redis    *redis.Client
	Log      *slog.Logger

	Site          *site.Service
	Users         *user.Service
	Consents      *email.ConsentService
	Projects      *project.Service
	Ideas         *idea.Service
	Features      *feature.Service
	Follows       *follow.Service
	Notifications *notify.Service
	Moderation    *moderation.Service
	Groups        *group.Service
	Digests       *digest.Service
	Exports       *export.Service
	Campaigns     *campaign.Service
	Composer      *email.Composer
	Operators     *operator.Service
	Operations    *tenant.Operations
	// Provisioner creates cities from the console, as `agora tenant create`
	// does.
	Provisioner *tenant.Provisioner
	// Jobs reads the job queues for the console's /jobs page. Nil: the page
	// says the queue is not configured.
	Jobs *jobs.Monitor
	// DevMail, in `agora dev`, is the mail capture shown at /dev/mail on the
	// platform host. Nil in production: the page does not exist.
	DevMail *devsmtp.Server
	// Metrics records request durations; nil records nothing.
	Metrics *metrics.Registry
}

// Server serves every host of the installation: the areas' handlers behind
// the middleware and routes of this package.
type Server struct {
	kit        *kit.Kit
	cfg        *config.Config
	db         *tenant.DB
	reg        *tenant.Registry
	redis      *redis.Client
	log        *slog.Logger
	metrics    *metrics.Registry
	portal     *portal.Portal
	account    *account.Account
	backoffice *backoffice.Backoffice
	console    *console.Console
	city       *gin.Engine
	platform   *gin.Engine
}

// New builds the server and its routes from d.
func New(d Deps) (*Server, error) {
	k, err := kit.New(kit.Deps{Config: d.Config, DB: d.DB, Redis: d.Redis, Log: d.Log, Users: d.Users,
		Operators: d.Operators, Notifications: d.Notifications, Features: d.Features})
	if err != nil {
		return nil, err
	}
	s := &Server{kit: k, cfg: d.Config, db: d.DB, reg: d.Registry, redis: d.Redis, log: d.Log, metrics: d.Metrics}
	if s.portal, err = portal.New(k, portal.Deps{Site: d.Site, Projects: d.Projects, Ideas: d.Ideas, Follows: d.Follows,
		Notifications: d.Notifications, Moderation: d.Moderation, Features: d.Features}); err != nil {
		return nil, err
	}
	if s.account, err = account.New(k, account.Deps{Users: d.Users, Site: d.Site, Consents: d.Consents, Log: d.Log}); err != nil {
		return nil, err
	}
	if s.backoffice, err = backoffice.New(k, backoffice.Deps{Site: d.Site, Users: d.Users, Projects: d.Projects, Ideas: d.Ideas,
		Features: d.Features, Exports: d.Exports, Campaigns: d.Campaigns, Moderation: d.Moderation, Groups: d.Groups,
		Digests: d.Digests, Composer: d.Composer}); err != nil {
		return nil, err
	}
	if s.console, err = console.New(k, console.Deps{DB: d.DB, Registry: d.Registry, Operations: d.Operations,
		Provisioner: d.Provisioner, Operators: d.Operators, Jobs: d.Jobs, DevMail: d.DevMail}); err != nil {
		return nil, err
	}
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
	release, ok := s.kit.Enter(r)
	if !ok {
		s.kit.TooManyInFlight(w, r)
		return
	}
	defer release()
	if h, err := tenant.NormalizeHost(s.kit.RequestHost(r)); err == nil && h == s.cfg.PlatformHost {
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

// InFlight reports how many requests are in progress on this server.
func (s *Server) InFlight() int { return s.kit.InFlight() }
