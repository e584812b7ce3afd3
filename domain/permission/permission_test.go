package permission

import (
	"fmt"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func ptr(t time.Time) *time.Time { return &t }

// kinds are the user kinds of the table; the project under test is 7 and the
// group that rules name is 42.
var kinds = map[string]Actor{
	"anonymous":           {},
	"unconfirmed":         {UserID: 1, Role: "citizen"},
	"confirmed":           {UserID: 2, Role: "citizen", Confirmed: true},
	"group member":        {UserID: 3, Role: "citizen", Confirmed: true, Groups: []int64{42}},
	"unconfirmed member":  {UserID: 4, Role: "citizen", Groups: []int64{42}},
	"other group":         {UserID: 5, Role: "citizen", Confirmed: true, Groups: []int64{43}},
	"blocked":             {UserID: 6, Role: "citizen", Confirmed: true, Groups: []int64{42}, BlockedUntil: ptr(now.Add(time.Hour))},
	"block expired":       {UserID: 7, Role: "citizen", Confirmed: true, BlockedUntil: ptr(now.Add(-time.Hour))},
	"moderator here":      {UserID: 8, Role: "moderator", Confirmed: true, ModeratorOf: []int64{7}},
	"moderator elsewhere": {UserID: 9, Role: "moderator", Confirmed: true, ModeratorOf: []int64{8}},
	"admin":               {UserID: 10, Role: "admin", Confirmed: true},
	"blocked moderator":   {UserID: 11, Role: "moderator", Confirmed: true, ModeratorOf: []int64{7}, BlockedUntil: ptr(now.Add(time.Hour))},
}

// want[level][kind] is the expected reason, the same for every action.
var want = map[Level]map[string]Reason{
	Everyone: {
		"anonymous": Allowed, "unconfirmed": Allowed, "confirmed": Allowed, "group member": Allowed,
		"unconfirmed member": Allowed, "other group": Allowed, "blocked": Blocked, "block expired": Allowed,
		"moderator here": Allowed, "moderator elsewhere": Allowed, "admin": Allowed, "blocked moderator": Allowed,
	},
	Registered: {
		"anonymous": LogIn, "unconfirmed": Allowed, "confirmed": Allowed, "group member": Allowed,
		"unconfirmed member": Allowed, "other group": Allowed, "blocked": Blocked, "block expired": Allowed,
		"moderator here": Allowed, "moderator elsewhere": Allowed, "admin": Allowed, "blocked moderator": Allowed,
	},
	Confirmed: {
		"anonymous": LogIn, "unconfirmed": ConfirmEmail, "confirmed": Allowed, "group member": Allowed,
		"unconfirmed member": ConfirmEmail, "other group": Allowed, "blocked": Blocked, "block expired": Allowed,
		"moderator here": Allowed, "moderator elsewhere": Allowed, "admin": Allowed, "blocked moderator": Allowed,
	},
	AdminsModerators: {
		"anonymous": LogIn, "unconfirmed": StaffOnly, "confirmed": StaffOnly, "group member": StaffOnly,
		"unconfirmed member": StaffOnly, "other group": StaffOnly, "blocked": Blocked, "block expired": StaffOnly,
		"moderator here": Allowed, "moderator elsewhere": StaffOnly, "admin": Allowed, "blocked moderator": Allowed,
	},
	Groups: {
		"anonymous": LogIn, "unconfirmed": JoinGroup, "confirmed": JoinGroup, "group member": Allowed,
		"unconfirmed member": Allowed, "other group": JoinGroup, "blocked": Blocked, "block expired": JoinGroup,
		"moderator here": Allowed, "moderator elsewhere": JoinGroup, "admin": Allowed, "blocked moderator": Allowed,
	},
}

func TestCanEveryActionLevelAndUserKind(t *testing.T) {
	n := 0
	for _, action := range Actions {
		for _, level := range Levels {
			for kind, actor := range kinds {
				expected, ok := want[level][kind]
				if !ok {
					t.Fatalf("no expectation for %s/%s", level, kind)
				}
				scope := Scope{ProjectID: 7, Visibility: Public, Rules: map[Action]Rule{action: {Level: level, Groups: []int64{42}}}}
				got := Can(actor, action, scope, now)
				if got.Reason != expected {
					t.Errorf("%s by %s when %s: got %q, want %q", action, kind, level, got.Reason, expected)
				}
				if got.Reason == JoinGroup && fmt.Sprint(got.Groups) != "[42]" {
					t.Errorf("%s by %s: a join_group denial must name the groups, got %v", action, kind, got.Groups)
				}
				n++
			}
		}
	}
	if n != len(Actions)*len(Levels)*len(kinds) {
		t.Fatalf("covered %d cases", n)
	}
}

func TestDisabledActionsAndDefaults(t *testing.T) {
	scope := Scope{ProjectID: 7, Visibility: Public, ActionEnabled: map[Action]bool{Comment: false},
		Rules: map[Action]Rule{Comment: {Level: Everyone}}}
	if got := Can(kinds["confirmed"], Comment, scope, now); got.Reason != Disabled {
		t.Fatalf("commenting off: got %q", got.Reason)
	}
	if got := Can(kinds["moderator here"], Comment, scope, now); !got.OK() {
		t.Fatalf("staff may act when a toggle is off: got %q", got.Reason)
	}
	// No rule for an action: registered users only.
	if got := Can(kinds["anonymous"], Post, Scope{ProjectID: 7}, now); got.Reason != LogIn {
		t.Fatalf("default rule: got %q", got.Reason)
	}
	// An unknown level fails closed.
	weird := Scope{ProjectID: 7, Rules: map[Action]Rule{Post: {Level: "bogus"}}}
	if got := Can(kinds["confirmed"], Post, weird, now); got.OK() {
		t.Fatal("unknown level must not allow")
	}
}

func TestVisibility(t *testing.T) {
	cases := []struct {
		vis    Visibility
		kind   string
		reason Reason
	}{
		{Public, "anonymous", Allowed},
		{GroupsOnly, "anonymous", LogIn},
		{GroupsOnly, "confirmed", NotVisible},
		{GroupsOnly, "group member", Allowed},
		{GroupsOnly, "moderator here", Allowed},
		{GroupsOnly, "admin", Allowed},
		{AdminsOnly, "anonymous", NotVisible},
		{AdminsOnly, "group member", NotVisible},
		{AdminsOnly, "moderator elsewhere", NotVisible},
		{AdminsOnly, "moderator here", Allowed},
		{AdminsOnly, "admin", Allowed},
		{"bogus", "confirmed", NotVisible},
	}
	for _, c := range cases {
		s := Scope{ProjectID: 7, Visibility: c.vis, VisibilityGroups: []int64{42}, Rules: map[Action]Rule{Post: {Level: Everyone}}}
		for _, action := range []Action{View, Post} {
			if got := Can(kinds[c.kind], action, s, now); got.Reason != c.reason {
				t.Errorf("%s of a %s project by %s: got %q, want %q", action, c.vis, c.kind, got.Reason, c.reason)
			}
		}
	}
}
