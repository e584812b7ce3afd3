package idea

import (
	"agora/domain/user"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/moderation"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/tenant"
)

// Who may do what with ideas, comments and reactions is decided here, once,
// and by every write inside its own transaction: the project and its current
// phase, the actor's memberships and the city's features are read on the
// transaction that writes, so no check can go stale before its write.

// actionFeatures are the features participation actions belong to.
var actionFeatures = map[permission.Action]feature.Key{
	permission.Post: feature.Ideation, permission.Comment: feature.Comments, permission.React: feature.Reactions,
}

// postingMethods are the participation methods whose phases take ideas.
var postingMethods = []string{"ideation", "proposals"}

// place is what decides an action on the ideas of one project: the
// project with its phases, the phase running now (nil: none) and the actor
// with their memberships, as the transaction sees them.
type place struct {
	project *project.Project
	phase   *project.Phase
	actor   permission.Actor
	now     time.Time
}

// at reads the place of an action in project id on q. A write passes
// fresh: the actor's memberships (projects moderated, groups) are then read
// again on its transaction, so a role changed a moment ago counts; a read
// uses them if the actor has them (read in the same read transaction).
// Errors: errs.NotFound.
func at(ctx context.Context, q sqlx.QueryerContext, a permission.Actor, projectID project.ID, fresh bool) (*place, error) {
	p, err := project.Load(ctx, q, projectID)
	if err != nil {
		return nil, err
	}
	if !a.Anonymous() && (fresh || !a.Known) {
		if a, err = project.WithMemberships(ctx, q, a); err != nil {
			return nil, err
		}
	}
	return placeIn(p, a, time.Now()), nil
}

// placeIn is the place of an action in project p at now, for an actor
// whose memberships are known.
func placeIn(p *project.Project, a permission.Actor, now time.Time) *place {
	pl := &place{project: p, actor: a, now: now}
	if ph, ok := project.CurrentPhase(p.Phases, pl.now); ok {
		pl.phase = &ph
	}
	return pl
}

// visible reports whether the actor may see the project at all.
func (pl *place) visible() bool { return project.CanView(*pl.project, pl.actor, pl.now) }

// staff reports whether the actor is an admin or a moderator of the project.
func (pl *place) staff() bool { return !pl.actor.Anonymous() && pl.actor.Staff(int64(pl.project.ID)) }

// may decides whether the actor may do action in the project now: the
// feature (plan and admins), the project's visibility, a phase that takes
// the action (posting only in ideation and proposals phases), then the
// phase's rule. Staff may act in any running phase. An action open to
// everyone still needs an author: the anonymous are asked to log in.
func (pl *place) may(ctx context.Context, q sqlx.QueryerContext, op string, action permission.Action) error {
	if k, ok := actionFeatures[action]; ok {
		if err := feature.EnabledIn(ctx, q, k); err != nil {
			return err
		}
	}
	if !pl.visible() {
		return errs.E(op, errs.NotFound, "no project %d", pl.project.ID)
	}
	if pl.phase == nil || (action == permission.Post && !slices.Contains(postingMethods, pl.phase.Method)) {
		if pl.phase != nil && pl.staff() {
			return nil
		}
		return Denied(op, action, permission.Decision{Reason: permission.Disabled})
	}
	if d := permission.Can(pl.actor, action, pl.phase.Scope(*pl.project), pl.now); !d.OK() {
		return Denied(op, action, d)
	}
	if pl.actor.Anonymous() {
		return Denied(op, action, permission.Decision{Reason: permission.LogIn})
	}
	return nil
}

// own decides whether the actor may change or delete an item written by
// author (nil: anonymous or gone): its author or the project's staff.
func (pl *place) own(op string, author *user.ID) error {
	switch {
	case pl.actor.Anonymous():
		return errs.E(op, errs.Unauthenticated, "log in first").WithRule("log_in")
	case !pl.visible():
		return errs.E(op, errs.NotFound, "no project %d", pl.project.ID)
	case pl.staff(), author != nil && int64(*author) == pl.actor.UserID:
		return nil
	}
	return errs.E(op, errs.Forbidden, "only its author or staff can change an idea").WithRule("idea_author")
}

// edit decides whether the actor may change idea it: staff always; its
// author while the city has not answered it and the phase takes ideas.
func (pl *place) edit(ctx context.Context, q sqlx.QueryerContext, op string, author *user.ID, status string) error {
	if err := pl.own(op, author); err != nil || pl.staff() {
		return err
	}
	if status != "proposed" {
		return errs.E(op, errs.Forbidden, "the city has answered this idea: it can no longer be edited").WithRule("idea_answered")
	}
	return pl.may(ctx, q, op, permission.Post)
}

// answer decides whether the actor may answer ideas of the project
// (statuses, official feedback): its staff.
func (pl *place) answer(op string) error {
	switch {
	case !pl.visible():
		return errs.E(op, errs.NotFound, "no project %d", pl.project.ID)
	case pl.actor.Anonymous():
		return errs.E(op, errs.Unauthenticated, "log in as city staff").WithRule("log_in")
	case !pl.staff():
		return errs.E(op, errs.Forbidden, "only admins and the project's moderators can answer ideas").WithRule("staff_only")
	}
	return nil
}

// dislikesOn reports whether a dislike is allowed on an idea of the idea's
// own phase (ideaPhase, nil when none or unknown): neither the phase
// running now nor the idea's own phase turned dislikes off.
func (pl *place) dislikesOn(ideaPhase *bool) bool {
	return (pl.phase == nil || pl.phase.DislikesEnabled) && (ideaPhase == nil || *ideaPhase)
}

// clean applies the profanity filter of the city's languages to texts a
// person typed.
func clean(ctx context.Context, op, field string, texts ...string) error {
	t, _ := tenant.FromContext(ctx)
	return moderation.CheckLanguage(op, field, t.Locales, texts...)
}

// notVisible turns a project the actor may not see into "no such item",
// which is what they are told of an idea or comment in it.
func notVisible(err error, op, what string, id int64) error {
	if errs.CodeOf(err) == errs.NotFound {
		return errs.E(op, errs.NotFound, "no %s %d", what, id)
	}
	return err
}

// May reports whether actor may now do action on the ideas of project
// projectID: nil, or the error the write would answer (with its rule, for a
// page to say what to do). Pages use it to offer or explain a form.
func (s *Service) May(ctx context.Context, a permission.Actor, projectID project.ID, action permission.Action) error {
	return s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		pl, err := at(ctx, tx, a, projectID, false)
		if err != nil {
			return err
		}
		return pl.may(ctx, tx, "idea.May", action)
	})
}

// Abilities is what an idea's page may offer its viewer: for each action,
// nil when the write would accept it, else the error it would answer.
type Abilities struct {
	Edit, React, Comment error
}

// AbilitiesOn decides, in one read, what actor may now do with idea it.
// p is its project when the caller has just read it (nil: read here); the
// page shows the answer, and each write decides again in its own
// transaction.
func (s *Service) AbilitiesOn(ctx context.Context, a permission.Actor, it *Idea, p *project.Project) (Abilities, error) {
	var ab Abilities
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var pl *place
		var err error
		if p != nil && p.ID == it.ProjectID && (a.Anonymous() || a.Known) {
			pl = placeIn(p, a, time.Now())
		} else if pl, err = at(ctx, tx, a, it.ProjectID, false); err != nil {
			return err
		}
		ab.Edit = pl.edit(ctx, tx, "idea.Update", it.AuthorID, it.Status)
		ab.React = pl.may(ctx, tx, "idea.React", permission.React)
		ab.Comment = pl.may(ctx, tx, "idea.AddComment", permission.Comment)
		return nil
	})
	return ab, err
}

// MayEdit reports whether actor may now change idea it (see Update).
func (s *Service) MayEdit(ctx context.Context, a permission.Actor, it *Idea) error {
	return s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		pl, err := at(ctx, tx, a, it.ProjectID, false)
		if err != nil {
			return err
		}
		return pl.edit(ctx, tx, "idea.Update", it.AuthorID, it.Status)
	})
}

// subject is an idea as the rules see it, locked for the write.
type subject struct {
	ID       ID               `db:"id"`
	Project  project.ID       `db:"project_id"`
	PhaseID  *project.PhaseID `db:"phase_id"`
	AuthorID *user.ID         `db:"author_id"` // nil when anonymous
	Status   string           `db:"status"`
	Dislikes *bool            `db:"dislikes_enabled"` // of the idea's own phase
	Limit    *int             `db:"reaction_limit"`   // of the idea's own phase
}

// lockIdea locks live idea id for a write and reads the place of the
// actor's action on it. An idea the actor may not see is "no idea".
// Errors: errs.NotFound.
func lockIdea(ctx context.Context, tx *tenant.Tx, a permission.Actor, op string, id ID) (*subject, *place, error) {
	return lockIdeaFor(ctx, tx, a, op, id, false)
}

// lockOwnIdea is lockIdea for what only its author or staff may do: the
// anonymous are asked to log in before anything is looked up.
func lockOwnIdea(ctx context.Context, tx *tenant.Tx, a permission.Actor, op string, id ID) (*subject, *place, error) {
	return lockIdeaFor(ctx, tx, a, op, id, true)
}

func lockIdeaFor(ctx context.Context, tx *tenant.Tx, a permission.Actor, op string, id ID, own bool) (*subject, *place, error) {
	if own && a.Anonymous() {
		return nil, nil, errs.E(op, errs.Unauthenticated, "log in first").WithRule("log_in")
	}
	var it subject
	err := tx.GetContext(ctx, &it, `SELECT i.id, i.project_id, i.phase_id, CASE WHEN i.anonymous THEN NULL ELSE i.author_id END AS author_id,
			s.code AS status, p.dislikes_enabled, p.reaction_limit
		FROM ideas i JOIN idea_statuses s ON s.id = i.status_id LEFT JOIN phases p ON p.id = i.phase_id
		WHERE i.id = $1 AND i.deleted_at IS NULL AND i.hidden_at IS NULL FOR UPDATE OF i`, id)
	if isNoRows(err) {
		return nil, nil, errs.E(op, errs.NotFound, "no idea %d", id)
	}
	if err != nil {
		return nil, nil, err
	}
	pl, err := at(ctx, tx, a, it.Project, true)
	if err == nil && !pl.visible() {
		err = errs.E(op, errs.NotFound, "no idea %d", id)
	}
	if err != nil {
		return nil, nil, notVisible(err, op, "idea", int64(id))
	}
	return &it, pl, nil
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// Sees answers nil when actor may see the item: a project, or an idea or a
// comment of a project they may see (other kinds, topics and areas, are
// public). Errors: errs.NotFound naming the item.
func (s *Service) Sees(ctx context.Context, a permission.Actor, itemType string, id int64) error {
	var q string
	switch itemType {
	case "project":
		q = `SELECT id FROM projects WHERE id = $1`
	case "idea":
		q = `SELECT project_id FROM ideas WHERE id = $1 AND deleted_at IS NULL`
	case "comment":
		q = `SELECT i.project_id FROM comments c JOIN ideas i ON i.id = c.idea_id WHERE c.id = $1 AND c.deleted_by IS NULL`
	default:
		return nil
	}
	return s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var projectID project.ID
		err := tx.GetContext(ctx, &projectID, q, id)
		if isNoRows(err) {
			return errs.E("idea.Sees", errs.NotFound, "no %s %d", itemType, id)
		}
		if err != nil {
			return err
		}
		visible, _, err := project.Sees(ctx, tx, a, projectID)
		if err == nil && !visible {
			err = errs.E("idea.Sees", errs.NotFound, "no %s %d", itemType, id)
		}
		return notVisible(err, "idea.Sees", itemType, id)
	})
}
