// Package jobs runs Agora's background work on asynq: task types and their
// payloads, the middleware that restores a task's city, the handlers and the
// periodic scheduler.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"agora/tenant"
)

// Task types, "area:action".
const (
	// TypeUsageTick fans out one TypeUsage task per city (hourly).
	TypeUsageTick = "tenant:usage_tick"
	// TypeUsage recomputes one city's usage figures.
	TypeUsage = "tenant:usage"
)

// Queues and their weights: transactional mail first, bulk work last.
var Queues = map[string]int{"critical": 6, "default": 3, "low": 1}

// platformTypes are the only task types that run without a city: the ticks
// that fan work out to cities.
var platformTypes = map[string]bool{TypeExportSweepTick: true, TypeUsageTick: true}

// Payload is embedded in every city task's payload: the city it belongs to.
type Payload struct {
	TenantID tenant.ID `json:"tenant_id"`
}

// UsagePayload is the payload of TypeUsage.
type UsagePayload struct {
	Payload
	Hour string `json:"hour"` // the hour (UTC, RFC 3339) the figures are for
}

// NewUsageTask builds the usage task of one city for one hour. Its TaskID is
// deterministic, so a second scheduler or a re-run tick cannot duplicate it.
func NewUsageTask(id tenant.ID, hour time.Time) (*asynq.Task, error) {
	h := hour.UTC().Truncate(time.Hour)
	b, err := json.Marshal(UsagePayload{Payload: Payload{TenantID: id}, Hour: h.Format(time.RFC3339)})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeUsage, b,
		asynq.TaskID(fmt.Sprintf("%s:%d:%s", TypeUsage, id, h.Format("2006010215"))),
		asynq.Queue("low"), asynq.MaxRetry(5), asynq.Timeout(5*time.Minute), asynq.Retention(2*time.Hour)), nil
}

// NewUsageTickTask builds the hourly fan-out task.
func NewUsageTickTask() *asynq.Task {
	return asynq.NewTask(TypeUsageTick, nil, asynq.Queue("low"), asynq.MaxRetry(3))
}

// ErrNoTenant is returned (without retry) for a city task whose payload names
// no city.
var ErrNoTenant = errors.New("task carries no city")

// TenantMiddleware restores the city named in a task's payload into the
// handler's context, refusing (without retry) a city task that names none or
// names a deleted city, and logs every task with its city, type and id.
func TenantMiddleware(reg *tenant.Registry, log *slog.Logger) asynq.MiddlewareFunc {
	return func(next asynq.Handler) asynq.Handler {
		return asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
			id, _ := asynq.GetTaskID(ctx)
			attrs := []any{"task_type", task.Type(), "task_id", id}
			began := time.Now()
			if !platformTypes[task.Type()] {
				var p Payload
				if err := json.Unmarshal(task.Payload(), &p); err != nil || p.TenantID <= 0 {
					log.Error("task refused", append(attrs, "err", ErrNoTenant)...)
					return fmt.Errorf("%s: %w: %w", task.Type(), ErrNoTenant, asynq.SkipRetry)
				}
				t, err := reg.Get(ctx, p.TenantID)
				if errors.Is(err, tenant.ErrNotFound) {
					log.Warn("task for a deleted city dropped", append(attrs, "tenant_id", p.TenantID)...)
					return fmt.Errorf("%s: %w: %w", task.Type(), err, asynq.SkipRetry)
				}
				if err != nil {
					return err
				}
				ctx = tenant.WithTenant(ctx, t)
				attrs = append(attrs, "tenant", t.Slug, "tenant_id", int64(t.ID))
			}
			err := next.ProcessTask(ctx, task)
			attrs = append(attrs, "duration_ms", time.Since(began).Milliseconds())
			if errors.Is(err, ErrInFlight) {
				log.Info("task will retry: emails in flight", append(attrs, "err", err)...)
				return err
			}
			if err != nil {
				log.Error("task failed", append(attrs, "err", err)...)
				return err
			}
			log.Info("task done", attrs...)
			return nil
		})
	}
}
