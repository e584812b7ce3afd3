package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// requireSite checks that r is the /api/v1/site document of city m and shows
// nothing of the other cities.
func requireSite(t *testing.T, r webtest.Response, m *markedCity, others ...*markedCity) {
	t.Helper()
	require.Equal(t, http.StatusOK, r.Status, "body: %s", r.Body)
	var s webtest.SiteDoc
	require.NoError(t, json.Unmarshal([]byte(r.Body), &s), "body: %s", r.Body)
	require.Equal(t, m.t.Slug, s.Slug)
	require.Equal(t, m.name, s.Settings.Name)
	for _, o := range others {
		require.NotContains(t, r.Body, o.token, "city %s leaked", o.t.Slug)
	}
}

// TestNothingButTheHostChoosesTheCity tries every other way a request could
// name a city: forwarding headers from an untrusted peer, tenant headers,
// query parameters, cookies and path tricks. Only the Host counts.
func TestNothingButTheHostChoosesTheCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	a := markCity(t, env, env.City(t, "alpha"), nil)
	b := markCity(t, env, env.City(t, "bravo", "bravo.example.org"), nil)
	hostA := a.t.DefaultHost
	hostB := b.t.DefaultHost
	bID := fmt.Sprint(b.t.ID)

	untrusted := webtest.New(t, env, webtest.Options{})
	trusted := webtest.New(t, env, webtest.Options{TrustedProxies: "127.0.0.1"})

	headerTricks := [][]string{
		{"X-Forwarded-Host", hostB},
		{"X-Forwarded-Host", "bravo.example.org"},
		{"X-Forwarded-Host", hostB + ", " + hostA},
		{"X-Forwarded-Server", hostB},
		{"X-Original-Host", hostB},
		{"X-Host", hostB},
		{"Forwarded", "host=" + hostB},
		{"X-Tenant", "bravo"},
		{"X-Tenant-Id", bID},
		{"X-City", "bravo"},
		{"X-Schema", "city_bravo"},
		{"X-Agora-Tenant", "bravo"},
		{"Cookie", "agora_tenant=bravo; tenant=bravo; city=bravo"},
	}
	t.Run("headers from an untrusted peer", func(t *testing.T) {
		t.Parallel()
		for _, hd := range headerTricks {
			requireSite(t, untrusted.Get(t, hostA, "/api/v1/site", hd...), a, b)
			home := untrusted.Get(t, hostA, "/", append([]string{"Accept", "text/html"}, hd...)...)
			webtest.RequireHTML(t, home, http.StatusOK)
			require.Contains(t, home.Body, a.name, "%v", hd)
			require.NotContains(t, home.Body, b.token, "%v", hd)
		}
	})

	t.Run("query parameters", func(t *testing.T) {
		t.Parallel()
		for _, q := range []string{
			"?tenant=bravo&city=bravo&schema=city_bravo",
			"?tenant_id=" + bID + "&host=" + hostB,
			"?search_path=city_bravo",
		} {
			requireSite(t, untrusted.Get(t, hostA, "/api/v1/site"+q), a, b)
		}
		// A page that exists only in B is not found through A, whatever the query says.
		r := untrusted.Get(t, hostA, "/api/v1/pages/"+b.pageSlug+"?tenant=bravo&city=bravo&schema=city_bravo")
		webtest.RequireProblem(t, r, http.StatusNotFound, "not_found")
		require.NotContains(t, r.Body, b.pageTitle)
	})

	t.Run("path tricks", func(t *testing.T) {
		t.Parallel()
		for _, p := range []string{
			"/api/v1/site/../../city_bravo",
			"/api/v1/../../city_bravo/api/v1/site",
			"/city_bravo/api/v1/site",
			"/bravo/api/v1/site",
			"/api/v1/%2e%2e/%2e%2e/city_bravo",
			"//" + hostB + "/api/v1/site",
			"/api/v1/pages/" + b.pageSlug,
			"/pages/" + b.pageSlug,
		} {
			r := untrusted.Get(t, hostA, p)
			// (A 404 may echo the slug asked for; B's data must not appear.)
			require.NotContains(t, r.Body, b.name, "path %s", p)
			require.NotContains(t, r.Body, b.pageTitle, "path %s", p)
			require.NotContains(t, r.Body, "body-"+b.token, "path %s", p)
			if r.Status == http.StatusOK {
				require.Contains(t, r.Body, a.token, "path %s answered 200 with something other than A", p)
			} else {
				require.Contains(t, []int{http.StatusNotFound, http.StatusMovedPermanently, http.StatusBadRequest}, r.Status, "path %s: %s", p, r.Body)
				if loc := r.Header.Get("Location"); loc != "" {
					require.NotContains(t, loc, hostB, "path %s redirects to another city", p)
				}
			}
		}
	})

	t.Run("a trusted proxy's X-Forwarded-Host selects the city", func(t *testing.T) {
		t.Parallel()
		// Same requests as above, but the peer (127.0.0.1) is a configured proxy:
		// only this configuration switch makes X-Forwarded-Host count.
		requireSite(t, trusted.Get(t, hostA, "/api/v1/site", "X-Forwarded-Host", hostB), b, a)
		requireSite(t, trusted.Get(t, hostA, "/api/v1/site", "X-Forwarded-Host", hostB+", "+hostA), b, a)
		requireSite(t, trusted.Get(t, hostA, "/api/v1/site", "X-Forwarded-Host", "BRAVO.example.org."), b, a)
		// Without the header the proxy's Host is used.
		requireSite(t, trusted.Get(t, hostA, "/api/v1/site"), a, b)
		// Other headers stay meaningless behind a trusted proxy too.
		for _, hd := range headerTricks[3:] {
			requireSite(t, trusted.Get(t, hostA, "/api/v1/site", hd...), a, b)
		}
		// The forwarded host is held to the same rules as Host.
		webtest.RequireProblem(t, trusted.Get(t, hostA, "/api/v1/site", "X-Forwarded-Host", "127.0.0.1"), http.StatusBadRequest, "invalid")
		webtest.RequireProblem(t, trusted.Get(t, hostA, "/api/v1/site", "X-Forwarded-Host", "nowhere.agora.test"), http.StatusNotFound, "not_found")
	})
}

// TestHostHandling covers how the server treats the Host header itself.
func TestHostHandling(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	gent := markCity(t, env, env.City(t, "gent", "participatie.gent.be", "gent.example.org"), nil)

	t.Run("unknown host", func(t *testing.T) {
		t.Parallel()
		r := h.Get(t, "nowhere.agora.test", "/", "Accept", "text/html")
		webtest.RequireHTML(t, r, http.StatusNotFound)
		require.Contains(t, r.Body, "No city here")
		require.Contains(t, r.Body, "nowhere.agora.test")

		r = h.Get(t, "nowhere.example.com", "/", "Accept", "text/html", "Accept-Language", "fr")
		webtest.RequireHTML(t, r, http.StatusNotFound)
		require.Contains(t, r.Body, "Aucune ville ici")

		p := webtest.RequireProblem(t, h.Get(t, "nowhere.agora.test", "/api/v1/site"), http.StatusNotFound, "not_found")
		require.Equal(t, "/api/v1/site", p.Instance)
		webtest.RequireProblem(t, h.Get(t, "nowhere.agora.test", "/", "Accept", "application/json"), http.StatusNotFound, "not_found")
		webtest.RequireProblem(t, h.Get(t, "nowhere.agora.test", "/pages/about", "Accept", "application/json"), http.StatusNotFound, "not_found")
		// A sub-subdomain of the base domain is not a city either.
		webtest.RequireProblem(t, h.Get(t, "x.gent.agora.test", "/api/v1/site"), http.StatusNotFound, "not_found")
	})

	t.Run("IP literals and malformed hosts", func(t *testing.T) {
		t.Parallel()
		for _, host := range []string{"127.0.0.1", "127.0.0.1:" + h.Port, "[::1]", "[::1]:" + h.Port, "10.0.0.1", "127.1", "0x7f.1"} {
			webtest.RequireProblem(t, h.Get(t, host, "/api/v1/site"), http.StatusBadRequest, "invalid")
			r := h.Get(t, host, "/", "Accept", "text/html")
			webtest.RequireHTML(t, r, http.StatusBadRequest)
			require.Contains(t, r.Body, "Bad address", "host %s", host)
		}
		webtest.RequireProblem(t, h.Get(t, "gent_agora.test", "/api/v1/site"), http.StatusBadRequest, "invalid")
	})

	t.Run("secondary host redirects to the primary one", func(t *testing.T) {
		t.Parallel()
		r := h.Get(t, h.HostPort("gent.example.org"), "/pages/about?x=1&y=%C3%A9")
		require.Equal(t, http.StatusMovedPermanently, r.Status, r.Body)
		require.Equal(t, "http://participatie.gent.be:"+h.Port+"/pages/about?x=1&y=%C3%A9", r.Header.Get("Location"))

		r = h.Get(t, "GENT.example.org.", "/api/v1/site")
		require.Equal(t, http.StatusMovedPermanently, r.Status, r.Body)
		require.Equal(t, "http://participatie.gent.be/api/v1/site", r.Header.Get("Location"))

		// The primary host and the default host both serve.
		requireSite(t, h.Get(t, h.HostPort("participatie.gent.be"), "/api/v1/site"), gent)
		requireSite(t, h.Get(t, gent.t.DefaultHost, "/api/v1/site"), gent)
	})

	t.Run("internationalised domain names arrive in punycode", func(t *testing.T) {
		t.Parallel()
		bxl := markCity(t, env, env.City(t, "bxl", "bücher.example"), nil)
		require.Equal(t, "xn--bcher-kva.example", bxl.t.PrimaryHost)
		for _, host := range []string{"xn--bcher-kva.example", "XN--BCHER-KVA.Example.:" + h.Port} {
			requireSite(t, h.Get(t, host, "/api/v1/site"), bxl, gent)
		}
	})

	t.Run("case, trailing dot and port do not matter", func(t *testing.T) {
		t.Parallel()
		for _, host := range []string{"gent.agora.test", "GENT.Agora.Test", "gent.agora.test.", "Gent.Agora.Test.:" + h.Port, "gent.agora.test:80", "PARTICIPATIE.gent.be.:" + h.Port} {
			requireSite(t, h.Get(t, host, "/api/v1/site"), gent)
		}
	})

	t.Run("platform host is the operator console, never a city", func(t *testing.T) {
		t.Parallel()
		for _, host := range []string{tenanttest.PlatformHost, "Platform.Agora.Test.:" + h.Port} {
			r := h.Get(t, host, "/", "Accept", "text/html")
			webtest.RequireHTML(t, r, http.StatusOK)
			require.Contains(t, r.Body, "Agora operator console")
			require.NotContains(t, r.Body, gent.token)

			webtest.RequireProblem(t, h.Get(t, host, "/api/v1/site"), http.StatusNotFound, "not_found")
			webtest.RequireProblem(t, h.Get(t, host, "/api/v1/pages"), http.StatusNotFound, "not_found")
			webtest.RequireHTML(t, h.Get(t, host, "/pages/about"), http.StatusNotFound)
		}
		r := h.Get(t, tenanttest.PlatformHost, "/", "Accept-Language", "fr")
		require.Contains(t, r.Body, "Console d&#39;exploitation Agora")
	})

	t.Run("health on every host", func(t *testing.T) {
		t.Parallel()
		for _, host := range []string{"127.0.0.1", "[::1]:" + h.Port, "nowhere.agora.test", tenanttest.PlatformHost, gent.t.DefaultHost, "gent.example.org"} {
			r := h.Get(t, host, "/healthz")
			require.Equal(t, http.StatusOK, r.Status, "healthz on %s: %s", host, r.Body)
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			require.JSONEq(t, `{"status":"ok"}`, r.Body)

			r = h.Get(t, host, "/readyz")
			require.Equal(t, http.StatusOK, r.Status, "readyz on %s: %s", host, r.Body)
			require.Equal(t, "application/json", r.Header.Get("Content-Type"))
			require.JSONEq(t, `{"status":"ok","postgres":"ok","redis":"ok"}`, r.Body)
		}
	})
}

// TestPlatformSlugIsNotACity: even a city whose default host would be the
// platform host is not served there.
func TestPlatformSlugIsNotACity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	if _, err := env.Provisioner.Create(context.Background(), tenant.Spec{Slug: "platform", Name: "Platform City", Lifecycle: tenant.Active}); err != nil {
		t.Logf("provisioning refuses slug platform (fine): %v", err)
	} else {
		t.Logf("provisioning accepted slug platform, whose default host is the platform host")
	}
	r := h.Get(t, tenanttest.PlatformHost, "/")
	webtest.RequireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, "Agora operator console")
	require.NotContains(t, r.Body, "Platform City")
	webtest.RequireProblem(t, h.Get(t, tenanttest.PlatformHost, "/api/v1/site"), http.StatusNotFound, "not_found")
}

// TestSuspendedCity shows the maintenance page in the city's language while
// suspended, on this node (whose registry the operation invalidates) and on
// another node that learns of the change only through LISTEN/NOTIFY.
func TestSuspendedCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	_, err := env.Provisioner.Create(ctx, tenant.Spec{
		Slug: "leuven", Name: "Stad Leuven", Plan: tenant.PlanStandard, Lifecycle: tenant.Active,
		Locales: []string{"nl", "fr"}, TimeZone: "Europe/Brussels",
	})
	require.NoError(t, err)
	host := tenant.DefaultHost("leuven", tenanttest.BaseDomain)

	h := webtest.New(t, env, webtest.Options{})
	other := listeningNode(t, env)

	for _, n := range []*webtest.Harness{h, other} {
		r := n.Get(t, host, "/", "Accept", "text/html")
		webtest.RequireHTML(t, r, http.StatusOK) // warms the node's cache
		require.Empty(t, r.Header.Get("Retry-After"))
	}

	_, err = env.Ops.Suspend(ctx, "leuven")
	require.NoError(t, err)

	for name, n := range map[string]*webtest.Harness{"this node": h, "other node": other} {
		r := pollStatus(t, n, host, "/", http.StatusServiceUnavailable)
		webtest.RequireHTML(t, r, http.StatusServiceUnavailable)
		require.NotEmpty(t, r.Header.Get("Retry-After"), name)
		require.Contains(t, r.Body, `lang="nl"`, name)
		require.Contains(t, r.Body, "Het participatieplatform van Stad Leuven is in onderhoud", name)

		r = n.Get(t, host, "/", "Accept-Language", "fr-BE,fr;q=0.9")
		require.Equal(t, http.StatusServiceUnavailable, r.Status)
		require.Contains(t, r.Body, "La plateforme de participation de Stad Leuven est en maintenance", name)

		r = n.Get(t, host, "/api/v1/site")
		webtest.RequireProblem(t, r, http.StatusServiceUnavailable, "suspended")
		require.NotEmpty(t, r.Header.Get("Retry-After"), name)
		require.NotContains(t, r.Body, "settings", name)

		r = n.Get(t, host, "/pages/about")
		require.Equal(t, http.StatusServiceUnavailable, r.Status, name)
	}

	_, err = env.Ops.Resume(ctx, "leuven")
	require.NoError(t, err)
	for _, n := range []*webtest.Harness{h, other} {
		r := pollStatus(t, n, host, "/api/v1/site", http.StatusOK)
		require.Contains(t, r.Body, `"slug":"leuven"`)
		require.Empty(t, r.Header.Get("Retry-After"))
	}
}

// listeningNode starts another web server ("node") with its own registry,
// whose cache never expires during a test and is kept coherent only by the
// change notifications it LISTENs to, as in production.
func listeningNode(t *testing.T, env *tenanttest.Env) *webtest.Harness {
	t.Helper()
	reg := tenant.NewRegistry(env.DB.Platform(), tenanttest.BaseDomain, time.Hour)
	ctx, stop := context.WithCancel(context.Background())
	listening := make(chan error, 1)
	go func() { listening <- reg.Listen(ctx, env.URL, webtest.DiscardLogger()) }()
	t.Cleanup(func() {
		stop()
		require.NoError(t, <-listening)
	})
	n := webtest.New(t, env, webtest.Options{Registry: reg})
	waitForListener(t, env)
	return n
}

// TestCityLifecycleReachesEveryNode: a city created after its host was asked
// for appears, and a deleted city disappears, on a node that only hears of
// the change through LISTEN/NOTIFY.
func TestCityLifecycleReachesEveryNode(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	n := listeningNode(t, env)
	host := tenant.DefaultHost("new_city", tenanttest.BaseDomain)
	require.Equal(t, "new-city.agora.test", host)
	webtest.RequireProblem(t, n.Get(t, host, "/api/v1/site"), http.StatusNotFound, "not_found") // now cached as unknown
	webtest.RequireProblem(t, n.Get(t, "stad.example.net", "/api/v1/site"), http.StatusNotFound, "not_found")

	c := markCity(t, env, env.City(t, "new_city", "stad.example.net"), nil)
	r := pollStatus(t, n, host, "/api/v1/site", http.StatusOK)
	requireSite(t, r, c)
	requireSite(t, n.Get(t, "stad.example.net", "/api/v1/site"), c)

	require.NoError(t, env.Ops.Delete(context.Background(), "new_city"))
	for _, h := range []string{host, "stad.example.net"} {
		r = pollStatus(t, n, h, "/api/v1/site", http.StatusNotFound)
		webtest.RequireProblem(t, r, http.StatusNotFound, "not_found")
		r = n.Get(t, h, "/", "Accept", "text/html")
		webtest.RequireHTML(t, r, http.StatusNotFound)
		require.NotContains(t, r.Body, c.token)
	}
}

// waitForListener waits until some connection of the test database is
// LISTENing, so a change notification cannot be missed.
func waitForListener(t *testing.T, env *tenanttest.Env) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var n int
		err := env.DB.Platform().Get(&n, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND query ILIKE 'listen %'`)
		require.NoError(t, err)
		if n > 0 {
			return
		}
		require.True(t, time.Now().Before(deadline), "the registry listener never started listening")
		time.Sleep(10 * time.Millisecond)
	}
}

// pollStatus repeats GET target until it answers status (or fails the test
// after a deadline) and returns that response.
func pollStatus(t *testing.T, h *webtest.Harness, host, target string, status int) webtest.Response {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := h.Get(t, host, target)
		if r.Status == status {
			return r
		}
		require.True(t, time.Now().Before(deadline), "GET %s on %s: still %d, want %d: %s", target, host, r.Status, status, r.Body)
		time.Sleep(10 * time.Millisecond)
	}
}

// TestHostMovesBetweenCities: moving a host to another city changes
// what that host serves at once on the node that made the change.
func TestHostMovesBetweenCities(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	a := markCity(t, env, env.City(t, "antwerpen", "stad.example.org"), nil)
	b := markCity(t, env, env.City(t, "brugge"), nil)
	requireSite(t, h.Get(t, "stad.example.org", "/api/v1/site"), a, b)

	_, err := env.Ops.MoveHost(context.Background(), "stad.example.org", "brugge", true)
	require.NoError(t, err)
	requireSite(t, h.Get(t, "stad.example.org", "/api/v1/site"), b, a)
	// A's default host still serves A.
	requireSite(t, h.Get(t, a.t.DefaultHost, "/api/v1/site"), a, b)

	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(h.Get(t, b.t.DefaultHost, "/api/v1/site").Body), &doc))
	require.Equal(t, "stad.example.org", doc["host"], "the moved primary host is B's canonical host")
	require.False(t, strings.Contains(fmt.Sprint(doc), a.token))
}
