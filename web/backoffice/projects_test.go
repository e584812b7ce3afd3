package backoffice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
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

func TestProjectsAndPhaseTimeline(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "timeline")
	h := webtest.New(t, env, webtest.Options{})
	fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	modID := int64(fixture.User(t, env, c, fixture.UserOpts{Email: "mod@example.org", Role: user.RoleModerator}).ID)
	h.Register(t, c.DefaultHost, "cit@example.org")
	admin, acsrf := h.Login(t, c.DefaultHost, "admin@example.org")
	cit, ccsrf := h.Login(t, c.DefaultHost, "cit@example.org")

	post := func(cookie, csrf, path, body string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, path, body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	webtest.RequireProblem(t, post(cit, ccsrf, "/api/v1/projects", `{"slug":"x","title":{"en":"X"}}`), 403, "forbidden")
	p := webtest.RequireProblem(t, post(admin, acsrf, "/api/v1/projects", `{"slug":"Bad Slug","title":{"en":"X"}}`), 422, "invalid")
	require.Contains(t, p.Detail, "slug")
	p = webtest.RequireProblem(t, post(admin, acsrf, "/api/v1/projects", `{"slug":"x","title":{"en":"X"},"topics":[99999]}`), 422, "invalid")
	require.Contains(t, p.Detail, "topics")
	r := post(admin, acsrf, "/api/v1/projects", `{"slug":"park","title":{"en":"A new park","nl":"Een nieuw park"},"topics":[1]}`)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	var proj struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &proj))
	require.Equal(t, "draft", proj.Status)
	webtest.RequireProblem(t, post(admin, acsrf, "/api/v1/projects", `{"slug":"park","title":{"en":"Again"}}`), 422, "invalid")

	phases := fmt.Sprintf("/api/v1/projects/%d/phases", proj.ID)
	add := func(cookie, csrf, title, starts, ends string) webtest.Response {
		end := "null"
		if ends != "" {
			end = `"` + ends + `"`
		}
		return post(cookie, csrf, phases, fmt.Sprintf(`{"title":{"en":%q},"method":"ideation","starts_at":%q,"ends_at":%s}`, title, starts, end))
	}
	require.Equal(t, 201, add(admin, acsrf, "Ideas", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z").Status)
	require.Equal(t, 201, add(admin, acsrf, "Vote", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z").Status)
	// Overlap: refused naming both phases.
	p = webtest.RequireProblem(t, add(admin, acsrf, "Debate", "2026-03-15T00:00:00Z", "2026-04-15T00:00:00Z"), 422, "invalid")
	require.Contains(t, p.Detail, `"Debate"`)
	require.Contains(t, p.Detail, `"Ideas"`)
	// Open-ended in the middle of the timeline: refused.
	p = webtest.RequireProblem(t, add(admin, acsrf, "Forever", "2026-04-10T00:00:00Z", ""), 422, "invalid")
	require.Contains(t, p.Detail, `"Forever"`)
	require.Contains(t, p.Detail, "only the last phase may be open-ended")
	// Open-ended last phase: fine; then nothing can follow it.
	require.Equal(t, 201, add(admin, acsrf, "Follow-up", "2026-07-01T00:00:00Z", "").Status)
	p = webtest.RequireProblem(t, add(admin, acsrf, "Later", "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"), 422, "invalid")
	require.Contains(t, p.Detail, `"Follow-up"`)
	// Bad fields name the field.
	p = webtest.RequireProblem(t, post(admin, acsrf, phases, `{"title":{"en":"X"},"method":"dance","starts_at":"2027-01-01T00:00:00Z"}`), 422, "invalid")
	require.Contains(t, p.Detail, "method")
	p = webtest.RequireProblem(t, post(admin, acsrf, phases, `{"title":{"en":"X"},"method":"ideation","starts_at":"2027-02-01T00:00:00Z","ends_at":"2027-01-01T00:00:00Z"}`), 422, "invalid")
	require.Contains(t, p.Detail, "ends_at")

	// The database refuses an overlap even if the domain check is bypassed.
	err := env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO phases (project_id, title, method, starts_at, ends_at)
			VALUES ($1, '{"en":"sneaky"}', 'information', '2026-03-10', '2026-03-20')`, proj.ID)
		return err
	})
	require.ErrorContains(t, err, "phases_no_overlap")

	// Moderators: only of their projects.
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `INSERT INTO project_moderators (project_id, user_id) VALUES ($1, $2)`, proj.ID, modID)
		return err
	}))
	mod, mcsrf := h.Login(t, c.DefaultHost, "mod@example.org")
	require.Equal(t, 201, add(mod, mcsrf, "Earlier", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z").Status)
	webtest.RequireProblem(t, add(cit, ccsrf, "Citizen", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"), 403, "forbidden")

	// Drafts are visible to staff only; publishing shows the project.
	path := fmt.Sprintf("/api/v1/projects/%d", proj.ID)
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, path), 404, "not_found")
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, path, "", "Cookie", cit), 404, "not_found")
	require.Equal(t, 200, h.Call(t, "GET", c.DefaultHost, path, "", "Cookie", mod).Status)
	list := h.Get(t, c.DefaultHost, "/api/v1/projects")
	require.Contains(t, list.Body, `"total":0`)
	r = h.Call(t, "PATCH", c.DefaultHost, path, `{"status":"published"}`, "Cookie", admin, "X-CSRF-Token", acsrf)
	require.Equal(t, 200, r.Status, r.Body)
	got := h.Get(t, c.DefaultHost, "/api/v1/projects/park")
	require.Equal(t, 200, got.Status, got.Body)
	require.Contains(t, got.Body, `"published_at":"`)
	var full struct {
		Phases []struct{ Title map[string]string } `json:"phases"`
	}
	require.NoError(t, json.Unmarshal([]byte(got.Body), &full))
	require.Len(t, full.Phases, 4)
	require.Equal(t, "Earlier", full.Phases[0].Title["en"], "phases come in timeline order")
	require.Contains(t, h.Get(t, c.DefaultHost, "/api/v1/projects?topic=1").Body, `"total":1`)
	require.Contains(t, h.Get(t, c.DefaultHost, "/api/v1/projects?topic=2").Body, `"total":0`)

	// Admins-only visibility hides a published project from citizens.
	r = h.Call(t, "PATCH", c.DefaultHost, path, `{"visibility":"admins"}`, "Cookie", admin, "X-CSRF-Token", acsrf)
	require.Equal(t, 200, r.Status, r.Body)
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, path, "", "Cookie", cit), 404, "not_found")
	require.Equal(t, 200, h.Call(t, "GET", c.DefaultHost, path, "", "Cookie", admin).Status)
	// And a project of this city is not one of another city's.
	other := env.City(t, "othertimeline")
	webtest.RequireProblem(t, h.Get(t, other.DefaultHost, "/api/v1/projects/park"), 404, "not_found")
}

func TestAdminProjectForms(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "backoffice")
	h := webtest.New(t, env, webtest.Options{})
	admin, csrf := h.SignIn(t, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})

	list := h.Call(t, "GET", c.DefaultHost, "/admin/projects", "", "Cookie", admin)
	webtest.RequireHTML(t, list, 200)
	require.Contains(t, list.Body, `name="title_nl"`, "titles are edited side by side in every city language")
	form := url.Values{"csrf_token": {csrf}, "slug": {"square"}, "title_en": {"The square"}, "title_nl": {"Het plein"},
		"status": {"published"}, "visibility": {"public"}, "topics": {"1", "3"}}
	r := h.CallForm(t, c.DefaultHost, "/admin/projects", form.Encode(), "Cookie", admin)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	loc := r.Header.Get("Location")
	require.Contains(t, loc, "/admin/projects/")
	edit := h.Call(t, "GET", c.DefaultHost, loc, "", "Cookie", admin)
	webtest.RequireHTML(t, edit, 200)
	require.Contains(t, edit.Body, `value="Het plein"`)
	projectPath := strings.SplitN(loc, "?", 2)[0]

	// A bad slug: 422 with the field named, the form kept.
	form.Set("slug", "Not A Slug")
	r = h.CallForm(t, c.DefaultHost, "/admin/projects", form.Encode(), "Cookie", admin)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, `value="Not A Slug"`)

	phase := func(title, starts, ends string) webtest.Response {
		f := url.Values{"csrf_token": {csrf}, "phase_title_en": {title}, "method": {"ideation"}, "starts_at": {starts}, "ends_at": {ends}, "posting": {"on"}}
		return h.CallForm(t, c.DefaultHost, projectPath+"/phases", f.Encode(), "Cookie", admin)
	}
	require.Equal(t, http.StatusSeeOther, phase("Ideas", "2026-03-01", "2026-04-01").Status)
	r = phase("Clash", "2026-03-15", "2026-05-01")
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Phase &#34;Clash&#34; overlaps phase &#34;Ideas&#34;")
	require.Equal(t, http.StatusSeeOther, phase("Open", "2026-04-01", "").Status)
	r = phase("After", "2026-06-01", "2026-07-01")
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "only the last phase may be open-ended")
	r = phase("No date", "", "")
	webtest.RequireHTML(t, r, 422)

	// In French, the refusal is French and still names the phases.
	r = h.CallRaw(t, "POST", c.DefaultHost, projectPath+"/phases", "application/x-www-form-urlencoded",
		url.Values{"csrf_token": {csrf}, "phase_title_en": {"Encore"}, "method": {"ideation"}, "starts_at": {"2026-03-10"}, "ends_at": {"2026-03-20"}}.Encode(),
		"Cookie", admin+"; agora_locale=fr")
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "La phase &#34;Encore&#34; chevauche la phase &#34;Ideas&#34;")

	// Citizens cannot reach the forms.
	h.Register(t, c.DefaultHost, "cit@example.org")
	cit, ccsrf := h.Login(t, c.DefaultHost, "cit@example.org")
	webtest.RequireHTML(t, h.Call(t, "GET", c.DefaultHost, "/admin/projects", "", "Cookie", cit), 403)
	r = h.CallForm(t, c.DefaultHost, "/admin/projects", url.Values{"csrf_token": {ccsrf}, "slug": {"x"}, "title_en": {"X"}}.Encode(), "Cookie", cit)
	webtest.RequireHTML(t, r, 403)
}

// The edit form holds the project's slug, so saving it as it comes keeps
// the address; without a slug, the form and the API make one from the
// title, unique in the city; a refusal is in the page's language.
func TestProjectSlugs(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "slugform")
	h := webtest.New(t, env, webtest.Options{})
	admin, csrf := h.SignIn(t, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	nl := admin + "; agora_locale=nl"

	form := url.Values{"csrf_token": {csrf}, "slug": {""}, "title_fr": {"Fête du parc"}, "title_nl": {"Parkfeest"},
		"status": {"published"}, "visibility": {"public"}}
	r := h.CallForm(t, c.DefaultHost, "/admin/projects", form.Encode(), "Cookie", nl)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	projectPath := strings.SplitN(r.Header.Get("Location"), "?", 2)[0]
	edit := h.Call(t, "GET", c.DefaultHost, projectPath, "", "Cookie", nl)
	webtest.RequireHTML(t, edit, 200)
	require.Contains(t, edit.Body, `name="slug" type="text" autocomplete="off" value="fete-du-parc"`)

	// Saving the form as the page filled it in.
	form.Set("slug", "fete-du-parc")
	form.Set("title_nl", "Groot parkfeest")
	r = h.CallForm(t, c.DefaultHost, projectPath, form.Encode(), "Cookie", nl)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	got := h.Get(t, c.DefaultHost, "/api/v1/projects/fete-du-parc")
	require.Equal(t, 200, got.Status, got.Body)
	require.Contains(t, got.Body, "Groot parkfeest")

	// The API derives the slug too, beside the one in use.
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/projects", `{"title":{"fr":"Fête du Parc"}}`, "Cookie", admin, "X-CSRF-Token", csrf)
	require.Positive(t, webtest.DecodeID(t, r, http.StatusCreated))
	require.Contains(t, r.Body, `"slug":"fete-du-parc-2"`)

	// A bad slug is refused in Dutch, on a Dutch page, and in French on a
	// French one.
	form.Set("slug", "Niet Goed")
	r = h.CallForm(t, c.DefaultHost, projectPath, form.Encode(), "Cookie", nl)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Gebruik kleine letters, cijfers en koppeltekens")
	require.NotContains(t, r.Body, "must be lower-case")
	require.Contains(t, r.Body, `value="Niet Goed"`, "the form comes back as it was typed")
	require.Contains(t, r.Body, `value="Groot parkfeest"`)
	r = h.CallForm(t, c.DefaultHost, projectPath, form.Encode(), "Cookie", admin+"; agora_locale=fr")
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Utilisez des lettres minuscules")
	// So is a new project's form, with its titles kept.
	r = h.CallForm(t, c.DefaultHost, "/admin/projects", url.Values{"csrf_token": {csrf}, "slug": {"Niet Goed"}, "title_nl": {"Nieuw plein"},
		"status": {"draft"}, "visibility": {"public"}}.Encode(), "Cookie", nl)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Gebruik kleine letters, cijfers en koppeltekens")
	require.Contains(t, r.Body, `value="Nieuw plein"`)
}

// A timeline refusal on a Dutch page is Dutch and names both phases by
// their Dutch titles.
func TestPhaseRefusalInPageLanguage(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "phasenames")
	h := webtest.New(t, env, webtest.Options{})
	admin, csrf := h.SignIn(t, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	p := fixture.Project(t, env, c, fixture.ProjectOpts{})
	path := fmt.Sprintf("/admin/projects/%d/phases", p.ID)
	phase := func(cookie string, f url.Values) webtest.Response {
		f.Set("csrf_token", csrf)
		f.Set("method", "ideation")
		return h.CallForm(t, c.DefaultHost, path, f.Encode(), "Cookie", cookie)
	}
	r := phase(admin, url.Values{"phase_title_en": {"Ideas"}, "phase_title_nl": {"Ideeën"}, "phase_title_fr": {"Idées"},
		"starts_at": {"2026-03-01"}, "ends_at": {"2026-04-01"}})
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)

	r = phase(admin+"; agora_locale=nl", url.Values{"phase_title_en": {"Clash"}, "phase_title_nl": {"Botsing"},
		"starts_at": {"2026-03-15"}, "ends_at": {"2026-05-01"}})
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Fase &#34;Botsing&#34; overlapt met fase &#34;Ideeën&#34;")
	r = phase(admin+"; agora_locale=fr", url.Values{"phase_title_en": {"Clash"}, "phase_title_nl": {"Botsing"},
		"starts_at": {"2026-03-15"}, "ends_at": {"2026-05-01"}})
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "La phase &#34;Clash&#34; chevauche la phase &#34;Idées&#34;", "a title missing in French is the city's first language")
	r = phase(admin+"; agora_locale=nl", url.Values{"phase_title_nl": {"Datum"}, "starts_at": {"1800-01-01"}})
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Geef een datum tussen 1900 en 2200")
}
