package tenant_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/tenant"
	"agora/tenant/tenanttest"
)

func TestReadScopeSharesOneTransaction(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	a := env.City(t, "scopea")
	b := env.City(t, "scopeb")
	// One connection only: a scope that held two would deadlock here.
	pool, err := tenant.OpenPool(env.URL, tenant.PoolOptions{MaxConns: 1, ConnMaxLifetime: time.Minute})
	require.NoError(t, err)
	defer pool.Close()
	db := tenant.NewDB(pool, nil)
	bg := context.Background()

	ctx, end := db.ReadScope(tenanttest.Ctx(a))
	var pid1, pid2 int
	var ts1, ts2 time.Time
	read := func(pid *int, ts *time.Time) {
		require.NoError(t, db.InReadTx(ctx, func(tx *tenant.Tx) error {
			return tx.QueryRowxContext(bg, `SELECT pg_backend_pid(), now()`).Scan(pid, ts)
		}))
	}
	read(&pid1, &ts1)
	read(&pid2, &ts2)
	require.Equal(t, pid1, pid2)
	require.True(t, ts1.Equal(ts2), "now() is the transaction's start: both reads share it")

	// A failed read ends the transaction; the next read works in a new one.
	err = db.InReadTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(bg, `SELECT * FROM no_such_table`)
		return err
	})
	require.Error(t, err)
	var name string
	require.NoError(t, db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.GetContext(bg, &name, `SELECT name FROM settings`) }))
	require.Equal(t, a.Name, name)

	// A write inside the scope releases the shared connection first (else,
	// with one connection, this would hang) and later reads see the write.
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, db.InTx(wctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(bg, `UPDATE settings SET name = 'Renamed A'`)
		return err
	}))
	require.NoError(t, db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.GetContext(bg, &name, `SELECT name FROM settings`) }))
	require.Equal(t, "Renamed A", name)

	// Writes inside a read scope's read are refused.
	err = db.InReadTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(bg, `UPDATE settings SET name = 'nope'`)
		return err
	})
	require.Error(t, err)
	end()
	end() // idempotent

	// After the scope the connection is back, unscoped.
	var path string
	require.NoError(t, pool.GetContext(bg, &path, `SHOW search_path`))
	require.Equal(t, "pg_catalog", path)

	// A scope of city A never serves city B, even when B's context is derived
	// from it.
	ctx, end = db.ReadScope(tenanttest.Ctx(a))
	defer end()
	require.NoError(t, db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.GetContext(bg, &name, `SELECT name FROM settings`) }))
	require.Equal(t, "Renamed A", name)
	end() // release the only connection before B reads
	bctx := tenant.WithTenant(ctx, b)
	require.NoError(t, db.InReadTx(bctx, func(tx *tenant.Tx) error { return tx.GetContext(bg, &name, `SELECT name FROM settings`) }))
	require.Equal(t, b.Name, name)

	// A panic inside a scoped read ends the transaction and propagates.
	ctx, end = db.ReadScope(tenanttest.Ctx(a))
	defer end()
	require.Panics(t, func() {
		_ = db.InReadTx(ctx, func(tx *tenant.Tx) error { panic(errors.New("boom")) })
	})
	require.NoError(t, db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.GetContext(bg, &name, `SELECT name FROM settings`) }))
}
