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

	"agora/tenant"
)

// Relay moves tasks recorded in platform.outbox (in the same transaction as
// the city write that caused them) into asynq. It wakes on NOTIFY and polls
// as a fallback; rows are locked with SKIP LOCKED so several relays share the
// work; a row is deleted only once its task is in Redis, so Redis being down
// delays work and never loses it. Task ids are the outbox's deterministic ids,
// so a task enqueued twice (a relay died between enqueue and delete) is
// refused by asynq as a duplicate.
type Relay struct {
	db     *sqlx.DB
	client *asynq.Client
	log    *slog.Logger
	poll   time.Duration
	batch  int
}

// NewRelay returns a relay for the outbox in db (the platform database).
func NewRelay(db *sqlx.DB, client *asynq.Client, log *slog.Logger) *Relay {
	return &Relay{db: db, client: client, log: log.With("component", "outbox-relay"), poll: 2 * time.Second, batch: 200}
}

// Run relays until ctx ends.
func (r *Relay) Run(ctx context.Context, dsn string) error {
	l := pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, nil)
	defer l.Close()
	if err := l.Listen(tenant.OutboxChannel); err != nil {
		r.log.Warn("outbox relay cannot LISTEN; polling only", "err", err)
	}
	tick := time.NewTicker(r.poll)
	defer tick.Stop()
	for {
		for {
			n, err := r.Drain(ctx)
			if err != nil && ctx.Err() == nil {
				r.log.Warn("outbox relay: will retry", "err", err)
				break
			}
			if n < r.batch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-l.Notify:
		case <-tick.C:
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

// Drain relays one batch and returns how many rows it moved.
func (r *Relay) Drain(ctx context.Context) (int, error) {
	tx, err := r.db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	var rows []outboxRow
	if err := tx.SelectContext(ctx, &rows, `SELECT id, task_type, task_id, queue, payload::text AS payload
		FROM platform.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`, r.batch); err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	var done []int64
	var failed error
	for _, row := range rows {
		task := asynq.NewTask(row.Type, []byte(row.Payload), asynq.TaskID(row.TaskID), asynq.Queue(row.Queue),
			asynq.MaxRetry(12), asynq.Retention(24*time.Hour))
		_, err := r.client.EnqueueContext(ctx, task)
		if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			failed = fmt.Errorf("enqueue %s: %w", row.TaskID, err)
			if _, err := tx.ExecContext(ctx, `UPDATE platform.outbox SET attempts = attempts + 1, last_error = $2 WHERE id = $1`,
				row.ID, failed.Error()); err != nil {
				return 0, err
			}
			break // Redis is most likely down: keep order, try again later
		}
		done = append(done, row.ID)
	}
	if len(done) > 0 {
		if _, err := tx.ExecContext(ctx, `DELETE FROM platform.outbox WHERE id = ANY($1)`, pq.Int64Array(done)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return len(done), failed
}
