package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/group"
	"agora/domain/locale"
	"agora/domain/moderation"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestPhasePermissionsOnEveryWriteRoute is the table of who may write where.
// Every unsafe city route is classified: a row of the participation table,
// which is called under every phase level (and with the phase's toggles off,
// and with the project visible to a group only) by every kind of caller, or
// an entry of the admin-only list (refused to citizens and visitors), or an
// entry of the account list (the caller's own account; covered by the account
// tests). A new unsafe route in none of them fails the test by name.
func TestPhasePermissionsOnEveryWriteRoute(t *testing.T) {
	t.Parallel()
	f := newTableCity(t)
	rows := f.rows()

	// 1. Every unsafe route is classified, and every classification names a
	// route that exists.
	t.Run("every unsafe route is classified", func(t *testing.T) {
		classified := map[string]string{}
		for _, r := range rows {
			classified[r.method+" "+r.route] = "participation table"
		}
		for _, a := range adminOnlyRoutes {
			k := a.method + " " + a.route
			require.NotContains(t, classified, k, "%s is classified twice", k)
			classified[k] = "admin only: " + a.reason
		}
		for k, reason := range accountRoutes {
			require.NotContains(t, classified, k, "%s is classified twice", k)
			classified[k] = "account: " + reason
		}
		registered := map[string]bool{}
		var unclassified []string
		for _, rt := range f.h.Server.CityEngine().Routes() {
			switch rt.Method {
			case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			default:
				continue
			}
			k := rt.Method + " " + rt.Path
			registered[k] = true
			if _, ok := classified[k]; !ok {
				unclassified = append(unclassified, k)
			}
		}
		sort.Strings(unclassified)
		require.Empty(t, unclassified, "unsafe routes that are neither in the permission table nor in the admin-only or account lists "+
			"of web/route_permissions_test.go: add a row (participation write) or an entry with a reason")
		var stale []string
		for k := range classified {
			if !registered[k] {
				stale = append(stale, k)
			}
		}
		sort.Strings(stale)
		require.Empty(t, stale, "classified routes that are not registered")
	})

	// 2. Admin-only routes refuse visitors and anyone who is not a city admin.
	t.Run("admin-only routes", func(t *testing.T) {
		for _, a := range adminOnlyRoutes {
			target := strings.NewReplacer(":id", fmt.Sprint(f.projectA), ":user", fmt.Sprint(f.ids[callModA]), ":code", "proposed").Replace(a.route)
			page := !strings.HasPrefix(a.route, "/api/")
			for _, c := range []caller{callAnon, callConfirmed, callModA} {
				var r webtest.Response
				if page {
					r = f.form(t, c, target, url.Values{})
				} else {
					r = f.api(t, c, a.method, target, a.body)
				}
				want := outForbidden
				if c == callAnon {
					want = outUnauth
					if page {
						want = outLogIn
					}
				}
				var msg string
				if page {
					msg = checkPage(r, want, "/login?next=", nil)
				} else {
					msg = checkAPI(r, want)
				}
				if msg != "" {
					t.Errorf("%s %s as %s: %s", a.method, a.route, c, msg)
				}
			}
		}
	})

	// 3. The participation table: every row, every level, every caller.
	for _, v := range variants {
		t.Run("level "+v.name, func(t *testing.T) {
			f.apply(t, v)
			for _, r := range rows {
				if r.only != "" && r.only != v.name {
					continue
				}
				for _, c := range callers {
					want := r.want(v, c)
					got := r.call(t, v, c)
					var msg string
					if r.check != nil {
						msg = r.check(t, c, got, want)
					} else {
						msg = checkAPI(got, want)
					}
					if msg != "" {
						t.Errorf("%s %s%s [level %s] as %s: %s", r.method, r.route, r.label, v.name, c, msg)
					}
				}
			}
		})
	}
}

// caller is who calls a route.
type caller string

const (
	callAnon        caller = "anonymous"
	callUnconfirmed caller = "unconfirmed citizen"
	callConfirmed   caller = "confirmed citizen"
	callMember      caller = "group member"
	callBlocked     caller = "blocked citizen (group member)"
	callModB        caller = "moderator of another project"
	callModA        caller = "project moderator"
	callAdmin       caller = "admin"
)

var callers = []caller{callAnon, callUnconfirmed, callConfirmed, callMember, callBlocked, callModB, callModA, callAdmin}

// staffOf reports whether c is staff of the project under test.
func staffOf(c caller) bool { return c == callModA || c == callAdmin }

// seesGroupProject reports whether c sees a project visible to the group only.
func seesGroupProject(c caller) bool {
	return c == callMember || c == callBlocked || staffOf(c)
}

// variant is one configuration of the project and its current phase.
type variant struct {
	name     string
	level    string // the level of post, comment and react
	off      bool   // posting, commenting, reacting and dislikes switched off
	groupsOK bool   // the project is visible to the group only
}

var variants = []variant{
	{name: "everyone", level: "everyone"},
	{name: "registered", level: "registered"},
	{name: "confirmed", level: "confirmed"},
	{name: "groups", level: "groups"},
	{name: "admins_moderators", level: "admins_moderators"},
	{name: "toggles off", level: "registered", off: true},
	{name: "project visible to a group", level: "everyone", groupsOK: true},
}

// outcome is what a call must answer.
type outcome int

const (
	outOK           outcome = iota
	outLogIn                // 401 / login redirect: the phase says log in
	outConfirmEmail         // 403 confirm_email
	outJoinGroup            // 403 join_group
	outStaffOnly            // 403 staff_only
	outBlocked              // 403 blocked
	outDisabled             // 403 disabled
	outHidden               // 404: the project is not visible to the caller
	outHiddenField          // 422 naming project_id: POST /api/v1/ideas into a project the caller cannot see
	outUnauth               // 401 without a phase rule (log in first)
	outForbidden            // 403 without a phase rule (not the author, not staff)
	outNotFound             // 404 without visibility (e.g. a report of a project one does not moderate)
	outInvalid              // 422
)

func (o outcome) String() string {
	return [...]string{"allowed", "401 log_in", "403 confirm_email", "403 join_group", "403 staff_only", "403 blocked",
		"403 disabled", "404 not visible", "422 project_id (not visible)", "401", "403", "404", "422"}[o]
}

// rule is the permission rule an outcome names, and phrases the words its
// message uses (the English fallback or the translated call to action).
func (o outcome) rule() (string, []string) {
	switch o {
	case outLogIn:
		return "denied_log_in", []string{"log in"}
	case outConfirmEmail:
		return "denied_confirm_email", []string{"confirm your email"}
	case outJoinGroup:
		return "denied_join_group", []string{"only members of certain groups"}
	case outStaffOnly:
		return "denied_staff_only", []string{"only admins and moderators"}
	case outBlocked:
		return "denied_blocked", []string{"blocked"}
	case outDisabled:
		return "denied_disabled", []string{"does not allow", "does not accept"}
	}
	return "", nil
}

// phaseOutcome is permission.Can for an action of the phase under v, then
// the handlers' rule that writing needs an author: what a participation write
// answers.
func phaseOutcome(v variant, c caller) outcome {
	if v.groupsOK && !seesGroupProject(c) {
		return outHidden
	}
	staff := staffOf(c)
	switch {
	case c == callBlocked && !staff:
		return outBlocked
	case v.off && !staff:
		return outDisabled
	case staff:
		return outOK
	}
	var o outcome
	switch v.level {
	case "everyone", "registered":
		o = outOK
	case "confirmed":
		if c == callUnconfirmed {
			o = outConfirmEmail
		}
	case "groups":
		if c != callMember {
			o = outJoinGroup
		}
	default:
		o = outStaffOnly
	}
	if c == callAnon {
		return outLogIn // a phase open to everyone still needs an author
	}
	return o
}

// row is one participation write route.
type row struct {
	method, route string // as registered
	label         string // tells rows of one route apart
	only          string // run under this variant only
	call          func(t *testing.T, v variant, c caller) webtest.Response
	want          func(v variant, c caller) outcome
	// check compares a response to the outcome (pages); nil: checkAPI.
	check func(t *testing.T, c caller, r webtest.Response, o outcome) string
}

// adminOnly is an unsafe route that only city admins may call.
type adminOnlyRoute struct {
	method, route, body, reason string
}

var adminOnlyRoutes = []adminOnlyRoute{
	{"POST", "/admin/users/:id/role", "", "back office: change a user's role"},
	{"POST", "/admin/users/:id/block", "", "back office: block a user"},
	{"POST", "/admin/invitations", "", "back office: invite staff and citizens"},
	{"POST", "/admin/projects", "", "back office: create a project"},
	{"POST", "/admin/projects/:id", "", "back office: edit a project"},
	{"POST", "/admin/projects/:id/phases", "", "back office: add a phase"},
	{"POST", "/admin/projects/:id/phases/:phase", "", "back office: edit a phase"},
	{"POST", "/admin/projects/:id/phases/:phase/delete", "", "back office: delete a phase"},
	{"POST", "/admin/projects/:id/header", "", "back office: a project's header image"},
	{"POST", "/admin/projects/:id/move", "", "back office: the order of projects"},
	{"POST", "/admin/projects/:id/moderators", "", "back office: a project's moderators"},
	{"POST", "/admin/projects/:id/moderators/:user/delete", "", "back office: a project's moderators"},
	{"POST", "/admin/folders", "", "back office: project folders"},
	{"POST", "/admin/folders/:id/delete", "", "back office: project folders"},
	{"POST", "/admin/areas", "", "back office: the city's areas"},
	{"POST", "/admin/statuses", "", "back office: idea statuses"},
	{"POST", "/admin/statuses/:code/delete", "", "back office: idea statuses"},
	{"POST", "/admin/features", "", "back office: the city's feature toggles"},
	{"PATCH", "/api/v1/features", `{}`, "the city's feature toggles"},
	{"POST", "/admin/digests", "", "back office: when the weekly digests leave"},
	{"PATCH", "/api/v1/digest-settings", `{"hour":9}`, "when the weekly digests leave"},
	{"POST", "/api/v1/projects", `{"slug":"nope","title":{"en":"Nope"}}`, "only city admins create projects"},
	{"POST", "/api/v1/registration-fields", `{}`, "the city's registration questions"},
	{"DELETE", "/api/v1/registration-fields/:id", "", "the city's registration questions"},
	{"PATCH", "/api/v1/users/:id", `{"role":"admin"}`, "roles and blocks of users"},
	{"POST", "/api/v1/invitations", `{}`, "invitations of staff and citizens"},
	{"POST", "/api/v1/areas", `{}`, "the city's areas"},
	{"POST", "/api/v1/projects/:id/moderators", `{}`, "a project's moderators"},
	{"DELETE", "/api/v1/projects/:id/moderators/:user", "", "a project's moderators"},
	{"POST", "/api/v1/folders", `{}`, "project folders"},
	{"DELETE", "/api/v1/folders/:id", "", "project folders"},
	{"POST", "/api/v1/statuses", `{}`, "idea statuses"},
	{"DELETE", "/api/v1/statuses/:code", "", "idea statuses"},
	{"POST", "/admin/campaigns", "", "back office: write an email campaign"},
	{"POST", "/admin/campaigns/:id", "", "back office: edit a draft campaign"},
	{"POST", "/admin/campaigns/:id/test", "", "back office: a campaign's test email to oneself"},
	{"POST", "/admin/campaigns/:id/send", "", "back office: send a campaign to its audience"},
	{"POST", "/admin/campaign-settings", "", "back office: how fast campaigns leave"},
	{"POST", "/api/v1/campaigns", `{"subject":{"en":"Nope"}}`, "email campaigns are written by city admins"},
	{"PATCH", "/api/v1/campaigns/:id", `{}`, "email campaigns are edited by city admins"},
	{"POST", "/api/v1/campaigns/:id/test", "", "a campaign's test email to oneself"},
	{"POST", "/api/v1/campaigns/:id/send", "", "sending an email campaign to its audience"},
	{"PATCH", "/api/v1/campaign-settings", `{"per_second":5}`, "how fast the city's campaigns leave"},
}

// accountRoutes act on the caller's own account or session; they do not
// happen in a project or phase. The account tests cover them.
var accountRoutes = map[string]string{
	"POST /login":                           "logging in",
	"POST /logout":                          "logging out",
	"POST /register":                        "signing up",
	"POST /profile":                         "one's own profile",
	"POST /confirm":                         "confirming one's email with a code",
	"POST /forgot":                          "asking for a password reset",
	"POST /reset":                           "resetting one's password",
	"POST /profile/data-exports":            "asking for one's own data",
	"POST /profile/delete":                  "deleting one's own account",
	"POST /profile/email":                   "changing one's own email address",
	"POST /profile/avatar":                  "one's own avatar",
	"POST /invitations/:token":              "accepting an invitation (the token is the credential)",
	"POST /api/v1/users":                    "signing up",
	"POST /api/v1/session":                  "logging in",
	"DELETE /api/v1/session":                "logging out",
	"DELETE /api/v1/sessions":               "logging out everywhere",
	"POST /api/v1/tokens":                   "one's own API tokens",
	"DELETE /api/v1/tokens/:id":             "one's own API tokens",
	"POST /api/v1/me/confirmation":          "confirming one's email with a code",
	"POST /api/v1/me/confirmation/resend":   "asking for a new confirmation code",
	"POST /api/v1/password-resets":          "asking for a password reset",
	"POST /api/v1/password-resets/complete": "resetting one's password",
	"DELETE /api/v1/me":                     "deleting one's own account",
	"POST /api/v1/me/email":                 "changing one's own email address",
	"PUT /api/v1/me/avatar":                 "one's own avatar",
	"POST /api/v1/me/data-exports":          "asking for one's own data",
	"POST /api/v1/notifications/read":       "marking one's own notifications read",
	"POST /profile/email-consents":          "one's own choice of emails",
	"PUT /api/v1/me/email-consents":         "one's own choice of emails",
	"POST /unsubscribe":                     "leaving one type of email from its link (the signed token is the credential)",
}

// tableCity is one city with the callers, a project under test (A) with a
// current ideation phase, another project (B) and the items the routes act on.
type tableCity struct {
	h        *webtest.Harness
	env      *tenanttest.Env
	city     *tenant.Tenant
	ctx      context.Context
	projectA int64
	projectB int64
	phaseA   int64
	groupID  int64
	ids      map[caller]int64
	bearer   map[caller]string
	cookie   map[caller]string
	csrf     map[caller]string
	anonCSRF string

	idea       int64 // X: reactions, comments, follows, reports
	comment    int64 // C on X: comment reactions
	answered   int64 // S: status and feedback
	hideTarget int64 // a comment on X: hiding and restoring
	report     int64 // a report on X
	ideaB      int64 // an idea of project B
	reportB    int64 // a report on the idea of project B
	ownIdea    map[caller]int64
	ownComment map[caller]int64
	seq        int
}

func newTableCity(t *testing.T) *tableCity {
	t.Helper()
	s := webtest.NewIdeaCity(t, "permtable", nil)
	h, c, env := s.H, s.City, s.Env
	webtest.FlushRateLimits(t, c.ID)
	f := &tableCity{h: h, env: env, city: c, ctx: tenanttest.Ctx(c), projectA: int64(s.Project), phaseA: int64(s.Phase),
		ids: map[caller]int64{}, bearer: map[caller]string{}, cookie: map[caller]string{}, csrf: map[caller]string{},
		ownIdea: map[caller]int64{}, ownComment: map[caller]int64{}, anonCSRF: strings.Repeat("a", 43)}
	f.projectB = int64(fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "other", Title: "Other"}).ID)

	users := map[caller]*user.User{
		callAdmin:       s.Admin,
		callUnconfirmed: fixture.User(t, env, c, fixture.UserOpts{Email: "unconfirmed@example.org", Unconfirmed: true}),
		callConfirmed:   fixture.User(t, env, c, fixture.UserOpts{Email: "confirmed@example.org"}),
		callMember:      fixture.User(t, env, c, fixture.UserOpts{Email: "member@example.org"}),
		callBlocked:     fixture.User(t, env, c, fixture.UserOpts{Email: "blocked@example.org"}),
		callModA:        fixture.User(t, env, c, fixture.UserOpts{Email: "moda@example.org", Role: user.RoleModerator}),
		callModB:        fixture.User(t, env, c, fixture.UserOpts{Email: "modb@example.org", Role: user.RoleModerator}),
	}
	for who, u := range users {
		f.ids[who] = int64(u.ID)
	}
	fixture.Exec(t, f.env, f.city, `INSERT INTO project_moderators (project_id, user_id) VALUES ($1, $2), ($3, $4)`,
		[]any{f.projectA, f.ids[callModA], f.projectB, f.ids[callModB]})

	groups := group.NewService(env.DB)
	g, err := groups.Create(f.ctx, locale.Text{"en": "Residents"}, group.Manual, nil)
	require.NoError(t, err)
	f.groupID = g.ID
	require.NoError(t, groups.AddMember(f.ctx, g.ID, f.ids[callMember]))
	require.NoError(t, groups.AddMember(f.ctx, g.ID, f.ids[callBlocked]))

	// Credentials: an API token and a session per caller, made before the
	// block (which ends them); the block is then set directly, as it is when
	// a blocked user logs in again to read.
	for who, u := range users {
		f.bearer[who] = fixture.Token(t, env, c, u)
		f.cookie[who], f.csrf[who] = fixture.Session(t, env, c, u)
	}
	fixture.Exec(t, f.env, f.city, `UPDATE users SET blocked_until = now() + interval '1 day' WHERE id = $1`, []any{f.ids[callBlocked]})

	// The items the routes act on, made directly: the table checks the
	// routes, not how the items came to be.
	f.idea = f.newIdea(t, callAdmin, f.projectA)
	f.comment = f.newComment(t, callAdmin)
	f.answered = f.newIdea(t, callAdmin, f.projectA)
	f.hideTarget = f.newComment(t, callConfirmed)
	for _, c := range callers[1:] {
		f.ownIdea[c] = f.newIdea(t, c, f.projectA)
		f.ownComment[c] = f.newComment(t, c)
	}
	f.ideaB = f.newIdea(t, callConfirmed, f.projectB)
	mod := moderation.NewService(env.DB)
	require.NoError(t, mod.Report(f.ctx, f.ids[callConfirmed], "idea", f.idea, "spam", ""))
	require.NoError(t, mod.Report(f.ctx, f.ids[callConfirmed], "idea", f.ideaB, "spam", ""))
	fixture.Exec(t, f.env, f.city, `SELECT id FROM reports WHERE item_id = $1`, []any{f.idea}, &f.report)
	fixture.Exec(t, f.env, f.city, `SELECT id FROM reports WHERE item_id = $1`, []any{f.ideaB}, &f.reportB)
	return f
}

func (f *tableCity) newIdea(t *testing.T, author caller, project int64) int64 {
	t.Helper()
	f.seq++
	var phase *int64
	if project == f.projectA {
		phase = &f.phaseA
	}
	// Seeded as data: the author may not be allowed to post under every
	// variant the table tries.
	var id int64
	fixture.Exec(t, f.env, f.city, `INSERT INTO ideas (project_id, phase_id, author_id, title, status_id)
		VALUES ($1, $2, $3, $4, (SELECT id FROM idea_statuses WHERE code = 'proposed')) RETURNING id`,
		[]any{project, phase, f.ids[author], fmt.Sprintf("Idea number %d", f.seq)}, &id)
	return id
}

func (f *tableCity) newComment(t *testing.T, author caller) int64 {
	t.Helper()
	var id int64
	fixture.Exec(t, f.env, f.city, `WITH c AS (INSERT INTO comments (idea_id, author_id, body) VALUES ($1, $2, 'A comment') RETURNING id),
		n AS (UPDATE ideas SET comments_count = comments_count + 1 WHERE id = $1) SELECT id FROM c`, []any{f.idea, f.ids[author]}, &id)
	return id
}

// apply configures project A and its phase as v says.
func (f *tableCity) apply(t *testing.T, v variant) {
	t.Helper()
	rule := `{"level":"` + v.level + `"}`
	if v.level == "groups" {
		rule = fmt.Sprintf(`{"level":"groups","groups":[%d]}`, f.groupID)
	}
	perms := fmt.Sprintf(`{"post":%s,"comment":%s,"react":%s}`, rule, rule, rule)
	fixture.Exec(t, f.env, f.city, `UPDATE phases SET permissions = $2::jsonb, posting_enabled = $3, commenting_enabled = $3, reacting_enabled = $3,
		dislikes_enabled = $3 WHERE id = $1`, []any{f.phaseA, perms, !v.off})
	visibility := "public"
	if v.groupsOK {
		visibility = "groups"
	}
	fixture.Exec(t, f.env, f.city, `UPDATE projects SET visibility = $2 WHERE id = $1`, []any{f.projectA, visibility})
	fixture.Exec(t, f.env, f.city, `DELETE FROM project_groups WHERE project_id = $1`, []any{f.projectA})
	if v.groupsOK {
		fixture.Exec(t, f.env, f.city, `INSERT INTO project_groups (project_id, group_id) VALUES ($1, $2)`, []any{f.projectA, f.groupID})
	}
}

// api calls an API route as c: anonymously, or with c's Bearer token.
func (f *tableCity) api(t *testing.T, c caller, method, path, body string) webtest.Response {
	t.Helper()
	if c == callAnon {
		return f.h.Call(t, method, f.city.DefaultHost, path, body)
	}
	return f.h.Call(t, method, f.city.DefaultHost, path, body, "Authorization", f.bearer[c])
}

// form posts a page form as c: with c's session and its CSRF token, or as a
// visitor with the double-submit cookie.
func (f *tableCity) form(t *testing.T, c caller, path string, values url.Values) webtest.Response {
	t.Helper()
	if c == callAnon {
		values.Set("csrf_token", f.anonCSRF)
		return f.h.CallForm(t, f.city.DefaultHost, path, values.Encode(), "Cookie", "agora_csrf="+f.anonCSRF)
	}
	values.Set("csrf_token", f.csrf[c])
	return f.h.CallForm(t, f.city.DefaultHost, path, values.Encode(), "Cookie", f.cookie[c])
}

// checkAPI compares a problem+json answer (or a success) with o.
func checkAPI(r webtest.Response, o outcome) string {
	if o == outOK {
		if r.Status < 200 || r.Status > 299 {
			return fmt.Sprintf("want 2xx, got %s", excerpt(r))
		}
		return ""
	}
	status, code := map[outcome]int{outLogIn: 401, outUnauth: 401, outHidden: 404, outNotFound: 404, outHiddenField: 422, outInvalid: 422}[o], ""
	switch status {
	case 0:
		status, code = 403, "forbidden"
	case 401:
		code = "unauthenticated"
	case 404:
		code = "not_found"
	case 422:
		code = "invalid"
	}
	if r.Status != status {
		return fmt.Sprintf("want %s, got %s", o, excerpt(r))
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		return fmt.Sprintf("want a problem+json %s, got Content-Type %q: %s", o, ct, r.Body)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		return fmt.Sprintf("want a problem document, got %s", r.Body)
	}
	if p["code"] != code {
		return fmt.Sprintf("want code %q (%s), got %v: %s", code, o, p["code"], r.Body)
	}
	detail := strings.ToLower(fmt.Sprint(p["detail"]))
	if o == outHiddenField && !strings.Contains(detail, "project_id") {
		return fmt.Sprintf("want %s, got detail %q", o, p["detail"])
	}
	if rule, phrases := o.rule(); rule != "" {
		// The problem's code is the HTTP kind; the rule that refused is
		// named by a "rule" member when the API has one, and always by the
		// message, which says what to do.
		if got, ok := p["rule"]; ok && got != rule {
			return fmt.Sprintf("want rule %q, got %v: %s", rule, got, r.Body)
		}
		if !slices.ContainsFunc(phrases, func(s string) bool { return strings.Contains(detail, s) }) {
			return fmt.Sprintf("want %s (detail saying %q), got detail %q", o, phrases[0], p["detail"])
		}
	}
	return ""
}

// checkPage compares a page form's answer with o: allowed is a redirect to a
// location starting with okLocation; a refusal to log in is a redirect to
// /login; 404 is an error page; denied, when set, says what any other
// refusal looks like on this page (else a 403 error page, naming the rule).
func checkPage(r webtest.Response, o outcome, okLocation string, denied func(r webtest.Response, o outcome) string) string {
	loc := r.Header.Get("Location")
	switch o {
	case outOK:
		if r.Status != 303 || !strings.HasPrefix(loc, okLocation) {
			return fmt.Sprintf("want 303 to %s, got %s", okLocation, excerpt(r))
		}
	case outLogIn, outUnauth:
		if r.Status != 303 || !strings.HasPrefix(loc, "/login?next=") {
			return fmt.Sprintf("want 303 to /login?next=, got %s", excerpt(r))
		}
	case outHidden, outNotFound:
		return htmlStatus(r, 404)
	default:
		if denied != nil {
			return denied(r, o)
		}
		if msg := htmlStatus(r, 403); msg != "" {
			return msg
		}
		_, phrases := o.rule()
		body := strings.ToLower(r.Body)
		if phrases != nil && !slices.ContainsFunc(phrases, func(s string) bool { return strings.Contains(body, s) }) {
			return fmt.Sprintf("want the page to say %q (%s)", phrases[0], o)
		}
	}
	return ""
}

// deniedBack is how the idea page's forms refuse: back to the idea with the
// reason, in the visitor's language, in the query parameter key.
func deniedBack(ideaID int64, key string) func(r webtest.Response, o outcome) string {
	return func(r webtest.Response, o outcome) string {
		prefix := fmt.Sprintf("/ideas/%d?%s=", ideaID, key)
		loc := r.Header.Get("Location")
		if r.Status != 303 || !strings.HasPrefix(loc, prefix) {
			return fmt.Sprintf("want 303 back to the idea with %s (%s), got %s", key, o, excerpt(r))
		}
		u, err := url.Parse(loc)
		if err != nil {
			return err.Error()
		}
		msg := strings.ToLower(u.Query().Get(key))
		if _, phrases := o.rule(); phrases != nil && !slices.ContainsFunc(phrases, func(s string) bool { return strings.Contains(msg, s) }) {
			return fmt.Sprintf("want %s saying %q (%s), got %q", key, phrases[0], o, msg)
		}
		return ""
	}
}

func htmlStatus(r webtest.Response, status int) string {
	if r.Status != status || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		return fmt.Sprintf("want a %d HTML page, got %s", status, excerpt(r))
	}
	return ""
}

// excerpt describes a response in one line: its status, its redirect, the
// title of a page or the start of a body.
func excerpt(r webtest.Response) string {
	out := fmt.Sprint(r.Status)
	if loc := r.Header.Get("Location"); loc != "" {
		out += " to " + loc
	}
	body := r.Body
	if i := strings.Index(body, "<title>"); i >= 0 {
		body = body[i+len("<title>"):]
		if j := strings.Index(body, "</title>"); j >= 0 {
			body = "page " + strconv.Quote(body[:j])
		}
	}
	if len(body) > 300 {
		body = body[:300] + "..."
	}
	return out + ": " + body
}

// rows is the participation table. Besides the phase rules it encodes these
// decisions: deleting one's own idea or comment and unfollowing need a login
// only; following and reporting need a login and an item one can see; none
// of these is refused to a blocked user (they may take their own content
// down and report abuse); only its author edits a comment; staff forms on
// pages refuse visitors with 403 rather than a way to log in.
func (f *tableCity) rows() []row {
	id := func(n int64) string { return fmt.Sprint(n) }
	ideaPath := "/api/v1/ideas/" + id(f.idea)
	commentPath := "/api/v1/comments/" + id(f.comment)

	// Ownership: citizens act on their own item, staff and the moderator of
	// another project on the confirmed citizen's, visitors on anyone's.
	owner := func(c caller) caller {
		switch c {
		case callUnconfirmed, callConfirmed, callMember, callBlocked:
			return c
		}
		return callConfirmed
	}
	// Outcomes of routes that are not phase-scoped.
	loginOnly := func(v variant, c caller) outcome {
		if c == callAnon {
			return outUnauth
		}
		return outOK
	}
	visibleLoginOnly := func(v variant, c caller) outcome {
		if c == callAnon {
			return outUnauth
		}
		if v.groupsOK && !seesGroupProject(c) {
			return outHidden
		}
		return outOK
	}
	// Reporting needs a login, an item one can see, and an account that
	// is not blocked (a blocked account may read but not take part).
	reporter := func(v variant, c caller) outcome {
		if o := visibleLoginOnly(v, c); o != outOK || c != callBlocked {
			return o
		}
		return outBlocked
	}
	authorOrStaff := func(v variant, c caller) outcome {
		switch {
		case c == callAnon:
			return outUnauth
		case v.groupsOK && !seesGroupProject(c):
			return outHidden
		case c == callModB:
			return outForbidden
		}
		return outOK
	}
	// Changing an idea: staff; its author while the phase takes ideas from them.
	ideaEdit := func(v variant, c caller) outcome {
		if o := authorOrStaff(v, c); o != outOK || staffOf(c) {
			return o
		}
		return phaseOutcome(v, c)
	}
	staffOfIdea := func(v variant, c caller) outcome {
		switch {
		case v.groupsOK && !seesGroupProject(c):
			return outHidden
		case c == callAnon:
			return outUnauth
		case staffOf(c):
			return outOK
		}
		return outForbidden
	}
	staffOnlyRoute := func(v variant, c caller) outcome {
		switch {
		case c == callAnon:
			return outUnauth
		case staffOf(c):
			return outOK
		}
		return outForbidden
	}
	dislike := func(v variant, c caller) outcome {
		if o := phaseOutcome(v, c); o != outOK || !v.off {
			return o
		}
		return outInvalid // staff may react with toggles off, but dislikes are off for everyone
	}
	// A reaction through the page comes back to the idea either way; the
	// stored reaction tells an allowed one from a refused one.
	reacted := func(t *testing.T, c caller) bool {
		var n int
		fixture.Exec(t, f.env, f.city, `SELECT count(*) FROM reactions WHERE item_type = 'idea' AND item_id = $1 AND user_id = $2`, []any{f.idea, f.ids[c]}, &n)
		return n > 0
	}

	return []row{
		// post
		{method: "POST", route: "/api/v1/ideas", want: func(v variant, c caller) outcome {
			if o := phaseOutcome(v, c); o != outHidden {
				return o
			}
			return outHiddenField
		}, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "POST", "/api/v1/ideas", fmt.Sprintf(`{"project_id":%d,"title":"An idea from the API"}`, f.projectA))
		}},
		{method: "POST", route: "/projects/:slug/ideas", want: phaseOutcome,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/projects/ideas/ideas", url.Values{"title": {"An idea from the page"}})
			},
			check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				if o == outLogIn && r.Header.Get("Location") != "/login?next=%2Fprojects%2Fideas" {
					return fmt.Sprintf("want 303 to /login?next=%%2Fprojects%%2Fideas, got %d %q", r.Status, r.Header.Get("Location"))
				}
				msg := checkPage(r, o, "/ideas/", nil)
				if msg != "" && o == outHidden && strings.Contains(r.Body, "Idea number") {
					msg += " (the page shows the project and lists its ideas)"
				}
				return msg
			}},
		{method: "PATCH", route: "/api/v1/ideas/:id", label: " (its author, or staff)", want: ideaEdit, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "PATCH", "/api/v1/ideas/"+id(f.ownIdea[owner(c)]), `{"title":"An edited idea"}`)
		}},
		{method: "DELETE", route: "/api/v1/ideas/:id", label: " (its author, or staff)", want: authorOrStaff,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "DELETE", "/api/v1/ideas/"+id(f.newIdea(t, owner(c), f.projectA)), "")
			}},

		{method: "POST", route: "/ideas/:id/edit", label: " (its author, or staff)", want: ideaEdit,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/ideas/"+id(f.ownIdea[owner(c)])+"/edit", url.Values{"title": {"An edited idea"}, "body": {"<p>Edited</p>"}})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				if o == outUnauth && htmlStatus(r, 401) == "" {
					return ""
				}
				return checkPage(r, o, "/ideas/"+id(f.ownIdea[owner(c)]), nil)
			}},
		{method: "POST", route: "/ideas/:id/delete", label: " (its author, or staff)", want: authorOrStaff,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/ideas/"+id(f.newIdea(t, owner(c), f.projectA))+"/delete", url.Values{})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				if o == outUnauth && htmlStatus(r, 401) == "" {
					return ""
				}
				return checkPage(r, o, "/projects/", nil)
			}},
		{method: "POST", route: "/api/v1/ideas/:id/images", label: " (no file: who gets past the gate gets 422)",
			want: func(v variant, c caller) outcome { return pastGate(ideaEdit(v, c), outInvalid) },
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "POST", "/api/v1/ideas/"+id(f.ownIdea[owner(c)])+"/images", `{}`)
			}},
		{method: "DELETE", route: "/api/v1/ideas/:id/images/:image", label: " (no such image: who gets past the gate gets 404)",
			want: func(v variant, c caller) outcome { return pastGate(ideaEdit(v, c), outNotFound) },
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "DELETE", "/api/v1/ideas/"+id(f.ownIdea[owner(c)])+"/images/999999", "")
			}},
		{method: "POST", route: "/ideas/:id/images", label: " (no file: who gets past the gate is told to choose one)",
			want: func(v variant, c caller) outcome { return pastGate(ideaEdit(v, c), outInvalid) },
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/ideas/"+id(f.ownIdea[owner(c)])+"/images", url.Values{})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				return checkPage(r, o, "", deniedBack(f.ownIdea[owner(c)], "image_error"))
			}},
		{method: "POST", route: "/ideas/:id/images/:name/delete", label: " (no such image: who gets past the gate gets 404)",
			want: func(v variant, c caller) outcome { return pastGate(ideaEdit(v, c), outNotFound) },
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/ideas/"+id(f.ownIdea[owner(c)])+"/images/999999/delete", url.Values{})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				return checkPage(r, o, "", deniedBack(f.ownIdea[owner(c)], "image_error"))
			}},

		// react
		{method: "PUT", route: "/api/v1/ideas/:id/reaction", want: phaseOutcome, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "PUT", ideaPath+"/reaction", `{"mode":"like"}`)
		}},
		{method: "PUT", route: "/api/v1/ideas/:id/reaction", label: " (dislike)", want: dislike, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "PUT", ideaPath+"/reaction", `{"mode":"dislike"}`)
		}},
		{method: "DELETE", route: "/api/v1/ideas/:id/reaction", want: phaseOutcome, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "DELETE", ideaPath+"/reaction", "")
		}},
		{method: "POST", route: "/ideas/:id/reaction", want: func(v variant, c caller) outcome {
			if c == callAnon {
				return outLogIn // the page sends visitors to log in first
			}
			return phaseOutcome(v, c)
		}, call: func(t *testing.T, v variant, c caller) webtest.Response {
			if c != callAnon {
				fixture.Exec(t, f.env, f.city, `DELETE FROM reactions WHERE item_type = 'idea' AND item_id = $1 AND user_id = $2`, []any{f.idea, f.ids[c]})
			}
			return f.form(t, c, "/ideas/"+id(f.idea)+"/reaction", url.Values{"mode": {"like"}})
		}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
			if msg := checkPage(r, o, "/ideas/"+id(f.idea), deniedBack(f.idea, "reaction_error")); msg != "" {
				return msg
			}
			if c != callAnon {
				if stored := reacted(t, c); stored != (o == outOK) {
					return fmt.Sprintf("want %s, but the reaction was stored: %v", o, stored)
				}
			}
			return ""
		}},
		{method: "PUT", route: "/api/v1/comments/:id/reaction", want: func(v variant, c caller) outcome {
			if c == callAnon {
				return outUnauth
			}
			return phaseOutcome(v, c)
		}, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "PUT", commentPath+"/reaction", `{"mode":"like"}`)
		}},
		{method: "PUT", route: "/api/v1/comments/:id/reaction", label: " (dislike)", want: func(v variant, c caller) outcome {
			if c == callAnon {
				return outUnauth
			}
			return dislike(v, c)
		}, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "PUT", commentPath+"/reaction", `{"mode":"dislike"}`)
		}},
		{method: "DELETE", route: "/api/v1/comments/:id/reaction", want: func(v variant, c caller) outcome {
			if c == callAnon {
				return outUnauth
			}
			return phaseOutcome(v, c)
		}, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "DELETE", commentPath+"/reaction", "")
		}},

		// comment
		{method: "POST", route: "/api/v1/ideas/:id/comments", want: phaseOutcome, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "POST", ideaPath+"/comments", `{"body":"A comment from the API"}`)
		}},
		{method: "POST", route: "/ideas/:id/comments", want: phaseOutcome, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.form(t, c, "/ideas/"+id(f.idea)+"/comments", url.Values{"body": {"A comment from the page"}})
		}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
			if o == outOK {
				if loc := r.Header.Get("Location"); r.Status != 303 || loc != "/ideas/"+id(f.idea)+"#comments" {
					return fmt.Sprintf("want 303 to /ideas/%d#comments, got %s", f.idea, excerpt(r))
				}
				return ""
			}
			if o == outHidden {
				o = outNotFound // the idea one cannot see: back to it, where it is not found
				return deniedBack(f.idea, "comment_error")(r, o)
			}
			return checkPage(r, o, "", deniedBack(f.idea, "comment_error"))
		}},
		{method: "PATCH", route: "/api/v1/comments/:id", label: " (its author)",
			want: func(v variant, c caller) outcome {
				switch o := authorOrStaff(v, c); {
				case o != outOK || staffOf(c):
					return o
				}
				return phaseOutcome(v, c)
			}, call: func(t *testing.T, v variant, c caller) webtest.Response {
				target := f.ownComment[callConfirmed]
				if c != callAnon && c != callModB {
					target = f.ownComment[c] // only its author edits a comment, staff included
				}
				return f.api(t, c, "PATCH", "/api/v1/comments/"+id(target), `{"body":"An edited comment"}`)
			}},
		{method: "DELETE", route: "/api/v1/comments/:id", label: " (its author, or staff)", want: authorOrStaff,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "DELETE", "/api/v1/comments/"+id(f.newComment(t, owner(c))), "")
			}},
		{method: "POST", route: "/comments/:id/edit", label: " (its author)",
			want: func(v variant, c caller) outcome {
				switch o := authorOrStaff(v, c); {
				case o != outOK || staffOf(c):
					return o
				}
				return phaseOutcome(v, c)
			}, call: func(t *testing.T, v variant, c caller) webtest.Response {
				target := f.ownComment[callConfirmed]
				if c != callAnon && c != callModB {
					target = f.ownComment[c]
				}
				return f.form(t, c, "/comments/"+id(target)+"/edit", url.Values{"body": {"An edited comment"}})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				if o == outUnauth && htmlStatus(r, 401) == "" {
					return ""
				}
				return checkPage(r, o, "/ideas/"+id(f.idea)+"#comment-", nil)
			}},
		{method: "POST", route: "/comments/:id/delete", label: " (its author, or staff)",
			want: authorOrStaff, call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/comments/"+id(f.newComment(t, owner(c)))+"/delete", url.Values{})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				if o == outUnauth && htmlStatus(r, 401) == "" {
					return "" // a 401 page is as good as the way to /login
				}
				return checkPage(r, o, "/ideas/"+id(f.idea)+"#comments", nil)
			}},

		// follows and reports: a login, and an item one can see
		{method: "PUT", route: "/api/v1/follows/:type/:id", want: visibleLoginOnly,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "PUT", "/api/v1/follows/idea/"+id(f.idea), "")
			}},
		{method: "DELETE", route: "/api/v1/follows/:type/:id", want: loginOnly, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "DELETE", "/api/v1/follows/idea/"+id(f.idea), "")
		}},
		{method: "POST", route: "/follows/:type/:id", want: func(v variant, c caller) outcome {
			if o := visibleLoginOnly(v, c); o != outUnauth {
				return o
			}
			return outLogIn
		},
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/follows/idea/"+id(f.idea), url.Values{"follow": {"on"}, "back": {"/ideas/" + id(f.idea)}})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				return checkPage(r, o, "/ideas/"+id(f.idea), nil)
			}},
		{method: "POST", route: "/api/v1/reports", want: reporter,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "POST", "/api/v1/reports", fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, f.idea))
			}},

		{method: "POST", route: "/reports", want: func(v variant, c caller) outcome {
			if o := reporter(v, c); o != outUnauth {
				return o
			}
			return outLogIn
		},
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/reports", url.Values{"item_type": {"idea"}, "item_id": {id(f.idea)}, "idea_id": {id(f.idea)}, "reason": {"spam"}})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				return checkPage(r, o, "/ideas/"+id(f.idea)+"?reported=1", nil)
			}},

		// staff only: admins and the project's moderators
		{method: "POST", route: "/api/v1/ideas/:id/status", want: staffOfIdea, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "POST", "/api/v1/ideas/"+id(f.answered)+"/status", `{"status":"under_consideration"}`)
		}},
		{method: "POST", route: "/api/v1/ideas/:id/feedback", want: staffOfIdea, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "POST", "/api/v1/ideas/"+id(f.answered)+"/feedback", `{"body":"We look at it."}`)
		}},
		{method: "POST", route: "/ideas/:id/status", want: pageStaff(staffOfIdea), call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.form(t, c, "/ideas/"+id(f.answered)+"/status", url.Values{"status": {"viewed"}})
		}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
			return checkPage(r, o, "/ideas/"+id(f.answered), nil)
		}},
		{method: "POST", route: "/ideas/:id/feedback", want: pageStaff(staffOfIdea), call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.form(t, c, "/ideas/"+id(f.answered)+"/feedback", url.Values{"body": {"We look at it."}})
		}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
			return checkPage(r, o, "/ideas/"+id(f.answered), nil)
		}},
		{method: "PUT", route: "/api/v1/moderation/hidden/:type/:id", want: staffOnlyRoute, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "PUT", "/api/v1/moderation/hidden/comment/"+id(f.hideTarget), "")
		}},
		{method: "DELETE", route: "/api/v1/moderation/hidden/:type/:id", want: staffOnlyRoute, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "DELETE", "/api/v1/moderation/hidden/comment/"+id(f.hideTarget), "")
		}},
		{method: "POST", route: "/api/v1/moderation/reports/:id/read", want: func(v variant, c caller) outcome {
			if c == callModB {
				return outNotFound // a report of a project one does not moderate does not exist for one
			}
			return staffOnlyRoute(v, c)
		}, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "POST", "/api/v1/moderation/reports/"+id(f.report)+"/read", `{"read":true}`)
		}},
		{method: "POST", route: "/admin/moderation/:id", want: pageStaff(staffOnlyRoute), call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.form(t, c, "/admin/moderation/"+id(f.report), url.Values{"do": {"read"}})
		}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
			return checkPage(r, o, "/admin/moderation", nil)
		}},
		{method: "POST", route: "/admin/moderation/:id", label: " (a report of one's own project cannot hide another project's idea)", only: "registered",
			want: pageStaff(staffOnlyRoute), call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/admin/moderation/"+id(f.report), url.Values{"do": {"hide"}, "item_type": {"idea"}, "item_id": {id(f.ideaB)}})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				// Whoever calls, the idea of project B stays; staff of project
				// A hide the reported idea itself, which is then restored.
				var hiddenB, hiddenReported bool
				fixture.Exec(t, f.env, f.city, `SELECT hidden_at IS NOT NULL FROM ideas WHERE id = $1`, []any{f.ideaB}, &hiddenB)
				fixture.Exec(t, f.env, f.city, `SELECT hidden_at IS NOT NULL FROM ideas WHERE id = $1`, []any{f.idea}, &hiddenReported)
				fixture.Exec(t, f.env, f.city, `UPDATE ideas SET hidden_at = NULL WHERE id IN ($1, $2)`, []any{f.ideaB, f.idea})
				if msg := checkPage(r, o, "/admin/moderation", nil); msg != "" {
					return msg
				}
				if hiddenB {
					return "the idea of project B was hidden through a report of project A"
				}
				if hiddenReported != (o == outOK) {
					return fmt.Sprintf("want %s, but the reported idea hidden: %v", o, hiddenReported)
				}
				return ""
			}},
		{method: "PATCH", route: "/api/v1/projects/:id", want: staffOnlyRoute, call: func(t *testing.T, v variant, c caller) webtest.Response {
			return f.api(t, c, "PATCH", "/api/v1/projects/"+id(f.projectA), `{"status":"published"}`)
		}},
		{method: "POST", route: "/api/v1/projects/:id/phases", label: " (an invalid phase: staff get past the gate to 422)",
			want: func(v variant, c caller) outcome { return pastGate(staffOnlyRoute(v, c), outInvalid) }, call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "POST", "/api/v1/projects/"+id(f.projectA)+"/phases", `{"title":{"en":"X"},"method":"dance","starts_at":"2030-01-01T00:00:00Z"}`)
			}},
		{method: "PATCH", route: "/api/v1/projects/:id/phases/:phase", label: " (no such phase: staff get past the gate to 404)",
			want: func(v variant, c caller) outcome { return pastGate(staffOnlyRoute(v, c), outNotFound) }, call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "PATCH", "/api/v1/projects/"+id(f.projectA)+"/phases/999999", `{"method":"ideation"}`)
			}},
		{method: "DELETE", route: "/api/v1/projects/:id/phases/:phase", label: " (no such phase: staff get past the gate to 404)",
			want: func(v variant, c caller) outcome { return pastGate(staffOnlyRoute(v, c), outNotFound) }, call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "DELETE", "/api/v1/projects/"+id(f.projectA)+"/phases/999999", "")
			}},
		{method: "PUT", route: "/api/v1/projects/:id/header", label: " (no file: staff get past the gate to 422)",
			want: func(v variant, c caller) outcome { return pastGate(staffOnlyRoute(v, c), outInvalid) },
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "PUT", "/api/v1/projects/"+id(f.projectA)+"/header", `{}`)
			}},

		// exports: admins, and moderators of the project they export
		{method: "POST", route: "/api/v1/exports", label: " (project A's ideas)", only: "registered", want: staffOnlyRoute,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.api(t, c, "POST", "/api/v1/exports", fmt.Sprintf(`{"kind":"ideas","format":"csv","project":%d}`, f.projectA))
			}},
		{method: "POST", route: "/admin/exports", label: " (project A's comments)", only: "registered", want: staffOnlyRoute,
			call: func(t *testing.T, v variant, c caller) webtest.Response {
				return f.form(t, c, "/admin/exports", url.Values{"kind": {"comments"}, "format": {"xlsx"}, "project": {id(f.projectA)}})
			}, check: func(t *testing.T, c caller, r webtest.Response, o outcome) string {
				return checkPage(r, o, "/admin/exports", nil)
			}},
	}
}

// pastGate is o, or then when o lets the caller through: what a request
// that passes the permission gate but fails later answers.
func pastGate(o, then outcome) outcome {
	if o == outOK {
		return then
	}
	return o
}

// pageStaff is a staff-only outcome as a page answers it: a visitor is
// refused like a citizen (403), not sent to log in.
func pageStaff(want func(v variant, c caller) outcome) func(v variant, c caller) outcome {
	return func(v variant, c caller) outcome {
		if o := want(v, c); o != outUnauth {
			return o
		}
		return outForbidden
	}
}
