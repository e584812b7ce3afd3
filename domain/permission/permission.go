// Package permission decides who may do what in a city: one pure function,
// Can, used by every handler, over the actor, the action and its scope (a
// project and its current phase). It never touches the database; callers
// load the actor's groups and the scope's rules first.
package permission

import (
	"slices"
	"time"
)

// Action is something a participant does in a phase.
type Action string

const (
	Post        Action = "post"
	Comment     Action = "comment"
	React       Action = "react"
	Vote        Action = "vote"
	TakePoll    Action = "take_poll"
	TakeSurvey  Action = "take_survey"
	Volunteer   Action = "volunteer"
	AttendEvent Action = "attend_event"
	// View is reading a project at all (its visibility).
	View Action = "view"
)

// Actions lists the participation actions a phase configures.
var Actions = []Action{Post, Comment, React, Vote, TakePoll, TakeSurvey, Volunteer, AttendEvent}

// Level is who a phase lets do an action.
type Level string

const (
	Everyone         Level = "everyone"
	Registered       Level = "registered"
	Confirmed        Level = "confirmed"
	AdminsModerators Level = "admins_moderators"
	Groups           Level = "groups"
)

// Levels lists every level, from the most open.
var Levels = []Level{Everyone, Registered, Confirmed, AdminsModerators, Groups}

// Visibility is who can see a project.
type Visibility string

const (
	Public     Visibility = "public"
	GroupsOnly Visibility = "groups"
	AdminsOnly Visibility = "admins"
)

// Rule is the permission of one action in one phase.
type Rule struct {
	Level  Level
	Groups []int64 // for Level == Groups
}

// Scope is where an action happens.
type Scope struct {
	ProjectID        int64
	Visibility       Visibility
	VisibilityGroups []int64 // for Visibility == GroupsOnly
	Rules            map[Action]Rule
	ActionEnabled    map[Action]bool // the phase's toggles (posting, commenting, ...); missing means enabled
}

// Actor is who asks. The zero value is an anonymous visitor.
type Actor struct {
	UserID       int64
	Role         string // admin, moderator, citizen
	Confirmed    bool
	BlockedUntil *time.Time
	ModeratorOf  []int64 // project ids
	Groups       []int64 // group ids the user belongs to (manual and smart)
	// Known says ModeratorOf and Groups were read (see
	// project.WithMemberships); an actor without them is only who they are.
	Known bool
}

// Anonymous reports whether the actor is not logged in.
func (a Actor) Anonymous() bool { return a.UserID == 0 }

// Staff reports whether the actor administers the city or moderates project.
func (a Actor) Staff(project int64) bool {
	return a.Role == "admin" || slices.Contains(a.ModeratorOf, project)
}

// Reason says why an action is denied and so what the user can do about it.
type Reason string

const (
	Allowed      Reason = ""
	LogIn        Reason = "log_in"        // log in or register
	ConfirmEmail Reason = "confirm_email" // confirm your email address
	JoinGroup    Reason = "join_group"    // only members of certain groups
	StaffOnly    Reason = "staff_only"    // only admins and moderators
	Blocked      Reason = "blocked"       // the user is blocked until a date
	NotVisible   Reason = "not_visible"   // the project is not visible to the actor
	Disabled     Reason = "disabled"      // the phase does not allow this action
)

// Decision is the answer of Can.
type Decision struct {
	Reason Reason
	Groups []int64 // for JoinGroup: the groups that would allow it
}

// OK reports whether the action is allowed.
func (d Decision) OK() bool { return d.Reason == Allowed }

// Can decides whether actor may do action in scope at now. Staff of the
// project may always act (even when a toggle is off or the rule is strict);
// blocked users may read but not act; otherwise the phase's rule applies, and
// a denial names the step that would allow it.
func Can(a Actor, action Action, s Scope, now time.Time) Decision {
	if !visible(a, s) {
		if a.Anonymous() && s.Visibility != AdminsOnly {
			return Decision{Reason: LogIn}
		}
		return Decision{Reason: NotVisible}
	}
	if action == View {
		return Decision{}
	}
	staff := !a.Anonymous() && a.Staff(s.ProjectID)
	if a.BlockedUntil != nil && a.BlockedUntil.After(now) && !staff {
		return Decision{Reason: Blocked}
	}
	if enabled, set := s.ActionEnabled[action]; set && !enabled && !staff {
		return Decision{Reason: Disabled}
	}
	if staff {
		return Decision{}
	}
	rule, ok := s.Rules[action]
	if !ok {
		rule = Rule{Level: Registered}
	}
	switch rule.Level {
	case Everyone:
		return Decision{}
	case Registered:
		if a.Anonymous() {
			return Decision{Reason: LogIn}
		}
		return Decision{}
	case Confirmed:
		if a.Anonymous() {
			return Decision{Reason: LogIn}
		}
		if !a.Confirmed {
			return Decision{Reason: ConfirmEmail}
		}
		return Decision{}
	case Groups:
		if a.Anonymous() {
			return Decision{Reason: LogIn}
		}
		if intersects(a.Groups, rule.Groups) {
			return Decision{}
		}
		return Decision{Reason: JoinGroup, Groups: rule.Groups}
	default: // AdminsModerators, and any unknown level: fail closed
		if a.Anonymous() {
			return Decision{Reason: LogIn}
		}
		return Decision{Reason: StaffOnly}
	}
}

func visible(a Actor, s Scope) bool {
	switch s.Visibility {
	case Public, "":
		return true
	case GroupsOnly:
		return !a.Anonymous() && (a.Staff(s.ProjectID) || intersects(a.Groups, s.VisibilityGroups))
	default: // AdminsOnly and unknown values: fail closed
		return !a.Anonymous() && a.Staff(s.ProjectID)
	}
}

func intersects(a, b []int64) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}
