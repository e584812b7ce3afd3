package backoffice_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"agora/domain/export"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// exportDoc is what the export API answers.
type exportDoc struct {
	ID          int64  `json:"id"`
	Kind        string `json:"kind"`
	Status      string `json:"status"`
	Percent     int    `json:"percent"`
	RowsDone    int64  `json:"rows_done"`
	FileName    string `json:"file_name"`
	DownloadURL string `json:"download_url"`
}

// devSecret is AGORA_SECRET_KEY's dev default, which the test server uses.
const devSecret = "agora-dev-secret-do-not-use-in-production"

// TestExportsOverHTTP: staff ask for exports through the API and the back
// office, follow them to done, and download them through their signed link,
// which works only on its city, only for staff who may see the export and
// only until it expires.
func TestExportsOverHTTP(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	a := env.City(t, "expweb")
	b := env.City(t, "expweb_b")
	ctx := tenanttest.Ctx(a)

	adminA := fixture.Token(t, env, a, fixture.User(t, env, a, fixture.UserOpts{Email: "admin@a.example.org", Role: user.RoleAdmin}))
	adminB := fixture.Token(t, env, b, fixture.User(t, env, b, fixture.UserOpts{Email: "admin@b.example.org", Role: user.RoleAdmin}))
	citizen := fixture.Token(t, env, a, fixture.User(t, env, a, fixture.UserOpts{Email: "citizen@a.example.org"}))
	modUser := fixture.User(t, env, a, fixture.UserOpts{Email: "mod@a.example.org"})
	modID, mod := modUser.ID, fixture.Token(t, env, a, modUser)
	var projects [2]int64
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		for i, slug := range []string{"parks", "streets"} {
			if err := tx.GetContext(ctx, &projects[i], `INSERT INTO projects (slug, title, status) VALUES ($1, '{"en":"P"}', 'published') RETURNING id`, slug); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO ideas (project_id, title, body_text, status_id)
				SELECT $1, 'Idea ' || g, 'Text', (SELECT id FROM idea_statuses WHERE code = 'proposed') FROM generate_series(1, 30) g`, projects[i]); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO project_moderators (project_id, user_id) VALUES ($1, $2)`, projects[0], modID)
		return err
	}))
	build := func(id int64) {
		t.Helper()
		require.NoError(t, export.NewService(env.DB, env.StorageDir, export.Signer{}).Build(ctx, id))
	}
	get := func(auth string, id int64) exportDoc {
		t.Helper()
		r := h.Get(t, a.DefaultHost, fmt.Sprintf("/api/v1/exports/%d", id), "Authorization", auth)
		require.Equal(t, http.StatusOK, r.Status, r.Body)
		var d exportDoc
		require.NoError(t, json.Unmarshal([]byte(r.Body), &d))
		return d
	}

	// An admin asks for a CSV of every idea: 202, queued, then done.
	r := h.Call(t, "POST", a.DefaultHost, "/api/v1/exports", `{"kind":"ideas","format":"csv"}`, "Authorization", adminA)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	var e exportDoc
	require.NoError(t, json.Unmarshal([]byte(r.Body), &e))
	require.Equal(t, "queued", e.Status)
	require.Empty(t, e.DownloadURL)
	build(e.ID)
	e = get(adminA, e.ID)
	require.Equal(t, "done", e.Status)
	require.Equal(t, 100, e.Percent)
	require.EqualValues(t, 60, e.RowsDone)
	require.Regexp(t, `^/exports/\d+/download\?token=\d+\.[A-Za-z0-9_-]+$`, e.DownloadURL)
	require.Equal(t, "expweb-ideas-"+time.Now().UTC().Format("2006-01-02")+".csv", e.FileName)

	// The link serves the file as an attachment, to the admin.
	dl := h.Get(t, a.DefaultHost, e.DownloadURL, "Authorization", adminA)
	require.Equal(t, http.StatusOK, dl.Status, dl.Body)
	require.Equal(t, `attachment; filename="`+e.FileName+`"`, dl.Header.Get("Content-Disposition"))
	require.Equal(t, "text/csv; charset=utf-8", dl.Header.Get("Content-Type"))
	require.Equal(t, "no-store", dl.Header.Get("Cache-Control"))
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(dl.Body, "\ufeff"))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 61)
	require.Equal(t, []string{"ID", "Project ID", "Project", "Phase ID", "Title", "Text"}, recs[0][:6], "headers in the city's language")

	// The same link on another city is unknown there, even to its admin; a
	// citizen and a moderator of one project are refused; a visitor is sent
	// to log in; a mangled token names nothing.
	webtest.RequireHTML(t, h.Get(t, b.DefaultHost, e.DownloadURL, "Authorization", adminB), http.StatusNotFound)
	webtest.RequireHTML(t, h.Get(t, a.DefaultHost, e.DownloadURL, "Authorization", citizen), http.StatusForbidden)
	webtest.RequireHTML(t, h.Get(t, a.DefaultHost, e.DownloadURL, "Authorization", mod), http.StatusForbidden)
	anon := h.Get(t, a.DefaultHost, e.DownloadURL)
	require.Equal(t, http.StatusSeeOther, anon.Status)
	require.True(t, strings.HasPrefix(anon.Header.Get("Location"), "/login?next="), anon.Header.Get("Location"))
	webtest.RequireHTML(t, h.Get(t, a.DefaultHost, e.DownloadURL[:len(e.DownloadURL)-2]+"xx", "Authorization", adminA), http.StatusNotFound)
	webtest.RequireHTML(t, h.Get(t, a.DefaultHost, fmt.Sprintf("/exports/%d/download", e.ID), "Authorization", adminA), http.StatusNotFound)

	// A link past its expiry, or to an export that expired, is gone.
	stale := export.NewSigner(devSecret).Token(a.ID, e.ID, time.Now().Add(-time.Minute))
	webtest.RequireHTML(t, h.Get(t, a.DefaultHost, fmt.Sprintf("/exports/%d/download?token=%s", e.ID, url.QueryEscape(stale)), "Authorization", adminA), http.StatusGone)
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = $1`, e.ID)
		return err
	}))
	webtest.RequireHTML(t, h.Get(t, a.DefaultHost, e.DownloadURL, "Authorization", adminA), http.StatusGone)
	require.Empty(t, get(adminA, e.ID).DownloadURL, "an expired export offers no link")

	// Project moderators export their projects only, and must name one;
	// users are for admins.
	r = h.Call(t, "POST", a.DefaultHost, "/api/v1/exports", `{"kind":"comments"}`, "Authorization", mod)
	webtest.RequireProblem(t, r, http.StatusUnprocessableEntity, "invalid")
	webtest.RequireProblem(t, h.Call(t, "POST", a.DefaultHost, "/api/v1/exports", fmt.Sprintf(`{"kind":"ideas","project":%d}`, projects[1]), "Authorization", mod),
		http.StatusForbidden, "forbidden")
	webtest.RequireProblem(t, h.Call(t, "POST", a.DefaultHost, "/api/v1/exports", `{"kind":"users"}`, "Authorization", mod), http.StatusForbidden, "forbidden")
	webtest.RequireProblem(t, h.Call(t, "POST", a.DefaultHost, "/api/v1/exports", `{"kind":"ideas","format":"pdf"}`, "Authorization", adminA),
		http.StatusUnprocessableEntity, "invalid")
	webtest.RequireProblem(t, h.Call(t, "POST", a.DefaultHost, "/api/v1/exports", `{"kind":"ideas"}`, "Authorization", citizen), http.StatusForbidden, "forbidden")
	webtest.RequireProblem(t, h.Get(t, a.DefaultHost, "/api/v1/exports", "Authorization", citizen), http.StatusForbidden, "forbidden")
	webtest.RequireProblem(t, h.Get(t, a.DefaultHost, "/api/v1/exports"), http.StatusUnauthorized, "unauthenticated")
	r = h.Call(t, "POST", a.DefaultHost, "/api/v1/exports", fmt.Sprintf(`{"kind":"reactions","format":"xlsx","project":%d}`, projects[0]), "Authorization", mod)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	var modExport exportDoc
	require.NoError(t, json.Unmarshal([]byte(r.Body), &modExport))
	build(modExport.ID)
	modExport = get(mod, modExport.ID)
	dl = h.Get(t, a.DefaultHost, modExport.DownloadURL, "Authorization", mod)
	require.Equal(t, http.StatusOK, dl.Status, dl.Body)
	require.Equal(t, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", dl.Header.Get("Content-Type"))
	// The moderator's list holds their export, not the admin's.
	list := h.Get(t, a.DefaultHost, "/api/v1/exports", "Authorization", mod)
	require.Equal(t, http.StatusOK, list.Status, list.Body)
	var docs struct{ Data []exportDoc }
	require.NoError(t, json.Unmarshal([]byte(list.Body), &docs))
	require.Len(t, docs.Data, 1)
	require.Equal(t, modExport.ID, docs.Data[0].ID)
	webtest.RequireProblem(t, h.Get(t, a.DefaultHost, fmt.Sprintf("/api/v1/exports/%d", e.ID), "Authorization", mod), http.StatusNotFound, "not_found")

	// The back office: an admin asks for the users as XLSX with the form; the
	// page shows the progress (and refreshes itself) until it is done, then
	// the link, which serves a spreadsheet with the personal fields.
	cookie, csrfTok := h.Login(t, a.DefaultHost, "admin@a.example.org")
	r = h.CallForm(t, a.DefaultHost, "/admin/exports", url.Values{"csrf_token": {csrfTok}, "kind": {"users"}, "format": {"xlsx"}, "project": {"0"}}.Encode(),
		"Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Equal(t, "/admin/exports?msg=export_requested&n=1", r.Header.Get("Location"))
	page := h.Get(t, a.DefaultHost, "/admin/exports", "Cookie", cookie)
	webtest.RequireHTML(t, page, http.StatusOK)
	require.Contains(t, page.Body, `<meta http-equiv="refresh"`)
	require.Regexp(t, `<progress max="100" value="0"`, page.Body)
	var usersID int64
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &usersID, `SELECT id FROM exports WHERE kind = 'users'`)
	}))
	build(usersID)
	page = h.Get(t, a.DefaultHost, "/admin/exports", "Cookie", cookie)
	webtest.RequireHTML(t, page, http.StatusOK)
	require.NotContains(t, page.Body, `http-equiv="refresh"`)
	require.Contains(t, page.Body, `<progress max="100" value="100"`)
	link := regexp.MustCompile(fmt.Sprintf(`href="(/exports/%d/download\?token=[^"]+)"`, usersID)).FindStringSubmatch(page.Body)
	require.NotNil(t, link, "the page links the finished export")
	dl = h.Get(t, a.DefaultHost, strings.ReplaceAll(link[1], "&amp;", "&"), "Cookie", cookie)
	require.Equal(t, http.StatusOK, dl.Status, dl.Body)
	f, err := excelize.OpenReader(bytes.NewReader([]byte(dl.Body)))
	require.NoError(t, err)
	defer f.Close()
	rows, err := f.GetRows("users")
	require.NoError(t, err)
	require.Equal(t, []string{"ID", "Email", "First name", "Last name"}, rows[0][:4])
	require.Len(t, rows, 1+3)
	emails := []string{}
	for _, row := range rows[1:] {
		emails = append(emails, row[1])
	}
	require.ElementsMatch(t, []string{"admin@a.example.org", "citizen@a.example.org", "mod@a.example.org"}, emails)

	// A citizen gets 403 on the page; a visitor is sent to log in.
	ccookie, _ := h.Login(t, a.DefaultHost, "citizen@a.example.org")
	webtest.RequireHTML(t, h.Get(t, a.DefaultHost, "/admin/exports", "Cookie", ccookie), http.StatusForbidden)
	require.Equal(t, http.StatusSeeOther, h.Get(t, a.DefaultHost, "/admin/exports").Status)
}

// TestExportsNeedThePlan: a city on the essential plan cannot export; its
// admins see the plan that has exports instead of the form.
func TestExportsNeedThePlan(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	created, err := env.Provisioner.Create(context.Background(), tenant.Spec{Slug: "small_town", Name: "Small Town", Plan: tenant.PlanEssential,
		Lifecycle: tenant.Active, Locales: []string{"en"}, TimeZone: "Europe/Brussels"})
	require.NoError(t, err)
	c, err := env.Registry.Get(context.Background(), created.Tenant.ID)
	require.NoError(t, err)
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "admin@small.example.org", Role: user.RoleAdmin}))

	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/exports", `{"kind":"ideas"}`, "Authorization", admin), http.StatusForbidden, "feature_unavailable")
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, "/api/v1/exports", "Authorization", admin), http.StatusForbidden, "feature_unavailable")
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, "/api/v1/exports/1", "Authorization", admin), http.StatusForbidden, "feature_unavailable")
	var n int
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &n, `SELECT count(*) FROM exports`)
	}))
	require.Zero(t, n, "nothing was recorded")

	cookie, _ := h.Login(t, c.DefaultHost, "admin@small.example.org")
	page := h.Get(t, c.DefaultHost, "/admin/exports", "Cookie", cookie)
	webtest.RequireHTML(t, page, http.StatusOK)
	require.Contains(t, page.Body, "available on the standard plan")
	require.NotContains(t, page.Body, `action="/admin/exports"`)
}

// TestUsersCSVHeadersInTheCityLanguage: the user list's CSV is headed in
// the city's default language, and names come as typed.
func TestUsersCSVHeadersInTheCityLanguage(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	c := env.City(t, "usercsv")
	_, err := env.Ops.Update(context.Background(), c.Slug, tenant.Update{Locales: []string{"fr", "nl", "en"}})
	require.NoError(t, err)
	env.Registry.Invalidate()
	cookie, _ := h.SignIn(t, c, fixture.UserOpts{Email: "admin@usercsv.example.org", FirstName: "Zoë", LastName: "D'Hondt", Role: user.RoleAdmin})
	r := h.Get(t, c.DefaultHost, "/admin/users/export.csv", "Cookie", cookie)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	recs, err := csv.NewReader(strings.NewReader(r.Body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"ID", "E-mail", "Prénom", "Nom", "Rôle", "Langue", "E-mail confirmé", "Bloqué jusqu'au", "Créé le"}, recs[0])
	require.Len(t, recs, 2)
	require.Equal(t, []string{"admin@usercsv.example.org", "Zoë", "D'Hondt"}, recs[1][1:4])
}
