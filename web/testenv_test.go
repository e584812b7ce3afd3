package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"agora/cmd/agora/wire"
	"agora/config"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.TestMode)
	os.Exit(m.Run())
}

// harness is one web server under test, built from real parts: the env's
// database and cities, a real config, a real Redis client and a real HTTP
// listener.
type harness struct {
	env    *tenanttest.Env
	srv    *web.Server
	ts     *httptest.Server
	client *http.Client // never follows redirects
	port   string       // the listener's port, for Host headers that carry one
}

// serverOpts changes how a harness is built.
type serverOpts struct {
	trustedProxies string            // AGORA_TRUSTED_PROXIES
	registry       *tenant.Registry  // defaults to env.Registry
	inspector      *asynq.Inspector  // the job queues of /jobs; none by default
	vars           map[string]string // more AGORA_* variables
}

// newHarness starts the web server over env. Server errors are kept in a
// buffer and shown when the test fails, so a 500 is never silent.
func newHarness(t testing.TB, env *tenanttest.Env, o serverOpts) *harness {
	t.Helper()
	vars := map[string]string{
		"AGORA_DATABASE_URL":    env.URL,
		"AGORA_PLATFORM_HOST":   tenanttest.PlatformHost,
		"AGORA_BASE_DOMAIN":     tenanttest.BaseDomain,
		"AGORA_TRUSTED_PROXIES": o.trustedProxies,
		"AGORA_STORAGE_DIR":     env.StorageDir,
		// Tests send many requests at once from one address, on a busy
		// machine: no per-address cap and a patient pool, unless a test
		// sets them.
		"AGORA_HTTP_MAX_IN_FLIGHT_PER_IP": "100000",
		"AGORA_DB_ACQUIRE_TIMEOUT":        "2m",
	}
	for k, v := range o.vars {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)

	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	t.Cleanup(func() { _ = rdb.Close() })

	reg := o.registry
	if reg == nil {
		reg = env.Registry
	}
	logs := &lockedBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	deps, err := wire.Web(cfg, env.DB, reg, rdb, log)
	require.NoError(t, err)
	if o.inspector != nil {
		deps.Jobs = jobs.NewMonitor(o.inspector, reg)
	}
	srv, err := web.New(deps)
	require.NoError(t, err)

	ts := httptest.NewServer(srv)
	t.Cleanup(func() {
		ts.Close()
		if t.Failed() && logs.Len() > 0 {
			t.Logf("server error log:\n%s", logs.String())
		}
	})
	_, port, _ := strings.Cut(strings.TrimPrefix(ts.URL, "http://"), ":")
	return &harness{
		env: env, srv: srv, ts: ts, port: port,
		client: &http.Client{
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
			Timeout:   30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// response is a fully read HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   string
}

// do sends method target (a path with optional query) to the server with the
// given Host header and extra headers (name, value pairs).
func (h *harness) do(t testing.TB, method, host, target string, headers ...string) response {
	t.Helper()
	require.Zero(t, len(headers)%2, "headers come in name, value pairs")
	req, err := http.NewRequestWithContext(context.Background(), method, h.ts.URL+target, nil)
	require.NoError(t, err)
	req.Host = host
	for i := 0; i < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := h.client.Do(req)
	require.NoError(t, err, "%s %s (Host %s)", method, target, host)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

func (h *harness) get(t *testing.T, host, target string, headers ...string) response {
	t.Helper()
	return h.do(t, http.MethodGet, host, target, headers...)
}

// hostPort is host with the test listener's port, as a browser would send it.
func (h *harness) hostPort(host string) string { return host + ":" + h.port }

// siteDoc is the part of GET /api/v1/site the tests look at.
type siteDoc struct {
	ID       int64    `json:"id"`
	Slug     string   `json:"slug"`
	Host     string   `json:"host"`
	Locales  []string `json:"locales"`
	Settings struct {
		Name string `json:"name"`
	} `json:"settings"`
}

// problemDoc is an RFC 7807 problem as the API returns it.
type problemDoc struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Code     string `json:"code"`
	Detail   string `json:"detail"`
	Field    string `json:"field"`
	Instance string `json:"instance"`
}

// requireProblem checks that r is a problem+json document with status and code.
func requireProblem(t *testing.T, r response, status int, code string) problemDoc {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "body: %s", r.Body)
	var p problemDoc
	require.NoError(t, jsonUnmarshal(r.Body, &p), "body: %s", r.Body)
	require.Equal(t, status, p.Status)
	require.Equal(t, code, p.Code)
	require.NotEmpty(t, p.Title)
	return p
}

// requireHTML checks that r is an HTML page with status.
func requireHTML(t *testing.T, r response, status int) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"),
		"Content-Type %q, body: %s", r.Header.Get("Content-Type"), r.Body)
	require.Contains(t, r.Body, "<!doctype html>")
}

// lockedBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
