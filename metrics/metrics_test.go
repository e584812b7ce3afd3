package metrics_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"agora/cmd/agora/wire"
	"agora/config"
	"agora/domain/email"
	"agora/metrics"
	"agora/tenant/tenanttest"
	"agora/web"
)

// failing is an SMTP server that refuses every other message.
type failing struct{ n int }

func (f *failing) Send(_ context.Context, _ email.Message) error {
	f.n++
	if f.n%2 == 0 {
		return errors.New("550 refused")
	}
	return nil
}

// TestScrapeFindsTheSeries: after a few requests and emails, /metrics on
// the internal handler holds every series the README documents, with
// bounded labels (route patterns, not paths), and pprof answers; neither is
// served on a city's or the platform's host.
func TestScrapeFindsTheSeries(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "metered")
	cfg, err := config.Load(func(k string) string {
		return map[string]string{"AGORA_DATABASE_URL": env.URL, "AGORA_PLATFORM_HOST": tenanttest.PlatformHost,
			"AGORA_BASE_DOMAIN": tenanttest.BaseDomain, "AGORA_STORAGE_DIR": env.StorageDir}[k]
	})
	require.NoError(t, err)
	reg := metrics.New()
	reg.WatchPools(env.DB)
	reg.WatchOutbox(env.DB.Platform())
	rdb := redis.NewClient(&redis.Options{Addr: tenanttest.RedisAddr()})
	t.Cleanup(func() { _ = rdb.Close() })
	insp := asynq.NewInspectorFromRedisClient(rdb)
	reg.WatchQueues(insp)

	deps, err := wire.Web(cfg, env.DB, env.Registry, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	require.NoError(t, err)
	deps.Metrics = reg
	srv, err := web.New(deps)
	require.NoError(t, err)
	get := func(host, path string) int {
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = host
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		return rec.Code
	}
	for _, path := range []string{"/api/v1/ideas", "/api/v1/ideas/1", "/api/v1/ideas/2", "/nowhere"} {
		get(c.DefaultHost, path)
	}
	require.Equal(t, http.StatusNotFound, get(c.DefaultHost, "/metrics"), "no metrics on a city's host")
	require.Equal(t, http.StatusNotFound, get(tenanttest.PlatformHost, "/metrics"), "nor on the platform's")
	require.Equal(t, http.StatusNotFound, get(c.DefaultHost, "/debug/pprof/"))

	smtp := reg.Count(&failing{})
	for range 3 {
		_ = smtp.Send(context.Background(), email.Message{Campaign: "user_digest"})
	}

	rec := httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body := rec.Body.String()
	for _, series := range []string{
		`agora_http_request_duration_seconds_bucket{method="GET",route="/api/v1/ideas",status="2xx",le="0.1"}`,
		`agora_http_request_duration_seconds_count{method="GET",route="/api/v1/ideas/:id",status="4xx"} 2`,
		`agora_http_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"}`,
		`agora_db_connections{shard="main",state="idle"}`,
		`agora_db_connections{shard="main",state="in_use"}`,
		`agora_db_connections_max{shard="main"} 20`,
		`agora_db_waits_total{shard="main"}`,
		`agora_outbox_rows{state="waiting"}`,
		`agora_outbox_rows{state="enqueued"}`,
		`agora_outbox_oldest_age_seconds`,
		`agora_outbox_scrape_error 0`,
		`agora_queue_scrape_error 0`,
		`agora_emails_sent_total{campaign="user_digest"} 2`,
		`agora_emails_failed_total{campaign="user_digest"} 1`,
		`agora_build_info{version=`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		require.Contains(t, body, series)
	}
	require.NotContains(t, body, "metered", "no city is a label")
	require.NotContains(t, body, `route="/api/v1/ideas/1"`, "routes are patterns, not paths")

	rec = httptest.NewRecorder()
	reg.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.True(t, strings.Contains(rec.Body.String(), "goroutine"))
}

// TestNilRegistryRecordsNothing: code records unconditionally; without a
// metrics listener the registry is nil and nothing happens.
func TestNilRegistryRecordsNothing(t *testing.T) {
	t.Parallel()
	var reg *metrics.Registry
	reg.ObserveRequest("/", "GET", 200, 0)
	reg.EmailSent("manual", true)
	s := &failing{}
	require.Same(t, email.Sender(s), reg.Count(s))
}
