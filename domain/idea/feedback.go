package idea

import (
	"context"
	"strings"
	"time"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/locale"
	"agora/domain/notify"
	"agora/domain/permission"
	"agora/tenant"
)

// Feedback is an official answer of the city on an idea.
type Feedback struct {
	ID         int64     `db:"id" json:"id"`
	AuthorName string    `db:"author_name" json:"author_name"`
	Body       string    `db:"body" json:"body"` // sanitised HTML
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
}

// SetStatus changes an idea's status, recording the change with its note in
// the idea's history and the activity log: the project's staff.
// Errors: errs.Invalid for an unknown status, errs.Unauthenticated,
// errs.Forbidden, errs.NotFound.
func (s *Service) SetStatus(ctx context.Context, a permission.Actor, ideaID ID, status, note string) (*Idea, error) {
	const op = "idea.SetStatus"
	note = strings.TrimSpace(note)
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		it, pl, err := lockIdea(ctx, tx, a, op, ideaID)
		if err == nil {
			err = pl.answer(op)
		}
		if err != nil {
			return err
		}
		if len(note) > 2000 {
			return errs.InvalidField(op, "note", "must be at most 2000 characters").WithRule("too_long", 2000)
		}
		var from, to int64
		err = tx.QueryRowxContext(ctx, `SELECT (SELECT status_id FROM ideas WHERE id = $1), coalesce((SELECT id FROM idea_statuses WHERE code = $2), 0)`,
			ideaID, status).Scan(&from, &to)
		if err != nil {
			return err
		}
		if to == 0 {
			return errs.InvalidField(op, "status", "%q is not one of this city's idea statuses", status).WithRule("choice")
		}
		if from == to {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ideas SET status_id = $2, updated_at = now() WHERE id = $1`, ideaID, to); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO idea_status_changes (idea_id, actor_id, from_status, to_status, note)
			VALUES ($1, $2, $3, $4, $5)`, ideaID, a.UserID, from, to, note); err != nil {
			return err
		}
		act, err := activity.RecordAndFanout(ctx, tx, activity.Activity{Actor: a.UserID, Action: "idea.status_changed", ItemType: "idea",
			ItemID: int64(ideaID), ProjectID: int64(it.Project), Payload: map[string]any{"status": status, "note": note}})
		if err != nil {
			return err
		}
		return notify.IdeaFollowers(ctx, tx, act, int64(ideaID), a.UserID, notify.StatusChanged, "")
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, a, ideaID)
}

// AddFeedback posts the city's official feedback on an idea: the project's
// staff. Errors as SetStatus, errs.Invalid for an empty or long body.
func (s *Service) AddFeedback(ctx context.Context, a permission.Actor, ideaID ID, body string) (*Feedback, error) {
	const op = "idea.AddFeedback"
	html, text := Sanitize(body)
	var f Feedback
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		it, pl, err := lockIdea(ctx, tx, a, op, ideaID)
		if err == nil {
			err = pl.answer(op)
		}
		switch {
		case err != nil:
			return err
		case text == "":
			return errs.InvalidField(op, "body", "is required").WithRule("required")
		case len(html) > 20000:
			return errs.InvalidField(op, "body", "must be at most 20000 characters").WithRule("too_long", 20000)
		}
		if err := tx.GetContext(ctx, &f.ID, `INSERT INTO idea_feedback (idea_id, author_id, body) VALUES ($1, $2, $3) RETURNING id`, ideaID, a.UserID, html); err != nil {
			return err
		}
		act, err := activity.RecordAndFanout(ctx, tx, activity.Activity{Actor: a.UserID, Action: "idea.feedback_given", ItemType: "idea",
			ItemID: int64(ideaID), ProjectID: int64(it.Project), Payload: map[string]any{"feedback_id": f.ID}})
		if err != nil {
			return err
		}
		return notify.IdeaFollowers(ctx, tx, act, int64(ideaID), a.UserID, notify.OfficialFeedback, "")
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
func (s *Service) Feedback(ctx context.Context, ideaID ID) ([]Feedback, error) {
	var out []Feedback
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT f.id, CASE WHEN u.id IS NULL THEN '' ELSE btrim(u.first_name || ' ' || u.last_name) END AS author_name, f.body, f.created_at
			FROM idea_feedback f LEFT JOIN users u ON u.id = f.author_id AND u.deleted_at IS NULL
			WHERE f.idea_id = $1 ORDER BY f.created_at, f.id`, ideaID)
	})
	for i := range out {
		out[i].Body = BodyHTML(out[i].Body)
	}
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
func (s *Service) StatusHistory(ctx context.Context, ideaID ID) ([]StatusChange, error) {
	var out []StatusChange
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT s.code AS to_status, s.title AS to_title, c.note, c.created_at
			FROM idea_status_changes c JOIN idea_statuses s ON s.id = c.to_status
			WHERE c.idea_id = $1 ORDER BY c.created_at DESC, c.id DESC`, ideaID)
	})
	return out, err
}

// Unanswered is a project's ideas the city has not answered yet.
type Unanswered struct {
	ProjectID int64       `db:"project_id"`
	Slug      string      `db:"slug"`
	Title     locale.Text `db:"title"`
	Ideas     int         `db:"ideas"`
}

// UnansweredLimit is how many projects Unanswered lists at most.
const UnansweredLimit = 10

// Unanswered counts the ideas the city has not answered: still in the
// status every idea starts in (proposed), with no official feedback, neither
// deleted nor hidden. It returns the total and the projects that have most
// of them (at most UnansweredLimit), in one query that walks the
// ideas_status index and probes idea_feedback_idea.
func (s *Service) Unanswered(ctx context.Context) (total int, projects []Unanswered, err error) {
	var rows []struct {
		Unanswered
		Total int `db:"total"`
	}
	err = s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &rows, `WITH open AS (
				SELECT i.project_id, count(*) AS ideas FROM ideas i
				WHERE i.status_id = (SELECT id FROM idea_statuses WHERE code = 'proposed')
				  AND i.deleted_at IS NULL AND i.hidden_at IS NULL
				  AND NOT EXISTS (SELECT 1 FROM idea_feedback f WHERE f.idea_id = i.id)
				GROUP BY i.project_id
			)
			SELECT o.project_id, p.slug, p.title, o.ideas, sum(o.ideas) OVER () AS total
			FROM open o JOIN projects p ON p.id = o.project_id
			ORDER BY o.ideas DESC, o.project_id LIMIT $1`, UnansweredLimit)
	})
	if err != nil {
		return 0, nil, err
	}
	for _, r := range rows {
		total = r.Total
		projects = append(projects, r.Unanswered)
	}
	return total, projects, nil
}
