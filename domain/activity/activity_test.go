package activity_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/activity"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// TestRecord: the city itself (no actor) and items outside any project are
// stored as NULLs, the payload as JSON, and Once logs a change a retried
// task reports again only the first time.
func TestRecord(t *testing.T) {
	env := tenanttest.New(t)
	city := env.City(t, "log")
	ctx := tenanttest.Ctx(city)

	type row struct {
		Actor   *int64 `db:"actor_id"`
		Action  string `db:"action"`
		Type    string `db:"item_type"`
		Item    int64  `db:"item_id"`
		Project *int64 `db:"project_id"`
		Payload string `db:"payload"`
	}
	read := func(tx *tenant.Tx, id int64) row {
		var r row
		require.NoError(t, tx.GetContext(ctx, &r, `SELECT actor_id, action, item_type, item_id, project_id, payload::text AS payload
			FROM activities WHERE id = $1`, id))
		return r
	}
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		id, err := activity.Record(ctx, tx, activity.Activity{Action: "feature.enabled", ItemType: "feature",
			Payload: map[string]any{"feature": "voting"}})
		require.NoError(t, err)
		require.Equal(t, row{Action: "feature.enabled", Type: "feature", Payload: `{"feature": "voting"}`}, read(tx, id))

		id, err = activity.Record(ctx, tx, activity.Activity{Action: "folder.created", ItemType: "folder", ItemID: 7})
		require.NoError(t, err)
		require.Equal(t, row{Action: "folder.created", Type: "folder", Item: 7, Payload: `{}`}, read(tx, id))

		project := int64(12)
		id, err = activity.Record(ctx, tx, activity.Activity{Action: "phase.created", ItemType: "project", ItemID: 12, ProjectID: 12})
		require.NoError(t, err)
		require.Equal(t, &project, read(tx, id).Project)

		// Once: the same task's change is logged once; another task's is logged.
		plan := func(task string) (int64, error) {
			return activity.Record(ctx, tx, activity.Activity{Action: "plan.applied", ItemType: "city", Once: "task",
				Payload: map[string]any{"from": "standard", "to": "essential", "lost": []string{"voting"}, "gained": nil, "task": task}})
		}
		first, err := plan("plan-1")
		require.NoError(t, err)
		require.NotZero(t, first)
		again, err := plan("plan-1")
		require.NoError(t, err)
		require.Zero(t, again, "a retried task logged its change twice")
		other, err := plan("plan-2")
		require.NoError(t, err)
		require.NotZero(t, other)
		var n int
		require.NoError(t, tx.GetContext(ctx, &n, `SELECT count(*) FROM activities WHERE action = 'plan.applied'`))
		require.Equal(t, 2, n)

		_, err = activity.Record(ctx, tx, activity.Activity{Action: "plan.applied", ItemType: "city", Once: "task"})
		require.Error(t, err, "once by a field the payload lacks")
		return nil
	}))
}

// TestRecordAndFanoutQueuesInTheSameTransaction: the fan-out task exists if
// and only if the activity commits.
func TestRecordAndFanoutQueuesInTheSameTransaction(t *testing.T) {
	env := tenanttest.New(t)
	city := env.City(t, "fan")
	ctx := tenanttest.Ctx(city)
	queued := func() int {
		var n int
		require.NoError(t, env.DB.Platform().GetContext(context.Background(), &n,
			`SELECT count(*) FROM platform.outbox WHERE tenant_id = $1 AND task_type = $2`, city.ID, activity.TaskFanout))
		return n
	}
	var id int64
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		var err error
		id, err = activity.RecordAndFanout(ctx, tx, activity.Activity{Action: "idea.status_changed", ItemType: "idea", ItemID: 1, ProjectID: 1})
		return err
	}))
	require.NotZero(t, id)
	require.Equal(t, 1, queued())

	require.Error(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		if _, err := activity.RecordAndFanout(ctx, tx, activity.Activity{Action: "idea.status_changed", ItemType: "idea", ItemID: 2, ProjectID: 1}); err != nil {
			return err
		}
		return context.Canceled // roll back
	}))
	require.Equal(t, 1, queued(), "a rolled-back activity queued its fan-out")
}
