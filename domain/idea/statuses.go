package idea

import (
	"agora/domain/user"
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"

	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/locale"
	"agora/tenant"
)

// Status is one of a city's idea statuses: the six every city has and the
// custom ones its plan may allow.
type Status struct {
	Code     string      `db:"code" json:"code"`
	Title    locale.Text `db:"title" json:"title"`
	Color    string      `db:"color" json:"color"`
	Position int         `db:"position" json:"position"`
	Custom   bool        `db:"custom" json:"custom"`
	Ideas    int         `db:"ideas" json:"ideas"` // ideas that have it now
}

var (
	statusCodeRe = regexp.MustCompile(`^[a-z][a-z0-9_]{0,40}$`)
	colorRe      = regexp.MustCompile(`^#[0-9a-f]{6}$`)
)

// Statuses lists the city's idea statuses in order.
func (s *Service) Statuses(ctx context.Context) ([]Status, error) {
	var out []Status
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT s.code, s.title, s.color, s.position, s.custom,
			(SELECT count(*) FROM ideas i WHERE i.status_id = s.id AND i.deleted_at IS NULL) AS ideas
			FROM idea_statuses s ORDER BY s.position, s.id`)
	})
	return out, err
}

// AddStatus creates a custom status after the others, when the city's plan
// has custom statuses. Errors: errs.FeatureUnavailable, errs.Invalid naming
// the field, "taken" for a used code.
func (s *Service) AddStatus(ctx context.Context, actor user.ID, st Status) (*Status, error) {
	const op = "idea.AddStatus"
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		// Statuses of its own are the plan feature custom_idea_statuses.
		if err := feature.EnabledIn(ctx, tx, feature.CustomIdeaStatuses); err != nil {
			return err
		}
		st.Code, st.Color = strings.TrimSpace(st.Code), strings.ToLower(strings.TrimSpace(st.Color))
		if st.Color == "" {
			st.Color = "#6b7280"
		}
		switch {
		case !statusCodeRe.MatchString(st.Code):
			return errs.InvalidField(op, "code", "%q must start with a letter and hold lower-case letters, digits and _", st.Code).WithRule("status_code")
		case st.Title.Pick() == "":
			return errs.InvalidField(op, "title", "is required in at least one language").WithRule("required")
		case !colorRe.MatchString(st.Color):
			return errs.InvalidField(op, "color", "%q is not a colour like #16a34a", st.Color).WithRule("color")
		}
		for l, v := range st.Title {
			st.Title[l] = PlainTitle(v)
			if len([]rune(st.Title[l])) > 60 {
				return errs.InvalidField(op, "title", "must be at most 60 characters").WithRule("too_long", 60)
			}
		}
		var id int64
		err := tx.QueryRowxContext(ctx, `INSERT INTO idea_statuses (code, title, color, position, custom)
			VALUES ($1, $2, $3, (SELECT coalesce(max(position), 0) + 1 FROM idea_statuses), true) RETURNING id, position`,
			st.Code, st.Title, st.Color).Scan(&id, &st.Position)
		var pe *pq.Error
		if errors.As(err, &pe) && pe.Code == "23505" {
			return errs.InvalidField(op, "code", "a status %q exists already", st.Code).WithRule("taken")
		}
		if err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: int64(actor), Action: "status.created", ItemType: "status", ItemID: id,
			Payload: map[string]any{"code": st.Code}})
		return err
	})
	if err != nil {
		return nil, err
	}
	st.Custom = true
	return &st, nil
}

// RemoveStatus deletes a custom status no idea has ever had (one that was
// used stays, for the ideas' history). Errors: errs.NotFound, errs.Forbidden
// for a default status, errs.Conflict for a used one.
func (s *Service) RemoveStatus(ctx context.Context, actor user.ID, code string) error {
	const op = "idea.RemoveStatus"
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var st struct {
			ID     int64 `db:"id"`
			Custom bool  `db:"custom"`
			Ideas  int   `db:"ideas"`
		}
		err := tx.GetContext(ctx, &st, `SELECT id, custom,
			(SELECT count(*) FROM ideas WHERE status_id = s.id) + (SELECT count(*) FROM idea_status_changes WHERE s.id IN (from_status, to_status)) AS ideas
			FROM idea_statuses s WHERE code = $1 FOR UPDATE`, code)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return errs.E(op, errs.NotFound, "no status %q", code)
		case err != nil:
			return err
		case !st.Custom:
			return errs.E(op, errs.Forbidden, "%q is one of the default statuses, which every city keeps", code).WithRule("status_default")
		case st.Ideas > 0:
			return errs.E(op, errs.Conflict, "ideas have had the status %q; it stays for their history", code).WithRule("status_in_use")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM idea_statuses WHERE id = $1`, st.ID); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: int64(actor), Action: "status.deleted", ItemType: "status", ItemID: st.ID,
			Payload: map[string]any{"code": code}})
		return err
	})
}
