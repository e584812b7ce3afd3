package webtest

import (
	"encoding/json"
	"testing"

	"agora/domain/idea"
	"agora/domain/project"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// IdeaCity is a city ready for ideas, with a server over it.
type IdeaCity struct {
	H    *Harness
	Env  *tenanttest.Env
	City *tenant.Tenant
	// Admin (admin@example.org) and a session of theirs.
	Admin        *user.User
	Cookie, CSRF string
	// Project is the published project "ideas" (titled Ideas); Phase its
	// current ideation phase "Now" (since 2020, open-ended), which takes
	// ideas, comments and reactions, dislikes too, under rules.
	Project project.ID
	Phase   project.PhaseID
}

// NewIdeaCity makes a fresh database with one city slug, its admin and
// project, and a server over them.
func NewIdeaCity(t *testing.T, slug string, rules project.Permissions) *IdeaCity {
	t.Helper()
	env := tenanttest.New(t)
	c := env.City(t, slug)
	h := New(t, env, Options{})
	admin := fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", Role: user.RoleAdmin})
	cookie, csrf := fixture.Session(t, env, c, admin)
	p := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "ideas", Title: "Ideas", Phase: &fixture.PhaseOpts{Permissions: rules}})
	return &IdeaCity{H: h, Env: env, City: c, Admin: admin, Cookie: cookie, CSRF: csrf, Project: p.ID, Phase: p.Phases[0].ID}
}

// PostIdea posts an idea through the API with a browser session (cookie and
// CSRF token; none for a visitor) and returns the answer.
func PostIdea(t testing.TB, h *Harness, host, cookie, csrf string, project project.ID, title, body string) Response {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"project_id": project, "title": title, "body": body})
	return h.Call(t, "POST", host, "/api/v1/ideas", string(b), "Cookie", cookie, "X-CSRF-Token", csrf)
}

// NewIdea posts an idea through the API as auth (a header pair) and returns
// its id; the API must accept it.
func NewIdea(t testing.TB, h *Harness, host string, project project.ID, title string, auth ...string) idea.ID {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"project_id": project, "title": title})
	return idea.ID(DecodeID(t, h.Call(t, "POST", host, "/api/v1/ideas", string(b), auth...), 201))
}
