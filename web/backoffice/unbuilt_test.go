package backoffice_test

import (
	"context"
	"fmt"
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

// TestUnbuiltFeaturesAreNotOffered: on a premium city, whose plan has
// everything, the features page offers a toggle only for what Agora has
// built; the rest is listed as coming, without a box. The API says they are
// not on and refuses turning one on with a 422 in the admin's language; a
// forged form changes nothing.
func TestUnbuiltFeaturesAreNotOffered(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "unbuilt", tenant.PlanPremium)
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	cookie, csrf := fixture.Session(t, env, c, admin)
	auth := []string{"Cookie", cookie, "X-CSRF-Token", csrf}

	page := h.Call(t, "GET", c.DefaultHost, "/admin/features", "", "Cookie", cookie)
	webtest.RequireHTML(t, page, 200)
	i := strings.Index(page.Body, `id="coming-title"`)
	require.Positive(t, i, "a section lists what is coming")
	for _, k := range []string{"voting", "polls", "native_surveys", "proposals", "events", "volunteering", "dashboard", "smart_groups"} {
		require.NotContains(t, page.Body, `name="f_`+k+`"`, "no toggle for %s", k)
		require.Contains(t, page.Body[i:], `data-feature="`+k+`"`, "%s is listed as coming", k)
	}
	for _, k := range []string{"ideation", "comments", "exports", "manual_email_campaigns"} {
		require.Contains(t, page.Body[:i], `name="f_`+k+`"`, "%s has its toggle", k)
		require.NotContains(t, page.Body[i:], `data-feature="`+k+`"`)
	}

	r := h.Call(t, "GET", c.DefaultHost, "/api/v1/features", "", auth...)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `{"key":"voting","allowed":true,"enabled":false,"plan":"standard","coming":true}`)
	require.Contains(t, r.Body, `{"key":"ideation","allowed":true,"enabled":true,"plan":"essential"}`)

	p := webtest.RequireProblem(t, h.Call(t, "PATCH", c.DefaultHost, "/api/v1/features", `{"comments":false,"voting":true}`,
		append(auth, "Accept-Language", "fr")...), 422, "invalid")
	require.Equal(t, "voting", p.Field)
	require.Equal(t, "Cette fonctionnalité n’est pas encore disponible dans Agora.", p.Detail)
	require.Equal(t, 200, h.Call(t, "PATCH", c.DefaultHost, "/api/v1/features", `{"voting":false}`, auth...).Status, "turning off is harmless")

	r = h.CallForm(t, c.DefaultHost, "/admin/features", "csrf_token="+csrf+"&f_comments=on&f_polls=on&enable=voting", "Cookie", cookie)
	require.Equal(t, 303, r.Status, r.Body)
	loc, _ := url.Parse(r.Header.Get("Location"))
	require.NotEmpty(t, loc.Query().Get("err"), "the forged switch is refused with a reason")
	r = h.Call(t, "GET", c.DefaultHost, "/api/v1/features", "", auth...)
	require.Contains(t, r.Body, `{"key":"voting","allowed":true,"enabled":false,"plan":"standard","coming":true}`)
	require.Contains(t, r.Body, `{"key":"polls","allowed":true,"enabled":false,"plan":"essential","coming":true}`)
}

// TestPhasesOfferOnlyBuiltMethods: the phase forms offer information and
// ideation only, and the API refuses a new phase of another method with a
// 422 on method. A voting phase stored before (an older release or an
// import) still shows on the portal and in the back office, keeps its
// method through an edit, and cannot be turned into a poll.
func TestPhasesOfferOnlyBuiltMethods(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "methods", nil)
	h, c, admin, csrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	base := fmt.Sprintf("/api/v1/projects/%d", project)

	p := webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, base+"/phases",
		`{"title":{"en":"Vote"},"method":"voting","starts_at":"2019-01-01T00:00:00Z","ends_at":"2019-06-01T00:00:00Z"}`, auth...), 422, "invalid")
	require.Equal(t, "method", p.Field)
	form := url.Values{"csrf_token": {csrf}, "phase_title_en": {"Vote"}, "method": {"voting"}, "starts_at": {"2019-01-01"}, "ends_at": {"2019-06-01"}}
	r := h.CallForm(t, c.DefaultHost, fmt.Sprintf("/admin/projects/%d/phases", project), form.Encode(), "Cookie", admin)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "This participation method is not available in Agora yet.")

	// A voting phase from before.
	var voting int64
	require.NoError(t, s.Env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &voting, `INSERT INTO phases (project_id, title, method, starts_at, ends_at)
			VALUES ($1, '{"en":"Old vote"}', 'voting', '2019-01-01', '2019-06-01') RETURNING id`, project)
	}))
	page := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/admin/projects/%d", project), "", "Cookie", admin)
	webtest.RequireHTML(t, page, 200)
	add := page.Body[strings.Index(page.Body, `<select id="method" name="method">`):]
	add = add[:strings.Index(add, "</select>")]
	require.Contains(t, add, `value="ideation"`)
	require.Contains(t, add, `value="information"`)
	for _, m := range []string{"voting", "poll", "native_survey", "volunteering", "proposals"} {
		require.NotContains(t, add, `value="`+m+`"`, "a new phase cannot choose %s", m)
	}
	edit := page.Body[strings.Index(page.Body, fmt.Sprintf(`<select id="pm_%d" name="method">`, voting)):]
	edit = edit[:strings.Index(edit, "</select>")]
	require.Contains(t, edit, `<option value="voting" selected>`, "the old phase shows its own method")
	require.NotContains(t, edit, `value="poll"`)
	portal := h.Get(t, c.DefaultHost, "/projects/ideas")
	webtest.RequireHTML(t, portal, 200)
	require.Contains(t, portal.Body, "Old vote")

	phase := fmt.Sprintf("%s/phases/%d", base, voting)
	r = h.Call(t, "PATCH", c.DefaultHost, phase, `{"title":{"en":"The old vote"}}`, auth...)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"method":"voting"`)
	p = webtest.RequireProblem(t, h.Call(t, "PATCH", c.DefaultHost, phase, `{"method":"poll"}`, auth...), 422, "invalid")
	require.Equal(t, "method", p.Field)
	r = h.Call(t, "PATCH", c.DefaultHost, phase, `{"method":"information"}`, auth...)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"method":"information"`)
}
