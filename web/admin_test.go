package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/operator"
	"agora/domain/user"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// staff creates a confirmed user with a role directly, as `agora user create` does.
func staff(t testing.TB, env *tenanttest.Env, c *tenant.Tenant, email string, role user.Role) int64 {
	t.Helper()
	u, err := user.NewService(env.DB).Create(tenanttest.Ctx(c), user.Registration{
		Email: email, Password: "correct horse battery", FirstName: "Staff", LastName: string(role)}, role)
	require.NoError(t, err)
	return int64(u.ID)
}

func TestAdminAreaIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "guarded")
	other := env.City(t, "otherguard")
	h := newHarness(t, env, serverOpts{})
	staff(t, env, c, "admin@example.org", user.RoleAdmin)
	staff(t, env, c, "mod@example.org", user.RoleModerator)
	staff(t, env, other, "admin@example.org", user.RoleAdmin)
	register(t, h, c.DefaultHost, "cit@example.org")

	r := h.call(t, "GET", c.DefaultHost, "/admin/users", "")
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Contains(t, r.Header.Get("Location"), "/login?next=")
	requireProblem(t, h.call(t, "GET", c.DefaultHost, "/api/v1/users", ""), 401, "unauthenticated")
	for _, email := range []string{"mod@example.org", "cit@example.org"} {
		cookie, _ := login(t, h, c.DefaultHost, email)
		requireHTML(t, h.call(t, "GET", c.DefaultHost, "/admin/users", "", "Cookie", cookie), 403)
		requireProblem(t, h.call(t, "GET", c.DefaultHost, "/api/v1/users", "", "Cookie", cookie), 403, "forbidden")
	}
	admin, _ := login(t, h, c.DefaultHost, "admin@example.org")
	page := h.call(t, "GET", c.DefaultHost, "/admin/users", "", "Cookie", admin)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "cit@example.org")
	// The same admin's cookie is nobody on the other city, whose own admin
	// shares the email address.
	r = h.call(t, "GET", other.DefaultHost, "/admin/users", "", "Cookie", admin)
	require.Equal(t, http.StatusSeeOther, r.Status)

	var list struct {
		Data  []struct{ Email string }
		Total int
	}
	r = h.call(t, "GET", c.DefaultHost, "/api/v1/users?role=citizen", "", "Cookie", admin)
	require.Equal(t, 200, r.Status, r.Body)
	require.NoError(t, json.Unmarshal([]byte(r.Body), &list))
	require.Equal(t, 1, list.Total)
	require.Equal(t, "cit@example.org", list.Data[0].Email)
	r = h.call(t, "GET", c.DefaultHost, "/api/v1/users?q=MOD@", "", "Cookie", admin)
	require.NoError(t, json.Unmarshal([]byte(r.Body), &list))
	require.Equal(t, 1, list.Total)
}

func TestRolesSeatsAndBlocking(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "seats")
	// An essential city: two admin seats.
	plan := tenant.PlanEssential
	c, err := env.Ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &plan})
	require.NoError(t, err)
	reg := tenant.NewRegistry(env.DB.Platform(), tenanttest.BaseDomain, 0) // no cache: see the plan at once
	h := newHarness(t, env, serverOpts{registry: reg})
	adminID := staff(t, env, c, "admin@example.org", user.RoleAdmin)
	cookie, csrf := login(t, h, c.DefaultHost, "admin@example.org")
	ids := make([]int64, 3)
	for i := range ids {
		ids[i] = staff(t, env, c, fmt.Sprintf("u%d@example.org", i), user.RoleCitizen)
	}
	patch := func(id int64, body string) response {
		return h.call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/users/%d", id), body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	r := patch(ids[0], `{"role":"admin"}`)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"role":"admin"`)
	p := requireProblem(t, patch(ids[1], `{"role":"admin"}`), 403, "forbidden")
	require.Contains(t, p.Detail, "essential plan includes 2 admin seats")
	// Invitations hold seats too.
	r = h.call(t, "POST", c.DefaultHost, "/api/v1/invitations", `{"emails":["new-admin@example.org"],"role":"admin"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	requireProblem(t, r, 403, "forbidden")
	// Free a seat: demote, then the invitation fits.
	require.Equal(t, 200, patch(ids[0], `{"role":"citizen"}`).Status)
	r = h.call(t, "POST", c.DefaultHost, "/api/v1/invitations", `{"emails":["new-admin@example.org","u0@example.org"],"role":"admin"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, 201, r.Status, r.Body)
	require.Contains(t, r.Body, `"skipped":["u0@example.org"]`, "an existing account is not invited")
	requireProblem(t, patch(ids[1], `{"role":"admin"}`), 403, "forbidden")
	// An admin cannot demote or block themselves.
	requireProblem(t, patch(adminID, `{"role":"citizen"}`), 403, "forbidden")
	requireProblem(t, patch(adminID, `{"blocked_days":3}`), 403, "forbidden")
	// Blocking: validated, then in force; 0 lifts it.
	p = requireProblem(t, patch(ids[2], `{"blocked_days":-1}`), 422, "invalid")
	require.Contains(t, p.Detail, "days")
	r = patch(ids[2], `{"blocked_days":7}`)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"blocked_until"`)
	r = patch(ids[2], `{"blocked_days":0}`)
	require.Equal(t, 200, r.Status)
	require.NotContains(t, r.Body, `"blocked_until"`)
	requireProblem(t, patch(999999, `{"blocked_days":1}`), 404, "not_found")
}

func TestInvitationAcceptFlow(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "invites")
	h := newHarness(t, env, serverOpts{})
	staff(t, env, c, "admin@example.org", user.RoleAdmin)
	cookie, csrf := login(t, h, c.DefaultHost, "admin@example.org")

	// Invite by uploading a CSV through the admin form.
	body, ctype := multipartForm(t, map[string]string{"csrf_token": csrf, "role": "moderator", "emails": ""},
		"csv", "email\nmod@example.org\n")
	r := h.callRaw(t, "POST", c.DefaultHost, "/admin/invitations", ctype, body, "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Contains(t, r.Header.Get("Location"), "msg=invited")

	// The worker would email a fresh token; issue one the same way.
	var secret string
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		var id int64
		if err := tx.GetContext(context.Background(), &id, `SELECT id FROM invitations WHERE email = 'mod@example.org'`); err != nil {
			return err
		}
		var err error
		_, secret, err = user.IssueInvitationToken(context.Background(), tx, id)
		return err
	}))
	page := h.call(t, "GET", c.DefaultHost, "/invitations/"+secret, "")
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "mod@example.org")
	// Another city does not know the token.
	other := env.City(t, "noinvites")
	requireHTML(t, h.call(t, "GET", other.DefaultHost, "/invitations/"+secret, ""), 404)

	csrfForm := csrfFromPage(t, page)
	anon := cookieFrom(page)
	r = h.callForm(t, c.DefaultHost, "/invitations/"+secret, "csrf_token="+csrfForm+"&first_name=Mo&last_name=Derator&password=correct+horse+battery", "Cookie", anon)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	modCookie := sessionCookie(t, r)
	me := h.call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", modCookie)
	require.Contains(t, me.Body, `"role":"moderator"`)
	require.NotContains(t, me.Body, `"email_confirmed_at":null`)
	// Used once.
	requireHTML(t, h.call(t, "GET", c.DefaultHost, "/invitations/"+secret, ""), 404)
}

func csrfFromPage(t *testing.T, r response) string {
	t.Helper()
	const marker = `name="csrf_token" value="`
	i := strings.Index(r.Body, marker)
	require.GreaterOrEqual(t, i, 0, "no csrf field")
	rest := r.Body[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func cookieFrom(r response) string {
	var parts []string
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		parts = append(parts, c.Name+"="+c.Value)
	}
	return strings.Join(parts, "; ")
}

// callForm posts an urlencoded form.
func (h *harness) callForm(t *testing.T, host, target, body string, headers ...string) response {
	t.Helper()
	return h.callRaw(t, "POST", host, target, "application/x-www-form-urlencoded", body, headers...)
}

func (h *harness) callRaw(t testing.TB, method, host, target, ctype, body string, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, h.ts.URL+target, strings.NewReader(body))
	require.NoError(t, err)
	req.Host = host
	req.Header.Set("Content-Type", ctype)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	res, err := h.client.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	b := new(strings.Builder)
	_, _ = io.Copy(b, res.Body)
	return response{Status: res.StatusCode, Header: res.Header, Body: b.String()}
}

// multipartForm builds a multipart body with fields and one file.
func multipartForm(t *testing.T, fields map[string]string, fileField, fileContent string) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	fw, err := w.CreateFormFile(fileField, "people.csv")
	require.NoError(t, err)
	_, _ = fw.Write([]byte(fileContent))
	require.NoError(t, w.Close())
	return buf.String(), w.FormDataContentType()
}

func TestOperatorSessionIsWorthlessOnCityHosts(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "opcheck")
	h := newHarness(t, env, serverOpts{})
	_, err := operator.NewService(env.DB.Platform()).Create(context.Background(), "ops@example.org", "Ops", "operator-password-1")
	require.NoError(t, err)
	// Log in on the console through its form.
	flushPlatformRateLimits(t)
	page := h.get(t, tenanttest.PlatformHost, "/login")
	requireHTML(t, page, 200)
	r := h.callForm(t, tenanttest.PlatformHost, "/login",
		"csrf_token="+csrfFromPage(t, page)+"&email=ops%40example.org&password=operator-password-1", "Cookie", cookieFrom(page))
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	var opCookie string
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "agora_operator" {
			opCookie = ck.Name + "=" + ck.Value
			require.Empty(t, ck.Domain, "host-only")
		}
	}
	require.NotEmpty(t, opCookie)
	console := h.get(t, tenanttest.PlatformHost, "/", "Cookie", opCookie)
	requireHTML(t, console, 200)
	require.Contains(t, console.Body, c.Name, "the console lists the cities")

	// On a city host the operator is nobody: not logged in, no admin area.
	requireProblem(t, h.call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", opCookie), 401, "unauthenticated")
	r = h.call(t, "GET", c.DefaultHost, "/admin/users", "", "Cookie", opCookie)
	require.Equal(t, http.StatusSeeOther, r.Status)
	// Even with the operator's token renamed to the city's session cookie.
	renamed := strings.Replace(opCookie, "agora_operator=", "agora_session=", 1)
	requireProblem(t, h.call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", renamed), 401, "unauthenticated")
	// And a city session is nobody on the console.
	staff(t, env, c, "admin@example.org", user.RoleAdmin)
	cityCookie, _ := login(t, h, c.DefaultHost, "admin@example.org")
	asOperator := strings.Replace(cityCookie, "agora_session=", "agora_operator=", 1)
	console = h.get(t, tenanttest.PlatformHost, "/", "Cookie", asOperator)
	require.NotContains(t, console.Body, c.Name)
}
