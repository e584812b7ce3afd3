// Package config loads Agora's typed configuration from AGORA_* environment variables.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Env names the environment Agora runs in.
type Env string

const (
	EnvDev        Env = "dev"
	EnvProduction Env = "production"
)

// Config is Agora's whole configuration, loaded once at start-up by Load.
type Config struct {
	DatabaseURL    string
	RedisURL       string
	HTTPAddr       string
	PlatformHost   string
	BaseDomain     string
	SecretKey      string
	TrustedProxies []string
	SMTPURL        string
	StorageDir     string
	Env            Env

	// DBMaxConns caps each PostgreSQL pool; every connection caches catalog
	// entries for every city it touches, so the cap bounds server memory.
	DBMaxConns int
	// DBConnMaxLifetime recycles connections so those catalog caches are freed.
	DBConnMaxLifetime time.Duration
	// HostCacheTTL is how long a host → city mapping is trusted without a
	// change notification.
	HostCacheTTL time.Duration
	// Shards maps extra shard names to PostgreSQL URLs; "main" is DatabaseURL.
	Shards map[string]string

	// DBAcquireTimeout is how long a web request waits for a database
	// connection (its city's share, then the pool) before it is answered 503.
	DBAcquireTimeout time.Duration
	// DBCityMaxConns caps the connections of one pool that one city's web
	// requests may hold at once, so a busy city cannot take them all; 0 means
	// three quarters of DBMaxConns.
	DBCityMaxConns int
	// MetricsAddr is the internal listener of /metrics and pprof; "" (the
	// default) serves neither. Never a city's or the platform's host.
	MetricsAddr string
	// HTTPMaxInFlightPerIP caps the requests one client address may have in
	// progress at once on one web node; more are answered 429.
	HTTPMaxInFlightPerIP int
}

// devSecret is the secret used in dev when AGORA_SECRET_KEY is unset. Production
// refuses to start without a real one.
const devSecret = "agora-dev-secret-do-not-use-in-production"

// variable describes one AGORA_* variable: its default, whether it is secret and
// how it is parsed into the Config.
type variable struct {
	name   string
	def    string
	secret bool
	doc    string
	set    func(c *Config, v string) error
}

var variables = []variable{
	{"AGORA_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/agora?sslmode=disable", true, "PostgreSQL URL of the platform database (main shard)", func(c *Config, v string) error {
		return parseURL(v, []string{"postgres", "postgresql"}, &c.DatabaseURL)
	}},
	{"AGORA_REDIS_URL", "redis://127.0.0.1:6379/0", true, "Redis URL (asynq queues, rate limits, caches)", func(c *Config, v string) error {
		return parseURL(v, []string{"redis", "rediss"}, &c.RedisURL)
	}},
	{"AGORA_HTTP_ADDR", ":8080", false, "listen address of the public HTTP server", func(c *Config, v string) error {
		return parseAddr(v, &c.HTTPAddr)
	}},
	{"AGORA_PLATFORM_HOST", "localhost", false, "host of the operator console (never a city)", func(c *Config, v string) error {
		return parseHostName(v, &c.PlatformHost)
	}},
	{"AGORA_BASE_DOMAIN", "localhost", false, "every city also answers on <slug>.<base domain>", func(c *Config, v string) error {
		return parseHostName(v, &c.BaseDomain)
	}},
	{"AGORA_SECRET_KEY", "", true, "signing key for tokens and links (at least 32 characters; required in production)", func(c *Config, v string) error {
		c.SecretKey = v
		return nil
	}},
	{"AGORA_TRUSTED_PROXIES", "", false, "comma-separated IPs or CIDRs whose X-Forwarded-Host/-For are believed", func(c *Config, v string) error {
		c.TrustedProxies = nil
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			if _, _, err := net.ParseCIDR(p); err != nil && net.ParseIP(p) == nil {
				return fmt.Errorf("%q is neither an IP address nor a CIDR", p)
			}
			c.TrustedProxies = append(c.TrustedProxies, p)
		}
		return nil
	}},
	{"AGORA_SMTP_URL", "smtp://127.0.0.1:1025", true, "SMTP server for outgoing mail (smtp:// or smtps://, user:pass@ allowed)", func(c *Config, v string) error {
		return parseURL(v, []string{"smtp", "smtps"}, &c.SMTPURL)
	}},
	{"AGORA_STORAGE_DIR", "./var/storage", false, "directory for uploaded and generated files (tenants/<id>/...)", func(c *Config, v string) error {
		if strings.TrimSpace(v) == "" {
			return errors.New("must not be empty")
		}
		c.StorageDir = v
		return nil
	}},
	{"AGORA_ENV", "dev", false, "dev or production", func(c *Config, v string) error {
		switch Env(v) {
		case EnvDev, EnvProduction:
			c.Env = Env(v)
			return nil
		}
		return fmt.Errorf("%q is not one of dev, production", v)
	}},
	{"AGORA_DB_MAX_CONNS", "16", false, "maximum connections per PostgreSQL pool", func(c *Config, v string) error {
		return parseInt(v, 1, 1000, &c.DBMaxConns)
	}},
	{"AGORA_DB_CONN_MAX_LIFETIME", "10m", false, "recycle PostgreSQL connections after this long (frees catalog caches)", func(c *Config, v string) error {
		return parseDuration(v, time.Second, 24*time.Hour, &c.DBConnMaxLifetime)
	}},
	{"AGORA_HOST_CACHE_TTL", "30s", false, "how long a host → city mapping is cached without a change notice", func(c *Config, v string) error {
		return parseDuration(v, 0, time.Hour, &c.HostCacheTTL)
	}},
	{"AGORA_DB_ACQUIRE_TIMEOUT", "5s", false, "how long a web request waits for a database connection before answering 503", func(c *Config, v string) error {
		return parseDuration(v, 10*time.Millisecond, 5*time.Minute, &c.DBAcquireTimeout)
	}},
	{"AGORA_DB_CITY_MAX_CONNS", "0", false, "connections of a pool one city's web requests may hold at once (0: three quarters of AGORA_DB_MAX_CONNS)", func(c *Config, v string) error {
		return parseInt(v, 0, 1000, &c.DBCityMaxConns)
	}},
	{"AGORA_HTTP_MAX_IN_FLIGHT_PER_IP", "64", false, "requests one client address may have in progress at once on a web node (more get 429)", func(c *Config, v string) error {
		return parseInt(v, 1, 1_000_000, &c.HTTPMaxInFlightPerIP)
	}},
	{"AGORA_METRICS_ADDR", "", false, "internal listener of /metrics (Prometheus) and /debug/pprof, e.g. 127.0.0.1:9090; empty: off", func(c *Config, v string) error {
		if v == "" {
			c.MetricsAddr = ""
			return nil
		}
		return parseAddr(v, &c.MetricsAddr)
	}},
	{"AGORA_SHARDS", "", true, "extra database shards: name=postgres-url,name=postgres-url", func(c *Config, v string) error {
		c.Shards = map[string]string{}
		for _, kv := range strings.Split(v, ",") {
			kv = strings.TrimSpace(kv)
			if kv == "" {
				continue
			}
			name, u, ok := strings.Cut(kv, "=")
			if !ok || name == "" || name == "main" {
				return fmt.Errorf("%q must be name=postgres-url with a name other than main", kv)
			}
			var dst string
			if err := parseURL(u, []string{"postgres", "postgresql"}, &dst); err != nil {
				return fmt.Errorf("shard %s: %w", name, err)
			}
			c.Shards[name] = dst
		}
		return nil
	}},
}

// Load reads every AGORA_* variable from getenv (os.Getenv when nil), applies
// defaults and validates. The error names the offending variable in one line.
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := &Config{}
	for _, v := range variables {
		val, ok := lookup(getenv, v.name)
		if !ok {
			val = v.def
		}
		if err := v.set(c, strings.TrimSpace(val)); err != nil {
			return nil, fmt.Errorf("config: %s: %w", v.name, err)
		}
	}
	switch {
	case c.SecretKey == "" && c.Env == EnvProduction:
		return nil, errors.New("config: AGORA_SECRET_KEY: required when AGORA_ENV=production (at least 32 characters)")
	case c.SecretKey == "":
		c.SecretKey = devSecret
	case len(c.SecretKey) < 32:
		return nil, fmt.Errorf("config: AGORA_SECRET_KEY: must be at least 32 characters, got %d", len(c.SecretKey))
	}
	if c.MetricsAddr != "" && c.MetricsAddr == c.HTTPAddr {
		return nil, errors.New("config: AGORA_METRICS_ADDR: must not be the public listener (AGORA_HTTP_ADDR)")
	}
	if c.DBCityMaxConns == 0 {
		c.DBCityMaxConns = max(1, c.DBMaxConns*3/4)
	}
	if c.DBCityMaxConns > c.DBMaxConns {
		return nil, fmt.Errorf("config: AGORA_DB_CITY_MAX_CONNS: %d is more than AGORA_DB_MAX_CONNS (%d)", c.DBCityMaxConns, c.DBMaxConns)
	}
	if c.Env == EnvProduction && c.SecretKey == devSecret {
		return nil, errors.New("config: AGORA_SECRET_KEY: the development key cannot be used in production")
	}
	return c, nil
}

func lookup(getenv func(string) string, name string) (string, bool) {
	v := getenv(name)
	if v == "" {
		return "", false
	}
	return v, true
}

// Setting is one line of Describe's output.
type Setting struct {
	Name, Value, Doc string
}

// Describe lists every variable with its effective value; secrets and the
// passwords inside URLs are masked.
func (c *Config) Describe() []Setting {
	vals := map[string]string{
		"AGORA_DATABASE_URL":              MaskURL(c.DatabaseURL),
		"AGORA_REDIS_URL":                 MaskURL(c.RedisURL),
		"AGORA_HTTP_ADDR":                 c.HTTPAddr,
		"AGORA_PLATFORM_HOST":             c.PlatformHost,
		"AGORA_BASE_DOMAIN":               c.BaseDomain,
		"AGORA_SECRET_KEY":                maskSecret(c.SecretKey),
		"AGORA_TRUSTED_PROXIES":           strings.Join(c.TrustedProxies, ","),
		"AGORA_SMTP_URL":                  MaskURL(c.SMTPURL),
		"AGORA_STORAGE_DIR":               c.StorageDir,
		"AGORA_ENV":                       string(c.Env),
		"AGORA_DB_MAX_CONNS":              strconv.Itoa(c.DBMaxConns),
		"AGORA_DB_CONN_MAX_LIFETIME":      c.DBConnMaxLifetime.String(),
		"AGORA_HOST_CACHE_TTL":            c.HostCacheTTL.String(),
		"AGORA_DB_ACQUIRE_TIMEOUT":        c.DBAcquireTimeout.String(),
		"AGORA_DB_CITY_MAX_CONNS":         strconv.Itoa(c.DBCityMaxConns),
		"AGORA_HTTP_MAX_IN_FLIGHT_PER_IP": strconv.Itoa(c.HTTPMaxInFlightPerIP),
		"AGORA_METRICS_ADDR":              c.MetricsAddr,
	}
	names := make([]string, 0, len(c.Shards))
	for n := range c.Shards {
		names = append(names, n)
	}
	sort.Strings(names)
	var shards []string
	for _, n := range names {
		shards = append(shards, n+"="+MaskURL(c.Shards[n]))
	}
	vals["AGORA_SHARDS"] = strings.Join(shards, ",")
	out := make([]Setting, 0, len(variables))
	for _, v := range variables {
		out = append(out, Setting{Name: v.name, Value: vals[v.name], Doc: v.doc})
	}
	return out
}

// ShardURL returns the PostgreSQL URL of the named shard ("main" is the
// platform database).
func (c *Config) ShardURL(name string) (string, bool) {
	if name == "" || name == "main" {
		return c.DatabaseURL, true
	}
	u, ok := c.Shards[name]
	return u, ok
}

func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	if s == devSecret {
		return "(development key)"
	}
	return "********"
}

// MaskURL hides the password of a URL, for logs and error messages.
func MaskURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparseable URL)"
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		}
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

func parseURL(v string, schemes []string, dst *string) error {
	u, err := url.Parse(v)
	if err != nil {
		// url.Error quotes the whole URL, password included: keep only the cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("not a URL: %v", err)
	}
	for _, s := range schemes {
		if u.Scheme == s {
			if u.Host == "" {
				return fmt.Errorf("%q has no host", MaskURL(v))
			}
			*dst = v
			return nil
		}
	}
	return fmt.Errorf("scheme %q is not one of %s", u.Scheme, strings.Join(schemes, ", "))
}

func parseAddr(v string, dst *string) error {
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		return fmt.Errorf("%q is not host:port (e.g. :8080)", v)
	}
	*dst = v
	return nil
}

func parseHostName(v string, dst *string) error {
	v = strings.ToLower(strings.TrimSuffix(v, "."))
	if v == "" || strings.ContainsAny(v, ":/ ") {
		return fmt.Errorf("%q is not a host name (no scheme, port or path)", v)
	}
	*dst = v
	return nil
}

func parseInt(v string, min, max int, dst *int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < min || n > max {
		return fmt.Errorf("%q is not a whole number between %d and %d", v, min, max)
	}
	*dst = n
	return nil
}

func parseDuration(v string, min, max time.Duration, dst *time.Duration) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < min || d > max {
		return fmt.Errorf("%q is not a duration between %s and %s (e.g. 30s, 10m)", v, min, max)
	}
	*dst = d
	return nil
}
