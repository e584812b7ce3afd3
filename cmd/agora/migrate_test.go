package main

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"agora/domain/feature"
	"agora/tenant/tenanttest"
)

// TestMigrateWritesThePlanTable: agora migrate leaves platform.plan_features
// equal to feature's Go table, repairing drift on the next run.
func TestMigrateWritesThePlanTable(t *testing.T) {
	dsn := tenanttest.NewDatabase(t)
	t.Setenv("AGORA_DATABASE_URL", dsn)
	t.Setenv("AGORA_BASE_DOMAIN", "agora.test")
	t.Setenv("AGORA_PLATFORM_HOST", "platform.agora.test")
	t.Setenv("AGORA_STORAGE_DIR", t.TempDir())
	t.Setenv("AGORA_ENV", "dev")
	t.Setenv("AGORA_SECRET_KEY", "")
	t.Setenv("AGORA_SHARDS", "")
	db, err := sqlx.Open("postgres", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	rows := func(rs []feature.PlanFeature) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = fmt.Sprintf("%s %s", r.Plan, r.Feature)
		}
		slices.Sort(out)
		return out
	}
	stored := func() []string {
		t.Helper()
		var rs []feature.PlanFeature
		require.NoError(t, db.SelectContext(context.Background(), &rs, `SELECT plan, feature FROM platform.plan_features`))
		return rows(rs)
	}
	want := rows(feature.PlanFeatures())

	res := agora(t, "migrate")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, want, stored())

	_, err = db.Exec(`DELETE FROM platform.plan_features WHERE plan = 'premium';
		INSERT INTO platform.plan_features (plan, feature) VALUES ('essential', 'public_api')`)
	require.NoError(t, err)
	res = agora(t, "migrate")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "platform: plan features updated")
	require.Equal(t, want, stored())

	res = agora(t, "migrate")
	require.Equal(t, 0, res.code, res.stderr)
	require.NotContains(t, res.stdout, "plan features updated")
}
