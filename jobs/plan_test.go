package jobs_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/domain/feature"
	"agora/domain/user"
	"agora/fixture"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// applyPlanTasks returns the city's queued apply_plan tasks, as the relay
// would enqueue them.
func applyPlanTasks(t *testing.T, env *tenanttest.Env, c *tenant.Tenant) []*asynq.Task {
	t.Helper()
	var rows []struct {
		ID      string `db:"task_id"`
		Payload string `db:"payload"`
	}
	require.NoError(t, env.DB.Platform().SelectContext(context.Background(), &rows,
		`SELECT task_id, payload::text AS payload FROM platform.outbox WHERE tenant_id = $1 AND task_type = $2 ORDER BY id`, c.ID, tenant.TaskApplyPlan))
	out := make([]*asynq.Task, len(rows))
	for i, r := range rows {
		out[i] = asynq.NewTask(tenant.TaskApplyPlan, []byte(r.Payload), asynq.TaskID(r.ID))
	}
	return out
}

// TestPlanChangeIsAppliedAndAnnounced downgrades a standard city to
// essential: the change is queued with the registry update, the task tells
// each admin once (a re-run sends nothing more), records the lost features,
// and the city's features follow the plan while the data and toggles stay.
// Upgrading brings everything back. Trial expiry does the same on its own.
func TestPlanChangeIsAppliedAndAnnounced(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "plans")
	other := env.City(t, "plans_other")
	mailSrv, smtp := startMail(t)
	log, _ := testLogger(t)
	ops := env.Ops
	plans, err := jobs.NewPlans(env.DB, env.Registry, ops, smtp, httpsPortal)
	require.NoError(t, err)
	h := jobs.TenantMiddleware(env.Registry, log)(asynq.HandlerFunc(plans.Apply))

	for i, addr := range []string{"admin1@plans.example", "admin2@plans.example"} {
		fixture.User(t, env, c, fixture.UserOpts{Email: addr, FirstName: fmt.Sprintf("Admin%d", i), LastName: "X", Locale: "fr", Role: user.RoleAdmin})
	}
	// An admin turned dashboards off: a downgrade and upgrade keep that.
	require.NoError(t, feature.NewService(env.DB).Set(tenanttest.Ctx(c), 0, feature.Dashboard, false))

	essential := tenant.PlanEssential
	down, err := ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &essential})
	require.NoError(t, err)
	require.False(t, down.Allows("exports"), "the registry reloads the city with its new plan")
	require.True(t, down.Allows("ideation"))
	tasks := applyPlanTasks(t, env, c)
	require.Len(t, tasks, 1, "the plan change queues one apply task, in the same transaction")
	require.Empty(t, applyPlanTasks(t, env, other))

	require.NoError(t, h.ProcessTask(context.Background(), tasks[0]))
	require.NoError(t, h.ProcessTask(context.Background(), tasks[0]), "a re-run is done, not an error")
	for _, addr := range []string{"admin1@plans.example", "admin2@plans.example"} {
		got := mailSrv.To(addr)
		require.Len(t, got, 1, "%s is told once", addr)
		body := got[0].Text
		require.Contains(t, body, "plans")
		require.Contains(t, body, "standard")
		require.Contains(t, body, "Exports (XLSX, CSV)", "the lost features, named in the admin's language")
		require.Contains(t, body, "https://"+c.PrimaryHost+"/admin/features")
	}
	var logged int
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &logged, `SELECT count(*) FROM activities WHERE action = 'plan.applied'
			AND payload->'lost' ? 'exports' AND payload->>'from' = 'standard' AND payload->>'to' = 'essential'`)
	}))
	require.Equal(t, 1, logged, "one activity row, whatever the re-runs")

	ctx := tenanttest.Ctx(down)
	fs := feature.NewService(env.DB)
	require.ErrorContains(t, fs.Enabled(ctx, feature.Exports), "available on the standard plan")
	require.ErrorContains(t, fs.Set(ctx, 0, feature.Exports, true), "available on the standard plan", "admins cannot turn on what the plan lacks")
	require.NoError(t, fs.Enabled(ctx, feature.Comments))

	standard := tenant.PlanStandard
	up, err := ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &standard})
	require.NoError(t, err)
	ctx = tenanttest.Ctx(up)
	require.NoError(t, fs.Enabled(ctx, feature.Exports), "an upgrade brings the feature back")
	require.ErrorContains(t, fs.Enabled(ctx, feature.Dashboard), "turned off", "and the admins' own choices with it")
	require.Len(t, applyPlanTasks(t, env, c), 2)

	// Overrides: the operator grants one premium feature and takes one away.
	on, off := true, false
	ov, err := ops.Update(context.Background(), c.Slug, tenant.Update{Overrides: map[string]*bool{"open_data": &on, "comments": &off}})
	require.NoError(t, err)
	require.True(t, ov.Allows("open_data"))
	require.False(t, ov.Allows("comments"))
	require.Equal(t, []string{"open_data"}, ov.Granted)
	_, err = ops.Update(context.Background(), c.Slug, tenant.Update{Overrides: map[string]*bool{"teleportation": &on}})
	require.ErrorIs(t, err, tenant.ErrInvalid)

	// Trials end on their date: the daily tick moves the city to essential.
	trial := tenant.Trial
	past := time.Now().Add(-time.Hour)
	_, err = ops.Update(context.Background(), other.Slug, tenant.Update{Lifecycle: &trial, TrialEndsAt: &past})
	require.NoError(t, err)
	require.NoError(t, plans.TrialTick(context.Background(), nil))
	ended, err := env.Registry.Get(context.Background(), other.ID)
	require.NoError(t, err)
	require.Equal(t, tenant.PlanEssential, ended.Plan)
	require.Equal(t, tenant.Active, ended.Lifecycle)
	require.Nil(t, ended.TrialEndsAt)
	require.Len(t, applyPlanTasks(t, env, other), 1)
	require.NoError(t, plans.TrialTick(context.Background(), nil), "a second tick finds nothing to do")
	require.Len(t, applyPlanTasks(t, env, other), 1)
}

// TestPlanChangeNamesOnlyBuiltFeatures: the admins' email about a plan
// change names what they lose or gain among the features Agora has built,
// never one it does not offer yet (voting, dashboards, smart groups).
func TestPlanChangeNamesOnlyBuiltFeatures(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "plans_built")
	mailSrv, smtp := startMail(t)
	log, _ := testLogger(t)
	plans, err := jobs.NewPlans(env.DB, env.Registry, env.Ops, smtp, httpsPortal)
	require.NoError(t, err)
	h := jobs.TenantMiddleware(env.Registry, log)(asynq.HandlerFunc(plans.Apply))
	fixture.User(t, env, c, fixture.UserOpts{Email: "admin@plans-built.example", Role: user.RoleAdmin})

	essential := tenant.PlanEssential
	_, err = env.Ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &essential})
	require.NoError(t, err)
	tasks := applyPlanTasks(t, env, c)
	require.Len(t, tasks, 1)
	require.NoError(t, h.ProcessTask(context.Background(), tasks[0]))
	got := mailSrv.To("admin@plans-built.example")
	require.Len(t, got, 1)
	require.Contains(t, got[0].Text, "Exports (XLSX, CSV)")
	for _, name := range []string{"Voting and participatory budgets", "Surveys", "Citizen proposals", "Smart groups", "Dashboard"} {
		require.NotContains(t, got[0].Text, name, "the email names %s, which Agora does not offer", name)
	}
}
