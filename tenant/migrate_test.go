package tenant_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/migrations"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// markerMigration simulates the next release's city migration.
var markerMigration = migrations.Migration{
	Version: 9001, Name: "add_marker",
	SQL: "ALTER TABLE topics ADD COLUMN marker text; CREATE INDEX topics_marker ON topics (marker);",
}

// nextRelease returns env's migrator with markerMigration added.
func nextRelease(env *tenanttest.Env) *tenant.Migrator {
	return env.Migrator.WithCityMigrations(migrations.City().With(markerMigration))
}

// createCities provisions n cities named <prefix>_NN, four at a time.
func createCities(t testing.TB, env *tenanttest.Env, prefix string, n int) []*tenant.Tenant {
	t.Helper()
	out := make([]*tenant.Tenant, n)
	errs := make([]error, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := env.Provisioner.Create(context.Background(), tenant.Spec{
					Slug: fmt.Sprintf("%s_%02d", prefix, i), Name: fmt.Sprintf("City %d", i), Locales: []string{"en", "fr"},
				})
				if err != nil {
					errs[i] = err
					continue
				}
				out[i] = c.Tenant
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return out
}

// markerState reports, for one city, how many times version 9001 is recorded
// and whether the marker column and index exist.
func markerState(t testing.TB, env *tenanttest.Env, c *tenant.Tenant) (recorded int, column, index bool) {
	t.Helper()
	ctx := tenanttest.Ctx(c)
	require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.GetContext(ctx, &recorded, `SELECT count(*) FROM schema_migrations WHERE version = 9001`); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &column, `SELECT count(*) = 1 FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = 'topics' AND column_name = 'marker'`); err != nil {
			return err
		}
		return tx.GetContext(ctx, &index, `SELECT to_regclass('topics_marker') IS NOT NULL`)
	}))
	return recorded, column, index
}

// pendingBySlug runs Status and maps each city to its pending versions.
func pendingBySlug(t testing.TB, m *tenant.Migrator) map[string][]int {
	t.Helper()
	sts, err := m.Status(context.Background())
	require.NoError(t, err)
	out := map[string][]int{}
	for _, st := range sts {
		require.NoError(t, st.Err, st.Tenant.Slug)
		out[st.Tenant.Slug] = st.Pending
	}
	return out
}

func TestMigrateCities(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	cities := createCities(t, env, "city", 50)
	mig := nextRelease(env)

	for slug, pending := range pendingBySlug(t, mig) {
		require.Equal(t, []int{9001}, pending, slug)
	}
	for slug, pending := range pendingBySlug(t, env.Migrator) {
		require.Empty(t, pending, slug)
	}

	total := -1
	var results []tenant.CityResult
	sum, err := mig.Cities(ctx, 4, func(n int) { total = n }, func(r tenant.CityResult) { results = append(results, r) })
	require.NoError(t, err)
	require.Equal(t, 50, total)
	require.Equal(t, tenant.Summary{Cities: 50, Migrated: 50}, sum)
	require.Len(t, results, 50)
	seen := map[string]bool{}
	for _, r := range results {
		require.NoError(t, r.Err, r.Tenant.Slug)
		require.Equal(t, []int{9001}, r.Applied, r.Tenant.Slug)
		seen[r.Tenant.Slug] = true
	}
	require.Len(t, seen, 50, "a city was migrated twice or not at all")
	for _, c := range cities {
		recorded, column, index := markerState(t, env, c)
		require.Equal(t, 1, recorded, c.Slug)
		require.True(t, column, c.Slug)
		require.True(t, index, c.Slug)
	}
	for slug, pending := range pendingBySlug(t, mig) {
		require.Empty(t, pending, slug)
	}

	// Re-running finds nothing to do.
	total, results = -1, nil
	sum, err = mig.Cities(ctx, 4, func(n int) { total = n }, func(r tenant.CityResult) { results = append(results, r) })
	require.NoError(t, err)
	require.Zero(t, total)
	require.Empty(t, results)
	require.Equal(t, tenant.Summary{Cities: 50, UpToDate: 50}, sum)
}

// TestMigrateCitiesResumes kills a run part-way and then resumes it.
func TestMigrateCitiesResumes(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	cities := createCities(t, env, "city", 50)
	mig := nextRelease(env)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	finished := 0
	sum, err := mig.Cities(ctx, 4, nil, func(tenant.CityResult) {
		finished++
		if finished == 20 {
			cancel()
		}
	})
	require.ErrorIs(t, err, context.Canceled)
	t.Logf("cancelled run: %d migrated, %d failed, %d skipped", sum.Migrated, len(sum.Failed), sum.Skipped)
	require.Equal(t, 50, sum.Cities)
	require.Equal(t, 50, sum.Migrated+len(sum.Failed)+sum.Skipped, "%+v", sum)
	require.Positive(t, sum.Skipped, "the run went on after it was cancelled")
	for _, r := range sum.Failed {
		// Cities in flight when the run is cancelled are rolled back; depending
		// on where the cancellation lands, database/sql and lib/pq report it
		// as a cancelled context or statement, a bad connection or a
		// transaction already rolled back.
		require.True(t, errors.Is(r.Err, context.Canceled) || errors.Is(r.Err, driver.ErrBadConn) ||
			errors.Is(r.Err, sql.ErrTxDone) || strings.Contains(r.Err.Error(), "canceling statement"),
			"%s failed for another reason than the cancellation: %v", r.Tenant.Slug, r.Err)
	}

	var migrated, untouched int
	for _, c := range cities {
		recorded, column, index := markerState(t, env, c)
		require.Equal(t, column, recorded == 1, "%s: version table and schema disagree", c.Slug)
		require.Equal(t, column, index, "%s: half a migration", c.Slug)
		if column {
			migrated++
		} else {
			untouched++
		}
	}
	require.GreaterOrEqual(t, migrated, 20)
	require.Positive(t, untouched)
	require.Equal(t, sum.Migrated, migrated, "the summary does not match the databases")

	pending := 0
	for _, p := range pendingBySlug(t, mig) {
		if len(p) > 0 {
			require.Equal(t, []int{9001}, p)
			pending++
		}
	}
	require.Equal(t, untouched, pending)

	// Resume: only the rest is migrated.
	sum, err = mig.Cities(context.Background(), 4, nil, nil)
	require.NoError(t, err)
	require.Equal(t, tenant.Summary{Cities: 50, UpToDate: migrated, Migrated: untouched}, sum)
	for _, c := range cities {
		recorded, column, index := markerState(t, env, c)
		require.Equal(t, 1, recorded, c.Slug)
		require.True(t, column && index, c.Slug)
	}
	for slug, p := range pendingBySlug(t, mig) {
		require.Empty(t, p, slug)
	}
}

func TestMigrateCitiesReportsFailures(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	cities := createCities(t, env, "city", 6)
	broken := cities[3]
	bctx := tenanttest.Ctx(broken)
	require.NoError(t, env.DB.InTx(bctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(bctx, `ALTER TABLE topics ADD COLUMN marker text`)
		return err
	}))
	mig := nextRelease(env)

	var failedInCallback []string
	sum, err := mig.Cities(context.Background(), 4, nil, func(r tenant.CityResult) {
		if r.Err != nil {
			failedInCallback = append(failedInCallback, r.Tenant.Slug)
		}
	})
	require.NoError(t, err, "one city's failure is reported in the summary, not as the run's error")
	require.Equal(t, 6, sum.Cities)
	require.Equal(t, 5, sum.Migrated)
	require.Len(t, sum.Failed, 1)
	require.Equal(t, broken.Slug, sum.Failed[0].Tenant.Slug)
	require.ErrorContains(t, sum.Failed[0].Err, broken.Slug)
	require.ErrorContains(t, sum.Failed[0].Err, "9001")
	require.ErrorContains(t, sum.Failed[0].Err, `column "marker" of relation "topics" already exists`)
	require.Equal(t, []string{broken.Slug}, failedInCallback)

	// The broken city is as it was; the others are migrated.
	for _, c := range cities {
		recorded, column, index := markerState(t, env, c)
		require.True(t, column, c.Slug)
		if c.ID == broken.ID {
			require.Zero(t, recorded)
			require.False(t, index, "the failed migration was not rolled back")
		} else {
			require.Equal(t, 1, recorded, c.Slug)
			require.True(t, index, c.Slug)
		}
	}
	pending := pendingBySlug(t, mig)
	require.Equal(t, []int{9001}, pending[broken.Slug])
	delete(pending, broken.Slug)
	for slug, p := range pending {
		require.Empty(t, p, slug)
	}

	// A re-run tries the broken city again, and only it.
	sum, err = mig.Cities(context.Background(), 4, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 5, sum.UpToDate)
	require.Zero(t, sum.Migrated)
	require.Len(t, sum.Failed, 1)
	require.Equal(t, broken.Slug, sum.Failed[0].Tenant.Slug)
}

// driftBySlug runs Check and maps each drifting city to its drift.
func driftBySlug(t testing.TB, m *tenant.Migrator) map[string]tenant.Drift {
	t.Helper()
	drift, err := m.Check(context.Background())
	require.NoError(t, err)
	out := map[string]tenant.Drift{}
	for _, d := range drift {
		require.NoError(t, d.Err, d.Tenant.Slug)
		_, dup := out[d.Tenant.Slug]
		require.False(t, dup, "%s reported twice", d.Tenant.Slug)
		out[d.Tenant.Slug] = d
	}
	return out
}

// newLines returns the lines of after that are not in before.
func newLines(before, after []string) []string {
	seen := map[string]bool{}
	for _, l := range before {
		seen[l] = true
	}
	var out []string
	for _, l := range after {
		if !seen[l] {
			out = append(out, l)
		}
	}
	return out
}

// TestMigrateCheckFreshCities: cities made by the provisioning code, and
// cities migrated to a new release, do not drift from the reference.
func TestMigrateCheckFreshCities(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	createCities(t, env, "city", 3)
	require.Empty(t, driftBySlug(t, env.Migrator), "fresh cities drift")

	mig := env.Migrator.WithCityMigrations(migrations.City().With(markerMigration, migrations.Migration{
		Version: 9002, Name: "probe_table",
		SQL: "CREATE TABLE drift_probe (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, topic_id bigint NOT NULL REFERENCES topics (id));",
	}))
	sum, err := mig.Cities(context.Background(), 2, nil, nil)
	require.NoError(t, err)
	require.Equal(t, 3, sum.Migrated)
	require.Empty(t, driftBySlug(t, mig), "migrated cities drift")
}

// TestMigrateCheckDrift makes a different hand-made change in two cities and
// checks that each is reported under its city. It compares with the drift of
// the fresh cities (which TestMigrateCheckFreshCities requires to be empty),
// so that it tests the reporting even while that test is skipped.
func TestMigrateCheckDrift(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	cities := createCities(t, env, "city", 3)
	before := driftBySlug(t, env.Migrator)
	require.False(t, schemaExists(t, env, "city_zz_agora_reference"), "the reference schema outlived the check")

	alter := func(c *tenant.Tenant, stmt string) {
		cctx := tenanttest.Ctx(c)
		require.NoError(t, env.DB.InTx(cctx, func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(cctx, stmt)
			return err
		}))
	}
	alter(cities[0], `ALTER TABLE pages ADD COLUMN extra int`)
	alter(cities[2], `DROP INDEX invitations_pending_email`)
	after := driftBySlug(t, env.Migrator)
	require.False(t, schemaExists(t, env, "city_zz_agora_reference"))

	a, b, c := cities[0].Slug, cities[1].Slug, cities[2].Slug
	require.Contains(t, after, a, "the added column was not found")
	require.Equal(t, []string{"column pages.extra integer"}, newLines(before[a].Extra, after[a].Extra))
	require.Empty(t, newLines(before[a].Missing, after[a].Missing))

	require.Contains(t, after, c, "the dropped index was not found")
	require.Empty(t, newLines(before[c].Extra, after[c].Extra))
	missing := newLines(before[c].Missing, after[c].Missing)
	require.Len(t, missing, 1)
	require.True(t, strings.HasPrefix(missing[0], "index invitations_pending_email "), missing[0])
	require.Contains(t, missing[0], "WHERE (accepted_at IS NULL)")
	require.NotContains(t, missing[0], cities[2].Schema, "the schema name leaked into the comparison")

	require.Equal(t, before[b].Missing, after[b].Missing, "an untouched city changed")
	require.Equal(t, before[b].Extra, after[b].Extra, "an untouched city changed")
	want := map[string]bool{a: true, c: true}
	for slug := range before {
		want[slug] = true
	}
	got := map[string]bool{}
	for slug := range after {
		got[slug] = true
	}
	require.Equal(t, want, got, "cities reported as drifting")
}

func TestMigratePlatformTwice(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool, err := tenant.OpenPool(tenanttest.NewDatabase(t), tenant.PoolOptions{MaxConns: 2, ConnMaxLifetime: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { pool.Close() })

	var versions []int
	for _, m := range migrations.Platform().Migrations {
		versions = append(versions, m.Version)
	}
	require.NotEmpty(t, versions)
	applied, err := tenant.MigratePlatform(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, versions, applied)
	var tables []string
	require.NoError(t, pool.Select(&tables, `SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'platform' ORDER BY 1`))
	require.Contains(t, tables, "tenants")
	require.Contains(t, tables, "schema_migrations")

	applied, err = tenant.MigratePlatform(ctx, pool)
	require.NoError(t, err)
	require.Empty(t, applied)
	require.Equal(t, len(versions), count(t, pool, `SELECT count(*) FROM platform.schema_migrations`))
	var again []string
	require.NoError(t, pool.Select(&again, `SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'platform' ORDER BY 1`))
	require.Equal(t, tables, again)
}
