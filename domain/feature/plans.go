package feature

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/tenant"
)

// PlanFeature is one row of platform.plan_features: plan has feature.
type PlanFeature struct {
	Plan    tenant.Plan `db:"plan"`
	Feature Key         `db:"feature"`
}

// PlanFeatures is the plan table as the platform database must hold it:
// every plan from each feature's lowest up, in the order of Keys.
func PlanFeatures() []PlanFeature {
	var out []PlanFeature
	for _, k := range allKeys {
		for _, p := range tiers {
			if Allowed(p, k) {
				out = append(out, PlanFeature{Plan: p, Feature: k})
			}
		}
	}
	return out
}

// syncPlans makes platform.plan_features hold exactly PlanFeatures, in one
// statement, and counts the rows it removed or added.
const syncPlans = `WITH want (plan, feature) AS (SELECT * FROM unnest($1::text[], $2::text[])),
gone AS (
	DELETE FROM platform.plan_features f
	 WHERE NOT EXISTS (SELECT 1 FROM want w WHERE w.plan = f.plan AND w.feature = f.feature)
	RETURNING 1),
added AS (
	INSERT INTO platform.plan_features (plan, feature) SELECT plan, feature FROM want
	ON CONFLICT DO NOTHING
	RETURNING 1)
SELECT (SELECT count(*) FROM gone) + (SELECT count(*) FROM added)`

// SyncPlans writes the plan table (plans) into platform.plan_features on db,
// the platform database, which tenant's registry reads (tenant cannot
// import this package): rows the table no longer has go, missing ones are
// added. It runs after the platform migrations on every path that installs
// or upgrades Agora (agora migrate, agora dev, tenanttest), so the database
// always holds this release's tiers. When a row changed it announces a
// registry change, so every node reloads its cities. It reports whether
// anything changed.
func SyncPlans(ctx context.Context, db *sqlx.DB) (changed bool, err error) {
	var ps, fs pq.StringArray
	for _, r := range PlanFeatures() {
		ps, fs = append(ps, string(r.Plan)), append(fs, string(r.Feature))
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sync plan features: %w", err)
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, syncPlans, ps, fs); err != nil {
		return false, fmt.Errorf("sync plan features: %w", err)
	}
	if n > 0 {
		if _, err := tx.ExecContext(ctx, `SELECT pg_notify($1, 'plan_features')`, tenant.NotifyChannel); err != nil {
			return false, fmt.Errorf("sync plan features: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sync plan features: %w", err)
	}
	return n > 0, nil
}
