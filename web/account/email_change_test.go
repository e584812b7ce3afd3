package account_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestChangeEmailNeedsTheNewAddressToConfirm(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "mailchange")
	h := webtest.New(t, env, webtest.Options{})
	h.Register(t, c.DefaultHost, "old@example.org")
	h.Register(t, c.DefaultHost, "taken@example.org")
	cookie, csrf := h.Login(t, c.DefaultHost, "old@example.org")
	change := func(body string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, "/api/v1/me/email", body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	p := webtest.RequireProblem(t, change(`{"email":"new@example.org","password":"wrong password!"}`), 422, "invalid")
	require.Contains(t, p.Detail, "password")
	p = webtest.RequireProblem(t, change(`{"email":"taken@example.org","password":"correct horse battery"}`), 422, "invalid")
	require.Contains(t, p.Detail, "email")
	webtest.RequireProblem(t, change(`{"email":"not-an-address","password":"correct horse battery"}`), 422, "invalid")
	r := change(`{"email":"New@Example.org","password":"correct horse battery"}`)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)

	// Until confirmed, the old address is the login.
	me := h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", cookie)
	require.Contains(t, me.Body, `"email":"old@example.org"`)

	// The worker issues the link for the pending address; do the same.
	ctx := tenanttest.Ctx(c)
	var secret string
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		var id user.ID
		if err := tx.GetContext(context.Background(), &id, `SELECT id FROM users WHERE pending_email = 'new@example.org'`); err != nil {
			return err
		}
		var err error
		secret, _, err = user.IssueCode(context.Background(), tx, id, user.PurposeChangeEmail, user.ConfirmTTL)
		return err
	}))
	// The link is worthless on another city.
	other := env.City(t, "mailother")
	webtest.RequireHTML(t, h.Get(t, other.DefaultHost, "/confirm-email?token="+secret), 422)
	page := h.Get(t, c.DefaultHost, "/confirm-email?token="+secret)
	webtest.RequireHTML(t, page, 200)
	me = h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", cookie)
	require.Contains(t, me.Body, `"email":"new@example.org"`)
	webtest.RequireHTML(t, h.Get(t, c.DefaultHost, "/confirm-email?token="+secret), 422) // once
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"old@example.org","password":"correct horse battery"}`), 401, "unauthenticated")
	h.Login(t, c.DefaultHost, "new@example.org")
}
