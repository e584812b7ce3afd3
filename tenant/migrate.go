package tenant

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/migrations"
)

// Migrator runs the platform migrations and then every city's, each city in
// its own transaction, with bounded parallelism. Re-running resumes: cities
// that are up to date are found in one query per batch and skipped.
type Migrator struct {
	db       *DB
	reg      *Registry
	platform *migrations.Set
	city     *migrations.Set
}

// NewMigrator returns a Migrator for this release's migrations.
func NewMigrator(db *DB, reg *Registry) *Migrator {
	return &Migrator{db: db, reg: reg, platform: migrations.Platform(), city: migrations.City()}
}

// WithCityMigrations returns a copy of m that applies set to cities instead
// of this release's (tests and benchmarks simulate a new release with it).
func (m *Migrator) WithCityMigrations(set *migrations.Set) *Migrator {
	c := *m
	c.city = set
	return &c
}

// CitySet is the set of city migrations m applies.
func (m *Migrator) CitySet() *migrations.Set { return m.city }

// MigratePlatform applies pending platform migrations in one transaction,
// under an advisory lock so concurrent deploys wait for each other.
func MigratePlatform(ctx context.Context, db *sqlx.DB) ([]int, error) {
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate platform: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('agora:migrate:platform'))`); err != nil {
		return nil, fmt.Errorf("migrate platform: lock: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS platform`); err != nil {
		return nil, fmt.Errorf("migrate platform: %w", err)
	}
	applied, err := migrations.Platform().Apply(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("migrate platform: %w", err)
	}
	return applied, tx.Commit()
}

// CityStatus is where one city stands against the city migrations.
type CityStatus struct {
	Tenant  *Tenant
	Applied []int
	Pending []int
	Err     error // the version table could not be read
}

// Status reads the applied versions of every city, in one query per batch of
// cities on each shard.
func (m *Migrator) Status(ctx context.Context) ([]CityStatus, error) {
	ts, err := m.reg.List(ctx)
	if err != nil {
		return nil, err
	}
	byShard := map[string][]*Tenant{}
	for _, t := range ts {
		byShard[t.Shard] = append(byShard[t.Shard], t)
	}
	versions := map[ID][]int{}
	failed := map[ID]error{}
	for shard, list := range byShard {
		pool, err := m.db.Shard(shard)
		if err != nil {
			for _, t := range list {
				failed[t.ID] = err
			}
			continue
		}
		for start := 0; start < len(list); start += 250 {
			batch := list[start:min(start+250, len(list))]
			if err := readVersions(ctx, pool, batch, versions); err != nil {
				// One broken city must not hide the others: retry one by one.
				for _, t := range batch {
					if err := readVersions(ctx, pool, []*Tenant{t}, versions); err != nil {
						failed[t.ID] = err
					}
				}
			}
		}
	}
	out := make([]CityStatus, 0, len(ts))
	for _, t := range ts {
		st := CityStatus{Tenant: t, Applied: versions[t.ID], Err: failed[t.ID]}
		if st.Err == nil {
			done := map[int]bool{}
			for _, v := range st.Applied {
				done[v] = true
			}
			st.Pending = m.city.Pending(done)
		}
		out = append(out, st)
	}
	return out, nil
}

func readVersions(ctx context.Context, pool *sqlx.DB, batch []*Tenant, into map[ID][]int) error {
	var b strings.Builder
	for i, t := range batch {
		if !schemaRe.MatchString(t.Schema) {
			return fmt.Errorf("invalid schema name %q", t.Schema)
		}
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT %d::bigint AS id, coalesce(array_agg(version ORDER BY version), '{}') AS versions FROM %s.schema_migrations",
			t.ID, pq.QuoteIdentifier(t.Schema))
	}
	rows, err := pool.QueryxContext(ctx, b.String())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id ID
		var vs pq.Int64Array
		if err := rows.Scan(&id, &vs); err != nil {
			return err
		}
		list := make([]int, len(vs))
		for i, v := range vs {
			list[i] = int(v)
		}
		into[id] = list
	}
	return rows.Err()
}

// CityResult is the outcome of migrating one city.
type CityResult struct {
	Tenant   *Tenant
	Applied  []int
	Err      error
	Duration time.Duration
}

// Summary counts what a run of Cities did.
type Summary struct {
	Cities   int // cities known to the registry
	UpToDate int // needed nothing
	Migrated int
	Failed   []CityResult
	Skipped  int // not attempted because the run was cancelled
}

// Cities migrates every city with pending migrations, jobs at a time. start is
// called once with the number of cities to migrate, then done once per city
// (from several goroutines, serialised). A failed city does not stop the
// others; a cancelled ctx stops taking new cities and rolls back the ones in
// flight, so a re-run resumes cleanly.
func (m *Migrator) Cities(ctx context.Context, jobs int, start func(total int), done func(CityResult)) (Summary, error) {
	if jobs < 1 {
		jobs = 1
	}
	statuses, err := m.Status(ctx)
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Cities: len(statuses)}
	var todo []*Tenant
	for _, st := range statuses {
		if st.Err == nil && len(st.Pending) == 0 {
			sum.UpToDate++
			continue
		}
		todo = append(todo, st.Tenant)
	}
	if start != nil {
		start(len(todo))
	}
	var mu sync.Mutex
	work := make(chan *Tenant)
	var wg sync.WaitGroup
	for range jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for t := range work {
				began := time.Now()
				applied, err := m.City(ctx, t)
				r := CityResult{Tenant: t, Applied: applied, Err: err, Duration: time.Since(began)}
				mu.Lock()
				if err != nil && ctx.Err() != nil {
					// Interrupted, rolled back: not a failure of the city.
					sum.Skipped++
					mu.Unlock()
					continue
				}
				if err != nil {
					sum.Failed = append(sum.Failed, r)
				} else {
					sum.Migrated++
				}
				if done != nil {
					done(r)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i, t := range todo {
		if ctx.Err() != nil {
			sum.Skipped += len(todo) - i
			break
		}
		select {
		case work <- t:
		case <-ctx.Done():
			sum.Skipped += len(todo) - i
			break feed
		}
	}
	close(work)
	wg.Wait()
	sort.Slice(sum.Failed, func(i, j int) bool { return sum.Failed[i].Tenant.Slug < sum.Failed[j].Tenant.Slug })
	return sum, ctx.Err()
}

// City applies pending city migrations to one city in one transaction, under
// a per-city advisory lock, and returns the versions applied.
func (m *Migrator) City(ctx context.Context, t *Tenant) ([]int, error) {
	pool, err := m.db.Shard(t.Shard)
	if err != nil {
		return nil, err
	}
	tx, err := pool.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", t.Slug, err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtext('agora:migrate:' || $1))`, t.Schema); err != nil {
		return nil, fmt.Errorf("migrate %s: lock: %w", t.Slug, err)
	}
	// Wait at most this long for locks held by live traffic, rather than
	// stalling the city's requests behind a queued DDL lock.
	if _, err := tx.ExecContext(ctx, `SET LOCAL lock_timeout = '15s'`); err != nil {
		return nil, fmt.Errorf("migrate %s: %w", t.Slug, err)
	}
	if err := scope(ctx, tx, t.Schema); err != nil {
		return nil, fmt.Errorf("migrate %s: %w", t.Slug, err)
	}
	applied, err := m.city.Apply(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", t.Slug, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("migrate %s: commit: %w", t.Slug, err)
	}
	return applied, nil
}

// Drift is how one city's catalog differs from a freshly migrated schema.
type Drift struct {
	Tenant  *Tenant
	Missing []string // in the reference, not in the city
	Extra   []string // in the city, not in the reference
	Err     error
}

// Check builds a reference schema from the city migrations (in a transaction
// that is rolled back), then compares every city's tables, columns,
// constraints and indexes with it. It returns only cities that differ.
func (m *Migrator) Check(ctx context.Context) ([]Drift, error) {
	ref, err := m.reference(ctx)
	if err != nil {
		return nil, err
	}
	ts, err := m.reg.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []Drift
	for _, t := range ts {
		pool, err := m.db.Shard(t.Shard)
		if err != nil {
			out = append(out, Drift{Tenant: t, Err: err})
			continue
		}
		got, err := catalog(ctx, pool, t.Schema)
		if err != nil {
			out = append(out, Drift{Tenant: t, Err: err})
			continue
		}
		d := Drift{Tenant: t, Missing: minus(ref, got), Extra: minus(got, ref)}
		if len(d.Missing)+len(d.Extra) > 0 {
			out = append(out, d)
		}
	}
	return out, nil
}

const referenceSchema = "city_zz_agora_reference"

func (m *Migrator) reference(ctx context.Context) (map[string]bool, error) {
	tx, err := m.db.platform.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() // the reference schema never outlives the check
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA `+pq.QuoteIdentifier(referenceSchema)); err != nil {
		return nil, fmt.Errorf("drift check: reference schema: %w", err)
	}
	if err := scope(ctx, tx, referenceSchema); err != nil {
		return nil, err
	}
	if _, err := m.city.Apply(ctx, tx); err != nil {
		return nil, fmt.Errorf("drift check: reference schema: %w", err)
	}
	// Read the catalog with the same inert search_path the cities are read
	// with, or definitions would print unqualified names for the reference
	// and qualified ones for the cities.
	if _, err := tx.ExecContext(ctx, `SELECT set_config('search_path', 'pg_catalog', true)`); err != nil {
		return nil, err
	}
	return catalog(ctx, tx, referenceSchema)
}

// catalogSQL describes a schema as comparable lines: tables, columns with type,
// nullability and default, constraints and indexes, with the schema's own name
// replaced by a placeholder.
const catalogSQL = `
SELECT 'table ' || c.relname
  FROM pg_class c WHERE c.relnamespace = $1::text::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
UNION ALL
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       || CASE WHEN a.attidentity <> '' THEN ' identity' ELSE '' END
  FROM pg_attribute a
  JOIN pg_class c ON c.oid = a.attrelid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
 WHERE c.relnamespace = $1::text::regnamespace AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || c.relname || '.' || k.conname || ' ' || pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
 WHERE k.connamespace = $1::text::regnamespace
UNION ALL
SELECT 'index ' || indexname || ' ' || replace(indexdef, $2, 'SCHEMA.')
  FROM pg_indexes WHERE schemaname = $1::text`

func catalog(ctx context.Context, q sqlx.QueryerContext, schema string) (map[string]bool, error) {
	var lines []string
	if err := sqlx.SelectContext(ctx, q, &lines, catalogSQL, schema, pq.QuoteIdentifier(schema)+"."); err != nil {
		return nil, fmt.Errorf("read catalog of %s: %w", schema, err)
	}
	set := make(map[string]bool, len(lines))
	for _, l := range lines {
		set[strings.ReplaceAll(l, schema+".", "SCHEMA.")] = true
	}
	return set, nil
}

func minus(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if !b[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}
