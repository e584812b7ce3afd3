package account_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/fixture"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestCustomRegistrationFields(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "questions")
	h := webtest.New(t, env, webtest.Options{})
	admin, csrf := h.SignIn(t, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	h.Register(t, c.DefaultHost, "cit@example.org") // before any required question exists
	cit, ccsrf := h.Login(t, c.DefaultHost, "cit@example.org")
	add := func(body string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, "/api/v1/registration-fields", body, "Cookie", admin, "X-CSRF-Token", csrf)
	}
	for _, body := range []string{
		`{"key":"district","label":{"en":"District","fr":"Quartier"},"kind":"select","required":true,"options":[{"value":"north","label":{"en":"North"}},{"value":"south","label":{"en":"South"}}]}`,
		`{"key":"interests","label":{"en":"Interests"},"kind":"multiselect","options":[{"value":"bikes","label":{"en":"Bikes"}},{"value":"trees","label":{"en":"Trees"}}]}`,
		`{"key":"birth","label":{"en":"Birth date"},"kind":"date"}`,
		`{"key":"household","label":{"en":"Household size"},"kind":"number"}`,
		`{"key":"newsletter","label":{"en":"I accept the charter"},"kind":"checkbox","required":true}`,
	} {
		r := add(body)
		require.Equal(t, http.StatusCreated, r.Status, r.Body)
	}
	webtest.RequireProblem(t, add(`{"key":"Bad Key","label":{"en":"x"},"kind":"text"}`), 422, "invalid")
	webtest.RequireProblem(t, add(`{"key":"colour","label":{"en":"x"},"kind":"select"}`), 422, "invalid")
	webtest.RequireProblem(t, add(`{"key":"district","label":{"en":"x"},"kind":"text"}`), 409, "conflict")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/registration-fields", `{"key":"x","label":{"en":"x"},"kind":"text"}`,
		"Cookie", cit, "X-CSRF-Token", ccsrf), 403, "forbidden")

	reg := func(fields string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, "/api/v1/users",
			`{"email":"new@example.org","password":"correct horse battery","first_name":"N","last_name":"W","fields":`+fields+`}`)
	}
	webtest.FlushRateLimits(t, c.ID)
	cases := []struct{ fields, field string }{
		{`{"newsletter":true}`, "fields.district"},
		{`{"district":"east","newsletter":true}`, "fields.district"},
		{`{"district":"north","newsletter":false}`, "fields.newsletter"},
		{`{"district":"north","newsletter":true,"interests":["bikes","cars"]}`, "fields.interests"},
		{`{"district":"north","newsletter":true,"birth":"17/05/1990"}`, "fields.birth"},
		{`{"district":"north","newsletter":true,"household":"many"}`, "fields.household"},
		{`{"district":"north","newsletter":true,"shoe":"42"}`, "fields.shoe"},
	}
	for _, tc := range cases {
		p := webtest.RequireProblem(t, reg(tc.fields), 422, "invalid")
		require.Contains(t, p.Detail, tc.field, tc.fields)
	}
	r := reg(`{"district":"north","newsletter":true,"interests":["bikes","trees"],"birth":"1990-05-17","household":3}`)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)

	// The sign-up page asks the questions and keeps answers after an error.
	webtest.FlushRateLimits(t, c.ID) // this test registers more often than a visitor may
	page := h.Get(t, c.DefaultHost, "/register")
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, `name="field_district"`)
	require.Contains(t, page.Body, "Household size")
	form := url.Values{"csrf_token": {webtest.CSRFFromPage(t, page)}, "email": {"form@example.org"}, "password": {"correct horse battery"},
		"first_name": {"F"}, "last_name": {"O"}, "field_district": {"south"}, "field_interests": {"trees"}}
	r = h.CallForm(t, c.DefaultHost, "/register", form.Encode(), "Cookie", webtest.CookieFrom(page))
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "This is required.") // the charter checkbox
	require.Contains(t, r.Body, `value="south" selected`)
	form.Set("field_newsletter", "on")
	r = h.CallForm(t, c.DefaultHost, "/register", form.Encode(), "Cookie", webtest.CookieFrom(page))
	webtest.RequireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, "We sent an email to form@example.org")
}
