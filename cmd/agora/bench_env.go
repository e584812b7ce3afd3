package main

import (
	"context"
	"fmt"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"

	"agora/config"
	"agora/tenant"
)

// benchEnv is what every benchmark starts from: a database of its own with
// the platform migrated, its pool, the door and the registry.
type benchEnv struct {
	dsn  string
	cfg  *config.Config
	pool *sqlx.DB
	db   *tenant.DB
	reg  *tenant.Registry
}

// openBench creates the throwaway database (kept when keep, for EXPLAIN)
// and migrates the platform; close drops it.
func openBench(ctx context.Context, keep bool, po tenant.PoolOptions) (env *benchEnv, close func(), err error) {
	cfg, err := config.Load(nil)
	if err != nil {
		return nil, nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	dsn, drop, err := benchDatabase(ctx, cfg.DatabaseURL)
	if err != nil {
		return nil, nil, err
	}
	if keep {
		fmt.Printf("keeping benchmark database: %s\n", config.MaskURL(dsn))
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
	db := tenant.NewDB(pool, nil)
	return &benchEnv{dsn: dsn, cfg: cfg, pool: pool, db: db, reg: tenant.NewRegistry(pool, cfg.BaseDomain, time.Hour)}, close, nil
}

// city creates a city with the real provisioning.
func (e *benchEnv) city(ctx context.Context, s tenant.Spec) (*tenant.Tenant, error) {
	created, err := tenant.NewProvisioner(e.db, e.cfg.BaseDomain, e.cfg.PlatformHost).Create(ctx, s)
	if err != nil {
		return nil, err
	}
	return created.Tenant, nil
}
