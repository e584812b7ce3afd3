package idea

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/domain/user"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// The rules are decided on places built here, as at would read them: a
// project, its running phase (nil: none) and the actor with memberships.

var now = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

const (
	projectID = project.ID(1)
	panel     = int64(42) // a group
)

// The actors every rule is asked about.
var (
	anonymous   = permission.Actor{}
	unconfirmed = permission.Actor{UserID: 10, Role: "citizen", Known: true}
	confirmed   = permission.Actor{UserID: 11, Role: "citizen", Confirmed: true, Known: true}
	member      = permission.Actor{UserID: 12, Role: "citizen", Confirmed: true, Groups: []int64{panel}, Known: true}
	blocked     = permission.Actor{UserID: 13, Role: "citizen", Confirmed: true, Groups: []int64{panel}, Known: true,
		BlockedUntil: ptr(now.Add(time.Hour))}
	wasBlocked = permission.Actor{UserID: 14, Role: "citizen", Confirmed: true, Known: true,
		BlockedUntil: ptr(now.Add(-time.Hour))}
	admin        = permission.Actor{UserID: 1, Role: "admin", Confirmed: true, Known: true}
	moderator    = permission.Actor{UserID: 2, Role: "moderator", Confirmed: true, ModeratorOf: []int64{int64(projectID)}, Known: true}
	otherMod     = permission.Actor{UserID: 3, Role: "moderator", Confirmed: true, ModeratorOf: []int64{99}, Known: true}
	blockedStaff = permission.Actor{UserID: 4, Role: "moderator", Confirmed: true, ModeratorOf: []int64{int64(projectID)}, Known: true,
		BlockedUntil: ptr(now.Add(time.Hour))}
)

func ptr[T any](v T) *T { return &v }

// Outcomes as outcome writes them: the code and, when it has one, the rule.
const (
	allowed      = "ok"
	logIn        = "unauthenticated/denied_log_in"
	confirmEmail = "forbidden/denied_confirm_email"
	joinGroup    = "forbidden/denied_join_group"
	isBlocked    = "forbidden/denied_blocked"
	disabled     = "forbidden/denied_disabled"
	staffOnly    = "forbidden/denied_staff_only"
	notFound     = "not_found"
	notAuthor    = "forbidden/idea_author"
	answered     = "forbidden/idea_answered"
	notStaff     = "forbidden/staff_only"
	loggedOut    = "unauthenticated/log_in"
)

// outcome is what a rule answered: "ok", or the error's code and rule.
func outcome(err error) string {
	if err == nil {
		return allowed
	}
	e, ok := errs.As(err)
	if !ok {
		return "not an errs.Error: " + err.Error()
	}
	if e.Rule == "" {
		return string(e.Code)
	}
	return string(e.Code) + "/" + e.Rule
}

// phase is a phase of method running now, every toggle on, with perms.
func phase(method string, perms project.Permissions) project.Phase {
	return project.Phase{
		ID: 7, ProjectID: projectID, Method: method,
		StartsAt: now.Add(-24 * time.Hour), EndsAt: ptr(now.Add(24 * time.Hour)),
		PostingEnabled: true, CommentingEnabled: true, ReactingEnabled: true, DislikesEnabled: true,
		Permissions: perms,
	}
}

// published is a published public project with phase ph.
func published(ph project.Phase) *project.Project {
	return &project.Project{ID: projectID, Slug: "park", Status: project.Published, Visibility: "public", Phases: project.Phases{ph}}
}

// placeOf is the place of actor a in p with ph running (nil: none).
func placeOf(p *project.Project, ph *project.Phase, a permission.Actor) *place {
	return &place{project: p, phase: ph, actor: a, now: now}
}

// inPhase is the place of a in a published project running ph.
func inPhase(ph project.Phase, a permission.Actor) *place { return placeOf(published(ph), &ph, a) }

// level is a phase's rule for one action.
func level(action permission.Action, l permission.Level, groups ...int64) project.Permissions {
	return project.Permissions{action: {Level: l, Groups: groups}}
}

// cityContexts provisions a city on the standard plan (ideation, comments
// and reactions allowed) and returns two contexts carrying it whose
// feature memos are loaded already: in on the admins turned nothing off,
// in off they turned off comments and reactions. Rules decide in them
// without a query, so the tests give them a nil queryer (which would
// panic if one ran).
func cityContexts(t *testing.T) (on, off context.Context) {
	t.Helper()
	env := tenanttest.New(t)
	city := env.City(t, "ideas")
	for _, k := range []feature.Key{feature.Ideation, feature.Comments, feature.Reactions} {
		require.True(t, city.Allows(string(k)), "the standard plan allows %s", k)
	}
	load := func() context.Context {
		ctx := feature.WithMemo(tenant.WithTenant(context.Background(), city))
		require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
			_, err := feature.On(ctx, tx, feature.Ideation) // reads, and so memoises, the admins' choices
			return err
		}))
		return ctx
	}
	on = load()
	ctx := tenanttest.Ctx(city)
	features := feature.NewService(env.DB)
	require.NoError(t, features.SetMany(ctx, 0, map[feature.Key]bool{feature.Comments: false, feature.Reactions: false}))
	off = load()
	return on, off
}

func TestMay(t *testing.T) {
	on, off := cityContexts(t)
	may := func(ctx context.Context, pl *place, action permission.Action) string {
		t.Helper()
		return outcome(pl.may(ctx, nil, "idea.Test", action))
	}

	t.Run("each level for each kind of citizen", func(t *testing.T) {
		actors := []struct {
			name string
			a    permission.Actor
		}{
			{"anonymous", anonymous}, {"unconfirmed", unconfirmed}, {"confirmed", confirmed},
			{"group member", member}, {"blocked", blocked}, {"block over", wasBlocked},
			{"moderator of another project", otherMod},
		}
		cases := []struct {
			level permission.Level
			// want, in the order of actors
			want []string
		}{
			{permission.Everyone, []string{logIn, allowed, allowed, allowed, isBlocked, allowed, allowed}},
			{permission.Registered, []string{logIn, allowed, allowed, allowed, isBlocked, allowed, allowed}},
			{permission.Confirmed, []string{logIn, confirmEmail, allowed, allowed, isBlocked, allowed, allowed}},
			{permission.Groups, []string{logIn, joinGroup, joinGroup, allowed, isBlocked, joinGroup, joinGroup}},
			{permission.AdminsModerators, []string{logIn, staffOnly, staffOnly, staffOnly, isBlocked, staffOnly, staffOnly}},
			{"", []string{logIn, allowed, allowed, allowed, isBlocked, allowed, allowed}}, // no rule: registered
		}
		for _, action := range []permission.Action{permission.Post, permission.Comment, permission.React} {
			for _, c := range cases {
				perms := level(action, c.level, panel)
				if c.level == "" {
					perms = nil
				}
				for i, a := range actors {
					pl := inPhase(phase("ideation", perms), a.a)
					require.Equal(t, c.want[i], may(on, pl, action), "%s %q, %s", action, c.level, a.name)
				}
			}
		}
	})

	t.Run("a rule holds for its action only", func(t *testing.T) {
		ph := phase("ideation", level(permission.Post, permission.AdminsModerators))
		require.Equal(t, staffOnly, may(on, inPhase(ph, confirmed), permission.Post))
		require.Equal(t, allowed, may(on, inPhase(ph, confirmed), permission.Comment))
		require.Equal(t, allowed, may(on, inPhase(ph, confirmed), permission.React))
	})

	t.Run("an action open to everyone still needs an author", func(t *testing.T) {
		ph := phase("ideation", project.Permissions{
			permission.Post: {Level: permission.Everyone}, permission.Comment: {Level: permission.Everyone},
			permission.React: {Level: permission.Everyone},
		})
		for _, action := range []permission.Action{permission.Post, permission.Comment, permission.React} {
			err := inPhase(ph, anonymous).may(on, nil, "idea.Test", action)
			require.Equal(t, logIn, outcome(err), "%s", action)
			require.Contains(t, err.Error(), "log in or sign up to "+verb(action))
		}
	})

	t.Run("staff act in any running phase and post whatever the method", func(t *testing.T) {
		for _, method := range project.Methods {
			// The strictest phase: every toggle off, every action for a group.
			ph := phase(method, project.Permissions{
				permission.Post: {Level: permission.Groups, Groups: []int64{panel}}, permission.Comment: {Level: permission.Groups, Groups: []int64{panel}},
				permission.React: {Level: permission.Groups, Groups: []int64{panel}},
			})
			ph.PostingEnabled, ph.CommentingEnabled, ph.ReactingEnabled = false, false, false
			for _, a := range []permission.Actor{admin, moderator, blockedStaff} {
				for _, action := range []permission.Action{permission.Post, permission.Comment, permission.React} {
					require.Equal(t, allowed, may(on, inPhase(ph, a), action), "%s in a %s phase by %s", action, method, a.Role)
				}
			}
			// The group's member is refused what the toggles turned off.
			for _, action := range []permission.Action{permission.Post, permission.Comment, permission.React} {
				require.Equal(t, disabled, may(on, inPhase(ph, member), action), "%s in a %s phase", action, method)
			}
		}
	})

	t.Run("posting only in ideation and proposals phases", func(t *testing.T) {
		everyone := project.Permissions{permission.Post: {Level: permission.Everyone}}
		for _, method := range project.Methods {
			want := disabled
			if method == "ideation" || method == "proposals" {
				want = allowed
			}
			ph := phase(method, everyone)
			require.Equal(t, want, may(on, inPhase(ph, confirmed), permission.Post), "post in a %s phase", method)
			// Commenting and reacting are not tied to the method.
			require.Equal(t, allowed, may(on, inPhase(ph, confirmed), permission.Comment), "comment in a %s phase", method)
			require.Equal(t, allowed, may(on, inPhase(ph, confirmed), permission.React), "react in a %s phase", method)
		}
	})

	t.Run("a phase's toggles", func(t *testing.T) {
		cases := []struct {
			action permission.Action
			off    func(*project.Phase)
		}{
			{permission.Post, func(p *project.Phase) { p.PostingEnabled = false }},
			{permission.Comment, func(p *project.Phase) { p.CommentingEnabled = false }},
			{permission.React, func(p *project.Phase) { p.ReactingEnabled = false }},
		}
		for _, c := range cases {
			ph := phase("ideation", nil)
			c.off(&ph)
			for _, action := range []permission.Action{permission.Post, permission.Comment, permission.React} {
				want := allowed
				if action == c.action {
					want = disabled
				}
				require.Equal(t, want, may(on, inPhase(ph, confirmed), action), "%s with %s off", action, c.action)
			}
		}
	})

	t.Run("nobody acts without a running phase", func(t *testing.T) {
		p := published(phase("ideation", nil))
		for _, a := range []permission.Actor{anonymous, confirmed, member, admin, moderator} {
			for _, action := range []permission.Action{permission.Post, permission.Comment, permission.React, permission.Vote} {
				require.Equal(t, disabled, may(on, placeOf(p, nil, a), action), "%s by %q", action, a.Role)
			}
		}
	})

	t.Run("a project the actor may not see is not found", func(t *testing.T) {
		ph := phase("ideation", level(permission.Post, permission.Everyone))
		draft, admins, groups := published(ph), published(ph), published(ph)
		draft.Status = project.Draft
		admins.Visibility = "admins"
		groups.Visibility, groups.Groups = "groups", []int64{panel}
		cases := []struct {
			name string
			p    *project.Project
			a    permission.Actor
			want string
		}{
			{"draft, citizen", draft, confirmed, notFound},
			{"draft, anonymous", draft, anonymous, notFound},
			{"draft, another project's moderator", draft, otherMod, notFound},
			{"draft, its moderator", draft, moderator, allowed},
			{"draft, admin", draft, admin, allowed},
			{"admins only, citizen", admins, confirmed, notFound},
			{"admins only, its moderator", admins, moderator, allowed},
			{"groups only, anonymous", groups, anonymous, notFound},
			{"groups only, not a member", groups, confirmed, notFound},
			{"groups only, member", groups, member, allowed},
		}
		for _, c := range cases {
			for _, action := range []permission.Action{permission.Post, permission.Comment, permission.React} {
				require.Equal(t, c.want, may(on, placeOf(c.p, &ph, c.a), action), "%s: %s", c.name, action)
			}
		}
	})

	t.Run("the plan and the admins' switches", func(t *testing.T) {
		ph := phase("ideation", nil)
		// Features are decided first: for staff too, and before a hidden
		// project is not found.
		hidden := published(ph)
		hidden.Status = project.Draft
		require.Equal(t, allowed, may(off, inPhase(ph, confirmed), permission.Post))
		for _, action := range []permission.Action{permission.Comment, permission.React} {
			for _, pl := range []*place{inPhase(ph, confirmed), inPhase(ph, admin), placeOf(hidden, &ph, confirmed)} {
				err := pl.may(off, nil, "idea.Test", action)
				require.Equal(t, "feature_unavailable/feature_off", outcome(err), "%s turned off", action)
				e, _ := errs.As(err)
				require.Equal(t, []any{string(actionFeatures[action])}, e.Args)
			}
		}
		// A plan without the features (a city whose plan allows nothing).
		bare := tenant.WithTenant(context.Background(), &tenant.Tenant{Slug: "bare", Plan: tenant.PlanEssential})
		for action, k := range actionFeatures {
			err := inPhase(ph, admin).may(bare, nil, "idea.Test", action)
			require.Equal(t, "feature_unavailable/feature_unavailable", outcome(err), "%s outside the plan", action)
			e, _ := errs.As(err)
			require.Equal(t, []any{string(k), string(feature.MinPlan(k))}, e.Args)
		}
		// Other actions belong to no feature of this package: no switch, no query.
		require.Equal(t, allowed, may(bare, inPhase(phase("voting", nil), confirmed), permission.Vote))
	})
}

func TestOwn(t *testing.T) {
	ph := phase("ideation", nil)
	visible, draft := published(ph), published(ph)
	draft.Status = project.Draft
	author := ptr(user.ID(confirmed.UserID))
	cases := []struct {
		name   string
		p      *project.Project
		a      permission.Actor
		author *user.ID
		want   string
	}{
		{"its author", visible, confirmed, author, allowed},
		{"its author, blocked", visible, permission.Actor{UserID: confirmed.UserID, BlockedUntil: blocked.BlockedUntil}, author, allowed},
		{"another citizen", visible, member, author, notAuthor},
		{"a citizen, anonymous item", visible, confirmed, nil, notAuthor},
		{"admin", visible, admin, author, allowed},
		{"its moderator", visible, moderator, author, allowed},
		{"its moderator, anonymous item", visible, moderator, nil, allowed},
		{"another project's moderator", visible, otherMod, author, notAuthor},
		{"anonymous", visible, anonymous, author, loggedOut},
		{"anonymous, anonymous item", visible, anonymous, nil, loggedOut},
		{"anonymous, hidden project", draft, anonymous, author, loggedOut},
		{"its author, hidden project", draft, confirmed, author, notFound},
		{"its moderator, hidden project", draft, moderator, author, allowed},
	}
	for _, c := range cases {
		// own needs no phase: an item can be deleted after its phase ended.
		for _, p := range []*project.Phase{&ph, nil} {
			require.Equal(t, c.want, outcome(placeOf(c.p, p, c.a).own("idea.Test", c.author)), "%s (phase %v)", c.name, p != nil)
		}
	}
}

func TestEdit(t *testing.T) {
	on, _ := cityContexts(t)
	author := ptr(user.ID(confirmed.UserID))
	ideation := phase("ideation", nil)
	closed := phase("ideation", nil)
	closed.PostingEnabled = false
	confirmedOnly := phase("ideation", level(permission.Post, permission.Confirmed))
	voting := phase("voting", nil)
	p := published(ideation)
	cases := []struct {
		name   string
		ph     *project.Phase
		a      permission.Actor
		author *user.ID
		status string
		want   string
		msg    string // in the message, when the outcome alone is ambiguous
	}{
		{"its author, proposed", &ideation, confirmed, author, "proposed", allowed, ""},
		{"its author, answered", &ideation, confirmed, author, "accepted", answered, "has answered"},
		{"its author, viewed", &ideation, confirmed, author, "viewed", answered, "has answered"},
		{"its author, a custom status", &ideation, confirmed, author, "in_the_budget", answered, "has answered"},
		{"its author, posting closed", &closed, confirmed, author, "proposed", disabled, ""},
		{"its author, a voting phase", &voting, confirmed, author, "proposed", disabled, ""},
		{"its author, no running phase", nil, confirmed, author, "proposed", disabled, ""},
		{"its author, the phase now wants confirmed", &confirmedOnly, permission.Actor{UserID: confirmed.UserID, Role: "citizen"}, author, "proposed", confirmEmail, ""},
		{"its author, blocked", &ideation, permission.Actor{UserID: confirmed.UserID, Role: "citizen", BlockedUntil: blocked.BlockedUntil}, author, "proposed", isBlocked, ""},
		{"another citizen", &ideation, member, author, "proposed", notAuthor, "only its author or staff"},
		{"anonymous", &ideation, anonymous, author, "proposed", loggedOut, ""},
		{"admin, answered", &ideation, admin, author, "accepted", allowed, ""},
		{"its moderator, answered, posting closed", &closed, moderator, author, "rejected", allowed, ""},
		{"its moderator, no running phase", nil, moderator, author, "accepted", allowed, ""},
		{"another project's moderator", &ideation, otherMod, author, "proposed", notAuthor, "only its author or staff"},
	}
	for _, c := range cases {
		err := placeOf(p, c.ph, c.a).edit(on, nil, "idea.Update", c.author, c.status)
		require.Equal(t, c.want, outcome(err), c.name)
		if c.msg != "" {
			require.Contains(t, err.Error(), c.msg, c.name)
		}
	}
}

func TestAnswer(t *testing.T) {
	ph := phase("ideation", nil)
	visible, draft := published(ph), published(ph)
	draft.Status = project.Draft
	cases := []struct {
		name string
		p    *project.Project
		a    permission.Actor
		want string
	}{
		{"admin", visible, admin, allowed},
		{"its moderator", visible, moderator, allowed},
		{"its moderator, draft", draft, moderator, allowed},
		{"another project's moderator", visible, otherMod, notStaff},
		{"citizen", visible, confirmed, notStaff},
		{"group member", visible, member, notStaff},
		{"anonymous", visible, anonymous, loggedOut},
		{"anonymous, hidden project", draft, anonymous, notFound},
		{"citizen, hidden project", draft, confirmed, notFound},
	}
	for _, c := range cases {
		for _, p := range []*project.Phase{&ph, nil} {
			require.Equal(t, c.want, outcome(placeOf(c.p, p, c.a).answer("idea.SetStatus")), "%s (phase %v)", c.name, p != nil)
		}
	}
}

func TestDislikesOn(t *testing.T) {
	on, off := phase("ideation", nil), phase("ideation", nil)
	off.DislikesEnabled = false
	cases := []struct {
		name      string
		current   *project.Phase
		ideaPhase *bool
		want      bool
	}{
		{"both allow", &on, ptr(true), true},
		{"current allows, idea's phase unknown", &on, nil, true},
		{"no current phase, idea's allows", nil, ptr(true), true},
		{"neither known", nil, nil, true},
		{"current turned them off", &off, ptr(true), false},
		{"current turned them off, idea's unknown", &off, nil, false},
		{"idea's phase turned them off", &on, ptr(false), false},
		{"idea's phase turned them off, no current", nil, ptr(false), false},
		{"both turned them off", &off, ptr(false), false},
	}
	for _, c := range cases {
		require.Equal(t, c.want, placeOf(published(on), c.current, confirmed).dislikesOn(c.ideaPhase), c.name)
	}
}

func TestNotVisible(t *testing.T) {
	hidden := errs.E("idea.React", errs.NotFound, "no project 1")
	err := notVisible(hidden, "idea.React", "comment", 5)
	require.Equal(t, notFound, outcome(err))
	require.Equal(t, "idea.React: no comment 5", err.Error(), "the project is not named")

	for _, other := range []error{nil, errs.E("idea.React", errs.Forbidden, "no"), context.Canceled} {
		require.Equal(t, other, notVisible(other, "idea.React", "idea", 5))
	}
}

func TestClean(t *testing.T) {
	// The profanity filter reads the city's languages.
	nl := tenant.WithTenant(context.Background(), &tenant.Tenant{Locales: []string{"en", "nl"}})
	fr := tenant.WithTenant(context.Background(), &tenant.Tenant{Locales: []string{"en", "fr"}})
	err := clean(nl, "idea.Post", "body", "a fine title", "wat een KLOOTZAK")
	require.Equal(t, "invalid/profanity", outcome(err))
	e, _ := errs.As(err)
	require.Equal(t, "body", e.Field)
	require.NoError(t, clean(fr, "idea.Post", "body", "wat een klootzak"))
	require.NoError(t, clean(nl, "idea.Post", "body", strings.Repeat("kutter ", 3)), "whole words only")
}
