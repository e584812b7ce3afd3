package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"agora/config"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// result is what one run of the CLI produced.
type result struct {
	code           int
	stdout, stderr string
}

// stdioMu serialises runs that redirect the process's os.Stdout and os.Stdin.
var stdioMu sync.Mutex

// agora runs the CLI in process, as `agora args...`. Most commands print with
// fmt.Printf (os.Stdout) rather than to execute's stdout writer, so os.Stdout
// is captured as well and appended to what the writer received. os.Stdin is
// /dev/null: no command may wait for input.
func agora(t *testing.T, args ...string) result {
	t.Helper()
	stdioMu.Lock()
	defer stdioMu.Unlock()

	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	devnull, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer devnull.Close()
	var captured bytes.Buffer
	copied := make(chan struct{})
	go func() {
		_, _ = io.Copy(&captured, r)
		close(copied)
	}()

	var out, errOut bytes.Buffer
	origOut, origIn := os.Stdout, os.Stdin
	os.Stdout, os.Stdin = w, devnull
	code := func() int {
		defer func() { os.Stdout, os.Stdin = origOut, origIn }()
		return execute(context.Background(), root(), args, &out, &errOut)
	}()
	w.Close()
	<-copied

	res := result{code: code, stdout: out.String() + captured.String(), stderr: errOut.String()}
	t.Logf("agora %s → exit %d\n--- stdout:\n%s--- stderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	return res
}

// commandPaths lists every command of the tree under c, groups included,
// as argument lists.
func commandPaths(c *command, prefix []string) [][]string {
	var out [][]string
	for _, s := range c.subs {
		p := append(append([]string{}, prefix...), s.name)
		out = append(out, p)
		out = append(out, commandPaths(s, p)...)
	}
	return out
}

func TestHelpEverywhere(t *testing.T) {
	paths := commandPaths(root(), nil)
	require.Greater(t, len(paths), 15, "the command tree looks truncated")
	for _, help := range []string{"--help", "-h"} {
		res := agora(t, help)
		require.Equal(t, 0, res.code)
		require.Contains(t, res.stdout, "Usage")
		for _, p := range paths {
			res := agora(t, append(p, help)...)
			require.Equal(t, 0, res.code, "agora %s %s", strings.Join(p, " "), help)
			require.Contains(t, res.stdout, "Usage", "agora %s %s", strings.Join(p, " "), help)
			require.Contains(t, res.stdout, p[len(p)-1], "agora %s %s", strings.Join(p, " "), help)
			require.Empty(t, res.stderr, "agora %s %s", strings.Join(p, " "), help)
		}
	}
	// `help` works on groups too.
	res := agora(t, "tenant", "help")
	require.Equal(t, 0, res.code)
	require.Contains(t, res.stdout, "add-host")
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		args    []string
		stderr  []string // substrings of the message
		comment string
	}{
		{[]string{}, nil, "no command at all"},
		{[]string{"nope"}, []string{`unknown command "nope"`}, "unknown command"},
		{[]string{"tenant", "nope"}, []string{`unknown command "nope"`}, "unknown subcommand"},
		{[]string{"tenant"}, nil, "group without a subcommand"},
		{[]string{"tenant", "create", "--name", "Stad Gent"}, []string{"--slug", "required"}, "missing required flag"},
		{[]string{"tenant", "create", "--slug", "gent", "--bogus"}, []string{"bogus"}, "unknown flag"},
		{[]string{"tenant", "create", "--slug"}, []string{"slug"}, "flag without its value"},
		{[]string{"tenant", "create", "--slug", "gent", "--name", "Gent", "extra"}, []string{`unexpected argument "extra"`}, "stray argument"},
		{[]string{"tenant", "show"}, []string{"expected exactly one city slug"}, "missing slug"},
		{[]string{"tenant", "show", "gent", "lyon"}, []string{"expected exactly one city slug"}, "two slugs"},
		{[]string{"tenant", "update", "gent"}, []string{"nothing to change"}, "update without a change"},
		{[]string{"tenant", "add-host", "gent"}, []string{"expected SLUG and HOST"}, "add-host without host"},
		{[]string{"tenant", "delete", "gent"}, []string{"--yes"}, "delete without --yes and without a terminal"},
		{[]string{"migrate", "--jobs", "0"}, []string{"--jobs"}, "bad --jobs"},
		{[]string{"migrate", "sideways"}, []string{`unknown command "sideways"`}, "unknown migrate subcommand"},
		{[]string{"worker", "--concurrency", "0"}, []string{"--concurrency"}, "bad --concurrency"},
	}
	for _, tc := range cases {
		t.Run(tc.comment, func(t *testing.T) {
			res := agora(t, tc.args...)
			require.Equal(t, 2, res.code, "agora %s", strings.Join(tc.args, " "))
			for _, s := range tc.stderr {
				require.Contains(t, res.stderr, s)
			}
			require.Contains(t, strings.ToLower(res.stdout+res.stderr), "usage", "a usage error should show or point to the command's usage")
		})
	}
}

// TestInterleave: flags may follow positional arguments.
func TestInterleave(t *testing.T) {
	newFS := func() (*flag.FlagSet, *bool, *string) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		j := fs.Bool("json", false, "")
		p := fs.String("plan", "", "")
		return fs, j, p
	}
	cases := []struct {
		args     []string
		json     bool
		plan     string
		posLeft  []string
		wantArgs []string
	}{
		{[]string{"gent", "--json"}, true, "", []string{"gent"}, []string{"--json", "gent"}},
		{[]string{"--json", "gent"}, true, "", []string{"gent"}, []string{"--json", "gent"}},
		{[]string{"gent", "--plan", "premium"}, false, "premium", []string{"gent"}, []string{"--plan", "premium", "gent"}},
		{[]string{"gent", "--plan=premium", "--json"}, true, "premium", []string{"gent"}, []string{"--plan=premium", "--json", "gent"}},
		{[]string{"gent", "-json=false"}, false, "", []string{"gent"}, []string{"-json=false", "gent"}},
		{[]string{"a", "b", "--", "--json"}, false, "", []string{"a", "b", "--json"}, []string{"a", "b", "--json"}},
		{[]string{"a", "-"}, false, "", []string{"a", "-"}, []string{"a", "-"}},
	}
	for _, tc := range cases {
		fs, j, p := newFS()
		got := interleave(fs, tc.args)
		require.Equal(t, tc.wantArgs, got, "%q", tc.args)
		require.NoError(t, fs.Parse(got), "%q", tc.args)
		require.Equal(t, tc.json, *j, "%q", tc.args)
		require.Equal(t, tc.plan, *p, "%q", tc.args)
		require.Equal(t, tc.posLeft, fs.Args(), "%q", tc.args)
	}
}

// TestConfigMasksSecrets: `agora config` must not print passwords or the key.
func TestConfigMasksSecrets(t *testing.T) {
	const pw, key = "cfgpass-2d8e", "cfg-secret-key-0123456789-0123456789"
	t.Setenv("AGORA_DATABASE_URL", "postgres://agora:"+pw+"@db.internal:5432/agora")
	t.Setenv("AGORA_REDIS_URL", "redis://:"+pw+"@cache.internal:6379/0")
	t.Setenv("AGORA_SECRET_KEY", key)
	t.Setenv("AGORA_ENV", "dev")
	t.Setenv("AGORA_SHARDS", "")
	res := agora(t, "config")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "AGORA_DATABASE_URL")
	require.Contains(t, res.stdout, "db.internal:5432/agora")
	require.NotContains(t, res.stdout, pw)
	require.NotContains(t, res.stdout, key)

	t.Setenv("AGORA_ENV", "staging")
	res = agora(t, "config")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "AGORA_ENV")
}

// TestCLIEndToEnd drives the operator's whole city lifecycle through the CLI
// against a private database.
func TestCLIEndToEnd(t *testing.T) {
	dsn := tenanttest.NewDatabase(t)
	storage := t.TempDir()
	t.Setenv("AGORA_DATABASE_URL", dsn)
	t.Setenv("AGORA_BASE_DOMAIN", "agora.test")
	t.Setenv("AGORA_PLATFORM_HOST", "platform.agora.test")
	t.Setenv("AGORA_STORAGE_DIR", storage)
	t.Setenv("AGORA_ENV", "dev")
	t.Setenv("AGORA_SECRET_KEY", "")
	t.Setenv("AGORA_SHARDS", "")
	db, err := sqlx.Open("postgres", dsn)
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	schemaExists := func(name string) bool {
		t.Helper()
		var n int
		require.NoError(t, db.GetContext(ctx, &n, `SELECT count(*) FROM pg_namespace WHERE nspname = $1`, name))
		return n == 1
	}
	show := func() tenantJSON {
		t.Helper()
		res := agora(t, "tenant", "show", "gent", "--json")
		require.Equal(t, 0, res.code, res.stderr)
		var got tenantJSON
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &got), "tenant show --json printed %q", res.stdout)
		return got
	}

	res := agora(t, "migrate")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "platform: applied")

	create := []string{"tenant", "create", "--slug", "gent", "--name", "Stad Gent", "--host", "gent.example.org",
		"--plan", "standard", "--locales", "nl,fr,en", "--timezone", "Europe/Brussels", "--admin-email", "a@b.be"}
	res = agora(t, create...)
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "city_gent")
	require.Contains(t, res.stdout, "a@b.be")
	require.True(t, schemaExists("city_gent"))

	res = agora(t, create...)
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "slug already taken")

	res = agora(t, "tenant", "create", "--slug", "Bad!", "--name", "Bad")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "slug")
	require.Contains(t, res.stderr, "Bad!")
	res = agora(t, "tenant", "create", "--slug", "Bad!")
	require.Equal(t, 2, res.code)
	require.Contains(t, res.stderr, "slug")
	require.False(t, schemaExists("city_Bad!"))

	res = agora(t, "tenant", "list")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "gent")
	require.Contains(t, res.stdout, "Stad Gent")
	require.Contains(t, res.stdout, "gent.example.org")
	require.Contains(t, res.stdout, "1 cities")

	res = agora(t, "tenant", "list", "--json")
	require.Equal(t, 0, res.code, res.stderr)
	var list []tenantJSON
	require.NoError(t, json.Unmarshal([]byte(res.stdout), &list))
	require.Len(t, list, 1)
	require.Equal(t, "gent", list[0].Slug)

	got := show()
	require.Equal(t, "gent", got.Slug)
	require.Equal(t, "Stad Gent", got.Name)
	require.Equal(t, "city_gent", got.Schema)
	require.Equal(t, "standard", got.Plan)
	require.Equal(t, "trial", got.Lifecycle)
	require.Equal(t, []string{"nl", "fr", "en"}, got.Locales)
	require.Equal(t, "Europe/Brussels", got.TimeZone)
	require.Equal(t, "gent.example.org", got.PrimaryHost)
	require.Equal(t, "gent.agora.test", got.DefaultHost)
	require.Equal(t, []string{"gent.example.org"}, got.Hosts)
	id := got.ID

	res = agora(t, "tenant", "show", "gent")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "Stad Gent (gent)")
	require.Contains(t, res.stdout, "pending nothing")

	res = agora(t, "tenant", "update", "gent", "--plan", "premium")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, "premium", show().Plan)
	res = agora(t, "tenant", "update", "gent", "--plan", "platinum")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "plan")
	require.Equal(t, "premium", show().Plan)

	// The operator's overrides and the trial's end.
	res = agora(t, "tenant", "update", "gent", "--grant", "open_data", "--revoke", "comments", "--trial-ends", "2030-01-31")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "granted     open_data")
	require.Contains(t, res.stdout, "revoked     comments")
	require.Contains(t, res.stdout, "trial ends  2030-01-31")
	res = agora(t, "tenant", "update", "gent", "--grant", "teleportation")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "overrides")
	res = agora(t, "tenant", "update", "gent", "--trial-ends", "soon")
	require.Equal(t, 2, res.code, "a bad date is a usage error: %s", res.stderr)
	res = agora(t, "tenant", "update", "gent", "--reset-overrides", "open_data,comments", "--trial-ends", "none")
	require.Equal(t, 0, res.code, res.stderr)
	require.NotContains(t, res.stdout, "granted")
	require.NotContains(t, res.stdout, "trial ends")

	res = agora(t, "tenant", "add-host", "gent", "www.gent.example.org")
	require.Equal(t, 0, res.code, res.stderr)
	got = show()
	require.Equal(t, []string{"gent.example.org", "www.gent.example.org"}, got.Hosts)
	require.Equal(t, "gent.example.org", got.PrimaryHost)
	res = agora(t, "tenant", "add-host", "gent", "platform.agora.test")
	require.Equal(t, 1, res.code, "the platform host can never be a city host")

	res = agora(t, "tenant", "remove-host", "gent", "www.gent.example.org")
	require.Equal(t, 0, res.code, res.stderr)
	require.Equal(t, []string{"gent.example.org"}, show().Hosts)

	res = agora(t, "tenant", "suspend", "gent")
	require.Equal(t, 0, res.code, res.stderr)
	got = show()
	require.Equal(t, "suspended", got.Lifecycle)
	require.NotNil(t, got.SuspendedAt)
	res = agora(t, "tenant", "resume", "gent")
	require.Equal(t, 0, res.code, res.stderr)
	got = show()
	require.Equal(t, "active", got.Lifecycle)
	require.Nil(t, got.SuspendedAt)

	res = agora(t, "migrate")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "platform: up to date")
	require.Contains(t, res.stdout, "1 total, 0 migrated, 1 up to date, 0 failed")

	res = agora(t, "migrate", "status")
	require.Equal(t, 0, res.code, res.stderr)
	require.Regexp(t, `(?m)^gent\s+main\s+\d{4}\s+nothing\s+up to date\s*$`, res.stdout)
	require.Contains(t, res.stdout, "1 cities, 0 behind")

	t.Run("migrate check on a fresh city", func(t *testing.T) {
		res := agora(t, "migrate", "check")
		require.Equal(t, 0, res.code, res.stderr)
		require.Contains(t, res.stdout, "no drift")
	})

	_, err = db.ExecContext(ctx, `ALTER TABLE city_gent.pages ADD COLUMN x int`)
	require.NoError(t, err)
	res = agora(t, "migrate", "check")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stdout, "city gent:")
	require.Regexp(t, `extra:\s+column pages\.x integer`, res.stdout, "the hand-made column is not reported")
	require.Contains(t, res.stderr, "1 cities drift")

	// A file of the city's, to check delete removes it.
	files := tenant.StoragePath(storage, tenant.ID(id))
	require.NoError(t, os.MkdirAll(files, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(files, "export.csv"), []byte("a,b\n"), 0o644))

	res = agora(t, "tenant", "delete", "gent")
	require.Equal(t, 2, res.code, "delete without --yes off a terminal must refuse")
	require.True(t, schemaExists("city_gent"))

	res = agora(t, "tenant", "delete", "gent", "--yes")
	require.Equal(t, 0, res.code, res.stderr)
	require.False(t, schemaExists("city_gent"), "the city's schema survived its deletion")
	require.NoDirExists(t, files, "the city's files survived its deletion")
	res = agora(t, "tenant", "show", "gent")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "not found")
	res = agora(t, "tenant", "delete", "gent", "--yes")
	require.Equal(t, 1, res.code)
	res = agora(t, create...)
	require.Equal(t, 1, res.code, "a deleted city's slug stays reserved")
	require.Contains(t, res.stderr, "slug already taken")

	res = agora(t, "migrate", "check")
	require.Equal(t, 0, res.code, "no city left, no drift: %s", res.stderr)

	res = agora(t, "config")
	require.Equal(t, 0, res.code, res.stderr)
	require.Contains(t, res.stdout, "AGORA_DATABASE_URL")
	require.Contains(t, res.stdout, dsn)
	require.Contains(t, res.stdout, "platform.agora.test")
}

// TestPortalURL: the URL `tenant create` and `dev` print for a city.
func TestPortalURL(t *testing.T) {
	for _, tc := range []struct {
		addr string
		env  config.Env
		want string
	}{
		{":8080", config.EnvDev, "http://gent.agora.test:8080"},
		{"127.0.0.1:9000", config.EnvDev, "http://gent.agora.test:9000"},
		{":80", config.EnvDev, "http://gent.agora.test"},
		{":8080", config.EnvProduction, "https://gent.agora.test"},
	} {
		a := &app{cfg: &config.Config{HTTPAddr: tc.addr, Env: tc.env}}
		require.Equal(t, tc.want, portalURL(a, "gent.agora.test"), "%s in %s", tc.addr, tc.env)
	}
	t.Run("IPv6 listen address", func(t *testing.T) {
		a := &app{cfg: &config.Config{HTTPAddr: "[::1]:8080", Env: config.EnvDev}}
		require.Equal(t, "http://gent.agora.test:8080", portalURL(a, "gent.agora.test"))
	})
}
