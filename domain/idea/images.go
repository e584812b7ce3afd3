package idea

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/media"
	"agora/tenant"
)

// MaxImages is how many pictures an idea can carry.
const MaxImages = 5

// ready completes an idea read from the database: lists never nil, and
// each picture's address.
func (it *Idea) ready() {
	if it.Topics == nil {
		it.Topics = pq.Int64Array{}
	}
	it.Images = withURLs(it.ID, it.Images)
}

// withURLs sets the address each image is served from.
func withURLs(ideaID int64, imgs []Image) []Image {
	if imgs == nil {
		return Images{}
	}
	for i := range imgs {
		imgs[i].URL = fmt.Sprintf("/ideas/%d/images/%s", ideaID, imgs[i].Name)
	}
	return imgs
}

// AddImage stores a PNG or JPEG picture for an idea (the caller decided
// the actor may edit it). Errors: errs.Invalid naming "image",
// errs.NotFound, errs.Conflict when the idea has MaxImages already.
func (s *Service) AddImage(ctx context.Context, actor, ideaID int64, data []byte, storageDir string) (*Image, error) {
	const op = "idea.AddImage"
	name, err := media.Save(ctx, op, "image", storageDir, "ideas", fmt.Sprint(ideaID), data)
	if err != nil {
		return nil, err
	}
	var img Image
	err = s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var count int
		err := tx.GetContext(ctx, &count, `SELECT (SELECT count(*) FROM idea_images WHERE idea_id = i.id) FROM ideas i
			WHERE i.id = $1 AND i.deleted_at IS NULL FOR UPDATE`, ideaID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "no idea %d", ideaID)
		}
		if err != nil {
			return err
		}
		if count >= MaxImages {
			return errs.InvalidField(op, "image", "an idea has at most %d images", MaxImages).WithRule("too_many_images", MaxImages)
		}
		if err := tx.GetContext(ctx, &img, `INSERT INTO idea_images (idea_id, name, position) VALUES ($1, $2, $3) RETURNING id, name`,
			ideaID, name, count); err != nil {
			return err
		}
		return recordOnIdea(ctx, tx, actor, "idea.image_added", ideaID, map[string]any{"image_id": img.ID})
	})
	if err != nil {
		media.Remove(ctx, storageDir, "ideas", name)
		return nil, err
	}
	return &withURLs(ideaID, []Image{img})[0], nil
}

// RemoveImage deletes an idea's picture. Errors: errs.NotFound.
func (s *Service) RemoveImage(ctx context.Context, actor, ideaID, imageID int64, storageDir string) error {
	var name string
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		err := tx.GetContext(ctx, &name, `DELETE FROM idea_images WHERE id = $1 AND idea_id = $2 RETURNING name`, imageID, ideaID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E("idea.RemoveImage", errs.NotFound, "no image %d on idea %d", imageID, ideaID)
		}
		if err != nil {
			return err
		}
		return recordOnIdea(ctx, tx, actor, "idea.image_removed", ideaID, map[string]any{"image_id": imageID})
	})
	if err == nil {
		media.Remove(ctx, storageDir, "ideas", name)
	}
	return err
}

// ImageFile returns the path of a picture of a live, visible idea of this
// city. Errors: errs.NotFound.
func (s *Service) ImageFile(ctx context.Context, ideaID int64, name, storageDir string) (string, error) {
	path := media.Path(ctx, storageDir, "ideas", name)
	var found bool
	if path != "" {
		err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
			return tx.GetContext(ctx, &found, `SELECT EXISTS (SELECT 1 FROM idea_images m JOIN ideas i ON i.id = m.idea_id
				WHERE m.idea_id = $1 AND m.name = $2 AND i.deleted_at IS NULL AND i.hidden_at IS NULL)`, ideaID, name)
		})
		if err != nil {
			return "", err
		}
	}
	if !found {
		return "", errs.E("idea.ImageFile", errs.NotFound, "no such image")
	}
	return path, nil
}

// recordOnIdea logs an action on an idea with its project.
func recordOnIdea(ctx context.Context, tx *tenant.Tx, actor int64, action string, ideaID int64, payload map[string]any) error {
	var project int64
	if err := tx.GetContext(ctx, &project, `SELECT project_id FROM ideas WHERE id = $1`, ideaID); err != nil {
		return err
	}
	_, err := activity.Record(ctx, tx, activity.Activity{Actor: actor, Action: action, ItemType: "idea", ItemID: ideaID,
		ProjectID: project, Payload: payload})
	return err
}
