// Package notify is a city's in-app notifications: recorded in the same
// transaction as the event that causes them, listed and marked read.
package notify

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/domain/feature"
	"agora/tenant"
)

// Kinds of notification.
const (
	CommentOnYourIdea = "comment_on_your_idea" // someone commented on an idea you posted
	CommentOnFollowed = "comment_on_followed"  // someone commented on an idea you follow
	StatusChanged     = "status_changed"       // an idea you follow changed status
	OfficialFeedback  = "official_feedback"    // the city answered an idea you follow
	Mention           = "mention"              // someone mentioned you (@handle) in a comment
	// CommentOnYourComment: someone replied to your comment.
	CommentOnYourComment = "comment_on_your_comment"
)

// mentionRe finds @handles in plain text: an @ that does not follow a
// letter, digit or another @ (so e-mail addresses are not mentions).
var mentionRe = regexp.MustCompile(`(?:^|[^\p{L}\p{N}@._-])@([a-z0-9][a-z0-9-]{0,60})`)

// Handles returns the distinct @handles mentioned in text, at most 20.
func Handles(text string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range mentionRe.FindAllStringSubmatch(strings.ToLower(text), -1) {
		h := strings.TrimRight(m[1], "-")
		if !seen[h] && len(out) < 20 {
			seen[h] = true
			out = append(out, h)
		}
	}
	return out
}

// Mentioned returns the live users, other than the actor, whose handles
// text mentions.
func Mentioned(ctx context.Context, tx sqlx.QueryerContext, actor int64, text string) ([]int64, error) {
	handles := Handles(text)
	if len(handles) == 0 {
		return nil, nil
	}
	var ids []int64
	err := sqlx.SelectContext(ctx, tx, &ids, `SELECT id FROM users WHERE handle = ANY($1) AND id <> $2 AND deleted_at IS NULL ORDER BY id`,
		pq.StringArray(handles), actor)
	return ids, err
}

// Mentions notifies, on tx, the users in ids that actor mentioned them in
// a comment on idea (the caller keeps only those who may see it); activity
// is the comment's activity.
func Mentions(ctx context.Context, tx sqlx.ExecerContext, activity, ideaID, actor int64, ids []int64) error {
	return Users(ctx, tx, activity, ideaID, actor, Mention, ids)
}

// Users notifies, on tx, the users in ids with kind about idea.
func Users(ctx context.Context, tx sqlx.ExecerContext, activity, ideaID, actor int64, kind string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, kind, idea_id, actor_id, activity_id)
		SELECT unnest($3::bigint[]), $4, $1, $2, $5`, ideaID, actor, pq.Int64Array(ids), kind, activity)
	return err
}

// Notification is one notification of a user.
type Notification struct {
	ID        int64      `db:"id" json:"id"`
	Kind      string     `db:"kind" json:"kind"`
	IdeaID    *int64     `db:"idea_id" json:"idea_id"`
	IdeaTitle string     `db:"idea_title" json:"idea_title"`
	ActorName string     `db:"actor_name" json:"actor_name"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	ReadAt    *time.Time `db:"read_at" json:"read_at"`
}

// IdeaFollowers notifies, on tx, everyone who follows idea (its author
// included) except the actor and those in except, with kind; the idea's
// author gets authorKind instead when it is not empty. activity is the
// activity that causes them.
func IdeaFollowers(ctx context.Context, tx sqlx.ExecerContext, activity, ideaID, actor int64, kind, authorKind string, except ...int64) error {
	if authorKind == "" {
		authorKind = kind
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO notifications (user_id, kind, idea_id, actor_id, activity_id)
		SELECT f.user_id, CASE WHEN f.user_id = i.author_id THEN $4 ELSE $3 END, $1, nullif($2, 0), $6
		  FROM follows f JOIN ideas i ON i.id = f.item_id
		 WHERE f.item_type = 'idea' AND f.item_id = $1 AND f.user_id <> $2 AND NOT f.user_id = ANY($5)`,
		ideaID, actor, kind, authorKind, pq.Int64Array(append([]int64{}, except...)), activity)
	return err
}

// Service lists and marks a user's notifications.
type Service struct{ db *tenant.DB }

// NewService returns the notification service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

// List returns the user's latest 50 notifications and the unread count.
func (s *Service) List(ctx context.Context, userID int64) ([]Notification, int, error) {
	var out []Notification
	var unread int
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.GetContext(ctx, &unread, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &out, `SELECT n.id, n.kind, n.idea_id, coalesce(i.title, '') AS idea_title,
			CASE WHEN a.id IS NULL OR a.deleted_at IS NOT NULL THEN '' ELSE a.first_name || ' ' || left(a.last_name, 1) || '.' END AS actor_name,
			n.created_at, n.read_at
			FROM notifications n LEFT JOIN ideas i ON i.id = n.idea_id LEFT JOIN users a ON a.id = n.actor_id
			WHERE n.user_id = $1 ORDER BY n.created_at DESC, n.id DESC LIMIT 50`, userID)
	})
	return out, unread, err
}

// Header is what a page's header needs to know of the signed-in user: their
// unread notifications and whether they moderate any project (one query).
func (s *Service) Header(ctx context.Context, userID int64) (unread int, moderates bool, err error) {
	err = s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		err := tx.QueryRowxContext(ctx, `SELECT (SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL),
			EXISTS (SELECT 1 FROM project_moderators WHERE user_id = $1)`, userID).Scan(&unread, &moderates)
		if err != nil || !moderates {
			return err
		}
		// The role has no powers while the city may not use it.
		moderates, err = feature.On(ctx, tx, feature.ProjectModerators)
		return err
	})
	return unread, moderates, err
}

// Unread counts the user's unread notifications (the header's badge).
func (s *Service) Unread(ctx context.Context, userID int64) (int, error) {
	var n int
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &n, `SELECT count(*) FROM notifications WHERE user_id = $1 AND read_at IS NULL`, userID)
	})
	return n, err
}

// MarkRead marks the user's notifications read: those in ids, or all when ids
// is empty.
func (s *Service) MarkRead(ctx context.Context, userID int64, ids []int64) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if len(ids) == 0 {
			_, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL`, userID)
			return err
		}
		for _, id := range ids {
			if _, err := tx.ExecContext(ctx, `UPDATE notifications SET read_at = coalesce(read_at, now()) WHERE user_id = $1 AND id = $2`, userID, id); err != nil {
				return err
			}
		}
		return nil
	})
}
