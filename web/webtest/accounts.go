package webtest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/tenant"
)

// Register signs a citizen up through the API (POST /api/v1/users) as Ann
// Peeters with fixture.Password; the account is not confirmed.
func (h *Harness) Register(t testing.TB, host, email string) {
	t.Helper()
	r := h.Call(t, "POST", host, "/api/v1/users",
		`{"email":"`+email+`","password":"`+fixture.Password+`","first_name":"Ann","last_name":"Peeters"}`)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
}

// SignIn makes the person o describes in city (fixture.User) and logs them
// in through the API, returning the session cookie and its CSRF token.
func (h *Harness) SignIn(t testing.TB, city *tenant.Tenant, o fixture.UserOpts) (cookie, csrf string) {
	t.Helper()
	u := fixture.User(t, h.Env, city, o)
	return h.Login(t, city.DefaultHost, u.Email)
}

// Login logs email in through the API (POST /api/v1/session, which is rate
// limited) with fixture.Password and returns the session cookie and its
// CSRF token.
func (h *Harness) Login(t testing.TB, host, email string) (cookie, csrf string) {
	t.Helper()
	r := h.Call(t, "POST", host, "/api/v1/session", `{"email":"`+email+`","password":"`+fixture.Password+`"}`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var d struct {
		User struct {
			ID    int64  `json:"id"`
			Email string `json:"email"`
		} `json:"user"`
		CSRFToken string `json:"csrf_token"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &d))
	require.Equal(t, email, d.User.Email)
	require.NotEmpty(t, d.CSRFToken)
	return SessionCookie(t, r), d.CSRFToken
}

// SessionCookie returns "name=value" of the session cookie set by r, which
// must be HttpOnly, SameSite=Lax and host-only.
func SessionCookie(t testing.TB, r Response) string {
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

// CSRFFromPage returns the value of the page's csrf_token form field.
func CSRFFromPage(t testing.TB, r Response) string {
	t.Helper()
	const marker = `name="csrf_token" value="`
	i := strings.Index(r.Body, marker)
	require.GreaterOrEqual(t, i, 0, "no csrf field")
	rest := r.Body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

// CookieFrom returns every cookie r sets, as a Cookie header.
func CookieFrom(r Response) string {
	var parts []string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}
