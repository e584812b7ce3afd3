package tenant_test

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/tenant"
	"agora/tenant/tenanttest"
)

// resolve resolves host on reg and returns the city's id (0 when unknown).
func resolve(t testing.TB, reg *tenant.Registry, host string) (tenant.ID, tenant.Resolution) {
	t.Helper()
	c, res, err := reg.Resolve(context.Background(), host)
	require.NoError(t, err)
	if res == tenant.Unknown {
		require.Nil(t, c, "an unknown host came with a city")
		return 0, res
	}
	require.NotNil(t, c)
	return c.ID, res
}

func TestResolve(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	gent := env.City(t, "gent", "gent.example.org", "www.gent.example.org", "stad.gent")
	sn := env.City(t, "sint_niklaas")
	reg := env.Registry

	tests := []struct {
		host string
		id   tenant.ID
		res  tenant.Resolution
	}{
		{"gent.example.org", gent.ID, tenant.Serve},
		{"gent.agora.test", gent.ID, tenant.Serve},
		{"www.gent.example.org", gent.ID, tenant.Redirect},
		{"stad.gent", gent.ID, tenant.Redirect},
		{"sint-niklaas.agora.test", sn.ID, tenant.Serve},
		{"unknown.example.org", 0, tenant.Unknown},
		{"nobody.agora.test", 0, tenant.Unknown},
		{"www.gent.agora.test", 0, tenant.Unknown},
		{"agora.test", 0, tenant.Unknown},
		{tenanttest.PlatformHost, 0, tenant.Unknown},
		{"example.org", 0, tenant.Unknown},
	}
	for range 2 { // cold, then from cache
		for _, tc := range tests {
			id, res := resolve(t, reg, tc.host)
			require.Equal(t, tc.res, res, tc.host)
			require.Equal(t, tc.id, id, tc.host)
		}
	}
	c, _, err := reg.Resolve(context.Background(), "www.gent.example.org")
	require.NoError(t, err)
	require.Equal(t, "gent.example.org", c.PrimaryHost, "a redirect needs the primary host")
	c, _, err = reg.Resolve(context.Background(), "sint-niklaas.agora.test")
	require.NoError(t, err)
	require.Equal(t, "sint-niklaas.agora.test", c.PrimaryHost)
	require.Equal(t, "city_sint_niklaas", c.Schema)

	// A deleted city answers nowhere, its default host included.
	require.NoError(t, env.Ops.Delete(context.Background(), "gent"))
	for _, h := range []string{"gent.example.org", "gent.agora.test", "www.gent.example.org"} {
		id, res := resolve(t, reg, h)
		require.Equal(t, tenant.Unknown, res, h)
		require.Zero(t, id, h)
	}
	_, err = reg.Get(context.Background(), gent.ID)
	require.ErrorIs(t, err, tenant.ErrNotFound)
	id, res := resolve(t, reg, "sint-niklaas.agora.test")
	require.Equal(t, tenant.Serve, res)
	require.Equal(t, sn.ID, id)
}

// otherNode returns a second registry on its own pool, kept coherent by
// Listen, as another web node would run it, and waits until it listens.
func otherNode(t *testing.T, env *tenanttest.Env) *tenant.Registry {
	t.Helper()
	pool, err := tenant.OpenPool(env.URL, tenant.PoolOptions{MaxConns: 2})
	require.NoError(t, err)
	t.Cleanup(func() { pool.Close() })
	reg := tenant.NewRegistry(pool, tenanttest.BaseDomain, time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- reg.Listen(ctx, env.URL, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	}()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	require.Eventually(t, func() bool {
		return count(t, env.DB.Platform(), `SELECT count(*) FROM pg_catalog.pg_stat_activity
			WHERE datname = current_database() AND state = 'idle' AND query = 'LISTEN "`+tenant.NotifyChannel+`"'`) == 1
	}, 5*time.Second, 10*time.Millisecond, "the registry never started listening")
	return reg
}

// TestRegistryCacheAcrossNodes changes the registry through Operations on one
// node and checks that another node, whose cache would otherwise hold for an
// hour, sees each change.
func TestRegistryCacheAcrossNodes(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	gent := env.City(t, "gent", "gent.example.org", "shared.example.org")
	aalst := env.City(t, "aalst", "aalst.example.org")
	b := otherNode(t, env)

	// Warm B's cache, then change the registry behind its back: B keeps
	// serving what it cached, so what follows proves the invalidation.
	id, res := resolve(t, b, "shared.example.org")
	require.Equal(t, gent.ID, id)
	require.Equal(t, tenant.Redirect, res)
	c, _, err := b.Resolve(ctx, "gent.example.org")
	require.NoError(t, err)
	require.Equal(t, "City gent", c.Name)
	_, err = env.DB.Platform().Exec(`UPDATE platform.tenants SET name = 'Renamed silently' WHERE id = $1`, gent.ID)
	require.NoError(t, err)
	c, _, err = b.Resolve(ctx, "gent.example.org")
	require.NoError(t, err)
	require.Equal(t, "City gent", c.Name, "the cache is not holding")

	eventually := func(what string, cond func() bool) {
		t.Helper()
		require.Eventually(t, cond, 5*time.Second, 5*time.Millisecond, "node B never saw: %s", what)
	}

	_, err = env.Ops.MoveHost(ctx, "shared.example.org", "aalst", false)
	require.NoError(t, err)
	eventually("host moved to aalst", func() bool {
		id, res := resolve(t, b, "shared.example.org")
		return id == aalst.ID && res == tenant.Redirect
	})
	c, _, err = b.Resolve(ctx, "gent.example.org")
	require.NoError(t, err)
	require.Equal(t, "Renamed silently", c.Name, "the whole cache is dropped")

	// Lifecycle changes reach the other node too.
	c, _, err = b.Resolve(ctx, "aalst.example.org")
	require.NoError(t, err)
	require.False(t, c.IsSuspended())
	_, err = env.Ops.Suspend(ctx, "aalst")
	require.NoError(t, err)
	eventually("aalst suspended", func() bool {
		c, res, err := b.Resolve(ctx, "aalst.example.org")
		require.NoError(t, err)
		return res == tenant.Serve && c.IsSuspended()
	})
	got, err := b.Get(ctx, aalst.ID)
	require.NoError(t, err)
	require.True(t, got.IsSuspended())
	_, err = env.Ops.Resume(ctx, "aalst")
	require.NoError(t, err)
	eventually("aalst resumed", func() bool {
		got, err := b.Get(ctx, aalst.ID)
		require.NoError(t, err)
		return !got.IsSuspended()
	})

	// A new primary host, and finally deletion.
	_, err = env.Ops.AddHost(ctx, "aalst", "www.aalst.example.org", true)
	require.NoError(t, err)
	eventually("new primary host", func() bool {
		_, res := resolve(t, b, "aalst.example.org")
		return res == tenant.Redirect
	})
	require.NoError(t, env.Ops.Delete(ctx, "aalst"))
	eventually("aalst deleted", func() bool {
		_, res := resolve(t, b, "www.aalst.example.org")
		return res == tenant.Unknown
	})
}

func TestOperationsUpdate(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	env.City(t, "gent", "gent.example.org")

	name, plan, life, tz, country := " Stad Gent ", tenant.PlanPremium, tenant.Suspended, "Europe/Paris", "be"
	got, err := env.Ops.Update(ctx, "gent", tenant.Update{Name: &name, Plan: &plan, Lifecycle: &life, Locales: []string{"nl", "fr-BE"}, TimeZone: &tz, Country: &country})
	require.NoError(t, err)
	require.Equal(t, "Stad Gent", got.Name)
	require.Equal(t, tenant.PlanPremium, got.Plan)
	require.Equal(t, tenant.Suspended, got.Lifecycle)
	require.NotNil(t, got.SuspendedAt)
	require.Equal(t, []string{"nl", "fr-BE"}, got.Locales)
	require.Equal(t, "Europe/Paris", got.TimeZone)
	require.Equal(t, "BE", got.Country)

	// The registry of this node sees the change at once.
	c, _, err := env.Registry.Resolve(ctx, "gent.example.org")
	require.NoError(t, err)
	require.Equal(t, "Stad Gent", c.Name)
	require.True(t, c.IsSuspended())

	// Fields left nil stay as they are.
	other := "Gent"
	got, err = env.Ops.Update(ctx, "gent", tenant.Update{Name: &other})
	require.NoError(t, err)
	require.Equal(t, "Gent", got.Name)
	require.Equal(t, tenant.PlanPremium, got.Plan)
	require.Equal(t, tenant.Suspended, got.Lifecycle)
	require.NotNil(t, got.SuspendedAt)
	require.Equal(t, []string{"nl", "fr-BE"}, got.Locales)
	require.Equal(t, "Europe/Paris", got.TimeZone)
	require.Equal(t, "BE", got.Country)

	ptr := func(s string) *string { return &s }
	badPlan, badLife := tenant.Plan("gold"), tenant.Lifecycle("zombie")
	tests := []struct {
		name  string
		field string
		u     tenant.Update
	}{
		{"empty name", "name", tenant.Update{Name: ptr(" ")}},
		{"long name", "name", tenant.Update{Name: ptr(strings.Repeat("x", 201))}},
		{"unknown plan", "plan", tenant.Update{Plan: &badPlan}},
		{"unknown lifecycle", "lifecycle", tenant.Update{Lifecycle: &badLife}},
		{"no locale", "locales", tenant.Update{Locales: []string{}}},
		{"bad locale", "locales", tenant.Update{Locales: []string{"nl_BE"}}},
		{"locale twice", "locales", tenant.Update{Locales: []string{"nl", "nl"}}},
		{"unknown time zone", "timezone", tenant.Update{TimeZone: ptr("Nowhere/City")}},
		{"empty time zone", "timezone", tenant.Update{TimeZone: ptr("")}},
		{"bad country", "country", tenant.Update{Country: ptr("BEL")}},
	}
	for _, tc := range tests {
		_, err := env.Ops.Update(ctx, "gent", tc.u)
		require.ErrorIs(t, err, tenant.ErrInvalid, tc.name)
		require.True(t, strings.HasPrefix(err.Error(), tenant.ErrInvalid.Error()+": "+tc.field+":"), "%s: %q does not name %q", tc.name, err, tc.field)
	}
	after, err := env.Registry.BySlug(ctx, "gent")
	require.NoError(t, err)
	require.Equal(t, got, after, "a refused update changed something")

	_, err = env.Ops.Update(ctx, "nowhere", tenant.Update{Name: &other})
	require.ErrorIs(t, err, tenant.ErrNotFound)
}

func TestOperationsSuspendResume(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	c := env.City(t, "gent", "gent.example.org")

	got, err := env.Ops.Suspend(ctx, "gent")
	require.NoError(t, err)
	require.Equal(t, tenant.Suspended, got.Lifecycle)
	require.True(t, got.IsSuspended())
	require.NotNil(t, got.SuspendedAt)
	since := *got.SuspendedAt

	// Suspended cities still resolve (the portal shows a maintenance page),
	// and their data stays.
	r, res, err := env.Registry.Resolve(ctx, "gent.example.org")
	require.NoError(t, err)
	require.Equal(t, tenant.Serve, res)
	require.True(t, r.IsSuspended())
	require.Equal(t, "City gent", settingsName(t, env.DB, r))

	// Suspending again keeps the original date.
	got, err = env.Ops.Suspend(ctx, "gent")
	require.NoError(t, err)
	require.True(t, since.Equal(*got.SuspendedAt))

	got, err = env.Ops.Resume(ctx, "gent")
	require.NoError(t, err)
	require.Equal(t, tenant.Active, got.Lifecycle)
	require.False(t, got.IsSuspended())
	require.Nil(t, got.SuspendedAt)
	r, err = env.Registry.Get(ctx, c.ID)
	require.NoError(t, err)
	require.False(t, r.IsSuspended())

	_, err = env.Ops.Suspend(ctx, "nowhere")
	require.ErrorIs(t, err, tenant.ErrNotFound)
}

// primaries counts the primary host rows of a city.
func primaries(t testing.TB, env *tenanttest.Env, id tenant.ID) int {
	t.Helper()
	return count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenant_hosts WHERE tenant_id = $1 AND is_primary`, id)
}

func TestOperationsHosts(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	gent := env.City(t, "gent")
	env.City(t, "aalst", "aalst.example.org")

	// A city's first host becomes its primary host even when not asked.
	got, err := env.Ops.AddHost(ctx, "gent", "Gent.Example.org:443", false)
	require.NoError(t, err)
	require.Equal(t, "gent.example.org", got.PrimaryHost)
	require.Equal(t, []string{"gent.example.org"}, got.Hosts)

	got, err = env.Ops.AddHost(ctx, "gent", "www.gent.example.org", false)
	require.NoError(t, err)
	require.Equal(t, "gent.example.org", got.PrimaryHost)
	_, res := resolve(t, env.Registry, "www.gent.example.org")
	require.Equal(t, tenant.Redirect, res)

	// A new primary host takes over; the old one now redirects.
	got, err = env.Ops.AddHost(ctx, "gent", "participatie.gent.be", true)
	require.NoError(t, err)
	require.Equal(t, "participatie.gent.be", got.PrimaryHost)
	require.Equal(t, "participatie.gent.be", got.Hosts[0], "primary first")
	require.ElementsMatch(t, []string{"participatie.gent.be", "gent.example.org", "www.gent.example.org"}, got.Hosts)
	require.Equal(t, 1, primaries(t, env, gent.ID))
	_, res = resolve(t, env.Registry, "gent.example.org")
	require.Equal(t, tenant.Redirect, res)
	_, res = resolve(t, env.Registry, "participatie.gent.be")
	require.Equal(t, tenant.Serve, res)

	// Refused hosts.
	for _, h := range []string{tenanttest.PlatformHost, "192.0.2.1", "[::1]:80", "aalst.agora.test", "gent.agora.test", "bad_host.example.org"} {
		_, err := env.Ops.AddHost(ctx, "gent", h, false)
		require.ErrorIs(t, err, tenant.ErrInvalid, h)
	}
	_, err = env.Ops.AddHost(ctx, "gent", "AALST.example.org", false)
	require.ErrorIs(t, err, tenant.ErrHostTaken)
	_, err = env.Ops.AddHost(ctx, "gent", "gent.example.org", true)
	require.ErrorIs(t, err, tenant.ErrHostTaken, "a host the city already has")
	require.Equal(t, 1, primaries(t, env, gent.ID), "a refused AddHost changed the primary host")
	_, err = env.Ops.AddHost(ctx, "nowhere", "nowhere.example.org", false)
	require.ErrorIs(t, err, tenant.ErrNotFound)

	// Removing the primary host promotes another one.
	got, err = env.Ops.RemoveHost(ctx, "gent", "participatie.gent.be")
	require.NoError(t, err)
	require.Contains(t, []string{"gent.example.org", "www.gent.example.org"}, got.PrimaryHost)
	require.Equal(t, got.PrimaryHost, got.Hosts[0])
	require.Equal(t, 1, primaries(t, env, gent.ID))
	_, res = resolve(t, env.Registry, "participatie.gent.be")
	require.Equal(t, tenant.Unknown, res)
	_, res = resolve(t, env.Registry, got.PrimaryHost)
	require.Equal(t, tenant.Serve, res)

	// Removing a secondary host leaves the primary alone.
	secondary := got.Hosts[1]
	got, err = env.Ops.RemoveHost(ctx, "gent", secondary)
	require.NoError(t, err)
	require.Len(t, got.Hosts, 1)
	require.Equal(t, got.Hosts[0], got.PrimaryHost)

	// Without hosts the default host is canonical.
	got, err = env.Ops.RemoveHost(ctx, "gent", got.PrimaryHost)
	require.NoError(t, err)
	require.Empty(t, got.Hosts)
	require.Equal(t, "gent.agora.test", got.PrimaryHost)

	_, err = env.Ops.RemoveHost(ctx, "gent", "aalst.example.org")
	require.ErrorIs(t, err, tenant.ErrNotFound, "another city's host")
	id, _ := resolve(t, env.Registry, "aalst.example.org")
	require.NotZero(t, id)
}

func TestOperationsAddHostReportsPlatformHost(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	env.City(t, "gent")
	_, err := env.Ops.AddHost(context.Background(), "gent", tenanttest.PlatformHost, false)
	require.ErrorIs(t, err, tenant.ErrInvalid)
	require.ErrorIs(t, err, tenant.ErrPlatformHost)
	_, err = env.Ops.AddHost(context.Background(), "gent", "192.0.2.1", false)
	require.ErrorIs(t, err, tenant.ErrIPHost)
}

func TestOperationsMoveHost(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	gent := env.City(t, "gent", "gent.example.org", "shared.example.org")
	aalst := env.City(t, "aalst", "aalst.example.org")

	got, err := env.Ops.MoveHost(ctx, "Shared.Example.org", "aalst", true)
	require.NoError(t, err)
	require.Equal(t, aalst.ID, got.ID)
	require.Equal(t, "shared.example.org", got.PrimaryHost)
	require.ElementsMatch(t, []string{"shared.example.org", "aalst.example.org"}, got.Hosts)
	require.Equal(t, 1, primaries(t, env, aalst.ID))
	id, res := resolve(t, env.Registry, "shared.example.org")
	require.Equal(t, aalst.ID, id)
	require.Equal(t, tenant.Serve, res)
	id, res = resolve(t, env.Registry, "aalst.example.org")
	require.Equal(t, aalst.ID, id)
	require.Equal(t, tenant.Redirect, res)
	g, err := env.Registry.Get(ctx, gent.ID)
	require.NoError(t, err)
	require.Equal(t, []string{"gent.example.org"}, g.Hosts)

	_, err = env.Ops.MoveHost(ctx, "unknown.example.org", "aalst", false)
	require.ErrorIs(t, err, tenant.ErrNotFound)
	_, err = env.Ops.MoveHost(ctx, "gent.example.org", "nowhere", false)
	require.ErrorIs(t, err, tenant.ErrNotFound)
	id, _ = resolve(t, env.Registry, "gent.example.org")
	require.Equal(t, gent.ID, id, "a failed move changed the owner")
}

func TestOperationsMoveHostKeepsSourcePrimary(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	gent := env.City(t, "gent", "shared.example.org", "gent.example.org")
	env.City(t, "aalst", "aalst.example.org")

	_, err := env.Ops.MoveHost(ctx, "shared.example.org", "aalst", false)
	require.NoError(t, err)
	g, err := env.Registry.Get(ctx, gent.ID)
	require.NoError(t, err)
	require.Equal(t, "gent.example.org", g.PrimaryHost)
	require.Equal(t, 1, primaries(t, env, gent.ID))
	_, res := resolve(t, env.Registry, "gent.example.org")
	require.Equal(t, tenant.Serve, res)
}

func TestOperationsDelete(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	gent := env.City(t, "gent", "gent.example.org", "www.gent.example.org")
	aalst := env.City(t, "aalst")

	// Both cities have stored files.
	for _, c := range []*tenant.Tenant{gent, aalst} {
		dir := filepath.Join(tenant.StoragePath(env.StorageDir, c.ID), "uploads")
		require.NoError(t, os.MkdirAll(dir, 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "logo.png"), []byte("png"), 0o644))
	}
	require.Equal(t, filepath.Join(env.StorageDir, "tenants", strconv.FormatInt(int64(gent.ID), 10)), tenant.StoragePath(env.StorageDir, gent.ID))

	require.NoError(t, env.Ops.Delete(ctx, "gent"))

	require.False(t, schemaExists(t, env, "city_gent"), "schema not dropped")
	require.True(t, schemaExists(t, env, "city_aalst"))
	require.Zero(t, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenant_hosts WHERE tenant_id = $1`, gent.ID))
	require.NoDirExists(t, tenant.StoragePath(env.StorageDir, gent.ID))
	require.FileExists(t, filepath.Join(tenant.StoragePath(env.StorageDir, aalst.ID), "uploads", "logo.png"))
	_, err := env.Registry.BySlug(ctx, "gent")
	require.ErrorIs(t, err, tenant.ErrNotFound)
	_, err = env.Registry.Get(ctx, gent.ID)
	require.ErrorIs(t, err, tenant.ErrNotFound)
	list, err := env.Registry.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, "aalst", list[0].Slug)
	_, res := resolve(t, env.Registry, "gent.example.org")
	require.Equal(t, tenant.Unknown, res)

	// The freed host can go to another city.
	got, err := env.Ops.AddHost(ctx, "aalst", "gent.example.org", false)
	require.NoError(t, err)
	require.Equal(t, "gent.example.org", got.PrimaryHost)
	id, res := resolve(t, env.Registry, "gent.example.org")
	require.Equal(t, aalst.ID, id)
	require.Equal(t, tenant.Serve, res)
	c, err := env.Provisioner.Create(ctx, tenant.Spec{Slug: "gentbrugge", Name: "Gentbrugge", Hosts: []string{"www.gent.example.org"}})
	require.NoError(t, err)
	require.Equal(t, "www.gent.example.org", c.Tenant.PrimaryHost)

	// The slug stays reserved.
	_, err = env.Provisioner.Create(ctx, tenant.Spec{Slug: "gent", Name: "Gent again"})
	require.ErrorIs(t, err, tenant.ErrSlugTaken)
	require.False(t, schemaExists(t, env, "city_gent"))

	require.ErrorIs(t, env.Ops.Delete(ctx, "gent"), tenant.ErrNotFound)
	require.ErrorIs(t, env.Ops.Delete(ctx, "nowhere"), tenant.ErrNotFound)
}
