package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant/tenanttest"
)

// call sends a JSON request with optional cookie jar contents and headers.
func (h *harness) call(t testing.TB, method, host, target, body string, headers ...string) response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, h.ts.URL+target, r)
	require.NoError(t, err)
	req.Host = host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := h.client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return response{Status: res.StatusCode, Header: res.Header, Body: string(b)}
}

// sessionCookie returns "name=value" of the session cookie set by r.
func sessionCookie(t *testing.T, r response) string {
	t.Helper()
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == "agora_session" {
			require.True(t, c.HttpOnly, "session cookie must be HttpOnly")
			require.Equal(t, http.SameSiteLaxMode, c.SameSite)
			require.Empty(t, c.Domain, "session cookie must be host-only")
			return c.Name + "=" + c.Value
		}
	}
	t.Fatalf("no session cookie in %v", r.Header)
	return ""
}

func register(t *testing.T, h *harness, host, email string) {
	t.Helper()
	r := h.call(t, "POST", host, "/api/v1/users",
		`{"email":"`+email+`","password":"correct horse battery","first_name":"Ann","last_name":"Peeters"}`)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
}

type loginDoc struct {
	User struct {
		ID    int64  `json:"id"`
		Email string `json:"email"`
	} `json:"user"`
	CSRFToken string `json:"csrf_token"`
}

func login(t *testing.T, h *harness, host, email string) (cookie, csrf string) {
	t.Helper()
	r := h.call(t, "POST", host, "/api/v1/session", `{"email":"`+email+`","password":"correct horse battery"}`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var d loginDoc
	require.NoError(t, json.Unmarshal([]byte(r.Body), &d))
	require.Equal(t, email, d.User.Email)
	require.NotEmpty(t, d.CSRFToken)
	return sessionCookie(t, r), d.CSRFToken
}

func TestCredentialsAreWorthlessOnAnotherCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	a, b := env.City(t, "alpha"), env.City(t, "bravo")
	h := newHarness(t, env, serverOpts{})
	// The same person registers in both cities with the same email.
	register(t, h, a.DefaultHost, "ann@example.org")
	register(t, h, b.DefaultHost, "ann@example.org")
	cookie, csrf := login(t, h, a.DefaultHost, "ann@example.org")

	r := h.call(t, "GET", a.DefaultHost, "/api/v1/me", "", "Cookie", cookie)
	require.Equal(t, http.StatusOK, r.Status, r.Body)

	requireProblem(t, h.call(t, "GET", b.DefaultHost, "/api/v1/me", "", "Cookie", cookie), 401, "unauthenticated")

	tok := h.call(t, "POST", a.DefaultHost, "/api/v1/tokens", `{"name":"script"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusCreated, tok.Status, tok.Body)
	var td struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal([]byte(tok.Body), &td))
	require.True(t, strings.HasPrefix(td.Token, "agora_"))

	bearer := "Bearer " + td.Token
	require.Equal(t, http.StatusOK, h.call(t, "GET", a.DefaultHost, "/api/v1/me", "", "Authorization", bearer).Status)
	requireProblem(t, h.call(t, "GET", b.DefaultHost, "/api/v1/me", "", "Authorization", bearer), 401, "unauthenticated")

	// The platform host does not know city sessions either.
	r = h.call(t, "GET", tenanttest.PlatformHost, "/api/v1/me", "", "Cookie", cookie)
	require.NotEqual(t, http.StatusOK, r.Status)

	// Revoking the token kills it.
	r = h.call(t, "DELETE", a.DefaultHost, "/api/v1/tokens/"+jsonNumber(td.ID), "", "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)
	requireProblem(t, h.call(t, "GET", a.DefaultHost, "/api/v1/me", "", "Authorization", bearer), 401, "unauthenticated")

	// Logging out ends the session.
	r = h.call(t, "DELETE", a.DefaultHost, "/api/v1/session", "", "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)
	requireProblem(t, h.call(t, "GET", a.DefaultHost, "/api/v1/me", "", "Cookie", cookie), 401, "unauthenticated")
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestCSRF(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "csrf")
	h := newHarness(t, env, serverOpts{})
	register(t, h, c.DefaultHost, "ann@example.org")
	cookie, csrf := login(t, h, c.DefaultHost, "ann@example.org")

	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/tokens", `{"name":"x"}`, "Cookie", cookie), 403, "forbidden")
	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/tokens", `{"name":"x"}`, "Cookie", cookie, "X-CSRF-Token", "wrong"), 403, "forbidden")
	r := h.call(t, "POST", c.DefaultHost, "/api/v1/tokens", `{"name":"x"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)

	// An anonymous cross-site form post (not JSON) to the API is refused.
	req, err := http.NewRequest("POST", h.ts.URL+"/api/v1/session", strings.NewReader("email=a&password=b"))
	require.NoError(t, err)
	req.Host = c.DefaultHost
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := h.client.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
}

func TestLoginBruteForceIsRateLimited(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "brute")
	h := newHarness(t, env, serverOpts{})
	register(t, h, c.DefaultHost, "known@example.org")
	for _, email := range []string{"known@example.org", "unknown@example.org"} {
		for i := 1; i <= 10; i++ {
			r := h.call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"`+email+`","password":"wrong password!"}`,
				"X-Test-Attempt", email)
			requireProblem(t, r, 401, "unauthenticated")
			require.Contains(t, r.Body, "wrong email or password", "same answer for known and unknown emails")
		}
		r := h.call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"`+email+`","password":"wrong password!"}`)
		requireProblem(t, r, 429, "rate_limited")
		require.NotEmpty(t, r.Header.Get("Retry-After"))
		if email == "known@example.org" {
			// Even the right password is refused while limited.
			r = h.call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"known@example.org","password":"correct horse battery"}`)
			requireProblem(t, r, 429, "rate_limited")
		}
		// The per-IP limit is also spent; flush this city's counters before
		// checking the next email so each is judged on its own.
		flushRateLimits(t, int64(c.ID))
	}
}

func TestRegistrationValidation(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "reg")
	h := newHarness(t, env, serverOpts{})
	cases := []struct{ body, field string }{
		{`{"email":"nope","password":"correct horse battery","first_name":"A","last_name":"B"}`, "email"},
		{`{"email":"a@example.org","password":"short","first_name":"A","last_name":"B"}`, "password"},
		{`{"email":"a@example.org","password":"correct horse battery","first_name":"","last_name":"B"}`, "first_name"},
		{`{"email":"a@example.org","password":"correct horse battery","first_name":"A","last_name":"B","locale":"de"}`, "locale"},
	}
	for _, tc := range cases {
		r := h.call(t, "POST", c.DefaultHost, "/api/v1/users", tc.body)
		p := requireProblem(t, r, 422, "invalid")
		require.Contains(t, p.Detail, tc.field)
	}
	// Malformed JSON is a broken request (400), not a broken rule (422).
	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/users", `{"email":`), 400, "bad_request")
	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/users",
		`{"email":"c@example.org","password":"correct horse battery","first_name":"A","last_name":"B"}}`), 400, "bad_request")
	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/users", `{"unknown":1}`), 422, "invalid")
	register(t, h, c.DefaultHost, "a@example.org")
	// A taken address is answered as a new one: registration tells no one
	// who has an account (the owner is emailed instead).
	again := h.call(t, "POST", c.DefaultHost, "/api/v1/users",
		`{"email":"A@example.org","password":"another good password","first_name":"A","last_name":"B"}`)
	require.Equal(t, http.StatusAccepted, again.Status, again.Body)
	require.JSONEq(t, `{"status":"confirmation_sent","email":"a@example.org"}`, again.Body)

	// A closed city refuses registration with a clear 403.
	err := env.DB.InTx(tenanttest.Ctx(c), func(tx *tenantTx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE settings SET registration_mode = 'closed'`)
		return err
	})
	require.NoError(t, err)
	p := requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/users",
		`{"email":"b@example.org","password":"correct horse battery","first_name":"A","last_name":"B"}`), 403, "forbidden")
	require.Contains(t, p.Detail, "closed")
}
