package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"

	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/schollz/progressbar/v3"

	"agora/config"
	"agora/migrations"
	"agora/tenant"
	"agora/web"
)

type benchTenantsOptions struct {
	cities   int
	jobs     int
	duration time.Duration
	clients  int
	conns    int
	keep     bool
	rounds   int
}

func (o *benchTenantsOptions) flags(fs *flag.FlagSet) {
	fs.IntVar(&o.cities, "cities", 1000, "cities to create")
	fs.IntVar(&o.jobs, "jobs", defaultJobs(), "cities migrated in parallel (agora migrate's default)")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "measured time of each read phase in each round")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of read phases; each phase reports its median round")
	fs.IntVar(&o.clients, "clients", 32, "concurrent HTTP clients in read phases")
	fs.IntVar(&o.conns, "conns", 8, "web server's PostgreSQL pool size in read phases")
	fs.BoolVar(&o.keep, "keep", false, "keep the benchmark database afterwards")
}

// runBenchTenants measures, in a database of its own: city creation, one
// migration across every city and a no-op re-run, and a city-scoped JSON read
// through the full middleware with 1 city vs all cities, against the same
// query run schema-qualified without a transaction.
func runBenchTenants(ctx context.Context, o benchTenantsOptions) error {
	if o.cities < 1 || o.clients < 1 || o.conns < 1 || o.jobs < 1 || o.rounds < 1 {
		return usagef("--cities, --clients, --conns, --jobs and --rounds must be positive")
	}
	env, closeEnv, err := openBench(ctx, o.keep, tenant.PoolOptions{MaxConns: max(o.jobs, o.conns) + 2, ConnMaxLifetime: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer closeEnv()
	cfg, pool, db, reg := env.cfg, env.pool, env.db, env.reg
	prov := tenant.NewProvisioner(db, cfg.BaseDomain, cfg.PlatformHost)
	fmt.Printf("Agora tenant benchmark: %d cities, %d CPU cores, PostgreSQL %s\n\n", o.cities, numCPU(), serverVersion(ctx, pool))

	// 1. Creation.
	created := make([]time.Duration, 0, o.cities)
	bar := newBar(o.cities, "creating cities")
	for i := range o.cities {
		began := time.Now()
		_, err := prov.Create(ctx, tenant.Spec{
			Slug: fmt.Sprintf("bench%05d", i), Name: fmt.Sprintf("Bench city %d", i), Plan: tenant.PlanStandard,
			Lifecycle: tenant.Active, Locales: []string{"nl", "fr", "en"}, TimeZone: "Europe/Brussels",
		})
		if err != nil {
			return fmt.Errorf("create city %d: %w", i, err)
		}
		created = append(created, time.Since(began))
		_ = bar.Add(1)
	}
	_ = bar.Finish()
	create := summarize(created)

	// 2. Migration of every city with one new migration, then a no-op run.
	m := tenant.NewMigrator(db, reg).WithCityMigrations(migrations.City().With(migrations.Migration{
		Version: 9001, Name: "bench_add_column",
		SQL: "ALTER TABLE topics ADD COLUMN bench_note text; CREATE INDEX topics_bench_note ON topics (bench_note);",
	}))
	began := time.Now()
	sum, err := m.Cities(ctx, o.jobs, nil, nil)
	if err != nil || len(sum.Failed) > 0 || sum.Migrated != o.cities {
		return fmt.Errorf("migrate: %d migrated, %d failed: %v", sum.Migrated, len(sum.Failed), err)
	}
	migrateAllTime := time.Since(began)
	began = time.Now()
	sum, err = m.Cities(ctx, o.jobs, nil, nil)
	if err != nil || sum.Migrated != 0 || sum.UpToDate != o.cities {
		return fmt.Errorf("no-op migrate: %d migrated, %d up to date: %v", sum.Migrated, sum.UpToDate, err)
	}
	noopTime := time.Since(began)

	// 3. Reads through the full middleware.
	ts, err := reg.List(ctx)
	if err != nil {
		return err
	}
	reads, err := benchReads(ctx, cfg, env.dsn, ts, o)
	if err != nil {
		return err
	}

	fmt.Printf("\nCity creation (schema + %d migrations + seed, one transaction), %d cities\n", len(migrations.City().Migrations), o.cities)
	fmt.Printf("  median %7.1f ms   p95 %7.1f ms   max %7.1f ms        target: median < 250 ms\n", ms(create.p50), ms(create.p95), ms(create.max))
	fmt.Printf("\nMigration (add column + index) of all %d cities, --jobs %d\n", o.cities, o.jobs)
	fmt.Printf("  %8.2f s  (%.1f cities/s)                            target: < 30 s\n", migrateAllTime.Seconds(), float64(o.cities)/migrateAllTime.Seconds())
	fmt.Printf("  no-op re-run %6.3f s                                 target: < 3 s\n", noopTime.Seconds())
	fmt.Printf("\nCity-scoped JSON read (GET /api/v1/site) through the full middleware, %d clients, pool %d, median of %d rounds of %s\n",
		o.clients, o.conns, o.rounds, o.duration)
	fmt.Printf("  %-38s %10s %9s %9s\n", "phase", "req/s", "p50 ms", "p99 ms")
	for _, r := range reads {
		fmt.Printf("  %-38s %10.0f %9.2f %9.2f\n", r.name, r.rps, ms(r.lat.p50), ms(r.lat.p99))
	}
	one, all, rawAll := reads[0], reads[1], reads[3]
	fmt.Printf("\n  %d cities vs 1 city (scoped):        %.2f   target ≥ 0.90\n", o.cities, all.rps/one.rps)
	fmt.Printf("  the door (scoped / unscoped, %d cities): %.2f   target ≥ 0.85\n", o.cities, all.rps/rawAll.rps)
	fmt.Printf("  the door (scoped / unscoped, 1 city):    %.2f\n", one.rps/reads[2].rps)
	return nil
}

type latencies struct{ p50, p95, p99, max time.Duration }

func summarize(ds []time.Duration) latencies {
	if len(ds) == 0 {
		return latencies{}
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	at := func(q float64) time.Duration { return s[min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1)] }
	return latencies{p50: at(0.50), p95: at(0.95), p99: at(0.99), max: s[len(s)-1]}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

type readResult struct {
	name string
	rps  float64
	lat  latencies
}

// benchReads serves the real web stack on a loopback port, adds one route
// that runs the same settings query schema-qualified on the pool without a
// transaction, and drives both with o.clients concurrent clients.
func benchReads(ctx context.Context, cfg *config.Config, dsn string, ts []*tenant.Tenant, o benchTenantsOptions) ([]readResult, error) {
	pool, err := tenant.OpenPool(dsn, tenant.PoolOptions{MaxConns: o.conns, ConnMaxLifetime: 30 * time.Minute})
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	db := tenant.NewDB(pool, nil)
	reg := tenant.NewRegistry(pool, cfg.BaseDomain, time.Hour)
	srv, err := web.New(web.Deps{Config: cfg, DB: db, Registry: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return nil, err
	}
	// The unscoped baseline: same columns, same row, schema-qualified, no
	// transaction, same middleware (the city is still resolved from the host).
	qualified := map[tenant.ID]string{}
	for _, t := range ts {
		qualified[t.ID] = `SELECT name, welcome, primary_color, accent_color, logo_path, registration_mode,
		       force_login, password_min_length, updated_at FROM ` + pq.QuoteIdentifier(t.Schema) + `.settings`
	}
	srv.CityEngine().GET("/bench/unscoped", func(c *gin.Context) {
		t, _ := tenant.FromContext(c.Request.Context())
		var st struct {
			Name              string    `db:"name" json:"name"`
			Welcome           string    `db:"welcome" json:"welcome"`
			PrimaryColor      string    `db:"primary_color" json:"primary_color"`
			AccentColor       string    `db:"accent_color" json:"accent_color"`
			LogoPath          string    `db:"logo_path" json:"-"`
			RegistrationMode  string    `db:"registration_mode" json:"registration_mode"`
			ForceLogin        bool      `db:"force_login" json:"force_login"`
			PasswordMinLength int       `db:"password_min_length" json:"password_min_length"`
			UpdatedAt         time.Time `db:"updated_at" json:"updated_at"`
		}
		if err := pool.GetContext(c.Request.Context(), &st, qualified[t.ID]); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.JSON(http.StatusOK, gin.H{"id": t.ID, "slug": t.Slug, "host": t.PrimaryHost, "locales": t.Locales, "time_zone": t.TimeZone, "settings": st})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: o.clients * 2, MaxIdleConnsPerHost: o.clients * 2, IdleConnTimeout: time.Minute}}

	// Warm every pooled connection's catalog cache for every city, as a
	// long-running server's connections are.
	warm := func(path string, cities []*tenant.Tenant) error {
		n := len(cities) * o.conns * 4
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		for range o.clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					i := next.Add(1) - 1
					if i >= int64(n) {
						return
					}
					if get(ctx, client, base+path, cities[i%int64(len(cities))].DefaultHost) != nil {
						failed.Add(1)
					}
				}
			}()
		}
		wg.Wait()
		if failed.Load() > 0 {
			return fmt.Errorf("warm-up of %s: %d requests failed", path, failed.Load())
		}
		return nil
	}
	phases := []struct {
		name   string
		path   string
		cities []*tenant.Tenant
	}{
		{"scoped (InReadTx), 1 city", "/api/v1/site", ts[:1]},
		{fmt.Sprintf("scoped (InReadTx), %d cities", len(ts)), "/api/v1/site", ts},
		{"unscoped (qualified, no tx), 1 city", "/bench/unscoped", ts[:1]},
		{fmt.Sprintf("unscoped (qualified, no tx), %d cities", len(ts)), "/bench/unscoped", ts},
	}
	for _, ph := range phases {
		fmt.Fprintf(os.Stderr, "warming: %s\n", ph.name)
		if err := warm(ph.path, ph.cities); err != nil {
			return nil, err
		}
	}
	// The phases take turns, round after round, and each reports its median
	// round: drift on a shared machine (autovacuum, another process) then
	// hits every phase alike instead of whichever ran at the wrong moment.
	runs := make([][]readResult, len(phases))
	for round := 1; round <= o.rounds; round++ {
		for i, ph := range phases {
			fmt.Fprintf(os.Stderr, "round %d/%d: %s (%s)\n", round, o.rounds, ph.name, o.duration)
			r, err := driveReads(ctx, client, base+ph.path, ph.cities, o.clients, o.duration)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ph.name, err)
			}
			runs[i] = append(runs[i], r)
		}
	}
	out := make([]readResult, len(phases))
	for i, rs := range runs {
		sort.Slice(rs, func(a, b int) bool { return rs[a].rps < rs[b].rps })
		out[i] = rs[len(rs)/2]
		out[i].name = phases[i].name
	}
	return out, nil
}

// drive runs clients goroutines, each requesting a random city's host in a
// loop for d, and reports throughput and latency.
func driveReads(ctx context.Context, client *http.Client, target string, cities []*tenant.Tenant, clients int, d time.Duration) (readResult, error) {
	return load(clients, d, func(rng *mrand.Rand) error {
		return get(ctx, client, target, cities[rng.IntN(len(cities))].DefaultHost)
	})
}

// load runs clients goroutines calling do in a loop for d and reports
// throughput and latency of the calls. Any failed call fails the run.
func load(clients int, d time.Duration, do func(rng *mrand.Rand) error) (readResult, error) {
	r := drive(clients, d, func(_ int, rng *mrand.Rand) error { return do(rng) })
	if r.failed > 0 {
		return readResult{}, fmt.Errorf("%d requests failed, first: %v", r.failed, r.first)
	}
	return readResult{rps: r.rps, lat: r.lat}, nil
}

func get(ctx context.Context, client *http.Client, target, host string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return err
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s on %s: %s", target, host, resp.Status)
	}
	return nil
}

// benchDatabase creates a database of its own next to the configured one, so
// the benchmark never touches real cities, and returns its URL and a drop func.
func benchDatabase(ctx context.Context, rawURL string) (string, func(), error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "", nil, err
	}
	admin := *u
	admin.Path = "/postgres"
	adb, err := sqlx.Open("postgres", admin.String())
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "agora_bench_" + hex.EncodeToString(b)
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		return "", nil, fmt.Errorf("create benchmark database: %w", err)
	}
	u.Path = "/" + name
	drop := func() {
		defer adb.Close()
		if _, err := adb.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			fmt.Fprintf(os.Stderr, "drop benchmark database %s: %v\n", name, err)
		}
	}
	return u.String(), drop, nil
}

func serverVersion(ctx context.Context, db *sqlx.DB) string {
	var v string
	if err := db.GetContext(ctx, &v, "SHOW server_version"); err != nil {
		return "?"
	}
	return v
}

func newBar(total int, desc string) *progressbar.ProgressBar {
	if !isTerminal(os.Stderr) {
		return progressbar.NewOptions(total, progressbar.OptionSetWriter(io.Discard))
	}
	return progressbar.NewOptions(total, progressbar.OptionSetWriter(os.Stderr), progressbar.OptionSetDescription(desc),
		progressbar.OptionShowCount(), progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
}

func numCPU() int { return runtime.NumCPU() }
