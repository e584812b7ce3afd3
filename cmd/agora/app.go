package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"agora/config"
	"agora/tenant"
)

// app holds what most commands need, wired from the configuration.
type app struct {
	cfg  *config.Config
	log  *slog.Logger
	db   *tenant.DB
	reg  *tenant.Registry
	prov *tenant.Provisioner
	ops  *tenant.Operations
	mig  *tenant.Migrator
}

// open loads the configuration and opens the database pools. It does not
// touch Redis; commands that need it call redisClient.
func open(ctx context.Context) (*app, error) {
	cfg, err := config.Load(nil)
	if err != nil {
		return nil, err
	}
	gin.SetMode(gin.ReleaseMode)
	log := slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	opts := tenant.PoolOptions{MaxConns: cfg.DBMaxConns, ConnMaxLifetime: cfg.DBConnMaxLifetime}
	platform, err := tenant.OpenPool(cfg.DatabaseURL, opts)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := platform.PingContext(pctx); err != nil {
		platform.Close()
		return nil, fmt.Errorf("cannot reach PostgreSQL at AGORA_DATABASE_URL (%s): %w", redact(cfg.DatabaseURL), err)
	}
	extra := map[string]*sqlx.DB{}
	for name, u := range cfg.Shards {
		if extra[name], err = tenant.OpenPool(u, opts); err != nil {
			platform.Close()
			return nil, fmt.Errorf("shard %s: %w", name, err)
		}
	}
	db := tenant.NewDB(platform, extra)
	reg := tenant.NewRegistry(platform, cfg.BaseDomain, cfg.HostCacheTTL)
	return &app{
		cfg: cfg, log: log, db: db, reg: reg,
		prov: tenant.NewProvisioner(db, cfg.BaseDomain, cfg.PlatformHost),
		ops:  tenant.NewOperations(db, reg, cfg.PlatformHost, cfg.StorageDir),
		mig:  tenant.NewMigrator(db, reg),
	}, nil
}

func (a *app) close() { _ = a.db.Close() }

// redisClient connects to AGORA_REDIS_URL and checks it answers.
func (a *app) redisClient(ctx context.Context) (*redis.Client, error) {
	opt, err := redis.ParseURL(a.cfg.RedisURL)
	if err != nil {
		return nil, fmt.Errorf("AGORA_REDIS_URL: %w", err)
	}
	rdb := redis.NewClient(opt)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := rdb.Ping(pctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("cannot reach Redis at AGORA_REDIS_URL (%s): %w", redact(a.cfg.RedisURL), err)
	}
	return rdb, nil
}

func redact(u string) string { return config.MaskURL(u) }
