package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/operator"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestConsoleCreatesCity: an operator creates a city with the console's
// form. The city is provisioned like `agora tenant create` does it (its
// schema, its host, its registry row) and its first admin's invitation is
// queued in the outbox for that city; the invitation works on the new
// city's host only. A refused form shows the typed values and the error by
// its field, in the operator's language; a citizen never gets the form.
func TestConsoleCreatesCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	other := env.City(t, "elsewhere")
	h := webtest.New(t, env, webtest.Options{})
	op := operatorLogin(t, h, "founder@example.org")

	home := h.Get(t, tenanttest.PlatformHost, "/", "Cookie", op)
	webtest.RequireHTML(t, home, 200)
	require.Contains(t, home.Body, `href="/new-city"`, "the console's home links to the form")
	page := h.Get(t, tenanttest.PlatformHost, "/new-city", "Cookie", op)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, `<option value="Europe/Brussels" selected>`)
	csrf := webtest.CSRFFromPage(t, page)
	form := url.Values{"csrf_token": {csrf}, "slug": {"riverside"}, "name": {"Riverside"}, "plan": {"standard"},
		"locales": {"fr", "nl"}, "default_locale": {"nl"}, "time_zone": {"Europe/Amsterdam"}, "admin_email": {"Mayor@Example.org"}}
	r := h.CallForm(t, tenanttest.PlatformHost, "/new-city", form.Encode(), "Cookie", op)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Equal(t, "/cities/riverside?created=1", r.Header.Get("Location"))
	shown := h.Get(t, tenanttest.PlatformHost, "/cities/riverside?created=1", "Cookie", op)
	webtest.RequireHTML(t, shown, 200)
	require.Contains(t, shown.Body, "riverside."+tenanttest.BaseDomain, "the success message names the city's host")

	ctx := context.Background()
	city, err := env.Registry.BySlug(ctx, "riverside")
	require.NoError(t, err)
	require.Equal(t, "Riverside", city.Name)
	require.Equal(t, tenant.PlanStandard, city.Plan)
	require.Equal(t, []string{"nl", "fr"}, city.Locales, "the default language first")
	require.Equal(t, "Europe/Amsterdam", city.TimeZone)
	var schemas int
	require.NoError(t, env.DB.Platform().GetContext(ctx, &schemas,
		`SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1`, tenant.SchemaName("riverside")))
	require.Equal(t, 1, schemas)
	resolved, _, err := env.Registry.Resolve(ctx, "riverside."+tenanttest.BaseDomain)
	require.NoError(t, err)
	require.Equal(t, city.ID, resolved.ID)
	webtest.RequireHTML(t, h.Get(t, city.DefaultHost, "/"), 200)

	// The invitation is the city's, and its email is queued for that city.
	var inv struct {
		ID    int64  `db:"id"`
		Email string `db:"email"`
		Role  string `db:"role"`
	}
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(city), func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &inv, `SELECT id, email, role FROM invitations`)
	}))
	require.Equal(t, "mayor@example.org", inv.Email)
	require.Equal(t, "admin", inv.Role)
	var payloads []json.RawMessage
	require.NoError(t, env.DB.Platform().SelectContext(ctx, &payloads,
		`SELECT payload FROM platform.outbox WHERE tenant_id = $1 AND task_type = $2`, city.ID, tenant.TaskEmail))
	require.Len(t, payloads, 1)
	var payload struct {
		Kind         string `json:"kind"`
		InvitationID int64  `json:"invitation_id"`
	}
	require.NoError(t, json.Unmarshal(payloads[0], &payload))
	require.Equal(t, "invitation", payload.Kind)
	require.Equal(t, inv.ID, payload.InvitationID)

	// The invitation's link works on the new city's host, not on another's,
	// and the other city has no trace of it.
	var secret string
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(city), func(tx *tenant.Tx) error {
		var err error
		_, secret, err = user.IssueInvitationToken(ctx, tx, inv.ID)
		return err
	}))
	invite := h.Get(t, city.DefaultHost, "/invitations/"+secret)
	webtest.RequireHTML(t, invite, 200)
	require.Contains(t, invite.Body, "mayor@example.org")
	webtest.RequireHTML(t, h.Get(t, other.DefaultHost, "/invitations/"+secret), 404)
	var elsewhere int
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(other), func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &elsewhere, `SELECT count(*) FROM invitations`)
	}))
	require.Zero(t, elsewhere)

	// A taken slug: 422, the error by the slug, every typed value kept, in
	// the operator's language; nothing more is queued.
	form.Set("name", "Riverside Again")
	r = h.CallForm(t, tenanttest.PlatformHost, "/new-city", form.Encode(), "Cookie", op)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, `<p class="field-error" role="alert">A city with this slug already exists.</p>`)
	require.Contains(t, r.Body, `value="riverside"`)
	require.Contains(t, r.Body, `value="Riverside Again"`)
	require.Contains(t, r.Body, `value="Mayor@Example.org"`)
	require.Contains(t, r.Body, `<option value="Europe/Amsterdam" selected>`)
	require.Contains(t, r.Body, `<option value="standard" selected>`)
	require.Contains(t, r.Body, `<option value="nl" selected>`)
	require.Contains(t, r.Body, `name="locales" value="fr" checked`)
	r = h.CallForm(t, tenanttest.PlatformHost, "/new-city", form.Encode(), "Cookie", op+"; agora_locale=fr")
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Une ville avec cet identifiant existe déjà.")

	for _, tc := range []struct{ field, value, message string }{
		{"slug", "River Side", "Use 2 to 41 characters"},
		{"admin_email", "not an address", "This is not a valid email address."},
		{"plan", "gold", "Choose one of the plans."},
		{"time_zone", "Mars/Olympus", "Choose a time zone such as Europe/Brussels."},
	} {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("slug", "hillside")
		bad.Set(tc.field, tc.value)
		r = h.CallForm(t, tenanttest.PlatformHost, "/new-city", bad.Encode(), "Cookie", op)
		webtest.RequireHTML(t, r, 422)
		require.Contains(t, r.Body, tc.message, tc.field)
		require.Contains(t, r.Body, `id="`+tc.field+`"`, tc.field)
	}
	_, err = env.Registry.BySlug(ctx, "hillside")
	require.ErrorIs(t, err, tenant.ErrNotFound, "no refused form creates anything")
	var tasks int
	require.NoError(t, env.DB.Platform().GetContext(ctx, &tasks, `SELECT count(*) FROM platform.outbox WHERE task_type = $1`, tenant.TaskEmail))
	require.Equal(t, 1, tasks)

	// Nobody but an operator: not a visitor, not a city admin's cookie.
	r = h.Get(t, tenanttest.PlatformHost, "/new-city")
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Equal(t, "/login?next=%2Fnew-city", r.Header.Get("Location"))
	visitor := h.Get(t, tenanttest.PlatformHost, "/login")
	sneaky := url.Values{"csrf_token": {webtest.CSRFFromPage(t, visitor)}, "slug": {"sneaky"}, "name": {"Sneaky"},
		"locales": {"en"}, "time_zone": {"UTC"}, "admin_email": {"a@example.org"}}
	r = h.CallForm(t, tenanttest.PlatformHost, "/new-city", sneaky.Encode(), "Cookie", webtest.CookieFrom(visitor))
	require.Equal(t, http.StatusSeeOther, r.Status, "a visitor with a valid CSRF token is sent to log in: %s", r.Body)
	require.Equal(t, "/login?next=%2Fnew-city", r.Header.Get("Location"))
	admin, adminCSRF := h.SignIn(t, other, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	sneaky.Set("csrf_token", adminCSRF)
	r = h.CallForm(t, tenanttest.PlatformHost, "/new-city", sneaky.Encode(), "Cookie", admin)
	require.Equal(t, http.StatusForbidden, r.Status, "a city admin's session and token mean nothing on the platform host: %s", r.Body)
	_, err = env.Registry.BySlug(ctx, "sneaky")
	require.ErrorIs(t, err, tenant.ErrNotFound)
}

// TestPlatformAPICreatesCity: POST /api/v1/cities with an operator's token
// answers 201 with the city, 422 naming the field of a broken rule, 400 for
// malformed JSON; a city's token and an operator's cookie without the CSRF
// token are refused.
func TestPlatformAPICreatesCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	ops := operator.NewService(env.DB.Platform())
	_, err := ops.Create(context.Background(), "api@example.org", "API", "operator-password-1")
	require.NoError(t, err)
	tok, err := ops.CreateToken(context.Background(), "api@example.org", "provisioning")
	require.NoError(t, err)
	bearer := []string{"Authorization", "Bearer " + tok}
	post := func(body string, headers ...string) webtest.Response {
		return h.Call(t, "POST", tenanttest.PlatformHost, "/api/v1/cities", body, headers...)
	}

	r := post(`{"slug":"harbour","name":"Harbour","plan":"premium","locales":["fr","en"],"time_zone":"Europe/Paris","admin_email":"chief@example.org"}`, bearer...)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	var got struct {
		Slug        string   `json:"slug"`
		Plan        string   `json:"plan"`
		Locales     []string `json:"locales"`
		TimeZone    string   `json:"time_zone"`
		PrimaryHost string   `json:"primary_host"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &got))
	require.Equal(t, "harbour", got.Slug)
	require.Equal(t, "premium", got.Plan)
	require.Equal(t, []string{"fr", "en"}, got.Locales)
	require.Equal(t, "Europe/Paris", got.TimeZone)
	require.Equal(t, "harbour."+tenanttest.BaseDomain, got.PrimaryHost)
	city, err := env.Registry.BySlug(context.Background(), "harbour")
	require.NoError(t, err)
	var queued int
	require.NoError(t, env.DB.Platform().GetContext(context.Background(), &queued,
		`SELECT count(*) FROM platform.outbox WHERE tenant_id = $1 AND task_type = $2`, city.ID, tenant.TaskEmail))
	require.Equal(t, 1, queued, "the first admin's invitation is queued")

	for _, tc := range []struct{ body, field string }{
		{`{"slug":"harbour","name":"Harbour 2","locales":["en"],"time_zone":"UTC","admin_email":"b@example.org"}`, "slug"},
		{`{"slug":"9lives","name":"Nine","locales":["en"],"time_zone":"UTC","admin_email":"b@example.org"}`, "slug"},
		{`{"slug":"cove","name":"","locales":["en"],"time_zone":"UTC","admin_email":"b@example.org"}`, "name"},
		{`{"slug":"cove","name":"Cove","plan":"gold","locales":["en"],"time_zone":"UTC","admin_email":"b@example.org"}`, "plan"},
		{`{"slug":"cove","name":"Cove","locales":["xx"],"time_zone":"UTC","admin_email":"b@example.org"}`, "locales"},
		{`{"slug":"cove","name":"Cove","locales":["en"],"time_zone":"Mars/Olympus","admin_email":"b@example.org"}`, "time_zone"},
		{`{"slug":"cove","name":"Cove","locales":["en"],"time_zone":"UTC","admin_email":"nobody"}`, "admin_email"},
		{`{"slug":"cove","name":"Cove","locales":["en"],"time_zone":"UTC"}`, "admin_email"},
	} {
		p := webtest.RequireProblem(t, post(tc.body, bearer...), 422, "invalid")
		require.Equal(t, tc.field, p.Field, tc.body)
	}
	webtest.RequireProblem(t, post(`{"slug":`, bearer...), 400, "bad_request")
	webtest.RequireProblem(t, post(`{"slug":"cove","colour":"blue"}`, bearer...), 422, "invalid")
	_, err = env.Registry.BySlug(context.Background(), "cove")
	require.ErrorIs(t, err, tenant.ErrNotFound, "no refused request creates anything")

	body := `{"slug":"cove","name":"Cove","locales":["en"],"time_zone":"UTC","admin_email":"b@example.org"}`
	webtest.RequireProblem(t, post(body), 401, "unauthenticated")
	webtest.RequireProblem(t, post(body, "Authorization", "Bearer nope"), 401, "unauthenticated")
	op := operatorLogin(t, h, "console@example.org")
	r = post(body, "Cookie", op)
	require.Equal(t, http.StatusForbidden, r.Status, "a cookie without the CSRF token: %s", r.Body)
	_, err = env.Registry.BySlug(context.Background(), "cove")
	require.ErrorIs(t, err, tenant.ErrNotFound)
}
