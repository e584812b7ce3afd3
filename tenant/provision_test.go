package tenant_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"agora/migrations"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// schemaExists reports whether a schema named name exists in the env's database.
func schemaExists(t testing.TB, env *tenanttest.Env, name string) bool {
	t.Helper()
	var n int
	require.NoError(t, env.DB.Platform().Get(&n, `SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname = $1`, name))
	return n == 1
}

// count runs a count(*) query on the platform pool.
func count(t testing.TB, db *sqlx.DB, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, db.Get(&n, query, args...))
	return n
}

// requireNothingOf asserts that no trace of the city with slug and hosts is
// left: no schema, no registry row, no host row.
func requireNothingOf(t testing.TB, env *tenanttest.Env, slug string, hosts ...string) {
	t.Helper()
	require.False(t, schemaExists(t, env, tenant.SchemaName(slug)), "schema %s left behind", tenant.SchemaName(slug))
	require.Zero(t, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenants WHERE slug = $1`, slug), "platform.tenants row left behind")
	for _, h := range hosts {
		require.Zero(t, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenant_hosts WHERE host = $1`, h), "host %s left behind", h)
	}
}

// localizedJSON decodes a jsonb value with one string per locale.
func localizedJSON(t testing.TB, raw []byte) map[string]string {
	t.Helper()
	var m map[string]string
	require.NoError(t, json.Unmarshal(raw, &m), "%s", raw)
	return m
}

func TestCreateCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()

	c, err := env.Provisioner.Create(ctx, tenant.Spec{
		Slug:       "sint_niklaas",
		Name:       "  Sint-Niklaas ",
		Hosts:      []string{"Participatie.Sint-Niklaas.be:443", "www.sint-niklaas.be."},
		Locales:    []string{"nl-BE", "en", "de"},
		TimeZone:   "Europe/Brussels",
		Country:    "be",
		AdminEmail: "Admin@Sint-Niklaas.be",
	})
	require.NoError(t, err)
	ct := c.Tenant
	require.Equal(t, "sint_niklaas", ct.Slug)
	require.Equal(t, "Sint-Niklaas", ct.Name)
	require.Equal(t, "city_sint_niklaas", ct.Schema)
	require.Equal(t, "main", ct.Shard)
	require.Equal(t, tenant.PlanEssential, ct.Plan)
	require.Equal(t, tenant.Trial, ct.Lifecycle)
	require.Equal(t, []string{"nl-BE", "en", "de"}, ct.Locales)
	require.Equal(t, "BE", ct.Country)
	require.Equal(t, "participatie.sint-niklaas.be", ct.PrimaryHost)
	require.Equal(t, "sint-niklaas.agora.test", ct.DefaultHost)
	require.Equal(t, []string{"participatie.sint-niklaas.be", "www.sint-niklaas.be"}, ct.Hosts)
	require.True(t, schemaExists(t, env, "city_sint_niklaas"))

	db := env.DB.Platform()
	require.Equal(t, 1, count(t, db, `SELECT count(*) FROM platform.tenant_hosts WHERE tenant_id = $1 AND is_primary`, ct.ID))
	require.Equal(t, 2, count(t, db, `SELECT count(*) FROM platform.tenant_hosts WHERE tenant_id = $1`, ct.ID))

	cctx := tenanttest.Ctx(ct)
	err = env.DB.InReadTx(cctx, func(tx *tenant.Tx) error {
		// Migrations are recorded in the city's own version table.
		var versions, want []int
		require.NoError(t, tx.SelectContext(cctx, &versions, `SELECT version FROM schema_migrations ORDER BY version`))
		for _, m := range migrations.City().Migrations {
			want = append(want, m.Version)
		}
		require.Equal(t, want, versions)

		var s struct {
			Name    string `db:"name"`
			Welcome []byte `db:"welcome"`
		}
		require.NoError(t, tx.GetContext(cctx, &s, `SELECT name, welcome FROM settings`))
		require.Equal(t, "Sint-Niklaas", s.Name)
		welcome := localizedJSON(t, s.Welcome)
		require.Len(t, welcome, 3)
		require.Equal(t, "Welkom op het participatieplatform van Sint-Niklaas. Deel je ideeën, praat mee en bouw mee aan de stad.", welcome["nl-BE"])
		require.Contains(t, welcome["en"], "Welcome to the participation platform of Sint-Niklaas.")
		require.Equal(t, welcome["en"], welcome["de"], "a locale without seed text falls back to English")

		var pages []struct {
			Slug  string `db:"slug"`
			Title []byte `db:"title"`
			Body  []byte `db:"body"`
		}
		require.NoError(t, tx.SelectContext(cctx, &pages, `SELECT slug, title, body FROM pages ORDER BY position`))
		require.Len(t, pages, 3)
		require.Equal(t, "about", pages[0].Slug)
		require.Equal(t, "terms", pages[1].Slug)
		require.Equal(t, "privacy", pages[2].Slug)
		about := localizedJSON(t, pages[0].Title)
		require.Equal(t, map[string]string{"nl-BE": "Over dit platform", "en": "About this platform", "de": "About this platform"}, about)
		for _, p := range pages {
			require.Len(t, localizedJSON(t, p.Title), 3, p.Slug)
			body := localizedJSON(t, p.Body)
			require.Len(t, body, 3, p.Slug)
			require.NotEmpty(t, body["de"], p.Slug)
			require.Equal(t, body["en"], body["de"], p.Slug)
		}

		var topics []struct {
			Code  string `db:"code"`
			Title []byte `db:"title"`
		}
		require.NoError(t, tx.SelectContext(cctx, &topics, `SELECT code, title FROM topics ORDER BY position`))
		require.Len(t, topics, 8)
		require.Equal(t, "mobility", topics[0].Code)
		require.Equal(t, map[string]string{"nl-BE": "Mobiliteit", "en": "Mobility", "de": "Mobility"}, localizedJSON(t, topics[0].Title))
		for _, tp := range topics {
			title := localizedJSON(t, tp.Title)
			require.Len(t, title, 3, tp.Code)
			require.NotEmpty(t, title["de"], tp.Code)
		}
		return nil
	})
	require.NoError(t, err)

	// The first admin is invited; the table holds only the token's hash.
	require.NotEmpty(t, c.InvitationToken)
	err = env.DB.InReadTx(cctx, func(tx *tenant.Tx) error {
		var inv struct {
			Email     string    `db:"email"`
			Role      string    `db:"role"`
			Hash      []byte    `db:"token_hash"`
			ExpiresAt time.Time `db:"expires_at"`
		}
		require.NoError(t, tx.GetContext(cctx, &inv, `SELECT email, role, token_hash, expires_at FROM invitations`))
		require.Equal(t, "admin@sint-niklaas.be", inv.Email)
		require.Equal(t, "admin", inv.Role)
		sum := sha256.Sum256([]byte(c.InvitationToken))
		require.Equal(t, sum[:], inv.Hash)
		require.WithinDuration(t, time.Now().Add(14*24*time.Hour), inv.ExpiresAt, time.Hour)

		var rows []string
		require.NoError(t, tx.SelectContext(cctx, &rows, `SELECT i::text FROM invitations i`))
		require.Len(t, rows, 1)
		require.NotContains(t, rows[0], c.InvitationToken, "raw invitation token stored")
		return nil
	})
	require.NoError(t, err)
	var everywhere int
	require.NoError(t, db.Get(&everywhere, `SELECT count(*) FROM platform.tenants t WHERE strpos(t::text, $1) > 0`, c.InvitationToken))
	require.Zero(t, everywhere)

	// Without an admin email nobody is invited.
	c2, err := env.Provisioner.Create(ctx, tenant.Spec{Slug: "aalst", Name: "Aalst"})
	require.NoError(t, err)
	require.Empty(t, c2.InvitationToken)
	require.Equal(t, []string{"en"}, c2.Tenant.Locales)
	require.Equal(t, "aalst.agora.test", c2.Tenant.PrimaryHost)
	require.Empty(t, c2.Tenant.Hosts)
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c2.Tenant), func(tx *tenant.Tx) error {
		var n int
		require.NoError(t, tx.GetContext(ctx, &n, `SELECT count(*) FROM invitations`))
		require.Zero(t, n)
		return nil
	}))
}

func TestCreateCityValidation(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	env.City(t, "brugge")

	valid := func() tenant.Spec {
		return tenant.Spec{Slug: "gent", Name: "Gent", Hosts: []string{"gent.example.org"}, Locales: []string{"nl", "en"}, TimeZone: "Europe/Brussels"}
	}
	tests := []struct {
		name  string
		field string
		edit  func(*tenant.Spec)
	}{
		{"upper-case slug", "slug", func(s *tenant.Spec) { s.Slug = "Gent" }},
		{"one-letter slug", "slug", func(s *tenant.Spec) { s.Slug = "g" }},
		{"slug starting with a digit", "slug", func(s *tenant.Spec) { s.Slug = "1gent" }},
		{"slug with a hyphen", "slug", func(s *tenant.Spec) { s.Slug = "sint-niklaas" }},
		{"slug with a quote", "slug", func(s *tenant.Spec) { s.Slug = `gent"; DROP SCHEMA platform; --` }},
		{"slug too long", "slug", func(s *tenant.Spec) { s.Slug = "g" + strings.Repeat("x", 41) }},
		{"empty name", "name", func(s *tenant.Spec) { s.Name = "  " }},
		{"unknown plan", "plan", func(s *tenant.Spec) { s.Plan = "gold" }},
		{"unknown lifecycle", "lifecycle", func(s *tenant.Spec) { s.Lifecycle = "zombie" }},
		{"locale word", "locales", func(s *tenant.Spec) { s.Locales = []string{"english"} }},
		{"locale with underscore", "locales", func(s *tenant.Spec) { s.Locales = []string{"nl_BE"} }},
		{"locale twice", "locales", func(s *tenant.Spec) { s.Locales = []string{"nl", "en", "nl"} }},
		{"unknown time zone", "timezone", func(s *tenant.Spec) { s.TimeZone = "Mars/Olympus_Mons" }},
		{"three-letter country", "country", func(s *tenant.Spec) { s.Country = "BEL" }},
		{"platform host", "host", func(s *tenant.Spec) { s.Hosts = []string{tenanttest.PlatformHost} }},
		{"platform host with port", "host", func(s *tenant.Spec) { s.Hosts = []string{"Platform.Agora.Test:443"} }},
		{"IPv4 host", "host", func(s *tenant.Spec) { s.Hosts = []string{"203.0.113.7"} }},
		{"IPv6 host", "host", func(s *tenant.Spec) { s.Hosts = []string{"[2001:db8::1]"} }},
		{"another city's default host", "host", func(s *tenant.Spec) { s.Hosts = []string{"gent.example.org", "brugge.agora.test"} }},
		{"own default host", "host", func(s *tenant.Spec) { s.Hosts = []string{"gent.agora.test"} }},
		{"malformed host", "host", func(s *tenant.Spec) { s.Hosts = []string{"gent_city.example.org"} }},
		{"bad admin email", "admin-email", func(s *tenant.Spec) { s.AdminEmail = "not an email" }},
		{"admin email with a name", "admin-email", func(s *tenant.Spec) { s.AdminEmail = "Admin <admin@gent.be>" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := valid()
			tc.edit(&s)
			c, err := env.Provisioner.Create(ctx, s)
			require.ErrorIs(t, err, tenant.ErrInvalid)
			require.Nil(t, c)
			require.True(t, strings.HasPrefix(err.Error(), tenant.ErrInvalid.Error()+": "+tc.field+":"),
				"error %q does not name the field %q", err, tc.field)
			requireNothingOf(t, env, s.Slug, "gent.example.org")
		})
	}
	// Only the first city exists; the valid spec still works afterwards.
	require.Equal(t, 1, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenants`))
	_, err := env.Provisioner.Create(ctx, valid())
	require.NoError(t, err)
}

func TestCreateCityRefusesNonIANATimeZone(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	_, err := env.Provisioner.Create(context.Background(), tenant.Spec{Slug: "gent", Name: "Gent", TimeZone: "Local"})
	require.ErrorIs(t, err, tenant.ErrInvalid)
	require.Contains(t, err.Error(), "timezone")
	requireNothingOf(t, env, "gent")
}

func TestCreateCitySlugTaken(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	first := env.City(t, "gent", "gent.example.org")

	c, err := env.Provisioner.Create(context.Background(), tenant.Spec{Slug: "gent", Name: "Other Gent", Hosts: []string{"other-gent.example.org"}})
	require.ErrorIs(t, err, tenant.ErrSlugTaken)
	require.Nil(t, c)
	require.Equal(t, 1, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenants`))
	require.Zero(t, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenant_hosts WHERE host = 'other-gent.example.org'`))

	// The first city is untouched.
	got, err := env.Registry.BySlug(context.Background(), "gent")
	require.NoError(t, err)
	require.Equal(t, first.ID, got.ID)
	require.Equal(t, "City gent", got.Name)
}

func TestCreateCityHostTaken(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	first := env.City(t, "gent", "shared.example.org")

	spec := tenant.Spec{Slug: "aalst", Name: "Aalst", Hosts: []string{"aalst.example.org", "SHARED.example.org."}, AdminEmail: "admin@aalst.be"}
	c, err := env.Provisioner.Create(ctx, spec)
	require.ErrorIs(t, err, tenant.ErrHostTaken)
	require.Contains(t, err.Error(), "shared.example.org")
	require.Nil(t, c)
	requireNothingOf(t, env, "aalst", "aalst.example.org")

	owner, res, err := env.Registry.Resolve(ctx, "shared.example.org")
	require.NoError(t, err)
	require.Equal(t, tenant.Serve, res)
	require.Equal(t, first.ID, owner.ID)

	spec.Hosts = []string{"aalst.example.org"}
	c, err = env.Provisioner.Create(ctx, spec)
	require.NoError(t, err)
	require.Equal(t, "aalst.example.org", c.Tenant.PrimaryHost)
}

// TestCreateCityIsAtomic makes every provisioning step fail in turn and
// checks that nothing of the city remains, and that the same city can then be
// created.
func TestCreateCityIsAtomic(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"registry", "hosts", "schema", "migrate", "seed", "invite"}, tenant.ProvisionSteps,
		"a provisioning step was added or renamed: this test covers each of them")
	for _, step := range tenant.ProvisionSteps {
		t.Run(step, func(t *testing.T) {
			t.Parallel()
			env := tenanttest.New(t)
			ctx := context.Background()
			spec := tenant.Spec{
				Slug: "gent", Name: "Gent", Hosts: []string{"gent.example.org", "www.gent.example.org"},
				Locales: []string{"nl", "en"}, AdminEmail: "admin@gent.be",
			}

			env.Provisioner.FailAt(step)
			c, err := env.Provisioner.Create(ctx, spec)
			require.Error(t, err)
			require.Contains(t, err.Error(), fmt.Sprintf("step %s: failure injected", step))
			require.Nil(t, c)
			requireNothingOf(t, env, "gent", "gent.example.org", "www.gent.example.org")
			require.Zero(t, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenants`))
			require.Zero(t, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.tenant_hosts`))
			require.Zero(t, count(t, env.DB.Platform(), `SELECT count(*) FROM pg_catalog.pg_namespace WHERE nspname LIKE 'city\_%'`))
			_, res, err := env.Registry.Resolve(ctx, "gent.example.org")
			require.NoError(t, err)
			require.Equal(t, tenant.Unknown, res)

			env.Provisioner.FailAt("")
			c, err = env.Provisioner.Create(ctx, spec)
			require.NoError(t, err)
			require.NotEmpty(t, c.InvitationToken)
			require.True(t, schemaExists(t, env, "city_gent"))
			var topics int
			require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c.Tenant), func(tx *tenant.Tx) error {
				return tx.GetContext(ctx, &topics, `SELECT count(*) FROM topics`)
			}))
			require.Equal(t, 8, topics)
		})
	}
}

// BenchmarkCreateCity reports how long provisioning one city takes.
func BenchmarkCreateCity(b *testing.B) {
	env := tenanttest.New(b)
	ctx := context.Background()
	n := 0
	for b.Loop() {
		_, err := env.Provisioner.Create(ctx, tenant.Spec{
			Slug: fmt.Sprintf("bench_%d", n), Name: "Bench", Hosts: []string{fmt.Sprintf("bench%d.example.org", n)},
			Locales: []string{"nl", "fr", "en"}, AdminEmail: "admin@example.org",
		})
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(n), "ms/op")
}

// TestProvisioningQueuesTheInvitationThroughTheOutbox: the first admin's
// invitation email is queued like every other task (tenant.Enqueue's one
// statement), so the relay is woken when the city commits, and its row waits
// in the outbox, not yet enqueued, with the task id and payload the email
// worker expects. A city on another shard gets its invitation too.
func TestProvisioningQueuesTheInvitationThroughTheOutbox(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()

	l := pq.NewListener(env.URL, 10*time.Millisecond, time.Second, nil)
	t.Cleanup(func() { l.Close() })
	require.NoError(t, l.Listen(tenant.OutboxChannel))

	type task struct {
		ID       string  `db:"task_id"`
		Type     string  `db:"task_type"`
		Queue    string  `db:"queue"`
		Payload  []byte  `db:"payload"`
		Enqueued *string `db:"enqueued_at"`
	}
	invitation := func(c *tenant.Tenant) task {
		t.Helper()
		var rows []task
		require.NoError(t, env.DB.Platform().SelectContext(ctx, &rows,
			`SELECT task_id, task_type, queue, payload, enqueued_at::text FROM platform.outbox WHERE tenant_id = $1`, c.ID))
		require.Len(t, rows, 1, "outbox rows of %s", c.Slug)
		return rows[0]
	}
	check := func(c *tenant.Tenant, db *tenant.DB) {
		t.Helper()
		var inv int64
		require.NoError(t, db.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			return tx.GetContext(ctx, &inv, `SELECT id FROM invitations`)
		}))
		row := invitation(c)
		require.Equal(t, fmt.Sprintf("t%d:email:invitation:%d", c.ID, inv), row.ID)
		require.Equal(t, tenant.TaskEmail, row.Type)
		require.Equal(t, "critical", row.Queue)
		require.Nil(t, row.Enqueued, "the relay has not enqueued it yet")
		var payload map[string]any
		require.NoError(t, json.Unmarshal(row.Payload, &payload))
		require.Equal(t, map[string]any{"tenant_id": float64(c.ID), "kind": "invitation",
			"invitation_id": float64(inv), "event": fmt.Sprintf("invitation-%d", inv)}, payload)
	}

	c, err := env.Provisioner.Create(ctx, tenant.Spec{Slug: "deinze", Name: "Deinze", AdminEmail: "admin@deinze.be"})
	require.NoError(t, err)
	select {
	case n := <-l.Notify:
		require.NotNil(t, n)
		require.Equal(t, tenant.OutboxChannel, n.Channel)
	case <-time.After(10 * time.Second):
		t.Fatal("provisioning queued the invitation without waking the relay")
	}
	check(c.Tenant, env.DB)

	// Without an admin email nothing is queued, and nobody is woken.
	c2, err := env.Provisioner.Create(ctx, tenant.Spec{Slug: "ronse", Name: "Ronse"})
	require.NoError(t, err)
	require.Zero(t, count(t, env.DB.Platform(), `SELECT count(*) FROM platform.outbox WHERE tenant_id = $1`, c2.Tenant.ID))

	// A city on another shard: the invitation is in the shard's schema, its
	// task in the platform's outbox.
	north, err := tenant.OpenPool(tenanttest.NewDatabase(t), tenant.PoolOptions{MaxConns: 2, ConnMaxLifetime: time.Minute})
	require.NoError(t, err)
	t.Cleanup(func() { north.Close() })
	_, err = north.ExecContext(ctx, `CREATE EXTENSION IF NOT EXISTS btree_gist WITH SCHEMA public`) // as the platform migrations do on main
	require.NoError(t, err)
	db := tenant.NewDB(env.DB.Platform(), map[string]*sqlx.DB{"north": north})
	c3, err := tenant.NewProvisioner(db, tenanttest.BaseDomain, tenanttest.PlatformHost).Create(ctx,
		tenant.Spec{Slug: "oudenaarde", Name: "Oudenaarde", Shard: "north", AdminEmail: "admin@oudenaarde.be"})
	require.NoError(t, err)
	require.Equal(t, "north", c3.Tenant.Shard)
	check(c3.Tenant, db)
}
