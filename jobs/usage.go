package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/hibiken/asynq"

	"agora/tenant"
)

// Usage computes the operator's per-city usage figures.
type Usage struct {
	db         *tenant.DB
	reg        *tenant.Registry
	client     *asynq.Client
	storageDir string
	now        func() time.Time
}

// NewUsage returns the usage handlers.
func NewUsage(db *tenant.DB, reg *tenant.Registry, client *asynq.Client, storageDir string) *Usage {
	return &Usage{db: db, reg: reg, client: client, storageDir: storageDir, now: time.Now}
}

// Tick enqueues one usage task per city, active cities first. Task ids that
// already exist (a second scheduler ran the same tick) are skipped.
func (u *Usage) Tick(ctx context.Context, _ *asynq.Task) error {
	ts, err := u.reg.List(ctx)
	if err != nil {
		return err
	}
	now := u.now()
	for _, t := range ts {
		task, err := NewUsageTask(t.ID, now)
		if err != nil {
			return err
		}
		if _, err := u.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
			return fmt.Errorf("enqueue usage of %s: %w", t.Slug, err)
		}
	}
	return nil
}

// Compute counts one city's content through the scoped transaction and
// measures its stored files, then records the figures in the platform schema.
func (u *Usage) Compute(ctx context.Context, task *asynq.Task) error {
	var p UsagePayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil {
		return fmt.Errorf("usage payload: %v: %w", err, asynq.SkipRetry)
	}
	t, _ := tenant.FromContext(ctx)
	var counts struct {
		Pages       int `db:"pages"`
		Topics      int `db:"topics"`
		Invitations int `db:"invitations"`
		Users       int `db:"users"`
		Ideas       int `db:"ideas"`
	}
	err := u.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &counts, `SELECT
			(SELECT count(*) FROM pages) AS pages,
			(SELECT count(*) FROM topics) AS topics,
			(SELECT count(*) FROM invitations WHERE accepted_at IS NULL AND expires_at > now()) AS invitations,
			(SELECT count(*) FROM users WHERE deleted_at IS NULL) AS users,
			(SELECT count(*) FROM ideas WHERE deleted_at IS NULL) AS ideas`)
	})
	if err != nil {
		return fmt.Errorf("usage of %s: %w", t.Slug, err)
	}
	size, err := dirSize(tenant.StoragePath(u.storageDir, t.ID))
	if err != nil {
		return fmt.Errorf("usage of %s: storage: %w", t.Slug, err)
	}
	_, err = u.db.Platform().ExecContext(ctx, `
		INSERT INTO platform.tenant_usage (tenant_id, pages, topics, invitations, storage_bytes, users, ideas, computed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, now())
		ON CONFLICT (tenant_id) DO UPDATE SET pages = $2, topics = $3, invitations = $4, storage_bytes = $5,
			users = $6, ideas = $7, computed_at = now()`,
		t.ID, counts.Pages, counts.Topics, counts.Invitations, size, counts.Users, counts.Ideas)
	return err
}

func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}
