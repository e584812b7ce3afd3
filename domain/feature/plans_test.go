package feature_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"agora/domain/feature"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// planRows reads platform.plan_features as "plan feature" lines, sorted.
func planRows(t *testing.T, env *tenanttest.Env) []string {
	t.Helper()
	var rows []feature.PlanFeature
	require.NoError(t, env.DB.Platform().Select(&rows, `SELECT plan, feature FROM platform.plan_features`))
	return lines(rows)
}

func lines(rows []feature.PlanFeature) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = fmt.Sprintf("%s %s", r.Plan, r.Feature)
	}
	slices.Sort(out)
	return out
}

// TestPlanTableIsWrittenFromGo: after the migrator path (tenanttest does
// what agora migrate does) the platform's plan table is exactly feature's
// Go table; drift (a row lost, a stale or a wrong one) is repaired by the
// next sync, which wakes every node's registry; a sync with nothing to do
// changes nothing.
func TestPlanTableIsWrittenFromGo(t *testing.T) {
	env := tenanttest.New(t)
	ctx := context.Background()
	want := lines(feature.PlanFeatures())
	require.Len(t, want, 12*3+12*2+6, "PRODUCT.md: 12 features on every plan, 12 from standard, 6 on premium")
	require.Equal(t, want, planRows(t, env))

	changed, err := feature.SyncPlans(ctx, env.DB.Platform())
	require.NoError(t, err)
	require.False(t, changed, "a second sync changed the table")

	_, err = env.DB.Platform().Exec(`DELETE FROM platform.plan_features WHERE plan = 'premium' AND feature = 'open_data';
		INSERT INTO platform.plan_features (plan, feature) VALUES ('essential', 'voting'), ('premium', 'retired_feature')`)
	require.NoError(t, err)
	require.NotEqual(t, want, planRows(t, env))

	l := pq.NewListener(env.URL, 10*time.Millisecond, time.Second, nil)
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.Listen(tenant.NotifyChannel))
	changed, err = feature.SyncPlans(ctx, env.DB.Platform())
	require.NoError(t, err)
	require.True(t, changed)
	require.Equal(t, want, planRows(t, env))
	select {
	case n := <-l.Notify:
		require.NotNil(t, n)
	case <-time.After(10 * time.Second):
		t.Fatal("a changed plan table did not tell the registries")
	}
}

// TestRegistryAllowsWhatTheGoTableSays: a city's plan allows, as the
// registry computes it from the platform table, exactly what Allowed says.
func TestRegistryAllowsWhatTheGoTableSays(t *testing.T) {
	env := tenanttest.New(t)
	for _, p := range []tenant.Plan{tenant.PlanEssential, tenant.PlanStandard, tenant.PlanPremium} {
		c := env.CityOnPlan(t, "on_"+string(p), p)
		for _, k := range feature.Keys() {
			require.Equal(t, feature.Allowed(p, k), c.Allows(string(k)), "%s on %s", k, p)
			if feature.Allowed(p, k) {
				require.NoError(t, feature.Require(c, k))
			} else {
				require.ErrorContains(t, feature.Require(c, k), string(feature.MinPlan(k)))
			}
		}
		require.False(t, c.Allows("no_such_feature"))
	}
}
