// Package migrations holds Agora's embedded SQL migrations and applies them
// inside a caller's transaction, so a city migrates (or is created) atomically.
//
// Agora does not use goose or golang-migrate here: both run each migration in a
// transaction they open themselves on a *sql.DB, so they cannot join the single
// transaction that creates a city (schema + migrations + seed) nor set the city's
// search_path transaction-locally. This runner is deliberately small: ordered
// files, a version table per schema, one transaction per schema.
package migrations

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"

	"github.com/jmoiron/sqlx"
)

//go:embed platform/*.sql city/*.sql
var files embed.FS

// Migration is one SQL file: its version, name and text.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Set is an ordered list of migrations for one kind of schema.
type Set struct {
	Kind       string // "platform" or "city"
	Migrations []Migration
	// versionTable is the (possibly schema-qualified) version table name.
	versionTable string
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// Platform returns the migrations of the shared platform schema.
func Platform() *Set { return mustLoad(files, "platform", "platform.schema_migrations") }

// City returns the migrations every city schema runs. They are unqualified and
// run with the city's schema as the transaction's search_path.
func City() *Set { return mustLoad(files, "city", "schema_migrations") }

func mustLoad(fsys fs.FS, dir, table string) *Set {
	s, err := Load(fsys, dir, table)
	if err != nil {
		panic(err)
	}
	return s
}

// Load reads NNNN_name.sql files of dir from fsys, ordered by version. Tests
// use it to add migrations of their own. It fails on a malformed name or a
// duplicate version.
func Load(fsys fs.FS, dir, versionTable string) (*Set, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("load migrations %s: %w", dir, err)
	}
	s := &Set{Kind: path.Base(dir), versionTable: versionTable}
	seen := map[int]string{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if e.IsDir() || m == nil {
			return nil, fmt.Errorf("load migrations %s: %q is not named NNNN_name.sql", dir, e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("load migrations %s: version %d used by %s and %s", dir, v, prev, e.Name())
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("load migrations %s: %w", dir, err)
		}
		s.Migrations = append(s.Migrations, Migration{Version: v, Name: m[2], SQL: string(body)})
	}
	sort.Slice(s.Migrations, func(i, j int) bool { return s.Migrations[i].Version < s.Migrations[j].Version })
	return s, nil
}

// With returns a copy of s with extra migrations appended (versions must be
// higher than s's). Benchmarks and tests use it to simulate a new release.
func (s *Set) With(extra ...Migration) *Set {
	out := &Set{Kind: s.Kind, versionTable: s.versionTable}
	out.Migrations = append(append(out.Migrations, s.Migrations...), extra...)
	sort.Slice(out.Migrations, func(i, j int) bool { return out.Migrations[i].Version < out.Migrations[j].Version })
	return out
}

// Latest is the highest version in s (0 when empty).
func (s *Set) Latest() int {
	if len(s.Migrations) == 0 {
		return 0
	}
	return s.Migrations[len(s.Migrations)-1].Version
}

// VersionTable is the name of the table that records applied versions.
func (s *Set) VersionTable() string { return s.versionTable }

// Apply runs every migration of s not yet recorded in the version table, in
// order, on tx. The caller owns the transaction and, for a city, has already
// set its search_path. It returns the versions applied. The caller should hold
// a lock (Lock) so two migrators never race on one schema.
func (s *Set) Apply(ctx context.Context, tx sqlx.ExtContext) ([]int, error) {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS `+s.versionTable+` (
		version    int PRIMARY KEY,
		name       text NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return nil, fmt.Errorf("create version table: %w", err)
	}
	done, err := s.Applied(ctx, tx)
	if err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range s.Migrations {
		if done[m.Version] {
			continue
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return applied, fmt.Errorf("migration %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+s.versionTable+` (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			return applied, fmt.Errorf("record migration %04d: %w", m.Version, err)
		}
		applied = append(applied, m.Version)
	}
	return applied, nil
}

// Applied returns the set of versions recorded in the version table.
func (s *Set) Applied(ctx context.Context, q sqlx.QueryerContext) (map[int]bool, error) {
	var versions []int
	if err := sqlx.SelectContext(ctx, q, &versions, `SELECT version FROM `+s.versionTable); err != nil {
		return nil, fmt.Errorf("read applied migrations: %w", err)
	}
	done := make(map[int]bool, len(versions))
	for _, v := range versions {
		done[v] = true
	}
	return done, nil
}

// Pending reports whether a schema with the given applied versions still has
// migrations of s to run.
func (s *Set) Pending(applied map[int]bool) []int {
	var out []int
	for _, m := range s.Migrations {
		if !applied[m.Version] {
			out = append(out, m.Version)
		}
	}
	return out
}
