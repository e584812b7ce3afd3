package idea

import (
	"agora/domain/user"
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/notify"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/tenant"
)

// Comment is one comment, top-level or a reply. A deleted comment stays in
// the thread with its body emptied and who deleted it ("author", "staff");
// a comment a moderator hid reads as deleted_by "hidden" until restored.
type Comment struct {
	ID         CommentID  `db:"id" json:"id"`
	IdeaID     ID         `db:"idea_id" json:"idea_id"`
	ParentID   *CommentID `db:"parent_id" json:"parent_id"`
	AuthorID   *user.ID   `db:"author_id" json:"author_id"`
	AuthorName string     `db:"author_name" json:"author_name"`
	// AuthorHandle is how to mention the author (@handle); "" once deleted.
	AuthorHandle string    `db:"author_handle" json:"author_handle"`
	Body         string    `db:"body" json:"body"` // sanitised HTML
	DeletedBy    *string   `db:"deleted_by" json:"deleted_by"`
	Likes        int       `db:"likes_count" json:"likes_count"`
	Dislikes     int       `db:"dislikes_count" json:"dislikes_count"`
	CreatedAt    time.Time `db:"created_at" json:"created_at"`
	UpdatedAt    time.Time `db:"updated_at" json:"updated_at"`
	Replies      []Comment `db:"-" json:"replies,omitempty"`
}

const selectComment = `SELECT c.id, c.idea_id, c.parent_id, c.author_id,
	CASE WHEN u.id IS NULL OR u.deleted_at IS NOT NULL THEN '' ELSE u.first_name || ' ' || left(u.last_name, 1) || '.' END AS author_name,
	CASE WHEN u.id IS NULL OR u.deleted_at IS NOT NULL THEN '' ELSE u.handle END AS author_handle,
	CASE WHEN c.hidden_at IS NULL THEN c.body ELSE '' END AS body,
	CASE WHEN c.hidden_at IS NOT NULL AND c.deleted_by IS NULL THEN 'hidden' ELSE c.deleted_by END AS deleted_by,
	c.likes_count, c.dislikes_count, c.created_at, c.updated_at
	FROM comments c LEFT JOIN users u ON u.id = c.author_id`

// AddComment posts the actor's comment on an idea (parentID 0 for top
// level) when the current phase lets them comment, and counts it on the
// idea in the same transaction. Errors: errs.Invalid naming the field,
// errs.NotFound, the denial of the phase's rule.
func (s *Service) AddComment(ctx context.Context, a permission.Actor, ideaID ID, parentID CommentID, body string) (*Comment, error) {
	const op = "idea.AddComment"
	var parent any
	if parentID > 0 {
		parent = parentID
	}
	author := a.UserID
	var id int64
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		it, pl, err := lockIdea(ctx, tx, a, op, ideaID)
		if err == nil {
			err = pl.may(ctx, tx, op, permission.Comment)
		}
		if err == nil {
			err = clean(ctx, op, "body", body)
		}
		if err != nil {
			return err
		}
		html, text := Sanitize(body)
		switch {
		case text == "":
			return errs.InvalidField(op, "body", "is required").WithRule("required")
		case len(html) > 10000:
			return errs.InvalidField(op, "body", "must be at most 10000 characters").WithRule("too_long", 10000)
		}
		project := it.Project
		if _, err := tx.ExecContext(ctx, `UPDATE ideas SET comments_count = comments_count + 1 WHERE id = $1`, ideaID); err != nil {
			return err
		}
		err = tx.GetContext(ctx, &id, `INSERT INTO comments (idea_id, parent_id, author_id, body) VALUES ($1, $2, $3, $4) RETURNING id`,
			ideaID, parent, author, html)
		var pe *pq.Error
		if errors.As(err, &pe) && (pe.Code == "23514" || pe.Code == "23503") {
			return errs.InvalidField(op, "parent_id", "must be a top-level comment of this idea").WithRule("reply_parent")
		}
		if err != nil {
			return err
		}
		act, err := activity.RecordAndFanout(ctx, tx, activity.Activity{Actor: author, Action: "comment.created", ItemType: "comment",
			ItemID: id, ProjectID: int64(project), Payload: map[string]any{"idea_id": ideaID}})
		if err != nil {
			return err
		}
		// Those mentioned who may see the idea hear of it as a mention, not
		// a second time as followers.
		mentioned, err := notify.Mentioned(ctx, tx, author, text)
		if err == nil {
			mentioned, err = canSee(ctx, tx, int64(project), mentioned)
		}
		if err == nil {
			err = notify.Mentions(ctx, tx, act, int64(ideaID), author, mentioned)
		}
		if err != nil {
			return err
		}
		// The author of the comment answered hears of the reply.
		if parentID > 0 {
			var to []int64
			if err := tx.SelectContext(ctx, &to, `SELECT c.author_id FROM comments c JOIN users u ON u.id = c.author_id
				WHERE c.id = $1 AND u.deleted_at IS NULL AND c.author_id <> $2 AND NOT c.author_id = ANY($3)`,
				parentID, author, pq.Int64Array(append([]int64{}, mentioned...))); err != nil {
				return err
			}
			if to, err = canSee(ctx, tx, int64(project), to); err != nil {
				return err
			}
			if err := notify.Users(ctx, tx, act, int64(ideaID), author, notify.CommentOnYourComment, to); err != nil {
				return err
			}
			mentioned = append(mentioned, to...)
		}
		return notify.IdeaFollowers(ctx, tx, act, int64(ideaID), author, notify.CommentOnFollowed, notify.CommentOnYourIdea, mentioned...)
	})
	if err != nil {
		return nil, err
	}
	return s.comment(ctx, CommentID(id))
}

// canSee keeps the users who may see the project (on tx), by the same rule
// as every page: project.CanView with their role, groups and projects.
func canSee(ctx context.Context, tx *tenant.Tx, projectID int64, users []int64) ([]int64, error) {
	if len(users) == 0 {
		return nil, nil
	}
	var p project.Project
	if err := tx.GetContext(ctx, &p, `SELECT id, status, visibility FROM projects WHERE id = $1`, projectID); err != nil {
		return nil, err
	}
	if err := tx.SelectContext(ctx, &p.Groups, `SELECT group_id FROM project_groups WHERE project_id = $1`, projectID); err != nil {
		return nil, err
	}
	var out []int64
	now := time.Now()
	for _, id := range users {
		var u struct {
			Role      string     `db:"role"`
			Confirmed bool       `db:"confirmed"`
			Blocked   *time.Time `db:"blocked_until"`
		}
		if err := tx.GetContext(ctx, &u, `SELECT role, email_confirmed_at IS NOT NULL AS confirmed, blocked_until FROM users WHERE id = $1`, id); err != nil {
			return nil, err
		}
		a, err := project.WithMemberships(ctx, tx, permission.Actor{UserID: id, Role: u.Role, Confirmed: u.Confirmed, BlockedUntil: u.Blocked})
		if err != nil {
			return nil, err
		}
		if project.CanView(p, a, now) {
			out = append(out, id)
		}
	}
	return out, nil
}

func (s *Service) comment(ctx context.Context, id CommentID) (*Comment, error) {
	var c Comment
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error { return tx.GetContext(ctx, &c, selectComment+` WHERE c.id = $1`, id) })
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("idea.Comment", errs.NotFound, "no comment %d", id)
	}
	c.Body = BodyHTML(c.Body)
	return &c, err
}

// Comment returns one comment. Errors: errs.NotFound.
func (s *Service) Comment(ctx context.Context, id CommentID) (*Comment, error) {
	return s.comment(ctx, id)
}

// Comments returns an idea's thread: top-level comments, oldest first, each
// with its replies (one query).
func (s *Service) Comments(ctx context.Context, ideaID ID) ([]Comment, error) {
	var all []Comment
	if err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &all, selectComment+` WHERE c.idea_id = $1 ORDER BY c.created_at, c.id`, ideaID)
	}); err != nil {
		return nil, err
	}
	var top []Comment
	index := map[CommentID]int{}
	for i := range all {
		all[i].Body = BodyHTML(all[i].Body)
	}
	for _, c := range all {
		if c.ParentID == nil {
			index[c.ID] = len(top)
			top = append(top, c)
		}
	}
	for _, c := range all {
		if c.ParentID != nil {
			if i, ok := index[*c.ParentID]; ok {
				top[i].Replies = append(top[i].Replies, c)
			}
		}
	}
	return top, nil
}

// lockComment locks live comment id for a write and reads the place of the
// actor's action on it. A comment the actor may not see is "no comment".
// Errors: errs.Unauthenticated for the anonymous, errs.NotFound.
func lockComment(ctx context.Context, tx *tenant.Tx, a permission.Actor, op string, id CommentID) (author *user.ID, ideaID ID, pl *place, err error) {
	if a.Anonymous() {
		return nil, 0, nil, errs.E(op, errs.Unauthenticated, "log in first").WithRule("log_in")
	}
	var row struct {
		Author  *user.ID   `db:"author_id"`
		IdeaID  ID         `db:"idea_id"`
		Project project.ID `db:"project_id"`
	}
	err = tx.GetContext(ctx, &row, `SELECT c.author_id, c.idea_id, i.project_id FROM comments c JOIN ideas i ON i.id = c.idea_id
		WHERE c.id = $1 AND c.deleted_by IS NULL AND i.deleted_at IS NULL AND i.hidden_at IS NULL FOR UPDATE OF c`, id)
	if isNoRows(err) {
		return nil, 0, nil, errs.E(op, errs.NotFound, "no comment %d", id)
	}
	if err != nil {
		return nil, 0, nil, err
	}
	pl, err = at(ctx, tx, a, row.Project, true)
	if err == nil && !pl.visible() {
		err = errs.E(op, errs.NotFound, "no comment %d", id)
	}
	if err != nil {
		return nil, 0, nil, notVisible(err, op, "comment", int64(id))
	}
	return row.Author, row.IdeaID, pl, nil
}

// EditComment changes the body of the actor's own comment, while the
// current phase lets them comment (staff whatever the phase), through the
// profanity filter. Errors: errs.Forbidden for another's comment,
// errs.Invalid, errs.NotFound.
func (s *Service) EditComment(ctx context.Context, a permission.Actor, id CommentID, body string) (*Comment, error) {
	const op = "idea.EditComment"
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		author, _, pl, err := lockComment(ctx, tx, a, op, id)
		if err == nil && !pl.staff() {
			err = pl.may(ctx, tx, op, permission.Comment)
		}
		if err == nil {
			err = clean(ctx, op, "body", body)
		}
		if err != nil {
			return err
		}
		html, text := Sanitize(body)
		if text == "" {
			return errs.InvalidField(op, "body", "is required").WithRule("required")
		}
		if author == nil || int64(*author) != a.UserID {
			return errs.E(op, errs.Forbidden, "only its author can edit a comment").WithRule("comment_author")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE comments SET body = $2, updated_at = now() WHERE id = $1`, id, html); err != nil {
			return err
		}
		return recordOnComment(ctx, tx, a.UserID, "comment.updated", int64(id), nil)
	})
	if err != nil {
		return nil, err
	}
	return s.comment(ctx, id)
}

// DeleteComment soft-deletes a comment: it stays in the thread as deleted by
// its author or by staff, its body erased, and leaves the idea's count. Its
// author or the project's staff may. It returns the comment's idea.
// Errors: errs.Unauthenticated, errs.Forbidden, errs.NotFound.
func (s *Service) DeleteComment(ctx context.Context, a permission.Actor, id CommentID) (ideaID ID, err error) {
	const op = "idea.DeleteComment"
	err = s.db.InTx(ctx, func(tx *tenant.Tx) error {
		author, idea, pl, err := lockComment(ctx, tx, a, op, id)
		if err != nil {
			return err
		}
		ideaID = idea
		by := "author"
		if author == nil || int64(*author) != a.UserID {
			if !pl.staff() {
				return errs.E(op, errs.Forbidden, "only its author or staff can delete a comment").WithRule("comment_author_or_staff")
			}
			by = "staff"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE comments SET body = '', deleted_by = $2, updated_at = now() WHERE id = $1`, id, by); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ideas SET comments_count = comments_count - 1 WHERE id = $1`, ideaID); err != nil {
			return err
		}
		return recordOnComment(ctx, tx, a.UserID, "comment.deleted", int64(id), map[string]any{"by": by})
	})
	return ideaID, err
}

// recordOnComment logs an action on a comment with its idea and project.
func recordOnComment(ctx context.Context, tx *tenant.Tx, actor int64, action string, id int64, payload map[string]any) error {
	var where struct {
		IdeaID    int64 `db:"idea_id"`
		ProjectID int64 `db:"project_id"`
	}
	if err := tx.GetContext(ctx, &where, `SELECT c.idea_id, i.project_id FROM comments c JOIN ideas i ON i.id = c.idea_id WHERE c.id = $1`, id); err != nil {
		return err
	}
	if payload == nil {
		payload = map[string]any{}
	}
	payload["idea_id"] = where.IdeaID
	_, err := activity.Record(ctx, tx, activity.Activity{Actor: actor, Action: action, ItemType: "comment", ItemID: id,
		ProjectID: where.ProjectID, Payload: payload})
	return err
}
