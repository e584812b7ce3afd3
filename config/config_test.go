package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/config"
)

// env is a getenv over a fixed map: the tests never read the real
// environment.
func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

const key32 = "0123456789abcdef0123456789abcdef"

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(nil))
	require.NoError(t, err)
	require.Equal(t, "postgres://postgres@127.0.0.1:5432/agora?sslmode=disable", c.DatabaseURL)
	require.Equal(t, "redis://127.0.0.1:6379/0", c.RedisURL)
	require.Equal(t, ":8080", c.HTTPAddr)
	require.Equal(t, "localhost", c.PlatformHost)
	require.Equal(t, "localhost", c.BaseDomain)
	require.Equal(t, "smtp://127.0.0.1:1025", c.SMTPURL)
	require.Equal(t, "./var/storage", c.StorageDir)
	require.Equal(t, config.EnvDev, c.Env)
	require.Equal(t, 16, c.DBMaxConns)
	require.Equal(t, 10*time.Minute, c.DBConnMaxLifetime)
	require.Equal(t, 30*time.Second, c.HostCacheTTL)
	require.Empty(t, c.TrustedProxies)
	require.Empty(t, c.Shards)
	require.GreaterOrEqual(t, len(c.SecretKey), 32, "dev must get a usable signing key")
	u, ok := c.ShardURL("main")
	require.True(t, ok)
	require.Equal(t, c.DatabaseURL, u)
	_, ok = c.ShardURL("b")
	require.False(t, ok)
}

func TestLoadValues(t *testing.T) {
	t.Parallel()
	c, err := config.Load(env(map[string]string{
		"AGORA_DATABASE_URL":         "postgresql://agora:pw@db:5432/agora",
		"AGORA_REDIS_URL":            "rediss://:pw@cache:6380/2",
		"AGORA_HTTP_ADDR":            "127.0.0.1:9000",
		"AGORA_PLATFORM_HOST":        "Platform.Example.ORG.",
		"AGORA_BASE_DOMAIN":          "agora.example.org",
		"AGORA_SECRET_KEY":           key32,
		"AGORA_TRUSTED_PROXIES":      " 10.0.0.0/8, 192.168.1.1 ,,::1",
		"AGORA_SMTP_URL":             "smtps://mailer:pw@smtp.example.org:465",
		"AGORA_STORAGE_DIR":          "/srv/agora",
		"AGORA_ENV":                  "production",
		"AGORA_DB_MAX_CONNS":         "40",
		"AGORA_DB_CONN_MAX_LIFETIME": "2m",
		"AGORA_HOST_CACHE_TTL":       "0s",
		"AGORA_SHARDS":               "b=postgres://u@db-b/agora, c=postgresql://u@db-c/agora",
	}))
	require.NoError(t, err)
	require.Equal(t, "platform.example.org", c.PlatformHost, "hosts are normalised")
	require.Equal(t, []string{"10.0.0.0/8", "192.168.1.1", "::1"}, c.TrustedProxies)
	require.Equal(t, config.EnvProduction, c.Env)
	require.Equal(t, key32, c.SecretKey)
	require.Equal(t, 40, c.DBMaxConns)
	require.Equal(t, 2*time.Minute, c.DBConnMaxLifetime)
	require.Equal(t, time.Duration(0), c.HostCacheTTL)
	require.Equal(t, map[string]string{"b": "postgres://u@db-b/agora", "c": "postgresql://u@db-c/agora"}, c.Shards)
	u, ok := c.ShardURL("c")
	require.True(t, ok)
	require.Equal(t, "postgresql://u@db-c/agora", u)
}

// TestLoadRejects: every bad value stops start-up with one error that names
// the variable to fix.
func TestLoadRejects(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, value string
	}{
		{"AGORA_DATABASE_URL", "mysql://root@127.0.0.1/agora"},
		{"AGORA_DATABASE_URL", "127.0.0.1:5432"},
		{"AGORA_DATABASE_URL", "postgres:///agora"},
		{"AGORA_REDIS_URL", "redis:///0"},
		{"AGORA_REDIS_URL", "redis:6379"},
		{"AGORA_REDIS_URL", "http://127.0.0.1:6379"},
		{"AGORA_HTTP_ADDR", "8080"},
		{"AGORA_HTTP_ADDR", "localhost:"},
		{"AGORA_PLATFORM_HOST", "http://x"},
		{"AGORA_PLATFORM_HOST", "x:8080"},
		{"AGORA_BASE_DOMAIN", "example.org/path"},
		{"AGORA_ENV", "staging"},
		{"AGORA_TRUSTED_PROXIES", "not-an-ip"},
		{"AGORA_TRUSTED_PROXIES", "10.0.0.1,10.0.0.0/33"},
		{"AGORA_SMTP_URL", "http://mail"},
		{"AGORA_DB_MAX_CONNS", "0"},
		{"AGORA_DB_MAX_CONNS", "many"},
		{"AGORA_DB_MAX_CONNS", "1001"},
		{"AGORA_DB_CONN_MAX_LIFETIME", "forever"},
		{"AGORA_DB_CONN_MAX_LIFETIME", "500ms"},
		{"AGORA_HOST_CACHE_TTL", "-1s"},
		{"AGORA_DB_ACQUIRE_TIMEOUT", "1ms"},
		{"AGORA_DB_CITY_MAX_CONNS", "17"}, // more than the pool's 16
		{"AGORA_HTTP_MAX_IN_FLIGHT_PER_IP", "0"},
		{"AGORA_SHARDS", "main=postgres://x/y"},
		{"AGORA_SHARDS", "b=http://x"},
		{"AGORA_SHARDS", "postgres://x/y"},
		{"AGORA_SHARDS", "=postgres://x/y"},
		{"AGORA_SECRET_KEY", "too-short"},
	}
	for _, tc := range cases {
		t.Run(tc.name+"="+tc.value, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(map[string]string{tc.name: tc.value}))
			require.Error(t, err)
			require.Nil(t, c)
			require.Contains(t, err.Error(), tc.name, "the error must name the variable")
			require.NotContains(t, err.Error(), "\n", "the error must fit on one line")
		})
	}
}

func TestLoadSecretKeyInProduction(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		key  string
		ok   bool
	}{
		{"missing", "", false},
		{"31 characters", key32[:31], false},
		{"32 characters", key32, true},
		{"the development key", "agora-dev-secret-do-not-use-in-production", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := config.Load(env(map[string]string{"AGORA_ENV": "production", "AGORA_SECRET_KEY": tc.key}))
			if tc.ok {
				require.NoError(t, err)
				require.Equal(t, tc.key, c.SecretKey)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), "AGORA_SECRET_KEY")
			if tc.key != "" {
				require.NotContains(t, err.Error(), tc.key, "the error must not print the key")
			}
		})
	}
}

// TestDescribeMasksSecrets: `agora config` prints Describe, so no password and
// no secret key may appear in any of its values.
func TestDescribeMasksSecrets(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{
		"db": "dbpass-5f2c", "redis": "redispass-81a0", "smtp": "smtppass-77d1", "shard": "shardpass-13e9",
	}
	key := "s3cret-signing-key-0123456789-abcdef"
	c, err := config.Load(env(map[string]string{
		"AGORA_DATABASE_URL": "postgres://agora:" + secrets["db"] + "@db.internal:5432/agora?sslmode=disable",
		"AGORA_REDIS_URL":    "redis://:" + secrets["redis"] + "@cache.internal:6379/0",
		"AGORA_SMTP_URL":     "smtp://mailer:" + secrets["smtp"] + "@smtp.internal:587",
		"AGORA_SHARDS":       "b=postgres://agora:" + secrets["shard"] + "@db-b.internal/agora",
		"AGORA_SECRET_KEY":   key,
	}))
	require.NoError(t, err)
	got := map[string]string{}
	for _, s := range c.Describe() {
		require.NotEmpty(t, s.Doc, "%s has no documentation", s.Name)
		require.NotContains(t, s.Value, key, "%s shows the secret key", s.Name)
		for what, pw := range secrets {
			require.NotContains(t, s.Value, pw, "%s shows the %s password", s.Name, what)
		}
		got[s.Name] = s.Value
	}
	// Every variable is listed, and the masked values stay useful.
	for _, name := range []string{
		"AGORA_DATABASE_URL", "AGORA_REDIS_URL", "AGORA_HTTP_ADDR", "AGORA_PLATFORM_HOST", "AGORA_BASE_DOMAIN",
		"AGORA_SECRET_KEY", "AGORA_TRUSTED_PROXIES", "AGORA_SMTP_URL", "AGORA_STORAGE_DIR", "AGORA_ENV",
		"AGORA_DB_MAX_CONNS", "AGORA_DB_CONN_MAX_LIFETIME", "AGORA_HOST_CACHE_TTL", "AGORA_SHARDS",
		"AGORA_DB_ACQUIRE_TIMEOUT", "AGORA_DB_CITY_MAX_CONNS", "AGORA_HTTP_MAX_IN_FLIGHT_PER_IP",
	} {
		require.Contains(t, got, name)
	}
	require.Contains(t, got["AGORA_DATABASE_URL"], "agora:")
	require.Contains(t, got["AGORA_DATABASE_URL"], "@db.internal:5432/agora")
	require.Contains(t, got["AGORA_SHARDS"], "b=postgres://agora:")
	require.Contains(t, got["AGORA_SHARDS"], "@db-b.internal/agora")
	require.NotEmpty(t, got["AGORA_SECRET_KEY"], "a set key shows as masked, not as unset")
	require.Equal(t, "16", got["AGORA_DB_MAX_CONNS"])
	require.Equal(t, "12", got["AGORA_DB_CITY_MAX_CONNS"], "three quarters of the pool by default")

	// The development key is not a secret worth hiding, but it is not shown either.
	dev, err := config.Load(env(nil))
	require.NoError(t, err)
	for _, s := range dev.Describe() {
		require.NotContains(t, s.Value, dev.SecretKey, "%s shows the development key", s.Name)
	}
}

// TestDescribeMasksPasswordQueryParameter: lib/pq also takes the password as
// a URL query parameter (postgres://u@h/db?password=...).
func TestDescribeMasksPasswordQueryParameter(t *testing.T) {
	t.Parallel()
	const pw = "querypass-9c1d"
	c, err := config.Load(env(map[string]string{"AGORA_DATABASE_URL": "postgres://agora@db.internal/agora?sslmode=disable&password=" + pw}))
	require.NoError(t, err)
	for _, s := range c.Describe() {
		require.NotContains(t, s.Value, pw, "%s shows the password", s.Name)
	}
}

// TestLoadErrorDoesNotLeakPassword: the start-up error for an unparsable URL
// is logged; it must not contain the password.
func TestLoadErrorDoesNotLeakPassword(t *testing.T) {
	t.Parallel()
	const pw = "leakpass-4b7e"
	for _, name := range []string{"AGORA_DATABASE_URL", "AGORA_REDIS_URL", "AGORA_SMTP_URL"} {
		scheme := map[string]string{"AGORA_DATABASE_URL": "postgres", "AGORA_REDIS_URL": "redis", "AGORA_SMTP_URL": "smtp"}[name]
		_, err := config.Load(env(map[string]string{name: scheme + "://agora:" + pw + "@host.internal:54x2/db"}))
		require.Error(t, err)
		require.Contains(t, err.Error(), name)
		require.NotContains(t, err.Error(), pw, "%s: %v", name, err)
	}
}

func TestMaskURL(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"postgres://agora:pw@db/agora": "postgres://agora:xxxxx@db/agora",
		"postgres://agora@db/agora":    "postgres://agora@db/agora",
		"redis://:pw@cache:6379/0":     "redis://:xxxxx@cache:6379/0",
		"redis://127.0.0.1:6379/0":     "redis://127.0.0.1:6379/0",
		"smtp://u%40x:p%2Fw@mail:25":   "smtp://u%40x:xxxxx@mail:25",
	} {
		got := config.MaskURL(in)
		require.Equal(t, want, got, in)
		require.False(t, strings.Contains(got, ":pw@"), got)
	}
}
