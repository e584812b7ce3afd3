package project

import (
	"agora/domain/user"
	"context"
	"database/sql"
	"errors"

	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/tenant"
)

// Moderator is a user who moderates a project.
type Moderator struct {
	UserID user.ID `db:"user_id" json:"user_id"`
	Name   string  `db:"name" json:"name"`
	Email  string  `db:"email" json:"email"`
}

// Moderators lists a project's moderators by name.
func (s *Service) Moderators(ctx context.Context, projectID ID) ([]Moderator, error) {
	var out []Moderator
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT u.id AS user_id, btrim(u.first_name || ' ' || u.last_name) AS name, coalesce(u.email, '') AS email
			FROM project_moderators m JOIN users u ON u.id = m.user_id WHERE m.project_id = $1 AND u.deleted_at IS NULL
			ORDER BY u.first_name, u.last_name, u.id`, projectID)
	})
	return out, err
}

// AddModerator makes the user with this email a moderator of the project,
// when the city may use project moderators (its plan has the feature and
// its admins left it on) and a seat of its plan is free; admins moderate
// everything already and are refused. Errors: errs.FeatureUnavailable,
// errs.Invalid naming "email", errs.NotFound, errs.Conflict when every seat
// is taken.
func (s *Service) AddModerator(ctx context.Context, actor user.ID, projectID ID, email string) (*Moderator, error) {
	const op = "project.AddModerator"
	var m Moderator
	t, _ := tenant.FromContext(ctx)
	_, seats := feature.Seats(t.Plan)
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if err := feature.EnabledIn(ctx, tx, feature.ProjectModerators); err != nil {
			return err
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)`, projectID); err != nil {
			return err
		}
		if !exists {
			return errs.E(op, errs.NotFound, "no project %d", projectID)
		}
		var u struct {
			ID   user.ID `db:"id"`
			Role string  `db:"role"`
			Name string  `db:"name"`
		}
		err := tx.GetContext(ctx, &u, `SELECT id, role, btrim(first_name || ' ' || last_name) AS name FROM users
			WHERE lower(email) = lower($1) AND deleted_at IS NULL`, email)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.InvalidField(op, "email", "no account uses %q; invite the person first", email).WithRule("no_account")
		}
		if err != nil {
			return err
		}
		if u.Role == "admin" {
			return errs.InvalidField(op, "email", "%s is an admin and moderates every project already", email).WithRule("already_admin")
		}
		if seats >= 0 {
			// Seat counts queue here, so two additions cannot both take the last seat.
			if err := tx.Lock(ctx, "moderator_seats"); err != nil {
				return err
			}
			var used int
			if err := tx.GetContext(ctx, &used, `SELECT count(DISTINCT m.user_id) FROM project_moderators m JOIN users u ON u.id = m.user_id
				WHERE m.user_id <> $1 AND u.deleted_at IS NULL`, u.ID); err != nil {
				return err
			}
			var already bool
			if err := tx.GetContext(ctx, &already, `SELECT EXISTS (SELECT 1 FROM project_moderators WHERE user_id = $1)`, u.ID); err != nil {
				return err
			}
			if !already && used >= seats {
				return feature.SeatsError(op, "project moderators", seats, t.Plan)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO project_moderators (project_id, user_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`,
			projectID, u.ID); err != nil {
			return err
		}
		m = Moderator{UserID: u.ID, Name: u.Name, Email: email}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: int64(actor), Action: "project.moderator_added", ItemType: "project",
			ItemID: int64(projectID), ProjectID: int64(projectID), Payload: map[string]any{"user_id": u.ID}})
		return err
	})
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// RemoveModerator takes a user off a project's moderators. Errors: errs.NotFound.
func (s *Service) RemoveModerator(ctx context.Context, actor user.ID, projectID ID, userID user.ID) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM project_moderators WHERE project_id = $1 AND user_id = $2`, projectID, userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E("project.RemoveModerator", errs.NotFound, "user %d does not moderate project %d", userID, projectID)
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: int64(actor), Action: "project.moderator_removed", ItemType: "project",
			ItemID: int64(projectID), ProjectID: int64(projectID), Payload: map[string]any{"user_id": userID}})
		return err
	})
}

func int64s(ids []int64) pq.Int64Array { return pq.Int64Array(ids) }
