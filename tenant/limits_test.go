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

// TestLimitsShareThePoolBetweenCities: with a share of two connections per
// city, a city that holds its two cannot take a third (ErrBusy after the
// acquire timeout), while another city still gets connections at once; a
// freed slot serves the waiting city again.
func TestLimitsShareThePoolBetweenCities(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	a, b := env.City(t, "sharea"), env.City(t, "shareb")
	db := env.DB.WithLimits(tenant.Limits{AcquireTimeout: 100 * time.Millisecond, CityMaxConns: 2})

	release := make(chan struct{})
	held := make(chan struct{}, 2)
	done := make(chan error, 2)
	for range 2 {
		go func() {
			done <- db.InTx(tenanttest.Ctx(a), func(*tenant.Tx) error {
				held <- struct{}{}
				<-release
				return nil
			})
		}()
	}
	<-held
	<-held
	err := db.InReadTx(tenanttest.Ctx(a), func(*tenant.Tx) error { return nil })
	require.ErrorIs(t, err, tenant.ErrBusy, "the city's share is taken")
	require.NoError(t, db.InReadTx(tenanttest.Ctx(b), func(*tenant.Tx) error { return nil }), "another city is not starved")
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(a), func(*tenant.Tx) error { return nil }),
		"background work, without limits, is not capped")
	close(release)
	require.NoError(t, <-done)
	require.NoError(t, <-done)
	require.NoError(t, db.InReadTx(tenanttest.Ctx(a), func(*tenant.Tx) error { return nil }), "the slots came back")

	// A caller's own cancellation is not "busy".
	ctx, cancel := context.WithCancel(tenanttest.Ctx(a))
	cancel()
	err = db.InTx(ctx, func(*tenant.Tx) error { return nil })
	require.Error(t, err)
	require.False(t, errors.Is(err, tenant.ErrBusy), "%v", err)
}

// TestLockIsPerCity: the same lock name in two cities never makes one wait
// for the other; in one city it queues.
func TestLockIsPerCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	a, b := env.City(t, "locka"), env.City(t, "lockb")
	release := make(chan struct{})
	locked := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- env.DB.InTx(tenanttest.Ctx(a), func(tx *tenant.Tx) error {
			if err := tx.Lock(context.Background(), "seats"); err != nil {
				return err
			}
			close(locked)
			<-release
			return nil
		})
	}()
	<-locked
	try := func(c *tenant.Tenant) bool {
		var got bool
		require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			return tx.GetContext(context.Background(), &got, `SELECT pg_try_advisory_xact_lock(hashtextextended('seats', $1))`, int64(c.ID))
		}))
		return got
	}
	require.True(t, try(b), "city B takes its own seats lock while A holds A's")
	require.False(t, try(a), "in city A the lock is held")
	close(release)
	require.NoError(t, <-done)
	require.True(t, try(a))
}
