package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"agora/config"
	"agora/domain/feature"
	"agora/tenant"
)

// env is what every benchmark starts from: a database of its own with the
// platform migrated, its pool, the door and the registry.
type env struct {
	dsn  string
	cfg  *config.Config
	pool *sqlx.DB
	db   *tenant.DB
	reg  *tenant.Registry
}

// open creates the throwaway database (kept when keep, for EXPLAIN) and
// migrates the platform; close drops it. Gin runs in release mode, as agora
// serve runs it.
func (r *Runner) open(ctx context.Context, keep bool, po tenant.PoolOptions) (e *env, close func(), err error) {
	cfg := r.Config
	gin.SetMode(gin.ReleaseMode)
	dsn, drop, err := createDatabase(ctx, cfg.DatabaseURL, r.Progress)
	if err != nil {
		return nil, nil, err
	}
	if keep {
		fmt.Fprintf(r.Out, "keeping benchmark database: %s\n", config.MaskURL(dsn))
		drop = func() {}
	}
	pool, err := tenant.OpenPool(dsn, po)
	if err != nil {
		drop()
		return nil, nil, err
	}
	close = func() { pool.Close(); drop() }
	if _, err := tenant.MigratePlatform(ctx, pool); err != nil {
		close()
		return nil, nil, err
	}
	// The plans' features, as agora migrate writes them.
	if _, err := feature.SyncPlans(ctx, pool); err != nil {
		close()
		return nil, nil, err
	}
	db := tenant.NewDB(pool, nil)
	return &env{dsn: dsn, cfg: cfg, pool: pool, db: db, reg: tenant.NewRegistry(pool, cfg.BaseDomain, time.Hour)}, close, nil
}

// city creates a city with the real provisioning.
func (e *env) city(ctx context.Context, s tenant.Spec) (*tenant.Tenant, error) {
	created, err := tenant.NewProvisioner(e.db, e.cfg.BaseDomain, e.cfg.PlatformHost).Create(ctx, s)
	if err != nil {
		return nil, err
	}
	return created.Tenant, nil
}

// createDatabase creates a database of its own next to the one in rawURL and
// returns its URL and a drop func, which reports a failure to progress.
func createDatabase(ctx context.Context, rawURL string, progress io.Writer) (string, func(), error) {
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
			fmt.Fprintf(progress, "drop benchmark database %s: %v\n", name, err)
		}
	}
	return u.String(), drop, nil
}

// serverVersion is PostgreSQL's version, "?" when it cannot be read.
func serverVersion(ctx context.Context, db *sqlx.DB) string {
	var v string
	if err := db.GetContext(ctx, &v, "SHOW server_version"); err != nil {
		return "?"
	}
	return v
}
