package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// TestTenantMiddleware drives the middleware directly (no server): it must
// refuse, without retry and without running the handler, any city task that
// does not name a live city; let platform ticks through without a city; and
// give a city task exactly its own city, whose data the handler then reads
// through the scoped transaction.
func TestTenantMiddleware(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	a := env.City(t, "mw_a")
	b := env.City(t, "mw_b")
	gone := env.City(t, "mw_gone")
	_, err := env.Registry.Get(ctx, gone.ID) // cached before the delete: the delete must still win
	require.NoError(t, err)
	require.NoError(t, env.Ops.Delete(ctx, gone.Slug))

	// A page only city A has, so reading B's data instead would show.
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(a), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO pages (slug, title) VALUES ('only-in-a', '{"en": "A"}')`)
		return err
	}))

	log, logs := testLogger(t)
	mw := jobs.TenantMiddleware(env.Registry, log)

	t.Run("refused", func(t *testing.T) {
		cases := []struct {
			name    string
			payload string
			want    error // besides asynq.SkipRetry
		}{
			{"no payload", "", jobs.ErrNoTenant},
			{"not JSON", "nope", jobs.ErrNoTenant},
			{"no tenant_id", `{"hour": "2024-03-10T14:00:00Z"}`, jobs.ErrNoTenant},
			{"tenant_id 0", `{"tenant_id": 0}`, jobs.ErrNoTenant},
			{"negative tenant_id", `{"tenant_id": -1}`, jobs.ErrNoTenant},
			{"tenant_id as string", fmt.Sprintf(`{"tenant_id": "%d"}`, a.ID), jobs.ErrNoTenant},
			{"deleted city", fmt.Sprintf(`{"tenant_id": %d, "hour": "2024-03-10T14:00:00Z"}`, gone.ID), tenant.ErrNotFound},
			{"city that never existed", `{"tenant_id": 9223372036854775807}`, tenant.ErrNotFound},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				ran := false
				h := mw(asynq.HandlerFunc(func(context.Context, *asynq.Task) error {
					ran = true
					return nil
				}))
				var payload []byte
				if tc.payload != "" {
					payload = []byte(tc.payload)
				}
				err := h.ProcessTask(ctx, asynq.NewTask(jobs.TypeUsage, payload))
				require.Error(t, err)
				require.ErrorIs(t, err, asynq.SkipRetry, "a task without a live city must not be retried")
				require.ErrorIs(t, err, tc.want)
				require.False(t, ran, "the handler ran for a task without a live city")
			})
		}
	})

	t.Run("platform tick runs without a city", func(t *testing.T) {
		ran := false
		h := mw(asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
			ran = true
			_, ok := tenant.FromContext(ctx)
			require.False(t, ok, "a platform task got a city")
			return nil
		}))
		require.NoError(t, h.ProcessTask(ctx, jobs.NewUsageTickTask()))
		require.True(t, ran)
	})

	// Each city task sees its own city and its own data, never the other's.
	for _, c := range []struct {
		city     *tenant.Tenant
		onlyInA  int
		wantPath string
	}{
		{a, 1, "city_mw_a"},
		{b, 0, "city_mw_b"},
	} {
		t.Run("city "+c.city.Slug, func(t *testing.T) {
			ran := false
			h := mw(asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
				ran = true
				got, ok := tenant.FromContext(ctx)
				require.True(t, ok, "a city task ran without its city")
				require.Equal(t, c.city.ID, got.ID)
				require.Equal(t, c.city.Slug, got.Slug)
				var row struct {
					Schema  string `db:"schema"`
					OnlyInA int    `db:"only_in_a"`
				}
				require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
					return tx.GetContext(ctx, &row, `SELECT current_schema() AS schema,
						(SELECT count(*) FROM pages WHERE slug = 'only-in-a') AS only_in_a`)
				}))
				require.Equal(t, c.wantPath, row.Schema)
				require.Equal(t, c.onlyInA, row.OnlyInA)
				return nil
			}))
			task, err := jobs.NewUsageTask(c.city.ID, time.Now())
			require.NoError(t, err)
			require.NoError(t, h.ProcessTask(ctx, task))
			require.True(t, ran, "the handler did not run")
		})
	}

	t.Run("handler error passes through and is retried", func(t *testing.T) {
		boom := errors.New("boom")
		h := mw(asynq.HandlerFunc(func(context.Context, *asynq.Task) error { return boom }))
		task, err := jobs.NewUsageTask(a.ID, time.Now())
		require.NoError(t, err)
		err = h.ProcessTask(ctx, task)
		require.ErrorIs(t, err, boom)
		require.NotErrorIs(t, err, asynq.SkipRetry, "a transient failure must stay retryable")
	})

	t.Run("logs name the city and the task type", func(t *testing.T) {
		var done, refused bool
		for _, r := range logs.records(t) {
			switch r["msg"] {
			case "task done":
				if r["tenant"] == "mw_a" && r["task_type"] == jobs.TypeUsage && r["tenant_id"] == float64(a.ID) {
					done = true
				}
			case "task refused", "task for a deleted city dropped":
				if r["task_type"] == jobs.TypeUsage {
					refused = true
				}
			}
		}
		require.True(t, done, "no 'task done' log with tenant, tenant_id and task_type for city A")
		require.True(t, refused, "refused tasks were not logged")
	})
}
