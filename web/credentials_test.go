package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/operator"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestCredentialsAreWorthlessOnAnotherCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	a, b := env.City(t, "alpha"), env.City(t, "bravo")
	h := webtest.New(t, env, webtest.Options{})
	// The same person registers in both cities with the same email.
	h.Register(t, a.DefaultHost, "ann@example.org")
	h.Register(t, b.DefaultHost, "ann@example.org")
	cookie, csrf := h.Login(t, a.DefaultHost, "ann@example.org")

	r := h.Call(t, "GET", a.DefaultHost, "/api/v1/me", "", "Cookie", cookie)
	require.Equal(t, http.StatusOK, r.Status, r.Body)

	webtest.RequireProblem(t, h.Call(t, "GET", b.DefaultHost, "/api/v1/me", "", "Cookie", cookie), 401, "unauthenticated")

	tok := h.Call(t, "POST", a.DefaultHost, "/api/v1/tokens", `{"name":"script"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusCreated, tok.Status, tok.Body)
	var td struct {
		ID    int64  `json:"id"`
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal([]byte(tok.Body), &td))
	require.True(t, strings.HasPrefix(td.Token, "agora_"))

	bearer := "Bearer " + td.Token
	require.Equal(t, http.StatusOK, h.Call(t, "GET", a.DefaultHost, "/api/v1/me", "", "Authorization", bearer).Status)
	webtest.RequireProblem(t, h.Call(t, "GET", b.DefaultHost, "/api/v1/me", "", "Authorization", bearer), 401, "unauthenticated")

	// The platform host does not know city sessions either.
	r = h.Call(t, "GET", tenanttest.PlatformHost, "/api/v1/me", "", "Cookie", cookie)
	require.NotEqual(t, http.StatusOK, r.Status)

	// Revoking the token kills it.
	r = h.Call(t, "DELETE", a.DefaultHost, "/api/v1/tokens/"+jsonNumber(td.ID), "", "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)
	webtest.RequireProblem(t, h.Call(t, "GET", a.DefaultHost, "/api/v1/me", "", "Authorization", bearer), 401, "unauthenticated")

	// Logging out ends the session.
	r = h.Call(t, "DELETE", a.DefaultHost, "/api/v1/session", "", "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)
	webtest.RequireProblem(t, h.Call(t, "GET", a.DefaultHost, "/api/v1/me", "", "Cookie", cookie), 401, "unauthenticated")
}

func jsonNumber(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestCSRF(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "csrf")
	h := webtest.New(t, env, webtest.Options{})
	h.Register(t, c.DefaultHost, "ann@example.org")
	cookie, csrf := h.Login(t, c.DefaultHost, "ann@example.org")

	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/tokens", `{"name":"x"}`, "Cookie", cookie), 403, "forbidden")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/tokens", `{"name":"x"}`, "Cookie", cookie, "X-CSRF-Token", "wrong"), 403, "forbidden")
	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/tokens", `{"name":"x"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)

	// An anonymous cross-site form post (not JSON) to the API is refused.
	req, err := http.NewRequest("POST", h.URL+"/api/v1/session", strings.NewReader("email=a&password=b"))
	require.NoError(t, err)
	req.Host = c.DefaultHost
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := h.Client.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
}

func TestOperatorSessionIsWorthlessOnCityHosts(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "opcheck")
	h := webtest.New(t, env, webtest.Options{})
	_, err := operator.NewService(env.DB.Platform()).Create(context.Background(), "ops@example.org", "Ops", "operator-password-1")
	require.NoError(t, err)
	// Log in on the console through its form.
	webtest.FlushPlatformRateLimits(t)
	page := h.Get(t, tenanttest.PlatformHost, "/login")
	webtest.RequireHTML(t, page, 200)
	r := h.CallForm(t, tenanttest.PlatformHost, "/login",
		"csrf_token="+webtest.CSRFFromPage(t, page)+"&email=ops%40example.org&password=operator-password-1", "Cookie", webtest.CookieFrom(page))
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	var opCookie string
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "agora_operator" {
			opCookie = ck.Name + "=" + ck.Value
			require.Empty(t, ck.Domain, "host-only")
		}
	}
	require.NotEmpty(t, opCookie)
	console := h.Get(t, tenanttest.PlatformHost, "/", "Cookie", opCookie)
	webtest.RequireHTML(t, console, 200)
	require.Contains(t, console.Body, c.Name, "the console lists the cities")

	// On a city host the operator is nobody: not logged in, no admin area.
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", opCookie), 401, "unauthenticated")
	r = h.Call(t, "GET", c.DefaultHost, "/admin/users", "", "Cookie", opCookie)
	require.Equal(t, http.StatusSeeOther, r.Status)
	// Even with the operator's token renamed to the city's session cookie.
	renamed := strings.Replace(opCookie, "agora_operator=", "agora_session=", 1)
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", renamed), 401, "unauthenticated")
	// And a city session is nobody on the console.
	cityCookie, _ := h.SignIn(t, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	asOperator := strings.Replace(cityCookie, "agora_session=", "agora_operator=", 1)
	console = h.Get(t, tenanttest.PlatformHost, "/", "Cookie", asOperator)
	require.NotContains(t, console.Body, c.Name)
}
