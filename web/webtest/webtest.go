// Package webtest runs Agora's web server for tests, built from real parts,
// and talks to it as browsers, scripts, mail clients and the outbox worker
// would. Only tests import it.
package webtest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
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

// Every server a test starts runs gin in test mode: no debug output.
func init() { gin.SetMode(gin.TestMode) }

// Harness is one web server under test, built from real parts: the env's
// database and cities, a real config, a real Redis client and a real HTTP
// listener.
type Harness struct {
	Env    *tenanttest.Env
	Server *web.Server
	URL    string       // the listener's base URL, http://127.0.0.1:<port>
	Port   string       // the listener's port, for Host headers that carry one
	Client *http.Client // never follows redirects
}

// Options change how a harness is built.
type Options struct {
	TrustedProxies string            // AGORA_TRUSTED_PROXIES
	Registry       *tenant.Registry  // defaults to env.Registry
	Inspector      *asynq.Inspector  // the job queues of /jobs; none by default
	Vars           map[string]string // more AGORA_* variables
}

// New starts the web server over env until the test ends. Server errors
// are kept in a buffer and shown when the test fails, so a 500 is never
// silent.
func New(t testing.TB, env *tenanttest.Env, o Options) *Harness {
	t.Helper()
	vars := map[string]string{
		"AGORA_DATABASE_URL":    env.URL,
		"AGORA_PLATFORM_HOST":   tenanttest.PlatformHost,
		"AGORA_BASE_DOMAIN":     tenanttest.BaseDomain,
		"AGORA_TRUSTED_PROXIES": o.TrustedProxies,
		"AGORA_STORAGE_DIR":     env.StorageDir,
		// Tests send many requests at once from one address, on a busy
		// machine: no per-address cap and a patient pool, unless a test
		// sets them.
		"AGORA_HTTP_MAX_IN_FLIGHT_PER_IP": "100000",
		"AGORA_DB_ACQUIRE_TIMEOUT":        "2m",
	}
	for k, v := range o.Vars {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)

	rdb := redis.NewClient(&redis.Options{Addr: tenanttest.RedisAddr()})
	t.Cleanup(func() { _ = rdb.Close() })

	reg := o.Registry
	if reg == nil {
		reg = env.Registry
	}
	logs := &LogBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError}))
	deps, err := wire.Web(cfg, env.DB, reg, rdb, log)
	require.NoError(t, err)
	if o.Inspector != nil {
		deps.Jobs = jobs.NewMonitor(o.Inspector, reg)
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
	return &Harness{
		Env: env, Server: srv, URL: ts.URL, Port: port,
		Client: &http.Client{
			Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16},
			Timeout:   30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
	}
}

// Response is a fully read HTTP response.
type Response struct {
	Status int
	Header http.Header
	Body   string
}

// Do sends method target (a path with optional query) to the server with
// the given Host header and extra headers (name, value pairs).
func (h *Harness) Do(t testing.TB, method, host, target string, headers ...string) Response {
	t.Helper()
	require.Zero(t, len(headers)%2, "headers come in name, value pairs")
	req, err := http.NewRequestWithContext(context.Background(), method, h.URL+target, nil)
	require.NoError(t, err)
	req.Host = host
	for i := 0; i < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := h.Client.Do(req)
	require.NoError(t, err, "%s %s (Host %s)", method, target, host)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// Get is Do with GET.
func (h *Harness) Get(t testing.TB, host, target string, headers ...string) Response {
	t.Helper()
	return h.Do(t, http.MethodGet, host, target, headers...)
}

// Call sends a request with a JSON body (none if body is empty) and extra
// headers (name, value pairs).
func (h *Harness) Call(t testing.TB, method, host, target, body string, headers ...string) Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.URL+target, r)
	require.NoError(t, err)
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := h.Client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return Response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// CallForm posts an urlencoded form.
func (h *Harness) CallForm(t testing.TB, host, target, body string, headers ...string) Response {
	t.Helper()
	return h.CallRaw(t, "POST", host, target, "application/x-www-form-urlencoded", body, headers...)
}

// CallRaw sends a body of content type ctype.
func (h *Harness) CallRaw(t testing.TB, method, host, target, ctype, body string, headers ...string) Response {
	t.Helper()
	req, err := http.NewRequest(method, h.URL+target, strings.NewReader(body))
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", ctype)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := h.Client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b := new(strings.Builder)
	_, _ = io.Copy(b, res.Body)
	return Response{Status: res.StatusCode, Header: res.Header, Body: b.String()}
}

// HostPort is host with the test listener's port, as a browser would send it.
func (h *Harness) HostPort(host string) string { return host + ":" + h.Port }

// SiteDoc is the part of GET /api/v1/site the tests look at.
type SiteDoc struct {
	ID       int64    `json:"id"`
	Slug     string   `json:"slug"`
	Host     string   `json:"host"`
	Locales  []string `json:"locales"`
	Settings struct {
		Name string `json:"name"`
	} `json:"settings"`
}

// Problem is an RFC 7807 problem as the API returns it.
type Problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Code     string `json:"code"`
	Detail   string `json:"detail"`
	Field    string `json:"field"`
	Instance string `json:"instance"`
}

// RequireProblem checks that r is a problem+json document with status and
// code, and returns it.
func RequireProblem(t testing.TB, r Response, status int, code string) Problem {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.Equal(t, "application/problem+json", r.Header.Get("Content-Type"), "body: %s", r.Body)
	var p Problem
	require.NoError(t, json.Unmarshal([]byte(r.Body), &p), "body: %s", r.Body)
	require.Equal(t, status, p.Status)
	require.Equal(t, code, p.Code)
	require.NotEmpty(t, p.Title)
	return p
}

// RequireHTML checks that r is an HTML page with status.
func RequireHTML(t testing.TB, r Response, status int) {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "text/html"),
		"Content-Type %q, body: %s", r.Header.Get("Content-Type"), r.Body)
	require.Contains(t, r.Body, "<!doctype html>")
}

// Decode checks r's status and decodes its JSON body into a T.
func Decode[T any](t testing.TB, r Response, status int) T {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	var v T
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v), "body: %s", r.Body)
	return v
}

// DecodeID checks r's status and returns the "id" of its JSON body.
func DecodeID(t testing.TB, r Response, status int) int64 {
	t.Helper()
	return Decode[struct {
		ID int64 `json:"id"`
	}](t, r, status).ID
}

// LogBuffer is a bytes.Buffer safe for concurrent log writes.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// Len is the number of bytes written so far.
func (l *LogBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// DiscardLogger is a logger that writes nowhere.
func DiscardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
