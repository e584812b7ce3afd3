package tenant

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
)

// OutboxChannel is notified whenever a row is added to platform.outbox, so
// the relay wakes up at once instead of at its next poll.
const OutboxChannel = "agora_outbox"

// Task types queued by this package. TaskEmail is also the type of every
// account email domain/user queues: it is defined here, where provisioning
// queues the first admin's invitation, because tenant cannot import domain.
const (
	// TaskEmail sends one account email (confirmation, password reset,
	// invitation).
	TaskEmail = "email:send"
	// TaskApplyPlan applies a city's new plan or overrides: every node
	// reloads the city, the change is logged and the admins are told.
	TaskApplyPlan = "tenant:apply_plan"
)

// Task is background work recorded in the outbox: an asynq task type, a
// deterministic task id (so the task is enqueued at most once), its queue and
// its payload. The relay adds the city to the payload. The row stays in the
// outbox until the task has run for good (the worker deletes it), so a task
// that Redis loses is enqueued again.
type Task struct {
	Type    string
	ID      string
	Queue   string
	Payload map[string]any
}

// Enqueue records t in platform.outbox inside the city's transaction: the
// task exists if and only if the city's write commits. The payload always
// carries the city's id under "tenant_id".
func (tx *Tx) Enqueue(ctx context.Context, t Task) error {
	return enqueue(ctx, tx, tx.Tenant.ID, t)
}

// enqueue writes t for city id on q, a transaction of the platform database.
func enqueue(ctx context.Context, q sqlx.ExecerContext, tenantID ID, t Task) error {
	if t.Queue == "" {
		t.Queue = "default"
	}
	payload := map[string]any{}
	for k, v := range t.Payload {
		payload[k] = v
	}
	payload["tenant_id"] = tenantID
	b, err := json.Marshal(payload)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Type, err)
	}
	id := outboxTaskID(tenantID, t.ID)
	// One round trip: insert, and wake the relay (delivered at commit).
	_, err = q.ExecContext(ctx, `WITH ins AS (
		INSERT INTO platform.outbox (tenant_id, task_type, task_id, queue, payload)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (task_id) DO NOTHING RETURNING 1)
		SELECT pg_notify($6, '') FROM ins`, tenantID, t.Type, id, t.Queue, string(b), OutboxChannel)
	if err != nil {
		return fmt.Errorf("enqueue %s: %w", t.Type, err)
	}
	return nil
}

// outboxTaskID is the asynq task id of task id of city tenantID:
// "t<city id>:<id>".
func outboxTaskID(tenantID ID, id string) string { return fmt.Sprintf("t%d:%s", tenantID, id) }

// FromOutbox reports whether an asynq task id is one the outbox gave, so
// that the task has an outbox row to delete once it has run.
func FromOutbox(taskID string) bool {
	rest, ok := strings.CutPrefix(taskID, "t")
	city, _, found := strings.Cut(rest, ":")
	if !ok || !found || city == "" {
		return false
	}
	for _, r := range city {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
