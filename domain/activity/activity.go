// Package activity is a city's activity log: one row per participation
// write, recorded in the write's own transaction. Writes whose followers
// must hear of them also queue activity:fanout in the same transaction, so
// the notification emails go out if and only if the write commits.
package activity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"agora/tenant"
)

// TaskFanout emails the notifications an activity created.
const TaskFanout = "activity:fanout"

// Activity is one entry of the log.
type Activity struct {
	Actor     int64  // 0: the city itself (a task, the operator): no actor
	Action    string // "idea.created", "comment.created", ...
	ItemType  string
	ItemID    int64
	ProjectID int64 // 0: not in a project
	Payload   map[string]any
	// Once, when set, names a payload field whose value identifies the
	// activity: Record writes nothing, and returns 0, when an activity with
	// the same action and the same value of that field exists already (so
	// a retried task logs its change once).
	Once string
}

const (
	insertActivity = `INSERT INTO activities (actor_id, action, item_type, item_id, project_id, payload)
		VALUES (nullif($1, 0), $2, $3, $4, nullif($5, 0), $6::jsonb) RETURNING id`
	insertActivityOnce = `INSERT INTO activities (actor_id, action, item_type, item_id, project_id, payload)
		SELECT nullif($1, 0), $2, $3, $4, nullif($5, 0), $6::jsonb
		 WHERE NOT EXISTS (SELECT 1 FROM activities WHERE action = $2 AND payload->>$7 = $6::jsonb->>$7)
		RETURNING id`
)

// Record writes a on tx and returns its id (0 when a.Once found it logged
// already). It is the only code that writes the activity log.
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
	var err error
	if a.Once == "" {
		err = tx.GetContext(ctx, &id, insertActivity, a.Actor, a.Action, a.ItemType, a.ItemID, a.ProjectID, payload)
	} else {
		if _, ok := a.Payload[a.Once]; !ok {
			return 0, fmt.Errorf("activity %s: once by %q, which the payload lacks", a.Action, a.Once)
		}
		err = tx.GetContext(ctx, &id, insertActivityOnce, a.Actor, a.Action, a.ItemType, a.ItemID, a.ProjectID, payload, a.Once)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
	}
	if err != nil {
		return 0, fmt.Errorf("activity %s: %w", a.Action, err)
	}
	return id, nil
}

// RecordAndFanout records a and queues the email of the notifications it
// creates (the caller writes them with the returned id). An activity that
// a.Once found logged already is not fanned out again.
func RecordAndFanout(ctx context.Context, tx *tenant.Tx, a Activity) (int64, error) {
	id, err := Record(ctx, tx, a)
	if err != nil || id == 0 {
		return id, err
	}
	return id, tx.Enqueue(ctx, tenant.Task{Type: TaskFanout, ID: fmt.Sprintf("activity:%d", id), Queue: "default",
		Payload: map[string]any{"activity_id": id}})
}
