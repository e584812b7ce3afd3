// Package activity is a city's activity log: one row per participation
// write, recorded in the write's own transaction. Writes whose followers
// must hear of them also queue activity:fanout in the same transaction, so
// the notification emails go out if and only if the write commits.
package activity

import (
	"context"
	"encoding/json"
	"fmt"

	"agora/tenant"
)

// TaskFanout emails the notifications an activity created.
const TaskFanout = "activity:fanout"

// Activity is one entry of the log.
type Activity struct {
	Actor     int64  // 0: the city itself (a task, the operator)
	Action    string // "idea.created", "comment.created", ...
	ItemType  string
	ItemID    int64
	ProjectID int64 // 0: not in a project
	Payload   map[string]any
}

// Record writes a on tx and returns its id.
func Record(ctx context.Context, tx *tenant.Tx, a Activity) (int64, error) {
	payload := "{}"
	if len(a.Payload) > 0 {
		b, err := json.Marshal(a.Payload)
		if err != nil {
			return 0, fmt.Errorf("activity %s: %w", a.Action, err)
		}
		payload = string(b)
	}
	var id int64
	err := tx.GetContext(ctx, &id, `INSERT INTO activities (actor_id, action, item_type, item_id, project_id, payload)
		VALUES (nullif($1, 0), $2, $3, $4, nullif($5, 0), $6::jsonb) RETURNING id`,
		a.Actor, a.Action, a.ItemType, a.ItemID, a.ProjectID, payload)
	if err != nil {
		return 0, fmt.Errorf("activity %s: %w", a.Action, err)
	}
	return id, nil
}

// RecordAndFanout records a and queues the email of the notifications it
// creates (the caller writes them with the returned id).
func RecordAndFanout(ctx context.Context, tx *tenant.Tx, a Activity) (int64, error) {
	id, err := Record(ctx, tx, a)
	if err != nil {
		return 0, err
	}
	return id, tx.Enqueue(ctx, tenant.Task{Type: TaskFanout, ID: fmt.Sprintf("activity:%d", id), Queue: "default",
		Payload: map[string]any{"activity_id": id}})
}
