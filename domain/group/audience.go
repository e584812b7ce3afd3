package group

import (
	"context"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// AnyOf returns the SQL condition, over the users table aliased u, that
// holds for the members of any of the groups ids, manual or smart (whose
// rules it evaluates in SQL), with its arguments numbered from next. It reads
// the groups' rules on q, a city transaction. Ids that name no group match
// nobody; no ids match nobody.
func AnyOf(ctx context.Context, q sqlx.QueryerContext, ids []int64, next int) (string, []any, error) {
	if len(ids) == 0 {
		return "false", nil, nil
	}
	var smart []row
	if err := sqlx.SelectContext(ctx, q, &smart, `SELECT id, title, kind, rules::text AS rules FROM groups
		WHERE kind = 'smart' AND id = ANY($1) ORDER BY id`, pq.Int64Array(ids)); err != nil {
		return "", nil, fmt.Errorf("groups %v: %w", ids, err)
	}
	args := []any{pq.Int64Array(ids)}
	parts := []string{fmt.Sprintf(`EXISTS (SELECT 1 FROM group_members m WHERE m.user_id = u.id AND m.group_id = ANY($%d))`, next)}
	for _, r := range smart {
		g, err := r.group()
		if err != nil {
			return "", nil, err
		}
		cond, a := condition(g.Rules, next+len(args))
		args = append(args, a...)
		parts = append(parts, "("+cond+")")
	}
	return "(" + strings.Join(parts, " OR ") + ")", args, nil
}
