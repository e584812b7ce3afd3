package web_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/locale"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// markedCity is a city whose data carries a token no other city's data has.
type markedCity struct {
	t         *tenant.Tenant
	hosts     []string // hosts that serve it (its default host, and its own domain if any)
	token     string   // appears in every marker below, and nowhere else
	name      string   // settings.name
	pageSlug  string   // slug of an extra page
	pageTitle string   // its English title
}

// markCity gives c's settings and a new page unique markers, through the
// city's own scoped transaction.
func markCity(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, hosts []string) *markedCity {
	t.Helper()
	tok := randHex(6)
	m := &markedCity{
		t: c, hosts: hosts, token: tok,
		name:      fmt.Sprintf("marker-%s-%s", c.Slug, tok),
		pageSlug:  fmt.Sprintf("p-%s-%s", strings.ReplaceAll(c.Slug, "_", "-"), tok),
		pageTitle: fmt.Sprintf("title-%s-%s", c.Slug, tok),
	}
	title := locale.Text{"en": m.pageTitle, "fr": m.pageTitle + "-fr", "nl": m.pageTitle + "-nl"}
	body := locale.Text{"en": "body-" + tok}
	err := env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		ctx := context.Background()
		if _, err := tx.ExecContext(ctx, `UPDATE settings SET name = $1`, m.name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pages (slug, title, body, position) VALUES ($1, $2, $3, -1)`,
			m.pageSlug, title, body)
		return err
	})
	require.NoError(t, err)
	return m
}

// TestCityIsolationUnderLoad is the tenancy guarantee seen from outside: many
// concurrent requests to many cities over shared keep-alive connections, and
// every response shows its own city's data and nothing of any other city's.
func TestCityIsolationUnderLoad(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})

	const nCities = 20
	cities := make([]*markedCity, nCities)
	for i := range cities {
		slug := fmt.Sprintf("iso%02d", i)
		hosts := []string{tenant.DefaultHost(slug, tenanttest.BaseDomain)}
		var own []string
		if i%2 == 0 { // half the cities also have a domain of their own
			own = []string{slug + ".example.org"}
			hosts = append(hosts, own[0])
		}
		cities[i] = markCity(t, env, env.City(t, slug, own...), hosts)
	}

	// check returns an error when body is not city c's answer to kind.
	check := func(c *markedCity, kind int, status int, body string) error {
		if status != http.StatusOK {
			return fmt.Errorf("status %d: %.300s", status, body)
		}
		if !strings.Contains(body, c.token) {
			return fmt.Errorf("own marker %s missing: %.300s", c.token, body)
		}
		for _, o := range cities {
			if o != c && strings.Contains(body, o.token) {
				return fmt.Errorf("marker of city %s leaked: %.300s", o.t.Slug, body)
			}
		}
		switch kind {
		case 0:
			var s webtest.SiteDoc
			if err := json.Unmarshal([]byte(body), &s); err != nil {
				return err
			}
			if s.Slug != c.t.Slug || s.Settings.Name != c.name || s.ID != int64(c.t.ID) {
				return fmt.Errorf("site is %s/%q/%d", s.Slug, s.Settings.Name, s.ID)
			}
		case 1:
			var l struct {
				Data []struct {
					Slug string `json:"slug"`
				} `json:"data"`
				Total int `json:"total"`
			}
			if err := json.Unmarshal([]byte(body), &l); err != nil {
				return err
			}
			// 3 seeded pages + the marker page, which sorts first.
			if l.Total != 4 || len(l.Data) != 4 || l.Data[0].Slug != c.pageSlug {
				return fmt.Errorf("pages: %.300s", body)
			}
		case 2:
			if !strings.Contains(body, c.name) || !strings.Contains(body, `href="/pages/`+c.pageSlug+`"`) ||
				!strings.Contains(body, c.pageTitle) {
				return fmt.Errorf("home page lacks the city's name or page: %.300s", body)
			}
		}
		return nil
	}

	client := &http.Client{
		Transport: &http.Transport{Proxy: nil, MaxIdleConns: 256, MaxIdleConnsPerHost: 256},
		Timeout:   30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	defer client.CloseIdleConnections()

	const (
		workers  = 32
		requests = 12000
	)
	paths := []string{"/api/v1/site", "/api/v1/pages", "/"}
	var (
		next     atomic.Int64
		done     atomic.Int64
		byKind   [3]atomic.Int64
		byCity   [nCities]atomic.Int64
		failOnce sync.Once
		failure  error
		failed   atomic.Bool
	)
	fail := func(err error) {
		failOnce.Do(func() { failure = err; failed.Store(true) })
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := next.Add(1) - 1
				if i >= requests {
					return
				}
				ci := mrand.IntN(nCities)
				c := cities[ci]
				kind := int(i % 3)
				host := c.hosts[mrand.IntN(len(c.hosts))]
				switch mrand.IntN(3) { // the same host, written as browsers and proxies do
				case 1:
					host = strings.ToUpper(host)
				case 2:
					host = host + ".:" + h.Port
				}
				req, err := http.NewRequest(http.MethodGet, h.URL+paths[kind], nil)
				if err != nil {
					fail(err)
					return
				}
				req.Host = host
				if kind == 2 {
					req.Header.Set("Accept", "text/html")
				}
				res, err := client.Do(req)
				if err != nil {
					fail(fmt.Errorf("GET %s (Host %s): %w", paths[kind], host, err))
					return
				}
				b, err := io.ReadAll(res.Body)
				res.Body.Close()
				if err != nil {
					fail(err)
					return
				}
				if err := check(c, kind, res.StatusCode, string(b)); err != nil {
					fail(fmt.Errorf("GET %s (Host %s, city %s): %w", paths[kind], host, c.t.Slug, err))
					return
				}
				done.Add(1)
				byKind[kind].Add(1)
				byCity[ci].Add(1)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	require.NoError(t, failure)
	require.EqualValues(t, requests, done.Load(), "every request was checked")
	perCity := make([]string, nCities)
	for i := range byCity {
		require.Positive(t, byCity[i].Load(), "city %s got no requests", cities[i].t.Slug)
		perCity[i] = fmt.Sprintf("%s=%d", cities[i].t.Slug, byCity[i].Load())
	}
	t.Logf("isolation: %d requests (%d /api/v1/site, %d /api/v1/pages, %d /) to %d cities from %d goroutines in %s (%.0f req/s), all correct",
		done.Load(), byKind[0].Load(), byKind[1].Load(), byKind[2].Load(), nCities, workers,
		elapsed.Round(time.Millisecond), float64(done.Load())/elapsed.Seconds())
	t.Logf("per city: %s", strings.Join(perCity, " "))
}
