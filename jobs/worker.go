package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"agora/domain/activity"
	"agora/domain/email"
	"agora/domain/user"
	"agora/tenant"
)

// Worker is the asynq server, its handlers and the periodic scheduler.
type Worker struct {
	server    *asynq.Server
	scheduler *asynq.Scheduler
	mux       *asynq.ServeMux
	relay     *Relay
	rdb       redis.UniversalClient // the relay's
	dsn       string
	log       *slog.Logger
}

// WorkerDeps are what the worker needs; cmd wires them.
type WorkerDeps struct {
	Redis       asynq.RedisConnOpt
	DB          *tenant.DB
	Registry    *tenant.Registry
	Client      *asynq.Client
	StorageDir  string
	Log         *slog.Logger
	Concurrency int
	Location    *time.Location // for cron schedules; UTC when nil
	Sender      email.Sender
	// PortalURL turns a city host into its portal's base URL for links.
	PortalURL func(host string) string
	// DSN of the platform database, for the outbox relay's LISTEN.
	DSN string
	// SecretKey (AGORA_SECRET_KEY) signs the unsubscribe links of emails.
	SecretKey string
}

// NewWorker wires the handlers. Several workers and schedulers may run at once:
// periodic ticks fan out tasks with deterministic ids, so nothing runs twice.
func NewWorker(d WorkerDeps) (*Worker, error) {
	if d.Concurrency <= 0 {
		d.Concurrency = 8
	}
	if d.Location == nil {
		d.Location = time.UTC
	}
	log := d.Log.With("component", "worker")
	srv := asynq.NewServer(d.Redis, asynq.Config{
		Concurrency:     d.Concurrency,
		Queues:          Queues,
		ShutdownTimeout: 20 * time.Second,
		Logger:          asynqLogger{log},
		// A task whose emails another run holds is retried once their
		// lease is over, without counting a failed attempt.
		IsFailure:      func(err error) bool { return !errors.Is(err, ErrInFlight) },
		RetryDelayFunc: retryDelay,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, task *asynq.Task, err error) {
			retried, _ := asynq.GetRetryCount(ctx)
			maxRetry, _ := asynq.GetMaxRetry(ctx)
			if retried >= maxRetry {
				log.Error("task gave up after retries", "task_type", task.Type(), "err", err)
			}
		}),
	})
	usage := NewUsage(d.DB, d.Registry, d.Client, d.StorageDir)
	mux := asynq.NewServeMux()
	// Settle wraps everything, so it sees how every task ended.
	mux.Use(Settle(d.DB.Platform(), log), TenantMiddleware(d.Registry, log))
	mux.HandleFunc(TypeUsageTick, usage.Tick)
	mux.HandleFunc(TypeUsage, usage.Compute)
	emails, err := NewEmails(d.DB, d.Sender, d.PortalURL)
	if err != nil {
		return nil, err
	}
	mux.HandleFunc(tenant.TaskEmail, emails.Send)
	exports := &DataExports{users: user.NewService(d.DB), storageDir: d.StorageDir}
	mux.HandleFunc(user.TaskDataExport, exports.Build)
	NewExports(d.DB, d.Registry, d.Client, d.StorageDir).Handle(mux)
	plans, err := NewPlans(d.DB, d.Registry, tenant.NewOperations(d.DB, d.Registry, "", d.StorageDir), d.Sender, d.PortalURL)
	if err != nil {
		return nil, err
	}
	mux.HandleFunc(tenant.TaskApplyPlan, plans.Apply)
	mux.HandleFunc(TypeTrialTick, plans.TrialTick)
	fanout, err := NewFanout(d.DB, d.Sender, d.PortalURL, d.SecretKey)
	if err != nil {
		return nil, err
	}
	mux.HandleFunc(activity.TaskFanout, fanout.Send)
	digests, err := NewDigests(d)
	if err != nil {
		return nil, err
	}
	digests.Handle(mux)
	campaigns, err := NewCampaigns(d)
	if err != nil {
		return nil, err
	}
	campaigns.Handle(mux)
	sched := asynq.NewScheduler(d.Redis, &asynq.SchedulerOpts{Location: d.Location, Logger: asynqLogger{log}})
	rdb, ok := d.Redis.MakeRedisClient().(redis.UniversalClient)
	if !ok {
		return nil, fmt.Errorf("worker: unsupported Redis connection option %T", d.Redis)
	}
	return &Worker{server: srv, scheduler: sched, mux: mux, log: log, dsn: d.DSN, rdb: rdb,
		relay: NewRelay(d.DB.Platform(), rdb, d.Log)}, nil
}

// retryDelay is asynq's backoff, except for a task that ended with
// ErrInFlight: it waits for the emails' lease to be over, when the claims
// of a run that died are taken over.
func retryDelay(n int, err error, task *asynq.Task) time.Duration {
	if errors.Is(err, ErrInFlight) {
		return email.Lease + time.Minute
	}
	return asynq.DefaultRetryDelayFunc(n, err, task)
}

// Run processes tasks and runs the scheduler until ctx ends, then shuts both
// down, letting tasks in progress finish.
func (w *Worker) Run(ctx context.Context) error {
	defer w.rdb.Close()
	if _, err := w.scheduler.Register("5 * * * *", NewUsageTickTask()); err != nil {
		return fmt.Errorf("schedule usage tick: %w", err)
	}
	if _, err := w.scheduler.Register("15 0 * * *", NewTrialTickTask()); err != nil {
		return fmt.Errorf("schedule trial tick: %w", err)
	}
	if _, err := w.scheduler.Register(ExportSweepSchedule, NewExportSweepTickTask()); err != nil {
		return fmt.Errorf("schedule export sweep: %w", err)
	}
	if _, err := w.scheduler.Register(DigestTickSchedule, NewDigestTickTask()); err != nil {
		return fmt.Errorf("schedule digest tick: %w", err)
	}
	if err := w.server.Start(w.mux); err != nil {
		return fmt.Errorf("start worker: %w", err)
	}
	if err := w.scheduler.Start(); err != nil {
		w.server.Shutdown()
		return fmt.Errorf("start scheduler: %w", err)
	}
	w.log.Info("worker running", "queues", Queues)
	relayDone := make(chan error, 1)
	go func() { relayDone <- w.relay.Run(ctx, w.dsn) }()
	<-ctx.Done()
	<-relayDone
	w.log.Info("worker shutting down")
	w.scheduler.Shutdown()
	w.server.Shutdown()
	return nil
}

// asynqLogger routes asynq's own logs into slog.
type asynqLogger struct{ log *slog.Logger }

func (l asynqLogger) Debug(args ...any) { l.log.Debug(fmt.Sprint(args...)) }
func (l asynqLogger) Info(args ...any)  { l.log.Info(fmt.Sprint(args...)) }
func (l asynqLogger) Warn(args ...any)  { l.log.Warn(fmt.Sprint(args...)) }
func (l asynqLogger) Error(args ...any) { l.log.Error(fmt.Sprint(args...)) }
func (l asynqLogger) Fatal(args ...any) { l.log.Error(fmt.Sprint(args...)) }
