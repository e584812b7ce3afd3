package backoffice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestAdminAreaIsForAdminsOnly(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "guarded")
	other := env.City(t, "otherguard")
	h := webtest.New(t, env, webtest.Options{})
	fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	fixture.User(t, env, c, fixture.UserOpts{Email: "mod@example.org", Role: user.RoleModerator})
	fixture.User(t, env, other, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	h.Register(t, c.DefaultHost, "cit@example.org")

	r := h.Call(t, "GET", c.DefaultHost, "/admin/users", "")
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Contains(t, r.Header.Get("Location"), "/login?next=")
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/users", ""), 401, "unauthenticated")
	for _, email := range []string{"mod@example.org", "cit@example.org"} {
		cookie, _ := h.Login(t, c.DefaultHost, email)
		webtest.RequireHTML(t, h.Call(t, "GET", c.DefaultHost, "/admin/users", "", "Cookie", cookie), 403)
		webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/users", "", "Cookie", cookie), 403, "forbidden")
	}
	admin, _ := h.Login(t, c.DefaultHost, "admin@example.org")
	page := h.Call(t, "GET", c.DefaultHost, "/admin/users", "", "Cookie", admin)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "cit@example.org")
	// The same admin's cookie is nobody on the other city, whose own admin
	// shares the email address.
	r = h.Call(t, "GET", other.DefaultHost, "/admin/users", "", "Cookie", admin)
	require.Equal(t, http.StatusSeeOther, r.Status)

	var list struct {
		Data  []struct{ Email string }
		Total int
	}
	r = h.Call(t, "GET", c.DefaultHost, "/api/v1/users?role=citizen", "", "Cookie", admin)
	require.Equal(t, 200, r.Status, r.Body)
	require.NoError(t, json.Unmarshal([]byte(r.Body), &list))
	require.Equal(t, 1, list.Total)
	require.Equal(t, "cit@example.org", list.Data[0].Email)
	r = h.Call(t, "GET", c.DefaultHost, "/api/v1/users?q=MOD@", "", "Cookie", admin)
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
	h := webtest.New(t, env, webtest.Options{Registry: reg})
	adminID := int64(fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin}).ID)
	cookie, csrf := h.Login(t, c.DefaultHost, "admin@example.org")
	ids := make([]int64, 3)
	for i := range ids {
		ids[i] = int64(fixture.User(t, env, c, fixture.UserOpts{Email: fmt.Sprintf("u%d@example.org", i)}).ID)
	}
	patch := func(id int64, body string) webtest.Response {
		return h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/users/%d", id), body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	r := patch(ids[0], `{"role":"admin"}`)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"role":"admin"`)
	p := webtest.RequireProblem(t, patch(ids[1], `{"role":"admin"}`), 403, "forbidden")
	require.Contains(t, p.Detail, "essential plan includes 2 admin seats")
	// Invitations hold seats too.
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/invitations", `{"emails":["new-admin@example.org"],"role":"admin"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	webtest.RequireProblem(t, r, 403, "forbidden")
	// Free a seat: demote, then the invitation fits.
	require.Equal(t, 200, patch(ids[0], `{"role":"citizen"}`).Status)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/invitations", `{"emails":["new-admin@example.org","u0@example.org"],"role":"admin"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, 201, r.Status, r.Body)
	require.Contains(t, r.Body, `"skipped":["u0@example.org"]`, "an existing account is not invited")
	webtest.RequireProblem(t, patch(ids[1], `{"role":"admin"}`), 403, "forbidden")
	// An admin cannot demote or block themselves.
	webtest.RequireProblem(t, patch(adminID, `{"role":"citizen"}`), 403, "forbidden")
	webtest.RequireProblem(t, patch(adminID, `{"blocked_days":3}`), 403, "forbidden")
	// Blocking: validated, then in force; 0 lifts it.
	p = webtest.RequireProblem(t, patch(ids[2], `{"blocked_days":-1}`), 422, "invalid")
	require.Contains(t, p.Detail, "days")
	r = patch(ids[2], `{"blocked_days":7}`)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"blocked_until"`)
	r = patch(ids[2], `{"blocked_days":0}`)
	require.Equal(t, 200, r.Status)
	require.NotContains(t, r.Body, `"blocked_until"`)
	webtest.RequireProblem(t, patch(999999, `{"blocked_days":1}`), 404, "not_found")
}

func TestInvitationAcceptFlow(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "invites")
	h := webtest.New(t, env, webtest.Options{})
	cookie, csrf := h.SignIn(t, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})

	// Invite by uploading a CSV through the admin form.
	body, ctype := webtest.Multipart(t, map[string]string{"csrf_token": csrf, "role": "moderator", "emails": ""},
		"csv", "people.csv", []byte("email\nmod@example.org\n"))
	r := h.CallRaw(t, "POST", c.DefaultHost, "/admin/invitations", ctype, body, "Cookie", cookie)
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
	page := h.Call(t, "GET", c.DefaultHost, "/invitations/"+secret, "")
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "mod@example.org")
	// Another city does not know the token.
	other := env.City(t, "noinvites")
	webtest.RequireHTML(t, h.Call(t, "GET", other.DefaultHost, "/invitations/"+secret, ""), 404)

	csrfForm := webtest.CSRFFromPage(t, page)
	anon := webtest.CookieFrom(page)
	r = h.CallForm(t, c.DefaultHost, "/invitations/"+secret, "csrf_token="+csrfForm+"&first_name=Mo&last_name=Derator&password=correct+horse+battery", "Cookie", anon)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	modCookie := webtest.SessionCookie(t, r)
	me := h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", modCookie)
	require.Contains(t, me.Body, `"role":"moderator"`)
	require.NotContains(t, me.Body, `"email_confirmed_at":null`)
	// Used once.
	webtest.RequireHTML(t, h.Call(t, "GET", c.DefaultHost, "/invitations/"+secret, ""), 404)
}
