// Package follow records what users follow (projects, ideas, topics, areas),
// so that notifications and digests reach them.
package follow

import (
	"context"
	"time"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/tenant"
)

// tables maps a followable item type to the table that holds such items.
var tables = map[string]string{"project": "projects", "idea": "ideas", "topic": "topics", "area": "areas"}

// Follow is one followed item.
type Follow struct {
	ItemType  string    `db:"item_type" json:"item_type"`
	ItemID    int64     `db:"item_id" json:"item_id"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// Service manages follows through the scoped transaction.
type Service struct{ db *tenant.DB }

// NewService returns the follow service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

// Set follows (on) or unfollows (off) an item. Following needs the feature
// (the city's plan and admins), decided in the write; unfollowing is always
// possible. Errors: errs.Invalid for an unknown type, errs.NotFound for an
// unknown item, errs.FeatureUnavailable.
func (s *Service) Set(ctx context.Context, userID int64, itemType string, itemID int64, on bool) error {
	table, ok := tables[itemType]
	if !ok {
		return errs.InvalidField("follow.Set", "type", "%q is not project, idea, topic or area", itemType)
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if !on {
			res, err := tx.ExecContext(ctx, `DELETE FROM follows WHERE user_id = $1 AND item_type = $2 AND item_id = $3`, userID, itemType, itemID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return nil
			}
			_, err = activity.Record(ctx, tx, activity.Activity{Actor: userID, Action: "follow.removed", ItemType: itemType, ItemID: itemID})
			return err
		}
		if err := feature.EnabledIn(ctx, tx, feature.Follows); err != nil {
			return err
		}
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM `+table+` WHERE id = $1)`, itemID); err != nil {
			return err
		}
		if !exists {
			return errs.E("follow.Set", errs.NotFound, "no %s %d", itemType, itemID)
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO follows (user_id, item_type, item_id) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			userID, itemType, itemID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: userID, Action: "follow.created", ItemType: itemType, ItemID: itemID})
		return err
	})
}

// Of lists what a user follows, newest first.
func (s *Service) Of(ctx context.Context, userID int64) ([]Follow, error) {
	var out []Follow
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT item_type, item_id, created_at FROM follows WHERE user_id = $1 ORDER BY created_at DESC`, userID)
	})
	return out, err
}

// Status returns how many follow an item and whether userID does.
func (s *Service) Status(ctx context.Context, userID int64, itemType string, itemID int64) (count int, following bool, err error) {
	err = s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.QueryRowxContext(ctx, `SELECT count(*), coalesce(bool_or(user_id = $3), false) FROM follows WHERE item_type = $1 AND item_id = $2`,
			itemType, itemID, userID).Scan(&count, &following)
	})
	return count, following, err
}
