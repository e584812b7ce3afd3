package web_test

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
	"agora/tenant"
	"agora/tenant/tenanttest"
)

func TestProjectsAndPhaseTimeline(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "timeline")
	h := newHarness(t, env, serverOpts{})
	staff(t, env, c, "admin@example.org", user.RoleAdmin)
	modID := staff(t, env, c, "mod@example.org", user.RoleModerator)
	register(t, h, c.DefaultHost, "cit@example.org")
	admin, acsrf := login(t, h, c.DefaultHost, "admin@example.org")
	cit, ccsrf := login(t, h, c.DefaultHost, "cit@example.org")

	post := func(cookie, csrf, path, body string) response {
		return h.call(t, "POST", c.DefaultHost, path, body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	requireProblem(t, post(cit, ccsrf, "/api/v1/projects", `{"slug":"x","title":{"en":"X"}}`), 403, "forbidden")
	p := requireProblem(t, post(admin, acsrf, "/api/v1/projects", `{"slug":"Bad Slug","title":{"en":"X"}}`), 422, "invalid")
	require.Contains(t, p.Detail, "slug")
	p = requireProblem(t, post(admin, acsrf, "/api/v1/projects", `{"slug":"x","title":{"en":"X"},"topics":[99999]}`), 422, "invalid")
	require.Contains(t, p.Detail, "topics")
	r := post(admin, acsrf, "/api/v1/projects", `{"slug":"park","title":{"en":"A new park","nl":"Een nieuw park"},"topics":[1]}`)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	var proj struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &proj))
	require.Equal(t, "draft", proj.Status)
	requireProblem(t, post(admin, acsrf, "/api/v1/projects", `{"slug":"park","title":{"en":"Again"}}`), 422, "invalid")

	phases := fmt.Sprintf("/api/v1/projects/%d/phases", proj.ID)
	add := func(cookie, csrf, title, starts, ends string) response {
		end := "null"
		if ends != "" {
			end = `"` + ends + `"`
		}
		return post(cookie, csrf, phases, fmt.Sprintf(`{"title":{"en":%q},"method":"ideation","starts_at":%q,"ends_at":%s}`, title, starts, end))
	}
	require.Equal(t, 201, add(admin, acsrf, "Ideas", "2026-03-01T00:00:00Z", "2026-04-01T00:00:00Z").Status)
	require.Equal(t, 201, add(admin, acsrf, "Vote", "2026-05-01T00:00:00Z", "2026-06-01T00:00:00Z").Status)
	// Overlap: refused naming both phases.
	p = requireProblem(t, add(admin, acsrf, "Debate", "2026-03-15T00:00:00Z", "2026-04-15T00:00:00Z"), 422, "invalid")
	require.Contains(t, p.Detail, `"Debate"`)
	require.Contains(t, p.Detail, `"Ideas"`)
	// Open-ended in the middle of the timeline: refused.
	p = requireProblem(t, add(admin, acsrf, "Forever", "2026-04-10T00:00:00Z", ""), 422, "invalid")
	require.Contains(t, p.Detail, `"Forever"`)
	require.Contains(t, p.Detail, "only the last phase may be open-ended")
	// Open-ended last phase: fine; then nothing can follow it.
	require.Equal(t, 201, add(admin, acsrf, "Follow-up", "2026-07-01T00:00:00Z", "").Status)
	p = requireProblem(t, add(admin, acsrf, "Later", "2026-09-01T00:00:00Z", "2026-10-01T00:00:00Z"), 422, "invalid")
	require.Contains(t, p.Detail, `"Follow-up"`)
	// Bad fields name the field.
	p = requireProblem(t, post(admin, acsrf, phases, `{"title":{"en":"X"},"method":"dance","starts_at":"2027-01-01T00:00:00Z"}`), 422, "invalid")
	require.Contains(t, p.Detail, "method")
	p = requireProblem(t, post(admin, acsrf, phases, `{"title":{"en":"X"},"method":"ideation","starts_at":"2027-02-01T00:00:00Z","ends_at":"2027-01-01T00:00:00Z"}`), 422, "invalid")
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
	mod, mcsrf := login(t, h, c.DefaultHost, "mod@example.org")
	require.Equal(t, 201, add(mod, mcsrf, "Earlier", "2026-01-01T00:00:00Z", "2026-02-01T00:00:00Z").Status)
	requireProblem(t, add(cit, ccsrf, "Citizen", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"), 403, "forbidden")

	// Drafts are visible to staff only; publishing shows the project.
	path := fmt.Sprintf("/api/v1/projects/%d", proj.ID)
	requireProblem(t, h.get(t, c.DefaultHost, path), 404, "not_found")
	requireProblem(t, h.call(t, "GET", c.DefaultHost, path, "", "Cookie", cit), 404, "not_found")
	require.Equal(t, 200, h.call(t, "GET", c.DefaultHost, path, "", "Cookie", mod).Status)
	list := h.get(t, c.DefaultHost, "/api/v1/projects")
	require.Contains(t, list.Body, `"total":0`)
	r = h.call(t, "PATCH", c.DefaultHost, path, `{"status":"published"}`, "Cookie", admin, "X-CSRF-Token", acsrf)
	require.Equal(t, 200, r.Status, r.Body)
	got := h.get(t, c.DefaultHost, "/api/v1/projects/park")
	require.Equal(t, 200, got.Status, got.Body)
	require.Contains(t, got.Body, `"published_at":"`)
	var full struct {
		Phases []struct{ Title map[string]string } `json:"phases"`
	}
	require.NoError(t, json.Unmarshal([]byte(got.Body), &full))
	require.Len(t, full.Phases, 4)
	require.Equal(t, "Earlier", full.Phases[0].Title["en"], "phases come in timeline order")
	require.Contains(t, h.get(t, c.DefaultHost, "/api/v1/projects?topic=1").Body, `"total":1`)
	require.Contains(t, h.get(t, c.DefaultHost, "/api/v1/projects?topic=2").Body, `"total":0`)

	// Admins-only visibility hides a published project from citizens.
	r = h.call(t, "PATCH", c.DefaultHost, path, `{"visibility":"admins"}`, "Cookie", admin, "X-CSRF-Token", acsrf)
	require.Equal(t, 200, r.Status, r.Body)
	requireProblem(t, h.call(t, "GET", c.DefaultHost, path, "", "Cookie", cit), 404, "not_found")
	require.Equal(t, 200, h.call(t, "GET", c.DefaultHost, path, "", "Cookie", admin).Status)
	// And a project of this city is not one of another city's.
	other := env.City(t, "othertimeline")
	requireProblem(t, h.get(t, other.DefaultHost, "/api/v1/projects/park"), 404, "not_found")
}

func TestPortalShowsPublishedProjectsAndTimeline(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "portal")
	h := newHarness(t, env, serverOpts{})
	staff(t, env, c, "admin@example.org", user.RoleAdmin)
	admin, acsrf := login(t, h, c.DefaultHost, "admin@example.org")
	mk := func(body string) int64 {
		r := h.call(t, "POST", c.DefaultHost, "/api/v1/projects", body, "Cookie", admin, "X-CSRF-Token", acsrf)
		require.Equal(t, 201, r.Status, r.Body)
		var p struct{ ID int64 }
		require.NoError(t, json.Unmarshal([]byte(r.Body), &p))
		return p.ID
	}
	park := mk(`{"slug":"park","title":{"en":"A new park","fr":"Un nouveau parc"},"description":{"en":"Where should the trees go?"},"status":"published","topics":[2]}`)
	mk(`{"slug":"secret","title":{"en":"Secret draft"}}`)
	for _, body := range []string{
		`{"title":{"en":"Past ideas"},"method":"ideation","starts_at":"2020-01-01T00:00:00Z","ends_at":"2020-02-01T00:00:00Z"}`,
		`{"title":{"en":"Vote now"},"method":"voting","starts_at":"2020-03-01T00:00:00Z","ends_at":"2099-01-01T00:00:00Z"}`,
	} {
		r := h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", park), body, "Cookie", admin, "X-CSRF-Token", acsrf)
		require.Equal(t, 201, r.Status, r.Body)
	}
	home := h.get(t, c.DefaultHost, "/")
	requireHTML(t, home, 200)
	require.Contains(t, home.Body, `href="/projects/park"`)
	require.Contains(t, home.Body, "Vote now")
	require.NotContains(t, home.Body, "Secret draft")
	require.Contains(t, h.get(t, c.DefaultHost, "/?topic=2").Body, `href="/projects/park"`)
	require.NotContains(t, h.get(t, c.DefaultHost, "/?topic=3").Body, `href="/projects/park"`)

	page := h.get(t, c.DefaultHost, "/projects/park", "Accept-Language", "fr")
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "Un nouveau parc")
	require.Contains(t, page.Body, `aria-current="step"`)
	i := strings.Index(page.Body, `aria-current="step"`)
	require.Contains(t, page.Body[i:], "Vote now", "the current phase is the highlighted one")
	requireHTML(t, h.get(t, c.DefaultHost, "/projects/secret"), 404)
	requireHTML(t, h.get(t, c.DefaultHost, "/projects/nope"), 404)
}

func TestAdminProjectForms(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "backoffice")
	h := newHarness(t, env, serverOpts{})
	staff(t, env, c, "admin@example.org", user.RoleAdmin)
	admin, csrf := login(t, h, c.DefaultHost, "admin@example.org")

	list := h.call(t, "GET", c.DefaultHost, "/admin/projects", "", "Cookie", admin)
	requireHTML(t, list, 200)
	require.Contains(t, list.Body, `name="title_nl"`, "titles are edited side by side in every city language")
	form := url.Values{"csrf_token": {csrf}, "slug": {"square"}, "title_en": {"The square"}, "title_nl": {"Het plein"},
		"status": {"published"}, "visibility": {"public"}, "topics": {"1", "3"}}
	r := h.callForm(t, c.DefaultHost, "/admin/projects", form.Encode(), "Cookie", admin)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	loc := r.Header.Get("Location")
	require.Contains(t, loc, "/admin/projects/")
	edit := h.call(t, "GET", c.DefaultHost, loc, "", "Cookie", admin)
	requireHTML(t, edit, 200)
	require.Contains(t, edit.Body, `value="Het plein"`)
	projectPath := strings.SplitN(loc, "?", 2)[0]

	// A bad slug: 422 with the field named, the form kept.
	form.Set("slug", "Not A Slug")
	r = h.callForm(t, c.DefaultHost, "/admin/projects", form.Encode(), "Cookie", admin)
	requireHTML(t, r, 422)
	require.Contains(t, r.Body, `value="Not A Slug"`)

	phase := func(title, starts, ends string) response {
		f := url.Values{"csrf_token": {csrf}, "phase_title_en": {title}, "method": {"ideation"}, "starts_at": {starts}, "ends_at": {ends}, "posting": {"on"}}
		return h.callForm(t, c.DefaultHost, projectPath+"/phases", f.Encode(), "Cookie", admin)
	}
	require.Equal(t, http.StatusSeeOther, phase("Ideas", "2026-03-01", "2026-04-01").Status)
	r = phase("Clash", "2026-03-15", "2026-05-01")
	requireHTML(t, r, 422)
	require.Contains(t, r.Body, "Phase &#34;Clash&#34; overlaps phase &#34;Ideas&#34;")
	require.Equal(t, http.StatusSeeOther, phase("Open", "2026-04-01", "").Status)
	r = phase("After", "2026-06-01", "2026-07-01")
	requireHTML(t, r, 422)
	require.Contains(t, r.Body, "only the last phase may be open-ended")
	r = phase("No date", "", "")
	requireHTML(t, r, 422)

	// In French, the refusal is French and still names the phases.
	r = h.callRaw(t, "POST", c.DefaultHost, projectPath+"/phases", "application/x-www-form-urlencoded",
		url.Values{"csrf_token": {csrf}, "phase_title_en": {"Encore"}, "method": {"ideation"}, "starts_at": {"2026-03-10"}, "ends_at": {"2026-03-20"}}.Encode(),
		"Cookie", admin+"; agora_locale=fr")
	requireHTML(t, r, 422)
	require.Contains(t, r.Body, "La phase &#34;Encore&#34; chevauche la phase &#34;Ideas&#34;")

	// Citizens cannot reach the forms.
	register(t, h, c.DefaultHost, "cit@example.org")
	cit, ccsrf := login(t, h, c.DefaultHost, "cit@example.org")
	requireHTML(t, h.call(t, "GET", c.DefaultHost, "/admin/projects", "", "Cookie", cit), 403)
	r = h.callForm(t, c.DefaultHost, "/admin/projects", url.Values{"csrf_token": {ccsrf}, "slug": {"x"}, "title_en": {"X"}}.Encode(), "Cookie", cit)
	requireHTML(t, r, 403)
}
