package project

import (
	"agora/domain/user"
	"context"
	"database/sql"
	"errors"
	"slices"

	"agora/domain/errs"
	"agora/tenant"
)

// UpdatePhase replaces a phase's fields, under the same timeline rules as
// AddPhase (the phase itself aside). Ideas posted in it stay in it.
// Errors: errs.Invalid naming the field, errs.NotFound.
func (s *Service) UpdatePhase(ctx context.Context, actor user.ID, projectID ID, phaseID PhaseID, ph Phase) (*Phase, error) {
	const op = "project.UpdatePhase"
	if ph.Permissions == nil {
		ph.Permissions = Permissions{}
	}
	ph.ID, ph.ProjectID = phaseID, projectID
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var others []Phase
		// Locking the project queues timeline changes of the same project.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM projects WHERE id = $1 FOR UPDATE`, projectID); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &others, selectPhases+` WHERE project_id = $1`, projectID); err != nil {
			return err
		}
		i := slices.IndexFunc(others, func(o Phase) bool { return o.ID == phaseID })
		if i < 0 {
			return errs.E(op, errs.NotFound, "no phase %d in project %d", phaseID, projectID)
		}
		// Setting rules per action is the plan feature; keeping a phase's
		// rules through another edit is not.
		if err := requireRules(ctx, tx, others[i].Permissions, ph.Permissions); err != nil {
			return err
		}
		if err := CheckPhase(op, ph); err != nil {
			return err
		}
		if err := checkMethod(op, ph, others[i].Method); err != nil {
			return err
		}
		if err := CheckTimeline(op, others, ph); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE phases SET title = $3, description = $4, method = $5, starts_at = $6, ends_at = $7,
			posting_enabled = $8, commenting_enabled = $9, reacting_enabled = $10, dislikes_enabled = $11, reaction_limit = $12,
			permissions = $13 WHERE id = $1 AND project_id = $2`,
			phaseID, projectID, ph.Title, ph.Description, ph.Method, ph.StartsAt, ph.EndsAt, ph.PostingEnabled, ph.CommentingEnabled,
			ph.ReactingEnabled, ph.DislikesEnabled, ph.ReactionLimit, ph.Permissions)
		if pe := pqErr(err); pe != nil && pe.Code == "23P01" {
			return errs.InvalidField(op, "starts_at", "phase %s overlaps another phase of the project", ph.name()).WithRule("overlap_any", ph.Title)
		}
		if err != nil {
			return err
		}
		return logActivity(ctx, tx, actor, "phase.updated", projectID)
	})
	if err != nil {
		return nil, err
	}
	return &ph, nil
}

// DeletePhase removes a phase from the timeline; its ideas stay in the
// project, outside any phase. Errors: errs.NotFound.
func (s *Service) DeletePhase(ctx context.Context, actor user.ID, projectID ID, phaseID PhaseID) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var id int64
		err := tx.GetContext(ctx, &id, `DELETE FROM phases WHERE id = $1 AND project_id = $2 RETURNING id`, phaseID, projectID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E("project.DeletePhase", errs.NotFound, "no phase %d in project %d", phaseID, projectID)
		}
		if err != nil {
			return err
		}
		return logActivity(ctx, tx, actor, "phase.deleted", projectID)
	})
}
