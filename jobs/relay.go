package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/redis/go-redis/v9"

	"agora/tenant"
)

// Relay moves tasks recorded in platform.outbox (in the same transaction as
// the city write that caused them) into asynq. It wakes on NOTIFY and polls
// as a fallback; rows are locked with SKIP LOCKED so several relays share the
// work. Task ids are the outbox's deterministic ids, so a task enqueued twice
// (a relay died between enqueue and commit) is refused by asynq as a
// duplicate.
//
// A row stays in the outbox until its task has run for good, so neither
// Redis being down nor Redis losing its data (a restart without
// persistence, a flush) loses work: the relay marks a row enqueued once its
// task is in Redis; the worker deletes it when the task is done (see
// Settle); and, every poll, the relay looks up the tasks of rows enqueued
// more than 5 minutes ago, a batch at a time: one that Redis no longer has is
// enqueued again, one that completed or was archived has its row deleted,
// and one still waiting or running is looked up again 5 minutes later.
type Relay struct {
	db     *sqlx.DB
	rdb    redis.UniversalClient
	client *asynq.Client
	insp   *asynq.Inspector
	log    *slog.Logger
	poll   time.Duration
	batch  int
	// recheck is how long after a row's task was put in Redis, or last
	// seen there, the relay looks it up again.
	recheck time.Duration
}

// NewRelay returns a relay for the outbox in db (the platform database)
// into the Redis of rdb, which the caller closes after Run.
func NewRelay(db *sqlx.DB, rdb redis.UniversalClient, log *slog.Logger) *Relay {
	return &Relay{db: db, rdb: rdb, client: asynq.NewClientFromRedisClient(rdb), insp: asynq.NewInspectorFromRedisClient(rdb),
		log: log.With("component", "outbox-relay"), poll: 2 * time.Second, batch: 200, recheck: 5 * time.Minute}
}

// Run relays until ctx ends: it drains the outbox whenever woken, and
// checks the enqueued rows at every poll.
func (r *Relay) Run(ctx context.Context, dsn string) error {
	l := pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, nil)
	defer l.Close()
	if err := l.Listen(tenant.OutboxChannel); err != nil {
		r.log.Warn("outbox relay cannot LISTEN; polling only", "err", err)
	}
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	polled := true
	for {
		r.repeat(ctx, "drain", r.Drain)
		if polled {
			r.repeat(ctx, "check", r.Check)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.Notify:
			polled = false
		case <-tick.C:
			polled = true
		}
	}
}

// repeat runs step (Drain or Check) until it handles less than a batch or
// fails; a failure is logged, and the next wake tries again.
func (r *Relay) repeat(ctx context.Context, what string, step func(context.Context) (int, error)) {
	for {
		n, err := step(ctx)
		if err != nil && ctx.Err() == nil {
			r.log.Warn("outbox relay: will retry", "step", what, "err", err)
			return
		}
		if n < r.batch {
			return
		}
	}
}

type outboxRow struct {
	ID      int64  `db:"id"`
	Type    string `db:"task_type"`
	TaskID  string `db:"task_id"`
	Queue   string `db:"queue"`
	Payload string `db:"payload"`
}

// enqueue puts row's task in Redis through client and reports whether a
// task of that id was there already (no error).
func enqueue(ctx context.Context, client *asynq.Client, row outboxRow) (existed bool, err error) {
	task := asynq.NewTask(row.Type, []byte(row.Payload), asynq.TaskID(row.TaskID), asynq.Queue(row.Queue),
		asynq.MaxRetry(12), asynq.Retention(24*time.Hour))
	_, err = client.EnqueueContext(ctx, task)
	if errors.Is(err, asynq.ErrTaskIDConflict) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("enqueue %s: %w", row.TaskID, err)
	}
	return false, nil
}

// Drain relays one batch of rows not enqueued yet, marks them enqueued and
// returns how many it moved.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	tx, err := r.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var rows []outboxRow
	if err := tx.SelectContext(ctx, &rows, `SELECT id, task_type, task_id, queue, payload::text AS payload
		FROM platform.outbox WHERE enqueued_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.batch); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var done, finished []int64
	var failed error
	for _, row := range rows {
		var existed bool
		if existed, failed = enqueue(ctx, r.client, row); failed != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE platform.outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
				row.ID, failed.Error()); err != nil {
				return 0, err
			}
			break // Redis is most likely down: keep order, try again later
		}
		if existed && r.alreadyRan(row) {
			// The same task (a deterministic id: one notice a day, one
			// digest a period) already ran for good and asynq keeps it
			// for its retention; its worker deleted the rows it saw, not
			// this later one, which nothing would run.
			finished = append(finished, row.ID)
			continue
		}
		done = append(done, row.ID)
	}
	if len(done) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE platform.outbox SET enqueued_at = now() WHERE id = ANY($1)`, pq.Int64Array(done)); err != nil {
			return 0, err
		}
	}
	if len(finished) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM platform.outbox WHERE id = ANY($1)`, pq.Int64Array(finished)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(done) + len(finished), failed
}

// alreadyRan reports whether Redis holds row's task as completed or
// archived. A task still waiting or running deletes this row itself when it
// finishes (the worker deletes every row of its id); when the lookup fails
// the row is kept for Check.
func (r *Relay) alreadyRan(row outboxRow) bool {
	info, err := r.insp.GetTaskInfo(row.Queue, row.TaskID)
	return err == nil && (info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived)
}

// Check looks up the tasks of one batch of rows enqueued (or last seen in
// Redis) more than 5 minutes ago and returns how many rows it checked: a
// task Redis no longer has is enqueued again, the row of a task that
// completed or was archived (it ran for good, and the worker did not get to
// delete its row) is deleted, and the others are looked up again 5 minutes
// later.
func (r *Relay) Check(ctx context.Context) (int, error) {
	tx, err := r.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var rows []outboxRow
	if err := tx.SelectContext(ctx, &rows, `SELECT id, task_type, task_id, queue, payload::text AS payload
		FROM platform.outbox WHERE enqueued_at < now() - make_interval(secs => $1)
		ORDER BY enqueued_at LIMIT $2 FOR UPDATE SKIP LOCKED`, r.recheck.Seconds(), r.batch); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var seen, finished []int64
	var failed error
	var fresh *asynq.Client
	for _, row := range rows {
		info, err := r.insp.GetTaskInfo(row.Queue, row.TaskID)
		switch {
		case errors.Is(err, asynq.ErrTaskNotFound), errors.Is(err, asynq.ErrQueueNotFound):
			client := r.client
			if errors.Is(err, asynq.ErrQueueNotFound) {
				// Redis lost asynq's list of queues too, which a client
				// registers once in its life: a fresh one registers the
				// queue again, so the inspector (and the operator's
				// tools) see its tasks.
				if fresh == nil {
					fresh = asynq.NewClientFromRedisClient(r.rdb)
				}
				client = fresh
			}
			existed, err := enqueue(ctx, client, row)
			if failed = err; err == nil {
				if !existed {
					r.log.Warn("outbox task lost by Redis: enqueued again", "task_id", row.TaskID, "task_type", row.Type)
				}
				seen = append(seen, row.ID)
			}
		case err != nil:
			failed = fmt.Errorf("look up %s: %w", row.TaskID, err)
		case info.State == asynq.TaskStateCompleted || info.State == asynq.TaskStateArchived:
			finished = append(finished, row.ID)
		default:
			seen = append(seen, row.ID)
		}
		if failed != nil {
			break // Redis is most likely down: try again later
		}
	}
	if len(seen) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE platform.outbox SET enqueued_at = now() WHERE id = ANY($1)`, pq.Int64Array(seen)); err != nil {
			return 0, err
		}
	}
	if len(finished) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM platform.outbox WHERE id = ANY($1)`, pq.Int64Array(finished)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(seen) + len(finished), failed
}

// Settle is the worker middleware that deletes a task's outbox row once the
// task has run for good: it succeeded, or it failed for good (it returned
// asynq.SkipRetry or asynq.RevokeTask, or its last retry failed), since
// asynq archives it and enqueueing it again would only fail again. A task
// that will be retried keeps its row, so the relay enqueues it again if
// Redis loses it meanwhile. Tasks that did not come through the outbox are
// left alone. A failure to delete is logged, not returned: the relay deletes
// the row of a finished task later (see Relay.Check).
func Settle(db *sqlx.DB, log *slog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
			err := next.ProcessTask(ctx, task)
			id, ok := asynq.GetTaskID(ctx)
			if !ok || !tenant.FromOutbox(id) || !ranForGood(ctx, err) {
				return err
			}
			if _, derr := db.ExecContext(context.WithoutCancel(ctx), `DELETE FROM platform.outbox WHERE task_id = $1`, id); derr != nil {
				log.Warn("outbox row of a finished task not deleted; the relay will", "task_id", id, "task_type", task.Type(), "err", derr)
			}
			return err
		})
	}
}

// ranForGood reports whether a task that returned err will not run again:
// asynq's own rule for archiving or dropping it. Outside a worker (no retry
// count in ctx) only success is for good.
func ranForGood(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, asynq.SkipRetry) || errors.Is(err, asynq.RevokeTask) {
		return true
	}
	retried, ok := asynq.GetRetryCount(ctx)
	maxRetry, ok2 := asynq.GetMaxRetry(ctx)
	return ok && ok2 && retried >= maxRetry
}
