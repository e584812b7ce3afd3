package bench

import (
	"context"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lib/pq"

	"agora/migrations"
	"agora/tenant"
)

// TenantsOptions size the tenants benchmark (agora bench tenants' flags).
type TenantsOptions struct {
	Cities   int           // cities to create
	Jobs     int           // cities migrated in parallel
	Duration time.Duration // measured time of each read phase in each round
	Rounds   int           // rounds of read phases; each phase reports its median round
	Clients  int           // concurrent HTTP clients in read phases
	Conns    int           // the web server's PostgreSQL pool size in read phases
	Keep     bool          // keep the benchmark database afterwards
}

// Validate reports, as a *UsageError, options the benchmark cannot run with.
func (o TenantsOptions) Validate() error {
	if o.Cities < 1 || o.Clients < 1 || o.Conns < 1 || o.Jobs < 1 || o.Rounds < 1 {
		return usagef("--cities, --clients, --conns, --jobs and --rounds must be positive")
	}
	return nil
}

// Tenants measures, in a database of its own: city creation, one migration
// across every city and a no-op re-run, and a city-scoped JSON read through
// the full middleware with 1 city vs all cities, against the same query run
// schema-qualified without a transaction.
func (r *Runner) Tenants(ctx context.Context, o TenantsOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	env, closeEnv, err := r.open(ctx, o.Keep, tenant.PoolOptions{MaxConns: max(o.Jobs, o.Conns) + 2, ConnMaxLifetime: 10 * time.Minute})
	if err != nil {
		return err
	}
	defer closeEnv()
	cfg, pool, db, reg := env.cfg, env.pool, env.db, env.reg
	prov := tenant.NewProvisioner(db, cfg.BaseDomain, cfg.PlatformHost)
	fmt.Fprintf(r.Out, "Agora tenant benchmark: %d cities, %d CPU cores, PostgreSQL %s\n\n", o.Cities, runtime.NumCPU(), serverVersion(ctx, pool))

	// 1. Creation.
	created := make([]time.Duration, 0, o.Cities)
	bar := r.bar(o.Cities, "creating cities")
	for i := range o.Cities {
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
	sum, err := m.Cities(ctx, o.Jobs, nil, nil)
	if err != nil || len(sum.Failed) > 0 || sum.Migrated != o.Cities {
		return fmt.Errorf("migrate: %d migrated, %d failed: %v", sum.Migrated, len(sum.Failed), err)
	}
	migrateAllTime := time.Since(began)
	began = time.Now()
	sum, err = m.Cities(ctx, o.Jobs, nil, nil)
	if err != nil || sum.Migrated != 0 || sum.UpToDate != o.Cities {
		return fmt.Errorf("no-op migrate: %d migrated, %d up to date: %v", sum.Migrated, sum.UpToDate, err)
	}
	noopTime := time.Since(began)

	// 3. Reads through the full middleware.
	ts, err := reg.List(ctx)
	if err != nil {
		return err
	}
	reads, err := r.tenantReads(ctx, env, ts, o)
	if err != nil {
		return err
	}

	w := r.Out
	fmt.Fprintf(w, "\nCity creation (schema + %d migrations + seed, one transaction), %d cities\n", len(migrations.City().Migrations), o.Cities)
	fmt.Fprintf(w, "  median %7.1f ms   p95 %7.1f ms   max %7.1f ms        target: median < 250 ms\n", ms(create.p50), ms(create.p95), ms(create.max))
	fmt.Fprintf(w, "\nMigration (add column + index) of all %d cities, --jobs %d\n", o.Cities, o.Jobs)
	fmt.Fprintf(w, "  %8.2f s  (%.1f cities/s)                            target: < 30 s\n", migrateAllTime.Seconds(), float64(o.Cities)/migrateAllTime.Seconds())
	fmt.Fprintf(w, "  no-op re-run %6.3f s                                 target: < 3 s\n", noopTime.Seconds())
	fmt.Fprintf(w, "\nCity-scoped JSON read (GET /api/v1/site) through the full middleware, %d clients, pool %d, median of %d rounds of %s\n",
		o.Clients, o.Conns, o.Rounds, o.Duration)
	fmt.Fprintf(w, "  %-38s %10s %9s %9s\n", "phase", "req/s", "p50 ms", "p99 ms")
	for _, rd := range reads {
		fmt.Fprintf(w, "  %-38s %10.0f %9.2f %9.2f\n", rd.name, rd.rps, ms(rd.lat.p50), ms(rd.lat.p99))
	}
	one, all, rawAll := reads[0], reads[1], reads[3]
	fmt.Fprintf(w, "\n  %d cities vs 1 city (scoped):        %.2f   target ≥ 0.90\n", o.Cities, all.rps/one.rps)
	fmt.Fprintf(w, "  the door (scoped / unscoped, %d cities): %.2f   target ≥ 0.85\n", o.Cities, all.rps/rawAll.rps)
	fmt.Fprintf(w, "  the door (scoped / unscoped, 1 city):    %.2f\n", one.rps/reads[2].rps)
	return nil
}

// tenantReads serves the real web stack on a loopback port, on a pool of
// o.Conns of its own, adds one route that runs the same settings query
// schema-qualified on the pool without a transaction, and drives both with
// o.Clients concurrent clients.
func (r *Runner) tenantReads(ctx context.Context, e *env, ts []*tenant.Tenant, o TenantsOptions) ([]readResult, error) {
	pool, err := tenant.OpenPool(e.dsn, tenant.PoolOptions{MaxConns: o.Conns, ConnMaxLifetime: 30 * time.Minute})
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	db := tenant.NewDB(pool, nil)
	reg := tenant.NewRegistry(pool, e.cfg.BaseDomain, time.Hour)
	srv, err := webStack(e.cfg, db, reg)
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
	base, stop, err := serveLoopback(srv)
	if err != nil {
		return nil, err
	}
	defer stop()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: o.Clients * 2, MaxIdleConnsPerHost: o.Clients * 2, IdleConnTimeout: time.Minute}}

	// Warm every pooled connection's catalog cache for every city, as a
	// long-running server's connections are.
	warm := func(path string, cities []*tenant.Tenant) error {
		n := len(cities) * o.Conns * 4
		var next atomic.Int64
		var failed atomic.Int64
		var wg sync.WaitGroup
		for range o.Clients {
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
		fmt.Fprintf(r.Progress, "warming: %s\n", ph.name)
		if err := warm(ph.path, ph.cities); err != nil {
			return nil, err
		}
	}
	// The phases take turns, round after round, and each reports its median
	// round: drift on a shared machine (autovacuum, another process) then
	// hits every phase alike instead of whichever ran at the wrong moment.
	runs := make([][]readResult, len(phases))
	for round := 1; round <= o.Rounds; round++ {
		for i, ph := range phases {
			fmt.Fprintf(r.Progress, "round %d/%d: %s (%s)\n", round, o.Rounds, ph.name, o.Duration)
			res, err := driveReads(ctx, client, base+ph.path, ph.cities, o.Clients, o.Duration)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", ph.name, err)
			}
			runs[i] = append(runs[i], res)
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

// driveReads runs clients goroutines, each requesting a random city's host
// in a loop for d, and reports throughput and latency.
func driveReads(ctx context.Context, client *http.Client, target string, cities []*tenant.Tenant, clients int, d time.Duration) (readResult, error) {
	return load(clients, d, func(rng *mrand.Rand) error {
		return get(ctx, client, target, cities[rng.IntN(len(cities))].DefaultHost)
	})
}
