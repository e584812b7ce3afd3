package project

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"maps"
	"slices"

	"github.com/jmoiron/sqlx"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/jsonb"
	"agora/domain/permission"
)

// Permissions is a phase's rule per action, stored as JSON:
// {"post": {"level": "confirmed"}, "vote": {"level": "groups", "groups": [3]}}.
type Permissions map[permission.Action]Rule

// Rule is the JSON form of permission.Rule.
type Rule struct {
	Level  permission.Level `json:"level"`
	Groups []int64          `json:"groups,omitempty"`
}

func (ps Permissions) check(op string) error {
	for action, r := range ps {
		if !slices.Contains(permission.Actions, action) {
			return errs.InvalidField(op, "permissions", "%q is not an action (%v)", action, permission.Actions).WithRule("choice")
		}
		if !slices.Contains(permission.Levels, r.Level) {
			return errs.InvalidField(op, "permissions."+string(action), "%q is not a level (%v)", r.Level, permission.Levels).WithRule("choice")
		}
		if r.Level == permission.Groups && len(r.Groups) == 0 {
			return errs.InvalidField(op, "permissions."+string(action), "a groups rule names at least one group").WithRule("groups_rule_empty")
		}
	}
	return nil
}

// Equal reports whether ps and o set the same rules.
func (ps Permissions) Equal(o Permissions) bool {
	return maps.EqualFunc(ps, o, func(a, b Rule) bool { return a.Level == b.Level && slices.Equal(a.Groups, b.Groups) })
}

// requireRules checks, on the write's transaction, that the city may set
// rules per action: that is the plan feature granular_permissions, while
// keeping a phase's rules through another edit (or setting none) is not.
func requireRules(ctx context.Context, q sqlx.QueryerContext, before, after Permissions) error {
	if len(after) == 0 || after.Equal(before) {
		return nil
	}
	return feature.EnabledIn(ctx, q, feature.GranularPermissions)
}

// Scope builds the permission scope of a project in this phase.
func (p Phase) Scope(pr Project) permission.Scope {
	s := permission.Scope{
		ProjectID: int64(pr.ID), Visibility: permission.Visibility(pr.Visibility), VisibilityGroups: pr.Groups,
		Rules: map[permission.Action]permission.Rule{},
		ActionEnabled: map[permission.Action]bool{
			permission.Post: p.PostingEnabled, permission.Comment: p.CommentingEnabled, permission.React: p.ReactingEnabled,
		},
	}
	for a, r := range p.Permissions {
		s.Rules[a] = permission.Rule{Level: r.Level, Groups: r.Groups}
	}
	return s
}

// Scan reads the jsonb column.
func (ps *Permissions) Scan(src any) error {
	m := Permissions{}
	if err := jsonb.Scan("permissions", src, &m); err != nil {
		return err
	}
	*ps = m
	return nil
}

// Value writes the jsonb column (as text: see tenant.OpenPool on []byte).
func (ps Permissions) Value() (driver.Value, error) {
	if ps == nil {
		return "{}", nil
	}
	b, err := json.Marshal(map[permission.Action]Rule(ps))
	return string(b), err
}
