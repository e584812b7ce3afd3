package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"agora/domain/errs"
	"agora/domain/export"
	"agora/domain/feature"
	"agora/tenant"
)

// TypeExportSweepTick fans export.TaskSweep out to every city (daily).
const TypeExportSweepTick = "export:sweep_tick"

// ExportSweepSchedule is when the daily sweep runs (cron, worker's time zone).
const ExportSweepSchedule = "20 3 * * *"

// Exports builds staff exports and sweeps expired ones.
type Exports struct {
	exports  *export.Service
	features *feature.Service
	reg      *tenant.Registry
	client   *asynq.Client
	now      func() time.Time
}

// NewExports returns the export handlers. Building needs no signing key:
// links are signed by the web server.
func NewExports(db *tenant.DB, reg *tenant.Registry, client *asynq.Client, storageDir string) *Exports {
	return &Exports{exports: export.NewService(db, storageDir, export.Signer{}), features: feature.NewService(db),
		reg: reg, client: client, now: time.Now}
}

// Handle registers the export handlers on mux.
func (x *Exports) Handle(mux *asynq.ServeMux) {
	mux.HandleFunc(export.TaskBuild, x.Build)
	mux.HandleFunc(TypeExportSweepTick, x.SweepTick)
	mux.HandleFunc(export.TaskSweep, x.Sweep)
}

// Build handles export.TaskBuild. A city whose plan no longer has exports (or
// whose admins turned them off), a requester who lost the right and an
// export that is gone are permanent failures: the export is marked failed
// and the task is not retried. Other errors are retried with asynq's
// backoff; the last attempt marks the export failed.
func (x *Exports) Build(ctx context.Context, task *asynq.Task) error {
	var p struct {
		Payload
		ExportID int64 `json:"export_id"`
	}
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.ExportID <= 0 {
		return fmt.Errorf("export payload %s: %w", task.Payload(), asynq.SkipRetry)
	}
	if err := x.features.Enabled(ctx, feature.Exports); err != nil {
		if errs.CodeOf(err) != errs.FeatureUnavailable {
			return err
		}
		if ferr := x.exports.Fail(ctx, p.ExportID, "exports are not available on this city's plan"); ferr != nil {
			return ferr
		}
		return fmt.Errorf("export %d: %w: %w", p.ExportID, err, asynq.SkipRetry)
	}
	err := x.exports.Build(ctx, p.ExportID)
	switch code := errs.CodeOf(err); {
	case err == nil:
		return nil
	case code == errs.NotFound:
		return fmt.Errorf("export %d: %w: %w", p.ExportID, err, asynq.SkipRetry)
	case code == errs.Forbidden || code == errs.Invalid:
		if ferr := x.exports.Fail(ctx, p.ExportID, errMessage(err)); ferr != nil {
			return ferr
		}
		return fmt.Errorf("export %d: %w: %w", p.ExportID, err, asynq.SkipRetry)
	}
	retried, _ := asynq.GetRetryCount(ctx)
	maxRetry, ok := asynq.GetMaxRetry(ctx)
	if ok && retried >= maxRetry {
		_ = x.exports.Fail(ctx, p.ExportID, "the export could not be built; please request it again")
	}
	return err
}

// errMessage is the safe message of an application error.
func errMessage(err error) string {
	if e, ok := errs.As(err); ok {
		return e.Message
	}
	return "the export could not be built"
}

// NewExportSweepTickTask builds the daily fan-out task of the sweep.
func NewExportSweepTickTask() *asynq.Task {
	return asynq.NewTask(TypeExportSweepTick, nil, asynq.Queue("low"), asynq.MaxRetry(3))
}

// NewExportSweepTask builds the sweep of one city for one day. Its TaskID is
// deterministic, so a second scheduler's tick on the same day adds nothing.
func NewExportSweepTask(id tenant.ID, day time.Time) (*asynq.Task, error) {
	b, err := json.Marshal(Payload{TenantID: id})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(export.TaskSweep, b,
		asynq.TaskID(fmt.Sprintf("%s:%d:%s", export.TaskSweep, id, day.UTC().Format("20060102"))),
		asynq.Queue("low"), asynq.MaxRetry(5), asynq.Timeout(10*time.Minute), asynq.Retention(24*time.Hour)), nil
}

// SweepTick enqueues one sweep per city, active cities first.
func (x *Exports) SweepTick(ctx context.Context, _ *asynq.Task) error {
	ts, err := x.reg.List(ctx)
	if err != nil {
		return err
	}
	now := x.now()
	for _, t := range ts {
		task, err := NewExportSweepTask(t.ID, now)
		if err != nil {
			return err
		}
		if _, err := x.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
			return fmt.Errorf("enqueue export sweep of %s: %w", t.Slug, err)
		}
	}
	return nil
}

// Sweep handles export.TaskSweep: the city's expired export files go.
func (x *Exports) Sweep(ctx context.Context, _ *asynq.Task) error {
	_, err := x.exports.Sweep(ctx)
	return err
}
