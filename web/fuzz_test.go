package web_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// portalFuzz is a city with content and three callers (anonymous, a citizen
// and an admin, both by API token, so CSRF lets their page forms through to
// the handlers), and the city's routes to throw requests at.
type portalFuzz struct {
	h       *webtest.Harness
	c       *tenant.Tenant
	callers [][]string // headers per caller
	routes  []string   // "METHOD /path/:param"
	ids     []string   // ids that exist in the city
	// statuses counts the answers, to show the walk reaches the handlers.
	statuses map[int]int
}

func newPortalFuzz(tt testing.TB) *portalFuzz {
	env := tenanttest.New(tt)
	c := env.City(tt, "fuzzcity")
	h := webtest.New(tt, env, webtest.Options{})
	admin := fixture.Token(tt, env, c, fixture.User(tt, env, c, fixture.UserOpts{Email: "admin@fuzz.example.org", Role: user.RoleAdmin}))
	citizen := fixture.Token(tt, env, c, fixture.User(tt, env, c, fixture.UserOpts{Email: "ann@fuzz.example.org"}))
	f := &portalFuzz{h: h, c: c, statuses: map[int]int{}, callers: [][]string{nil, {"Authorization", citizen}, {"Authorization", admin}}}

	r := h.Call(tt, "POST", c.DefaultHost, "/api/v1/projects", `{"slug":"fuzz","title":{"en":"Fuzz"},"status":"published"}`, "Authorization", admin)
	require.Equal(tt, 201, r.Status, r.Body)
	var p struct{ ID int64 }
	require.NoError(tt, json.Unmarshal([]byte(r.Body), &p))
	r = h.Call(tt, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", p.ID),
		`{"title":{"en":"Now"},"method":"ideation","starts_at":"2020-01-01T00:00:00Z","posting_enabled":true,"reacting_enabled":true,"commenting_enabled":true}`,
		"Authorization", admin)
	require.Equal(tt, 201, r.Status, r.Body)
	r = h.Call(tt, "POST", c.DefaultHost, "/api/v1/ideas", fmt.Sprintf(`{"project_id":%d,"title":"A bench by the river","body":"<p>Please.</p>"}`, p.ID),
		"Authorization", citizen)
	require.Equal(tt, 201, r.Status, r.Body)
	var i struct{ ID int64 }
	require.NoError(tt, json.Unmarshal([]byte(r.Body), &i))
	r = h.Call(tt, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", i.ID), `{"body":"Yes!"}`, "Authorization", citizen)
	require.Equal(tt, 201, r.Status, r.Body)
	f.ids = []string{fmt.Sprint(p.ID), fmt.Sprint(i.ID), "fuzz", "1", "2"}

	for _, rt := range h.Server.CityEngine().Routes() {
		// Callers keep their accounts and sessions, so the walk goes on.
		switch rt.Method + " " + rt.Path {
		case "DELETE /api/v1/me", "DELETE /api/v1/sessions", "DELETE /api/v1/session", "POST /profile/delete", "POST /logout", "DELETE /api/v1/tokens/:id":
			continue
		}
		f.routes = append(f.routes, rt.Method+" "+rt.Path)
	}
	return f
}

// Values that broke or could break a handler: ids out of range, bytes that
// are not text, NUL, long and odd strings.
var fuzzScalars = []string{
	"1", "0", "-1", "2", "9223372036854775807", "9223372036854775808", "-9223372036854775808", "99999999999999999999999",
	"%ff", "%00", "a%00b", "%c3%28", "%ed%a0%80", "abc", "1e3", "1.5", "%e2%80%ae", "..%2f..%2fetc", "%2e%2e",
	strings.Repeat("x", 300), "null", "true", "[]", "{}", "<script>", "' OR 1=1 --", "idea", "project", "comment", "topic",
	"new", "trending", "popular", "random", "status", "bogus", "en", "nl", "zz", "2020-01-01", "0000-01-01", "10000-01-01",
}

var fuzzParams = []string{"page", "sort", "q", "topic", "area", "folder", "project", "phase", "status", "limit", "unread",
	"kind", "format", "next", "token", "err", "msg", "n", "id", "locale", "lang", "welcome", "code", "preview"}

var fuzzKeys = []string{"title", "body", "slug", "starts_at", "ends_at", "email", "password", "page", "project_id", "phase_id",
	"permissions", "status", "reason", "note", "enabled", "name", "first_name", "last_name", "locale", "description", "method",
	"reaction_limit", "role", "days", "mode", "type", "id", "topics", "areas", "folder_id", "visibility", "plan", "subject",
	"location_lat", "location_lng", "location_name", "comments", "reactions", "key", "options", "code", "token", "emails"}

// jsonValue is a random JSON value of at most depth levels.
func jsonValue(rng *rand.Rand, depth int) any {
	switch k := rng.IntN(11); {
	case k == 0 && depth > 0:
		m := map[string]any{}
		for range rng.IntN(4) {
			m[fuzzKeys[rng.IntN(len(fuzzKeys))]] = jsonValue(rng, depth-1)
		}
		return m
	case k == 1 && depth > 0:
		var a []any
		for range rng.IntN(3) {
			a = append(a, jsonValue(rng, depth-1))
		}
		return a
	case k == 2:
		return []int64{9223372036854775807, -9223372036854775808, 0, -1, 1, 2147483648}[rng.IntN(6)]
	case k == 3:
		return []float64{1e308, -1e308, 0.5, 1e-300}[rng.IntN(4)]
	case k == 4:
		return rng.IntN(2) == 0
	case k == 5:
		return nil
	case k == 6:
		return []string{"a\x00b", "\xed\xa0\x80", "0000-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2020-01-01T00:00:00Z",
			"x@example.org", " ann@fuzz.example.org ", strings.Repeat("é", 5000)}[rng.IntN(8)]
	default:
		s, _ := url.QueryUnescape(fuzzScalars[rng.IntN(len(fuzzScalars))])
		return s
	}
}

// body is a random request body and its type: a JSON value (sometimes
// broken), or a form.
func (f *portalFuzz) body(rng *rand.Rand, path string) (string, string) {
	if !strings.HasPrefix(path, "/api/") && rng.IntN(3) > 0 {
		v := url.Values{}
		for range rng.IntN(5) {
			s, _ := url.QueryUnescape(fuzzScalars[rng.IntN(len(fuzzScalars))])
			v.Add(fuzzKeys[rng.IntN(len(fuzzKeys))], s)
		}
		return v.Encode(), "application/x-www-form-urlencoded"
	}
	obj := map[string]any{}
	for range rng.IntN(5) {
		obj[fuzzKeys[rng.IntN(len(fuzzKeys))]] = jsonValue(rng, 2)
	}
	b, _ := json.Marshal(obj)
	switch rng.IntN(8) {
	case 0:
		return string(b) + "}", "application/json" // trailing garbage
	case 1:
		return string(b[:len(b)/2]), "application/json" // cut short
	case 2:
		b, _ = json.Marshal(jsonValue(rng, 2)) // not an object
	case 3:
		return strings.Replace(string(b), "}", `,"x":"\u0000"}`, 1), "application/json"
	}
	return string(b), "application/json"
}

// target fills a route's parameters and adds a query string.
func (f *portalFuzz) target(rng *rand.Rand, path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if strings.HasPrefix(p, ":") || strings.HasPrefix(p, "*") {
			if rng.IntN(2) == 0 {
				parts[i] = f.ids[rng.IntN(len(f.ids))]
			} else {
				parts[i] = fuzzScalars[rng.IntN(len(fuzzScalars))]
			}
		}
	}
	target := strings.Join(parts, "/")
	var q []string
	for range rng.IntN(4) {
		q = append(q, fuzzParams[rng.IntN(len(fuzzParams))]+"="+fuzzScalars[rng.IntN(len(fuzzScalars))])
	}
	if len(q) > 0 {
		target += "?" + strings.Join(q, "&")
	}
	return target
}

// send sends one request and reports a 5xx as a test failure.
func (f *portalFuzz) send(t *testing.T, method, target, body, ctype string, caller []string) {
	t.Helper()
	r := f.h.CallRaw(t, method, f.c.DefaultHost, target, ctype, body, caller...)
	f.statuses[r.Status]++
	if r.Status >= 500 {
		t.Errorf("%s %s (%d-byte %s body %.200q, caller %v) answered %d: %.300s", method, target, len(body), ctype, body, caller, r.Status, r.Body)
	}
}

// TestPortalNeverAnswers5xx drives the city's router with random paths,
// query strings and bodies, as three kinds of caller, and fails on any 5xx.
// The walk is seeded, so a failure is reproduced by running the test again.
func TestPortalNeverAnswers5xx(t *testing.T) {
	t.Parallel()
	f := newPortalFuzz(t)
	// The requests of the hardening report, first.
	for _, u := range []string{"/api/v1/ideas?q=%ff", "/api/v1/ideas?page=9223372036854775807", "/?folder=9223372036854775807",
		"/projects/%ff", "/?page=9223372036854775807", "/ideas/9223372036854775808", "/api/v1/ideas?project=9223372036854775807&sort=bogus"} {
		for _, caller := range f.callers {
			f.send(t, "GET", u, "", "", caller)
		}
	}
	for _, caller := range f.callers[1:] {
		f.send(t, "POST", "/api/v1/ideas/"+f.ids[1]+"/comments", `{"body":"a\u0000b"}`, "application/json", caller)
		f.send(t, "PATCH", "/api/v1/projects/"+f.ids[0]+"/phases/1", `{"starts_at":"0000-01-01T00:00:00Z"}`, "application/json", caller)
	}
	rng := rand.New(rand.NewPCG(20261204, 9))
	n := 3000
	if testing.Short() {
		n = 600
	}
	for range n {
		rt := f.routes[rng.IntN(len(f.routes))]
		method, path, _ := strings.Cut(rt, " ")
		body, ctype := "", ""
		if method != http.MethodGet && method != http.MethodHead {
			body, ctype = f.body(rng, path)
		}
		f.send(t, method, f.target(rng, path), body, ctype, f.callers[rng.IntN(len(f.callers))])
		if t.Failed() && !testing.Verbose() {
			return // the first failures say enough
		}
	}
	t.Logf("answers by status: %v", f.statuses)
	// The walk got past the door: many requests were served or refused
	// by a handler's own rule, not only by routing and authentication.
	require.Greater(t, f.statuses[200]+f.statuses[201]+f.statuses[303], n/10, "%v", f.statuses)
	require.Greater(t, f.statuses[422], n/50, "%v", f.statuses)
	// After all that, the portal still answers.
	require.Equal(t, 200, f.h.Get(t, f.c.DefaultHost, "/").Status)
}

// FuzzPortal is the same walk driven by the fuzzer: go test ./web -run '^$'
// -fuzz FuzzPortal. Without -fuzz it runs its seeds.
func FuzzPortal(f *testing.F) {
	pf := newPortalFuzz(f)
	f.Add(uint64(1), uint64(2))
	f.Add(uint64(20261204), uint64(9))
	f.Fuzz(func(t *testing.T, a, b uint64) {
		rng := rand.New(rand.NewPCG(a, b))
		for range 5 {
			rt := pf.routes[rng.IntN(len(pf.routes))]
			method, path, _ := strings.Cut(rt, " ")
			body, ctype := "", ""
			if method != http.MethodGet && method != http.MethodHead {
				body, ctype = pf.body(rng, path)
			}
			pf.send(t, method, pf.target(rng, path), body, ctype, pf.callers[rng.IntN(len(pf.callers))])
		}
	})
}
