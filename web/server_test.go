package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestSecurityHeadersAndRequestIDs: every kind of answer carries the security
// headers and its own request id.
func TestSecurityHeadersAndRequestIDs(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	trusted := webtest.New(t, env, webtest.Options{TrustedProxies: "127.0.0.1/8"})
	c := env.City(t, "namur", "namur.example.org", "old.namur.example.org")
	host := c.DefaultHost

	cases := []struct {
		name, host, target string
		status             int
	}{
		{"home", host, "/", http.StatusOK},
		{"page", host, "/pages/about", http.StatusOK},
		{"api", host, "/api/v1/site", http.StatusOK},
		{"theme", host, "/theme.css", http.StatusOK},
		{"static", host, "/static/app.css", http.StatusOK},
		{"missing page", host, "/pages/nope", http.StatusNotFound},
		{"missing route", host, "/api/v1/nope", http.StatusNotFound},
		{"unknown host", "nowhere.agora.test", "/", http.StatusNotFound},
		{"ip host", "127.0.0.1", "/", http.StatusBadRequest},
		{"secondary host", "old.namur.example.org", "/", http.StatusMovedPermanently},
		{"platform", tenanttest.PlatformHost, "/", http.StatusOK},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		for range 5 {
			r := h.Get(t, tc.host, tc.target)
			require.Equal(t, tc.status, r.Status, "%s: %s", tc.name, r.Body)
			csp := r.Header.Get("Content-Security-Policy")
			require.Contains(t, csp, "default-src 'self'", tc.name)
			require.Contains(t, csp, "frame-ancestors 'none'", tc.name)
			require.Contains(t, csp, "object-src 'none'", tc.name)
			require.NotContains(t, csp, "unsafe-inline", tc.name)
			require.Equal(t, "nosniff", r.Header.Get("X-Content-Type-Options"), tc.name)
			require.Equal(t, "DENY", r.Header.Get("X-Frame-Options"), tc.name)
			require.Equal(t, "strict-origin-when-cross-origin", r.Header.Get("Referrer-Policy"), tc.name)
			require.Empty(t, r.Header.Get("Strict-Transport-Security"), "%s: no HSTS over plain http", tc.name)
			id := r.Header.Get("X-Request-Id")
			require.Regexp(t, `^[0-9a-f]{16}$`, id, tc.name)
			require.NotContains(t, seen, id, "request id %s reused (%s and %s)", id, seen[id], tc.name)
			seen[id] = tc.name
		}
	}
	require.Len(t, seen, 5*len(cases))

	// A client cannot choose its request id; a trusted proxy can.
	r := h.Get(t, host, "/api/v1/site", "X-Request-Id", "forged-id")
	require.NotEqual(t, "forged-id", r.Header.Get("X-Request-Id"))
	r = trusted.Get(t, host, "/api/v1/site", "X-Request-Id", "lb-1234")
	require.Equal(t, "lb-1234", r.Header.Get("X-Request-Id"))
	r = trusted.Get(t, host, "/api/v1/site", "X-Request-Id", strings.Repeat("x", 65))
	require.Regexp(t, `^[0-9a-f]{16}$`, r.Header.Get("X-Request-Id"), "over-long ids are replaced")

	// Behind a proxy that terminates TLS, pages get HSTS.
	r = trusted.Get(t, host, "/", "X-Forwarded-Proto", "https")
	require.Equal(t, http.StatusOK, r.Status)
	require.NotEmpty(t, r.Header.Get("Strict-Transport-Security"))
	// ... and only from a trusted proxy.
	r = h.Get(t, host, "/", "X-Forwarded-Proto", "https")
	require.Empty(t, r.Header.Get("Strict-Transport-Security"))
}

// TestPagesNeedNoInlineCode: the CSP forbids inline script and style, so no
// page may rely on them.
func TestPagesNeedNoInlineCode(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	c := env.City(t, "liege")
	inline := regexp.MustCompile(`(?i)<script|<style|\sstyle=|\son[a-z]+=|javascript:`)
	for _, p := range []struct{ host, target string }{
		{c.DefaultHost, "/"}, {c.DefaultHost, "/pages/about"}, {c.DefaultHost, "/pages/nope"},
		{"nowhere.agora.test", "/"}, {tenanttest.PlatformHost, "/"},
	} {
		r := h.Get(t, p.host, p.target, "Accept", "text/html")
		webtest.RequireHTML(t, r, r.Status)
		require.False(t, inline.MatchString(r.Body), "%s%s has inline code: %s", p.host, p.target, inline.FindString(r.Body))
	}
	css := h.Get(t, c.DefaultHost, "/theme.css")
	require.Equal(t, http.StatusOK, css.Status)
	require.Equal(t, "text/css; charset=utf-8", css.Header.Get("Content-Type"))
	require.Contains(t, css.Body, "--primary: #1d4ed8")
	etag := css.Header.Get("ETag")
	require.NotEmpty(t, etag)
	require.Equal(t, http.StatusNotModified, h.Get(t, c.DefaultHost, "/theme.css", "If-None-Match", etag).Status)
}

// TestErrorsAndLanguage: API errors are problem documents; page errors are
// pages in the visitor's language, chosen from the city's locales.
func TestErrorsAndLanguage(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	c := env.City(t, "brussel") // locales en, fr, nl
	host := c.DefaultHost

	t.Run("api errors", func(t *testing.T) {
		t.Parallel()
		p := webtest.RequireProblem(t, h.Get(t, host, "/api/v1/nope"), http.StatusNotFound, "not_found")
		require.Equal(t, "/api/v1/nope", p.Instance)
		webtest.RequireProblem(t, h.Get(t, host, "/api/v1/nope", "Accept", "text/html"), http.StatusNotFound, "not_found")
		webtest.RequireProblem(t, h.Get(t, host, "/api/v1/pages/nope"), http.StatusNotFound, "not_found")
		r := h.Do(t, http.MethodPost, host, "/api/v1/site")
		webtest.RequireProblem(t, r, http.StatusMethodNotAllowed, "method_not_allowed")
		require.Contains(t, r.Header.Get("Allow"), "GET")
		// A missing page asked for as JSON is a problem too.
		webtest.RequireProblem(t, h.Get(t, host, "/pages/nope", "Accept", "application/json"), http.StatusNotFound, "not_found")
	})

	t.Run("missing page in the visitor's language", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			name    string
			headers []string
			lang    string
			text    string
		}{
			{"default locale", nil, "en", "Page not found"},
			{"accept-language fr", []string{"Accept-Language", "fr-BE,fr;q=0.9,en;q=0.5"}, "fr", "Page introuvable"},
			{"accept-language nl region", []string{"Accept-Language", "nl-NL"}, "nl", "Pagina niet gevonden"},
			{"cookie wins", []string{"Accept-Language", "fr", "Cookie", "agora_locale=nl"}, "nl", "Pagina niet gevonden"},
			{"cookie not offered", []string{"Accept-Language", "fr", "Cookie", "agora_locale=de"}, "fr", "Page introuvable"},
			{"unsupported language", []string{"Accept-Language", "de-DE,es;q=0.8"}, "en", "Page not found"},
		} {
			r := h.Get(t, host, "/pages/nope", append([]string{"Accept", "text/html"}, tc.headers...)...)
			webtest.RequireHTML(t, r, http.StatusNotFound)
			require.Contains(t, r.Body, tc.text, tc.name)
			require.Contains(t, r.Body, `<html lang="`+tc.lang+`">`, tc.name)
			require.Equal(t, tc.lang, r.Header.Get("Content-Language"), tc.name)
			require.Contains(t, r.Header.Get("Vary"), "Accept-Language", tc.name)
		}
	})

	t.Run("choosing a language", func(t *testing.T) {
		t.Parallel()
		r := h.Get(t, host, "/locale?set=fr&to=/pages/about")
		require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
		require.Equal(t, "/pages/about", r.Header.Get("Location"))
		cookies := (&http.Response{Header: r.Header}).Cookies()
		require.Len(t, cookies, 1)
		ck := cookies[0]
		require.Equal(t, "agora_locale", ck.Name)
		require.Equal(t, "fr", ck.Value)
		require.Equal(t, "/", ck.Path)
		require.Empty(t, ck.Domain, "the locale cookie is host-only")
		require.True(t, ck.HttpOnly)
		require.Positive(t, ck.MaxAge)

		// The cookie then wins over the browser's preference.
		page := h.Get(t, host, "/pages/about", "Cookie", "agora_locale=fr", "Accept-Language", "nl")
		webtest.RequireHTML(t, page, http.StatusOK)
		require.Contains(t, page.Body, "À propos de cette plateforme")
		require.Contains(t, page.Body, `<html lang="fr">`)

		// A language the city does not offer sets nothing.
		r = h.Get(t, host, "/locale?set=de&to=/")
		require.Equal(t, http.StatusSeeOther, r.Status)
		require.Empty(t, r.Header.Values("Set-Cookie"))
		require.Equal(t, "/", r.Header.Get("Location"))

		// Only local paths are followed.
		for _, to := range []string{
			"//evil.example", "https://evil.example", `/\evil`, `/\/evil.example`, "%2F%2Fevil.example",
			"/%5Cevil.example", "%5C%5Cevil.example", "http:evil.example", "javascript:alert(1)",
			"/%09/evil.example", "evil.example", "///evil.example", "https:/evil.example",
		} {
			r := h.Get(t, host, "/locale?set=nl&to="+to)
			require.Equal(t, http.StatusSeeOther, r.Status, "to=%s", to)
			require.Equal(t, "/", r.Header.Get("Location"), "to=%s", to)
		}
		// A query on the local target survives.
		r = h.Get(t, host, "/locale?set=nl&to=%2Fpages%2Fabout%3Fa%3D1")
		require.Equal(t, "/pages/about?a=1", r.Header.Get("Location"))
	})
}

// TestHeadRequests: HTTP requires servers to answer HEAD wherever they answer
// GET; monitors and link checkers rely on it.
func TestHeadRequests(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	c := env.City(t, "mons")
	for _, tc := range []struct {
		host, target, contentType string
		status                    int
	}{
		{c.DefaultHost, "/", "text/html; charset=utf-8", http.StatusOK},
		{c.DefaultHost, "/pages/about", "text/html; charset=utf-8", http.StatusOK},
		{c.DefaultHost, "/api/v1/site", "application/json; charset=utf-8", http.StatusOK},
		{c.DefaultHost, "/pages/nope", "text/html; charset=utf-8", http.StatusNotFound},
		{"nowhere.agora.test", "/", "text/html; charset=utf-8", http.StatusNotFound},
		{"127.0.0.1", "/healthz", "application/json", http.StatusOK},
		{tenanttest.PlatformHost, "/", "text/html; charset=utf-8", http.StatusOK},
	} {
		r := h.Do(t, http.MethodHead, tc.host, tc.target)
		require.Equal(t, tc.status, r.Status, "HEAD %s on %s", tc.target, tc.host)
		require.Equal(t, tc.contentType, r.Header.Get("Content-Type"), "HEAD %s on %s", tc.target, tc.host)
		require.Empty(t, r.Body)
	}
}

// TestOpenAPIMatchesRoutes: the OpenAPI document lists exactly the routes of
// the API, every method of every one; each operation documents its
// responses, its path parameters and only references that resolve; and what
// it promises about authentication holds on a live city.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	// Premium: every documented GET, plan-bound ones included, answers.
	c := env.CityOnPlan(t, "ieper", "premium")

	r := h.Get(t, c.DefaultHost, "/api/v1/openapi.json")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.True(t, strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"))
	var doc struct {
		OpenAPI    string                                `json:"openapi"`
		Info       struct{ Title, Version string }       `json:"info"`
		Paths      map[string]map[string]json.RawMessage `json:"paths"`
		Components struct {
			SecuritySchemes map[string]json.RawMessage `json:"securitySchemes"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3."), "openapi %q", doc.OpenAPI)
	require.NotEmpty(t, doc.Info.Title)
	require.NotEmpty(t, doc.Paths)

	// Every $ref points at something in the document.
	var whole any
	require.NoError(t, json.Unmarshal([]byte(r.Body), &whole))
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "$ref" {
					refs = append(refs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(whole)
	require.NotEmpty(t, refs)
	for _, ref := range refs {
		require.True(t, strings.HasPrefix(ref, "#/"), "external $ref %q", ref)
		var at any = whole
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			m, ok := at.(map[string]any)
			require.True(t, ok, "$ref %q does not resolve", ref)
			at, ok = m[strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")]
			require.True(t, ok, "$ref %q does not resolve", ref)
		}
	}

	param := regexp.MustCompile(`[:*]([A-Za-z0-9_]+)`)
	pathParam := regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)
	methods := map[string]bool{"get": true, "put": true, "post": true, "delete": true, "patch": true, "head": true, "options": true, "trace": true}
	registered := map[string]bool{} // "get /api/v1/pages/{slug}"
	for _, rt := range h.Server.CityEngine().Routes() {
		if !strings.HasPrefix(rt.Path, "/api/v1/") {
			continue
		}
		registered[strings.ToLower(rt.Method)+" "+param.ReplaceAllString(rt.Path, "{$1}")] = true
	}
	require.True(t, registered["get /api/v1/pages/{slug}"], "path parameters are converted")

	type operation struct {
		Responses  map[string]json.RawMessage `json:"responses"`
		Parameters []struct {
			Name, In string
			Required bool
		} `json:"parameters"`
		Security *[]map[string][]string `json:"security"`
	}
	documented := map[string]operation{}
	for path, ops := range doc.Paths {
		for m, raw := range ops {
			if !methods[m] {
				continue // parameters, summary, ...
			}
			var o operation
			require.NoError(t, json.Unmarshal(raw, &o), "%s %s", m, path)
			require.NotEmpty(t, o.Responses, "%s %s documents no response", m, path)
			documented[m+" "+path] = o

			// Each path parameter is declared, required, in the path.
			want := map[string]bool{}
			for _, p := range pathParam.FindAllStringSubmatch(path, -1) {
				want[p[1]] = true
			}
			got := map[string]bool{}
			for _, p := range o.Parameters {
				if p.In == "path" {
					require.True(t, p.Required, "%s %s: path parameter %s must be required", m, path, p.Name)
					got[p.Name] = true
				}
			}
			require.Equal(t, want, got, "%s %s: path parameters", m, path)

			// Security names only declared schemes.
			if o.Security != nil {
				for _, req := range *o.Security {
					for name := range req {
						require.Contains(t, doc.Components.SecuritySchemes, name, "%s %s", m, path)
					}
				}
			}
		}
	}

	var missing, stale []string
	for k := range registered {
		if _, ok := documented[k]; !ok {
			missing = append(missing, k)
		}
	}
	for k := range documented {
		if !registered[k] {
			stale = append(stale, k)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	require.Empty(t, missing, "routes without documentation in web/openapi.json")
	require.Empty(t, stale, "documented operations that are not routes")
	t.Logf("openapi: %d documented operations, all registered", len(documented))

	// What the document says about authentication holds: every GET without
	// parameters answers JSON, anonymously when it may, else 401 anonymously
	// and 200 with a Bearer token (of an admin, who may read everything).
	h.Register(t, c.DefaultHost, "openapi@example.org")
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE users SET role = 'admin' WHERE email = 'openapi@example.org'`)
		return err
	}))
	cookie, csrf := h.Login(t, c.DefaultHost, "openapi@example.org")
	tok := h.Call(t, "POST", c.DefaultHost, "/api/v1/tokens", `{"name":"openapi"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusCreated, tok.Status, tok.Body)
	var td struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal([]byte(tok.Body), &td))
	for k, o := range documented {
		m, path, _ := strings.Cut(k, " ")
		if m != "get" || strings.Contains(path, "{") {
			continue
		}
		// No security, an empty list, or an empty requirement: anyone may call.
		anonymous := o.Security == nil || len(*o.Security) == 0
		if o.Security != nil {
			for _, req := range *o.Security {
				anonymous = anonymous || len(req) == 0
			}
		}
		if anonymous {
			r := h.Get(t, c.DefaultHost, path)
			require.Equal(t, http.StatusOK, r.Status, "GET %s: %s", path, r.Body)
			require.True(t, json.Valid([]byte(r.Body)), "GET %s", path)
			continue
		}
		require.Contains(t, o.Responses, "401", "GET %s needs authentication but documents no 401", path)
		webtest.RequireProblem(t, h.Get(t, c.DefaultHost, path), http.StatusUnauthorized, "unauthenticated")
		r := h.Get(t, c.DefaultHost, path, "Authorization", "Bearer "+td.Token)
		require.Equal(t, http.StatusOK, r.Status, "GET %s: %s", path, r.Body)
		require.True(t, json.Valid([]byte(r.Body)), "GET %s", path)
	}
}
