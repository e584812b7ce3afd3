package account_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestLoginBruteForceIsRateLimited(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "brute")
	h := webtest.New(t, env, webtest.Options{})
	h.Register(t, c.DefaultHost, "known@example.org")
	for _, email := range []string{"known@example.org", "unknown@example.org"} {
		for i := 1; i <= 10; i++ {
			r := h.Call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"`+email+`","password":"wrong password!"}`,
				"X-Test-Attempt", email)
			webtest.RequireProblem(t, r, 401, "unauthenticated")
			require.Contains(t, r.Body, "wrong email or password", "same answer for known and unknown emails")
		}
		r := h.Call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"`+email+`","password":"wrong password!"}`)
		webtest.RequireProblem(t, r, 429, "rate_limited")
		require.NotEmpty(t, r.Header.Get("Retry-After"))
		if email == "known@example.org" {
			// Even the right password is refused while limited.
			r = h.Call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"known@example.org","password":"correct horse battery"}`)
			webtest.RequireProblem(t, r, 429, "rate_limited")
		}
		// The per-IP limit is also spent; flush this city's counters before
		// checking the next email so each is judged on its own.
		webtest.FlushRateLimits(t, c.ID)
	}
}

func TestRegistrationValidation(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "reg")
	h := webtest.New(t, env, webtest.Options{})
	cases := []struct{ body, field string }{
		{`{"email":"nope","password":"correct horse battery","first_name":"A","last_name":"B"}`, "email"},
		{`{"email":"a@example.org","password":"short","first_name":"A","last_name":"B"}`, "password"},
		{`{"email":"a@example.org","password":"correct horse battery","first_name":"","last_name":"B"}`, "first_name"},
		{`{"email":"a@example.org","password":"correct horse battery","first_name":"A","last_name":"B","locale":"de"}`, "locale"},
	}
	for _, tc := range cases {
		r := h.Call(t, "POST", c.DefaultHost, "/api/v1/users", tc.body)
		p := webtest.RequireProblem(t, r, 422, "invalid")
		require.Contains(t, p.Detail, tc.field)
	}
	// Malformed JSON is a broken request (400), not a broken rule (422).
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/users", `{"email":`), 400, "bad_request")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/users",
		`{"email":"c@example.org","password":"correct horse battery","first_name":"A","last_name":"B"}}`), 400, "bad_request")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/users", `{"unknown":1}`), 422, "invalid")
	h.Register(t, c.DefaultHost, "a@example.org")
	// A taken address is answered as a new one: registration tells no one
	// who has an account (the owner is emailed instead).
	again := h.Call(t, "POST", c.DefaultHost, "/api/v1/users",
		`{"email":"A@example.org","password":"another good password","first_name":"A","last_name":"B"}`)
	require.Equal(t, http.StatusAccepted, again.Status, again.Body)
	require.JSONEq(t, `{"status":"confirmation_sent","email":"a@example.org"}`, again.Body)

	// A closed city refuses registration with a clear 403.
	err := env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE settings SET registration_mode = 'closed'`)
		return err
	})
	require.NoError(t, err)
	p := webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/users",
		`{"email":"b@example.org","password":"correct horse battery","first_name":"A","last_name":"B"}`), 403, "forbidden")
	require.Contains(t, p.Detail, "closed")
}

// The registration form names every field at fault at once, in the page's
// language, and keeps what was typed.
func TestRegistrationFormNamesEveryField(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "regall")
	h := webtest.New(t, env, webtest.Options{})
	page := h.Get(t, c.DefaultHost, "/register")
	cookie := webtest.CookieFrom(page) + "; agora_locale=nl"
	form := url.Values{"csrf_token": {webtest.CSRFFromPage(t, page)}, "email": {"nope"}, "password": {"short"},
		"first_name": {""}, "last_name": {"Peeters"}}
	r := h.CallForm(t, c.DefaultHost, "/register", form.Encode(), "Cookie", cookie)
	webtest.RequireHTML(t, r, http.StatusUnprocessableEntity)
	require.Contains(t, r.Body, "Dit is geen geldig e-mailadres.")
	require.Contains(t, r.Body, "Gebruik minstens")
	require.Contains(t, r.Body, "Verplicht, hoogstens 100 tekens.")
	require.Contains(t, r.Body, `value="Peeters"`)
	require.Equal(t, 3, strings.Count(r.Body, `class="field-error"`), "one error under each field at fault")
}
