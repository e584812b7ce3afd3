package tenant_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"agora/tenant"
	"agora/tenant/tenanttest"
)

// settingsName reads the city's settings.name through the door.
func settingsName(t testing.TB, db *tenant.DB, c *tenant.Tenant) string {
	t.Helper()
	var name string
	require.NoError(t, db.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &name, `SELECT name FROM settings`)
	}))
	return name
}

// searchPath runs SHOW search_path on the pool, outside any city transaction.
func searchPath(t testing.TB, pool *sqlx.DB) string {
	t.Helper()
	var p string
	require.NoError(t, pool.Get(&p, `SHOW search_path`))
	return p
}

// smallPool opens a one-connection pool on the env's database, so every
// transaction and every check afterwards runs on the same connection.
func smallPool(t testing.TB, env *tenanttest.Env) (*sqlx.DB, *tenant.DB) {
	t.Helper()
	pool, err := tenant.OpenPool(env.URL, tenant.PoolOptions{MaxConns: 1, ConnMaxLifetime: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { pool.Close() })
	return pool, tenant.NewDB(pool, nil)
}

func TestDoorUnscopedQueryFails(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	env.City(t, "gent")
	pool := env.DB.Platform()

	require.Equal(t, "pg_catalog", searchPath(t, pool))
	for _, q := range []string{`SELECT name FROM settings`, `SELECT count(*) FROM topics`, `INSERT INTO areas (title) VALUES ('{}')`} {
		_, err := pool.Exec(q)
		require.ErrorContains(t, err, "does not exist", q)
		require.ErrorContains(t, err, "relation", q)
	}
	// Schema-qualified, the same table is there: the failure above is the
	// door at work, not a missing city.
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM city_gent.settings`))
}

func TestDoorWithoutTenant(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ran := false
	err := env.DB.InTx(context.Background(), func(*tenant.Tx) error { ran = true; return nil })
	require.ErrorIs(t, err, tenant.ErrNoTenant)
	err = env.DB.InReadTx(context.Background(), func(*tenant.Tx) error { ran = true; return nil })
	require.ErrorIs(t, err, tenant.ErrNoTenant)
	err = env.DB.InTx(tenant.WithTenant(context.Background(), nil), func(*tenant.Tx) error { ran = true; return nil })
	require.ErrorIs(t, err, tenant.ErrNoTenant)
	require.False(t, ran, "fn ran without a city")

	// A tenant that did not come from the registry has no prepared scope.
	err = env.DB.InTx(tenant.WithTenant(context.Background(), &tenant.Tenant{Slug: "gent", Schema: "city_gent"}), func(*tenant.Tx) error { ran = true; return nil })
	require.Error(t, err)
	require.False(t, ran, "fn ran for a city not loaded through the registry")
}

func TestDoorReadTxRefusesWrites(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "gent")
	ctx := tenanttest.Ctx(c)

	err := env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE settings SET name = 'Hacked'`)
		return err
	})
	require.ErrorContains(t, err, "read-only transaction")
	err = env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO areas (title) VALUES ('{"en":"North"}')`)
		return err
	})
	require.ErrorContains(t, err, "read-only transaction")
	require.Equal(t, "City gent", settingsName(t, env.DB, c))

	// The same write through InTx goes through.
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE settings SET name = 'Gent'`)
		return err
	}))
	require.Equal(t, "Gent", settingsName(t, env.DB, c))
}

// TestDoorResetsSearchPath runs many scoped transactions (committed, failed,
// panicking, read-only) on a one-connection pool and checks after each one
// that the connection is back to the inert search_path.
func TestDoorResetsSearchPath(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	cities := []*tenant.Tenant{env.City(t, "gent"), env.City(t, "sint_niklaas")}
	pool, db := smallPool(t, env)
	ctx := context.Background()

	var pid int
	require.NoError(t, pool.Get(&pid, `SELECT pg_backend_pid()`))
	boom := errors.New("boom")
	for i := range 40 {
		c := cities[i%2]
		cctx := tenanttest.Ctx(c)
		var inside string
		var insidePID int
		body := func(tx *tenant.Tx) error {
			if err := tx.GetContext(cctx, &inside, `SHOW search_path`); err != nil {
				return err
			}
			return tx.GetContext(cctx, &insidePID, `SELECT pg_backend_pid()`)
		}
		switch i % 4 {
		case 0:
			require.NoError(t, db.InTx(cctx, body))
		case 1:
			require.NoError(t, db.InReadTx(cctx, body))
		case 2:
			err := db.InTx(cctx, func(tx *tenant.Tx) error {
				if err := body(tx); err != nil {
					return err
				}
				return boom
			})
			require.ErrorIs(t, err, boom)
		case 3:
			require.PanicsWithValue(t, "boom", func() {
				_ = db.InTx(cctx, func(tx *tenant.Tx) error {
					if err := body(tx); err != nil {
						return err
					}
					panic("boom")
				})
			})
		}
		require.Equal(t, fmt.Sprintf(`"%s"`, c.Schema), inside, "iteration %d", i)
		require.Equal(t, pid, insidePID, "iteration %d ran on another connection", i)
		require.Equal(t, "pg_catalog", searchPath(t, pool), "iteration %d", i)
		var cur string
		require.NoError(t, pool.Get(&cur, `SELECT current_schema()`))
		require.Equal(t, "pg_catalog", cur, "iteration %d: an application schema is in scope", i)
		_, err := pool.ExecContext(ctx, `SELECT 1 FROM settings`)
		require.ErrorContains(t, err, "does not exist", "iteration %d", i)
	}
}

func TestDoorRollsBack(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "gent")
	ctx := tenanttest.Ctx(c)
	write := func(tx *tenant.Tx, name string) {
		_, err := tx.ExecContext(ctx, `UPDATE settings SET name = $1`, name)
		require.NoError(t, err)
		var got string
		require.NoError(t, tx.GetContext(ctx, &got, `SELECT name FROM settings`))
		require.Equal(t, name, got, "the write is visible inside its transaction")
	}

	boom := errors.New("boom")
	err := env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		write(tx, "Written then failed")
		return fmt.Errorf("save: %w", boom)
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, "City gent", settingsName(t, env.DB, c))

	require.Panics(t, func() {
		_ = env.DB.InTx(ctx, func(tx *tenant.Tx) error {
			write(tx, "Written then panicked")
			panic("boom")
		})
	})
	require.Equal(t, "City gent", settingsName(t, env.DB, c))

	// A failed statement aborts the transaction; the earlier write goes too.
	err = env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		write(tx, "Written then broken")
		_, err := tx.ExecContext(ctx, `INSERT INTO pages (slug, title) VALUES ('about', '{}')`) // duplicate slug
		return err
	})
	require.ErrorContains(t, err, "duplicate key")
	require.Equal(t, "City gent", settingsName(t, env.DB, c))

	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error { write(tx, "Committed"); return nil }))
	require.Equal(t, "Committed", settingsName(t, env.DB, c))
}

// TestDoorCancelledContext cancels the context while a statement of the
// transaction is running on the server.
func TestDoorCancelledContext(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "gent")
	pool, db := smallPool(t, env)
	ctx, cancel := context.WithCancel(tenanttest.Ctx(c))
	defer cancel()

	var watchErr error
	watched := make(chan struct{})
	go func() {
		// Cancel once the sleep below is running on the server.
		defer close(watched)
		defer cancel()
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		deadline := time.Now().Add(10 * time.Second)
		for ; time.Now().Before(deadline); <-tick.C {
			var n int
			if watchErr = env.DB.Platform().Get(&n, `SELECT count(*) FROM pg_catalog.pg_stat_activity
				WHERE datname = current_database() AND state = 'active' AND query = 'SELECT pg_sleep(30)'`); watchErr != nil || n > 0 {
				return
			}
		}
		watchErr = errors.New("pg_sleep never showed up in pg_stat_activity")
	}()

	began := time.Now()
	err := db.InTx(ctx, func(tx *tenant.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE settings SET name = 'Cancelled'`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `SELECT pg_sleep(30)`)
		return err
	})
	<-watched
	require.NoError(t, watchErr)
	require.Error(t, err)
	require.True(t, errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "canceling statement"), "InTx: %v", err)
	require.Less(t, time.Since(began), 25*time.Second, "the statement was not cancelled")

	// The write is gone, and the pool's only connection is usable and unscoped.
	require.Equal(t, "pg_catalog", searchPath(t, pool))
	require.Equal(t, "City gent", settingsName(t, db, c))
	require.Equal(t, "pg_catalog", searchPath(t, pool))
	// The cancelled connection is closed, not parked in an open transaction
	// (its server process may take a moment to go away).
	require.Eventually(t, func() bool {
		return count(t, env.DB.Platform(), `SELECT count(*) FROM pg_catalog.pg_stat_activity
			WHERE datname = current_database() AND state LIKE 'idle in transaction%'`) == 0
	}, 5*time.Second, 10*time.Millisecond, "a transaction was left open")
}

// TestDoorIsolatesCities hammers the door from many goroutines over many
// cities and checks that each transaction only ever sees its own city.
func TestDoorIsolatesCities(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	const nCities, workers, perWorker = 20, 50, 40
	cities := make([]*tenant.Tenant, nCities)
	var wg sync.WaitGroup
	errs := make(chan error, nCities)
	for i := range cities {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := env.Provisioner.Create(context.Background(), tenant.Spec{Slug: fmt.Sprintf("city_%02d", i), Name: "City"})
			if err != nil {
				errs <- err
				return
			}
			cities[i] = c.Tenant
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	marker := func(c *tenant.Tenant) string { return "marker of " + c.Slug }
	for _, c := range cities {
		ctx := tenanttest.Ctx(c)
		require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE settings SET name = $1`, marker(c))
			return err
		}))
	}

	var iterations atomic.Int64
	failures := make(chan string, workers*perWorker)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				c := cities[(w*7+i)%nCities]
				ctx := tenanttest.Ctx(c)
				var name, schema string
				fn := func(tx *tenant.Tx) error {
					if err := tx.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
						return err
					}
					if i%2 == 0 {
						// A write that would land in the wrong city if scopes leaked.
						return tx.GetContext(ctx, &name, `UPDATE settings SET name = $1 RETURNING name`, marker(c))
					}
					return tx.GetContext(ctx, &name, `SELECT name FROM settings`)
				}
				var err error
				if i%2 == 0 {
					err = env.DB.InTx(ctx, fn)
				} else {
					err = env.DB.InReadTx(ctx, fn)
				}
				iterations.Add(1)
				switch {
				case err != nil:
					failures <- fmt.Sprintf("%s: %v", c.Slug, err)
				case name != marker(c) || schema != c.Schema:
					failures <- fmt.Sprintf("%s saw %q in schema %s", c.Slug, name, schema)
				}
			}
		}()
	}
	wg.Wait()
	close(failures)
	var all []string
	for f := range failures {
		all = append(all, f)
	}
	require.Empty(t, all)
	require.GreaterOrEqual(t, iterations.Load(), int64(2000))
	for _, c := range cities {
		require.Equal(t, marker(c), settingsName(t, env.DB, c))
	}
}
