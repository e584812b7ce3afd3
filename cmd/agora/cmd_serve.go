package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/hibiken/asynq"
	"golang.org/x/sync/errgroup"

	"agora/cmd/agora/wire"
	"agora/domain/email"
	"agora/domain/email/devsmtp"
	"agora/jobs"
	"agora/metrics"
	"agora/web"
)

func serveCmd() *command {
	return &command{
		name:    "serve",
		args:    "",
		summary: "Run the web server (city portals, API, operator console) until interrupted.",
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return withApp(ctx, func(a *app) error {
				return runProcesses(ctx, a, processes{web: true})
			})
		},
	}
}

func workerCmd() *command {
	var concurrency int
	return &command{
		name:    "worker",
		args:    "[--concurrency N]",
		summary: "Run the background worker and scheduler until interrupted.",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&concurrency, "concurrency", 8, "tasks processed at once")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if concurrency < 1 {
				return usagef("--concurrency must be at least 1")
			}
			return withApp(ctx, func(a *app) error {
				return runProcesses(ctx, a, processes{worker: true, concurrency: concurrency})
			})
		},
	}
}

// processes says what runProcesses runs.
type processes struct {
	web, worker bool
	concurrency int             // worker tasks at once; 0 for the default
	devMail     *devsmtp.Server // agora dev: mail is captured here and shown on the platform host
}

// runProcesses runs the web server and/or the worker, plus the registry's
// change listener, until ctx ends or one of them fails.
func runProcesses(ctx context.Context, a *app, p processes) error {
	rdb, err := a.redisClient(ctx)
	if err != nil {
		return err
	}
	defer rdb.Close()
	if err := checkMigrated(ctx, a); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.Go(func() error { return a.reg.Listen(ctx, a.cfg.DatabaseURL, a.log) })
	inspector := asynq.NewInspectorFromRedisClient(rdb)
	// The metrics listener, when configured: nil records nothing.
	var reg *metrics.Registry
	if a.cfg.MetricsAddr != "" {
		reg = metrics.New()
		reg.WatchPools(a.db)
		reg.WatchOutbox(a.db.Platform())
		reg.WatchQueues(inspector)
		g.Go(func() error { return reg.Serve(ctx, a.cfg.MetricsAddr, a.log) })
	}
	if p.web {
		deps, err := wire.Web(a.cfg, a.db, a.reg, rdb, a.log)
		if err != nil {
			return err
		}
		deps.DevMail = p.devMail
		deps.Jobs = jobs.NewMonitor(inspector, a.reg)
		deps.Metrics = reg
		srv, err := web.New(deps)
		if err != nil {
			return err
		}
		g.Go(func() error { return srv.Run(ctx) })
	}
	if p.worker {
		redisOpt, err := asynq.ParseRedisURI(a.cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("AGORA_REDIS_URL: %w", err)
		}
		client := asynq.NewClient(redisOpt)
		defer client.Close()
		smtpURL := a.cfg.SMTPURL
		if p.devMail != nil {
			smtpURL = p.devMail.URL()
		}
		sender, err := email.NewSMTP(smtpURL)
		if err != nil {
			return fmt.Errorf("AGORA_SMTP_URL: %w", err)
		}
		w, err := jobs.NewWorker(jobs.WorkerDeps{
			Redis: redisOpt, DB: a.db, Registry: a.reg, Client: client,
			StorageDir: a.cfg.StorageDir, Log: a.log, Concurrency: p.concurrency,
			Sender: reg.Count(sender), PortalURL: func(host string) string { return portalURL(a, host) }, DSN: a.cfg.DatabaseURL,
			SecretKey: a.cfg.SecretKey,
		})
		if err != nil {
			return err
		}
		g.Go(func() error { return w.Run(ctx) })
	}
	err = g.Wait()
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// checkMigrated refuses to start against a database whose platform schema is
// missing, with the command that fixes it.
func checkMigrated(ctx context.Context, a *app) error {
	var ok bool
	if err := a.db.Platform().GetContext(ctx, &ok, `SELECT to_regclass('platform.tenants') IS NOT NULL`); err != nil {
		return err
	}
	if !ok {
		return errors.New("the database is not migrated yet: run 'agora migrate' first")
	}
	return nil
}
