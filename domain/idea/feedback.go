package idea

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/locale"
	"agora/domain/notify"
	"agora/tenant"
)

// Feedback is an official answer of the city on an idea.
type Feedback struct {
	ID         int64     `db:"id" json:"id"`
	AuthorName string    `db:"author_name" json:"author_name"`
	Body       string    `db:"body" json:"body"` // sanitised HTML
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
}

// SetStatus changes an idea's status (staff), recording the change with its
// note in the idea's history and the activity log. Errors: errs.Invalid for
// an unknown status, errs.NotFound.
func (s *Service) SetStatus(ctx context.Context, actor, ideaID int64, status, note string) (*Idea, error) {
	const op = "idea.SetStatus"
	note = strings.TrimSpace(note)
	if len(note) > 2000 {
		return nil, errs.InvalidField(op, "note", "must be at most 2000 characters").WithRule("too_long", 2000)
	}
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var to int64
		err := tx.GetContext(ctx, &to, `SELECT id FROM idea_statuses WHERE code = $1`, status)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.InvalidField(op, "status", "%q is not one of this city's idea statuses", status).WithRule("choice")
		}
		if err != nil {
			return err
		}
		var from, project int64
		err = tx.QueryRowxContext(ctx, `SELECT status_id, project_id FROM ideas WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, ideaID).Scan(&from, &project)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "no idea %d", ideaID)
		}
		if err != nil || from == to {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ideas SET status_id = $2, updated_at = now() WHERE id = $1`, ideaID, to); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO idea_status_changes (idea_id, actor_id, from_status, to_status, note)
			VALUES ($1, $2, $3, $4, $5)`, ideaID, actor, from, to, note); err != nil {
			return err
		}
		act, err := activity.RecordAndFanout(ctx, tx, activity.Activity{Actor: actor, Action: "idea.status_changed", ItemType: "idea",
			ItemID: ideaID, ProjectID: project, Payload: map[string]any{"status": status, "note": note}})
		if err != nil {
			return err
		}
		return notify.IdeaFollowers(ctx, tx, act, ideaID, actor, notify.StatusChanged, "")
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, ideaID, actor)
}

// AddFeedback posts the city's official feedback on an idea (staff).
func (s *Service) AddFeedback(ctx context.Context, actor, ideaID int64, body string) (*Feedback, error) {
	const op = "idea.AddFeedback"
	html, text := Sanitize(body)
	if text == "" {
		return nil, errs.InvalidField(op, "body", "is required").WithRule("required")
	}
	if len(html) > 20000 {
		return nil, errs.InvalidField(op, "body", "must be at most 20000 characters").WithRule("too_long", 20000)
	}
	var f Feedback
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var project int64
		err := tx.GetContext(ctx, &project, `SELECT project_id FROM ideas WHERE id = $1 AND deleted_at IS NULL`, ideaID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "no idea %d", ideaID)
		}
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &f.ID, `INSERT INTO idea_feedback (idea_id, author_id, body) VALUES ($1, $2, $3) RETURNING id`, ideaID, actor, html); err != nil {
			return err
		}
		act, err := activity.RecordAndFanout(ctx, tx, activity.Activity{Actor: actor, Action: "idea.feedback_given", ItemType: "idea",
			ItemID: ideaID, ProjectID: project, Payload: map[string]any{"feedback_id": f.ID}})
		if err != nil {
			return err
		}
		return notify.IdeaFollowers(ctx, tx, act, ideaID, actor, notify.OfficialFeedback, "")
	})
	if err != nil {
		return nil, err
	}
	list, err := s.Feedback(ctx, ideaID)
	if err != nil {
		return nil, err
	}
	for _, x := range list {
		if x.ID == f.ID {
			return &x, nil
		}
	}
	return &f, nil
}

// Feedback lists an idea's official feedback, oldest first.
func (s *Service) Feedback(ctx context.Context, ideaID int64) ([]Feedback, error) {
	var out []Feedback
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT f.id, CASE WHEN u.id IS NULL THEN '' ELSE btrim(u.first_name || ' ' || u.last_name) END AS author_name, f.body, f.created_at
			FROM idea_feedback f LEFT JOIN users u ON u.id = f.author_id AND u.deleted_at IS NULL
			WHERE f.idea_id = $1 ORDER BY f.created_at, f.id`, ideaID)
	})
	return out, err
}

// StatusChange is one change of an idea's status, with the staff's note.
type StatusChange struct {
	To        string      `db:"to_status" json:"to_status"`
	ToTitle   locale.Text `db:"to_title" json:"to_title"`
	Note      string      `db:"note" json:"note"`
	CreatedAt time.Time   `db:"created_at" json:"created_at"`
}

// StatusHistory lists an idea's status changes, newest first.
func (s *Service) StatusHistory(ctx context.Context, ideaID int64) ([]StatusChange, error) {
	var out []StatusChange
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT s.code AS to_status, s.title AS to_title, c.note, c.created_at
			FROM idea_status_changes c JOIN idea_statuses s ON s.id = c.to_status
			WHERE c.idea_id = $1 ORDER BY c.created_at DESC, c.id DESC`, ideaID)
	})
	return out, err
}
