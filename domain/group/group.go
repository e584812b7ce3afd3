// Package group is a city's user groups: manual groups with listed members
// and smart groups whose AND-ed rules are evaluated in SQL, never by loading
// every user.
package group

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/domain/errs"
	"agora/domain/locale"
	"agora/tenant"
)

// Kinds of group.
const (
	Manual = "manual"
	Smart  = "smart"
)

// Rule is one condition of a smart group.
type Rule struct {
	// Field: "role", "email_domain", "field" (a registration field) or
	// "participated_in_project" (Value is the project id).
	Field string `json:"field"`
	Key   string `json:"key,omitempty"` // the registration field, for Field == "field"
	Value string `json:"value"`
}

// Group is one group of a city.
type Group struct {
	ID      int64       `db:"id" json:"id"`
	Title   locale.Text `db:"title" json:"title"`
	Kind    string      `db:"kind" json:"kind"`
	Rules   []Rule      `db:"-" json:"rules"`
	Members int         `db:"members" json:"members"`
}

// validate checks a smart group's rules; errors name the rule.
func validate(op string, kind string, rules []Rule) error {
	switch kind {
	case Manual:
		if len(rules) > 0 {
			return errs.InvalidField(op, "rules", "a manual group has no rules")
		}
	case Smart:
		if len(rules) == 0 || len(rules) > 20 {
			return errs.InvalidField(op, "rules", "a smart group needs 1 to 20 rules")
		}
	default:
		return errs.InvalidField(op, "kind", "%q is not manual or smart", kind)
	}
	for i, r := range rules {
		switch r.Field {
		case "role":
			if r.Value != "admin" && r.Value != "moderator" && r.Value != "citizen" {
				return errs.InvalidField(op, fmt.Sprintf("rules[%d].value", i), "%q is not a role", r.Value)
			}
		case "email_domain":
			if r.Value == "" || strings.ContainsAny(r.Value, "@ ") {
				return errs.InvalidField(op, fmt.Sprintf("rules[%d].value", i), "%q is not a domain like gent.be", r.Value)
			}
		case "field":
			if r.Key == "" {
				return errs.InvalidField(op, fmt.Sprintf("rules[%d].key", i), "names no registration field")
			}
		case "participated_in_project":
			if n, err := strconv.ParseInt(r.Value, 10, 64); err != nil || n <= 0 {
				return errs.InvalidField(op, fmt.Sprintf("rules[%d].value", i), "%q is not a project id", r.Value)
			}
		default:
			return errs.InvalidField(op, fmt.Sprintf("rules[%d].field", i), "%q is not role, email_domain, field or participated_in_project", r.Field)
		}
	}
	return nil
}

// condition is the SQL condition of a smart group's rules over the users
// table aliased u, with its arguments numbered from next.
func condition(rules []Rule, next int) (string, []any) {
	conds := []string{"u.deleted_at IS NULL"}
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", next+len(args)-1)
	}
	for _, r := range rules {
		switch r.Field {
		case "role":
			conds = append(conds, "u.role = "+arg(r.Value))
		case "email_domain":
			conds = append(conds, "split_part(u.email, '@', 2) = "+arg(strings.ToLower(r.Value)))
		case "field":
			// A text/select value equals, or a multi-select array contains, the value.
			k, v := arg(r.Key), arg(r.Value)
			conds = append(conds, fmt.Sprintf("(u.custom_fields ->> %s = %s OR u.custom_fields -> %s ? %s)", k, v, k, v))
		case "participated_in_project":
			// Anything the user did in the project counts: posting, commenting,
			// reacting, voting, answering (every write records an activity).
			id, _ := strconv.ParseInt(r.Value, 10, 64)
			conds = append(conds, "EXISTS (SELECT 1 FROM activities a WHERE a.actor_id = u.id AND a.project_id = "+arg(id)+")")
		default:
			conds = append(conds, "false") // unknown rules match nobody
		}
	}
	return strings.Join(conds, " AND "), args
}

// Service manages groups through the scoped transaction.
type Service struct{ db *tenant.DB }

// NewService returns the group service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

// Create makes a group. Errors: errs.Invalid naming the field.
func (s *Service) Create(ctx context.Context, title locale.Text, kind string, rules []Rule) (*Group, error) {
	const op = "group.Create"
	if title.Pick() == "" {
		return nil, errs.InvalidField(op, "title", "is required in at least one language")
	}
	if err := validate(op, kind, rules); err != nil {
		return nil, err
	}
	if rules == nil {
		rules = []Rule{}
	}
	b, _ := json.Marshal(rules)
	g := Group{Title: title, Kind: kind, Rules: rules}
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &g.ID, `INSERT INTO groups (title, kind, rules) VALUES ($1, $2, $3) RETURNING id`, title, kind, string(b))
	})
	if err != nil {
		return nil, err
	}
	return &g, nil
}

type row struct {
	ID    int64       `db:"id"`
	Title locale.Text `db:"title"`
	Kind  string      `db:"kind"`
	Rules string      `db:"rules"`
}

func (r row) group() (Group, error) {
	g := Group{ID: r.ID, Title: r.Title, Kind: r.Kind}
	return g, json.Unmarshal([]byte(r.Rules), &g.Rules)
}

// List returns every group with its member count: one query for the groups,
// one count per smart group (evaluated in SQL), one for all manual counts.
func (s *Service) List(ctx context.Context) ([]Group, error) {
	var out []Group
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var rows []row
		if err := tx.SelectContext(ctx, &rows, `SELECT id, title, kind, rules::text AS rules FROM groups ORDER BY id`); err != nil {
			return err
		}
		manual := map[int64]int{}
		var counts []struct {
			GroupID int64 `db:"group_id"`
			N       int   `db:"n"`
		}
		if err := tx.SelectContext(ctx, &counts, `SELECT m.group_id, count(*) AS n FROM group_members m
			JOIN users u ON u.id = m.user_id AND u.deleted_at IS NULL GROUP BY m.group_id`); err != nil {
			return err
		}
		for _, c := range counts {
			manual[c.GroupID] = c.N
		}
		for _, r := range rows {
			g, err := r.group()
			if err != nil {
				return err
			}
			if g.Kind == Smart {
				cond, args := condition(g.Rules, 1)
				if err := tx.GetContext(ctx, &g.Members, `SELECT count(*) FROM users u WHERE `+cond, args...); err != nil {
					return err
				}
			} else {
				g.Members = manual[g.ID]
			}
			out = append(out, g)
		}
		return nil
	})
	return out, err
}

// AddMember puts a user in a manual group. Errors: errs.NotFound,
// errs.Invalid for a smart group.
func (s *Service) AddMember(ctx context.Context, groupID, userID int64) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var kind string
		err := tx.GetContext(ctx, &kind, `SELECT kind FROM groups WHERE id = $1`, groupID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E("group.AddMember", errs.NotFound, "no group %d", groupID)
		}
		if err != nil {
			return err
		}
		if kind != Manual {
			return errs.E("group.AddMember", errs.Invalid, "members of a smart group follow its rules")
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO group_members (group_id, user_id)
			SELECT $1, id FROM users WHERE id = $2 AND deleted_at IS NULL ON CONFLICT DO NOTHING`, groupID, userID)
		return err
	})
}

// RemoveMember takes a user out of a manual group.
func (s *Service) RemoveMember(ctx context.Context, groupID, userID int64) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM group_members WHERE group_id = $1 AND user_id = $2`, groupID, userID)
		return err
	})
}

// Of returns the ids of every group (manual or smart) the user belongs to, in
// one query on q, a city transaction.
func Of(ctx context.Context, q sqlx.QueryerContext, userID int64) ([]int64, error) {
	var smart []row
	if err := sqlx.SelectContext(ctx, q, &smart, `SELECT id, title, kind, rules::text AS rules FROM groups WHERE kind = 'smart'`); err != nil {
		return nil, err
	}
	parts := []string{`SELECT group_id AS id FROM group_members WHERE user_id = $1`}
	args := []any{userID}
	for _, r := range smart {
		g, err := r.group()
		if err != nil {
			return nil, err
		}
		cond, a := condition(g.Rules, len(args)+1)
		args = append(args, a...)
		parts = append(parts, fmt.Sprintf(`SELECT %d WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND %s)`, g.ID, cond))
	}
	var ids pq.Int64Array
	err := sqlx.GetContext(ctx, q, &ids, `SELECT coalesce(array_agg(id ORDER BY id), '{}') FROM (`+strings.Join(parts, " UNION ")+`) g`, args...)
	return ids, err
}

// MemberIDs returns the ids of a group's members (for campaigns and exports),
// evaluated in SQL for smart groups.
func (s *Service) MemberIDs(ctx context.Context, groupID int64) ([]int64, error) {
	var ids []int64
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var r row
		err := tx.GetContext(ctx, &r, `SELECT id, title, kind, rules::text AS rules FROM groups WHERE id = $1`, groupID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E("group.MemberIDs", errs.NotFound, "no group %d", groupID)
		}
		if err != nil {
			return err
		}
		g, err := r.group()
		if err != nil {
			return err
		}
		if g.Kind == Manual {
			return tx.SelectContext(ctx, &ids, `SELECT m.user_id FROM group_members m JOIN users u ON u.id = m.user_id
				WHERE m.group_id = $1 AND u.deleted_at IS NULL ORDER BY m.user_id`, groupID)
		}
		cond, args := condition(g.Rules, 1)
		return tx.SelectContext(ctx, &ids, `SELECT u.id FROM users u WHERE `+cond+` ORDER BY u.id`, args...)
	})
	return ids, err
}
