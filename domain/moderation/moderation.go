// Package moderation is what moderators need: citizens' reports on ideas and
// comments, the inbox of those reports, and hiding or restoring content.
package moderation

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/tenant"
)

// Reasons a report may give.
var Reasons = []string{"spam", "abuse", "off_topic", "other"}

// items maps a reportable type to its table and the SQL that finds its project.
var items = map[string]struct{ table, project string }{
	"idea":    {"ideas", `SELECT project_id FROM ideas WHERE id = $1 AND deleted_at IS NULL`},
	"comment": {"comments", `SELECT i.project_id FROM comments c JOIN ideas i ON i.id = c.idea_id WHERE c.id = $1 AND c.deleted_by IS NULL`},
}

// Report is one entry of the moderation inbox.
type Report struct {
	ID        int64  `db:"id" json:"id"`
	ItemType  string `db:"item_type" json:"item_type"`
	ItemID    int64  `db:"item_id" json:"item_id"`
	ProjectID int64  `db:"project_id" json:"project_id"`
	Reason    string `db:"reason" json:"reason"`
	Note      string `db:"note" json:"note"`
	Excerpt   string `db:"excerpt" json:"excerpt"`
	Hidden    bool   `db:"hidden" json:"hidden"`
	// The item's author (nil when gone or anonymous), and until when they
	// are blocked, if they are.
	AuthorID           *int64     `db:"author_id" json:"author_id"`
	AuthorName         string     `db:"author_name" json:"author_name"`
	AuthorBlockedUntil *time.Time `db:"author_blocked_until" json:"author_blocked_until"`
	CreatedAt          time.Time  `db:"created_at" json:"created_at"`
	ReadAt             *time.Time `db:"read_at" json:"read_at"`
}

// Service manages reports and hidden content.
type Service struct{ db *tenant.DB }

// NewService returns the moderation service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

// ProjectOf returns the project of a reportable item. Errors: errs.Invalid
// for an unknown type, errs.NotFound.
func (s *Service) ProjectOf(ctx context.Context, itemType string, itemID int64) (int64, error) {
	it, ok := items[itemType]
	if !ok {
		return 0, errs.InvalidField("moderation", "item_type", "%q is not idea or comment", itemType)
	}
	var project int64
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.GetContext(ctx, &project, it.project, itemID) })
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.E("moderation", errs.NotFound, "no %s %d", itemType, itemID)
	}
	return project, err
}

// Report records a user's report (once per user and item). Errors:
// errs.Invalid naming the field, errs.NotFound.
func (s *Service) Report(ctx context.Context, reporter int64, itemType string, itemID int64, reason, note string) error {
	const op = "moderation.Report"
	if !slices.Contains(Reasons, reason) {
		return errs.InvalidField(op, "reason", "%q is not one of %s", reason, strings.Join(Reasons, ", ")).WithRule("choice")
	}
	if len(note) > 1000 {
		return errs.InvalidField(op, "note", "must be at most 1000 characters").WithRule("too_long", 1000)
	}
	project, err := s.ProjectOf(ctx, itemType, itemID)
	if err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if err := feature.EnabledIn(ctx, tx, feature.BasicModeration); err != nil {
			return err
		}
		// A blocked account may not report, as it may not post: checked in
		// the transaction that writes the report.
		var blocked bool
		if err := tx.GetContext(ctx, &blocked, `SELECT coalesce(blocked_until > now(), false) FROM users WHERE id = $1 AND deleted_at IS NULL`, reporter); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return errs.E(op, errs.Unauthenticated, "log in first")
			}
			return err
		}
		if blocked {
			return errs.E(op, errs.Forbidden, "your account is blocked for now: you can read but not report").WithRule("denied_blocked")
		}
		// Reporting the same item again updates the reason and note; a
		// report staff have read stays read.
		var row struct {
			ID       int64 `db:"id"`
			Inserted bool  `db:"inserted"`
		}
		err := tx.GetContext(ctx, &row, `INSERT INTO reports (reporter_id, item_type, item_id, project_id, reason, note)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (reporter_id, item_type, item_id) DO UPDATE SET reason = $5, note = $6
			RETURNING id, xmax = 0 AS inserted`, reporter, itemType, itemID, project, reason, strings.TrimSpace(note))
		if err != nil || !row.Inserted {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: reporter, Action: "report.created", ItemType: itemType, ItemID: itemID,
			ProjectID: project, Payload: map[string]any{"report_id": row.ID, "reason": reason}})
		return err
	})
}

// Filter narrows the inbox.
type Filter struct {
	Projects []int64 // the projects the moderator may see; nil: all (admins)
	Project  int64
	Unread   bool
	Query    string
}

// Inbox lists reports, newest first, with an excerpt of the reported item
// (one query).
func (s *Service) Inbox(ctx context.Context, f Filter) ([]Report, error) {
	var projects any
	if f.Projects != nil {
		projects = pq.Int64Array(f.Projects)
	}
	var out []Report
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT r.id, r.item_type, r.item_id, r.project_id, r.reason, r.note, r.created_at, r.read_at,
			coalesce(CASE r.item_type WHEN 'idea' THEN i.title ELSE left(c.body, 200) END, '') AS excerpt,
			coalesce(CASE r.item_type WHEN 'idea' THEN i.hidden_at ELSE c.hidden_at END IS NOT NULL, false) AS hidden,
			u.id AS author_id, coalesce(btrim(u.first_name || ' ' || u.last_name), '') AS author_name,
			CASE WHEN u.blocked_until > now() THEN u.blocked_until END AS author_blocked_until
			FROM reports r
			LEFT JOIN ideas i ON r.item_type = 'idea' AND i.id = r.item_id
			LEFT JOIN comments c ON r.item_type = 'comment' AND c.id = r.item_id
			LEFT JOIN users u ON u.deleted_at IS NULL AND u.id = CASE r.item_type WHEN 'idea' THEN CASE WHEN i.anonymous THEN NULL ELSE i.author_id END ELSE c.author_id END
			WHERE ($1::bigint[] IS NULL OR r.project_id = ANY($1)) AND ($2::bigint = 0 OR r.project_id = $2)
			  AND (NOT $3 OR r.read_at IS NULL)
			  AND ($4 = '' OR r.note ILIKE '%' || $4 || '%' OR i.title ILIKE '%' || $4 || '%' OR c.body ILIKE '%' || $4 || '%')
			ORDER BY r.created_at DESC, r.id DESC LIMIT 200`, projects, f.Project, f.Unread, strings.TrimSpace(f.Query))
	})
	return out, err
}

// MarkRead marks a report read (or unread).
func (s *Service) MarkRead(ctx context.Context, id int64, read bool) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE reports SET read_at = CASE WHEN $2 THEN now() END WHERE id = $1`, id, read)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E("moderation.MarkRead", errs.NotFound, "no report %d", id)
		}
		return nil
	})
}

// ReportProject returns the project of a report. Errors: errs.NotFound.
func (s *Service) ReportProject(ctx context.Context, id int64) (int64, error) {
	var project int64
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &project, `SELECT project_id FROM reports WHERE id = $1`, id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return 0, errs.E("moderation", errs.NotFound, "no report %d", id)
	}
	return project, err
}

// ReportItem returns what a report is about: its project and item.
// Errors: errs.NotFound.
func (s *Service) ReportItem(ctx context.Context, id int64) (project int64, itemType string, itemID int64, err error) {
	err = s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.QueryRowxContext(ctx, `SELECT project_id, item_type, item_id FROM reports WHERE id = $1`, id).Scan(&project, &itemType, &itemID)
	})
	if errors.Is(err, sql.ErrNoRows) {
		err = errs.E("moderation", errs.NotFound, "no report %d", id)
	}
	return project, itemType, itemID, err
}

// ReportAuthor returns the author of the item a report is about. Errors:
// errs.NotFound for no report, or an item without a known author.
func (s *Service) ReportAuthor(ctx context.Context, id int64) (int64, error) {
	var author *int64
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &author, `SELECT CASE r.item_type WHEN 'idea' THEN CASE WHEN i.anonymous THEN NULL ELSE i.author_id END ELSE c.author_id END
			FROM reports r
			LEFT JOIN ideas i ON r.item_type = 'idea' AND i.id = r.item_id
			LEFT JOIN comments c ON r.item_type = 'comment' AND c.id = r.item_id
			WHERE r.id = $1`, id)
	})
	if errors.Is(err, sql.ErrNoRows) || err == nil && author == nil {
		return 0, errs.E("moderation", errs.NotFound, "no author to block for report %d", id)
	}
	if err != nil {
		return 0, err
	}
	return *author, nil
}

// SetHidden hides (or restores) an idea or a comment, recording who did it.
func (s *Service) SetHidden(ctx context.Context, actor int64, itemType string, itemID int64, hidden bool) error {
	it, ok := items[itemType]
	if !ok {
		return errs.InvalidField("moderation", "item_type", "%q is not idea or comment", itemType)
	}
	project, err := s.ProjectOf(ctx, itemType, itemID)
	if err != nil {
		return err
	}
	action := itemType + ".hidden"
	if !hidden {
		action = itemType + ".restored"
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE `+it.table+` SET hidden_at = CASE WHEN $2 THEN coalesce(hidden_at, now()) END WHERE id = $1`, itemID, hidden); err != nil {
			return err
		}
		_, err := activity.Record(ctx, tx, activity.Activity{Actor: actor, Action: action, ItemType: itemType, ItemID: itemID,
			ProjectID: project})
		return err
	})
}

// UnreadCount is how many reports of the city nobody has read yet (one
// query on the partial index reports_unread).
func (s *Service) UnreadCount(ctx context.Context) (int, error) {
	var n int
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &n, `SELECT count(*) FROM reports WHERE read_at IS NULL`)
	})
	return n, err
}
