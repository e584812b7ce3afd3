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
	"agora/domain/permission"
	"agora/domain/project"
	"agora/tenant"
)

// MaxImages is how many pictures an idea can carry.
const MaxImages = 5

// ready completes an idea read from the database: lists never nil, each
// picture's address, and the body's HTML (see BodyHTML).
func (it *Idea) ready() {
	if it.Topics == nil {
		it.Topics = pq.Int64Array{}
	}
	it.Images = withURLs(it.ID, it.Images)
	it.Body = BodyHTML(it.Body)
}

// withURLs sets the address each image is served from.
func withURLs(ideaID ID, imgs []Image) []Image {
	if imgs == nil {
		return Images{}
	}
	for i := range imgs {
		imgs[i].URL = fmt.Sprintf("/ideas/%d/images/%s", ideaID, imgs[i].Name)
	}
	return imgs
}

// AddImage stores a PNG or JPEG picture for an idea: whoever may edit the
// idea (see Update). read gives the picture once the rules allow it (an
// upload that is refused is not even read). Errors: errs.Invalid naming
// "image", errs.NotFound, errs.Forbidden, errs.Conflict when the idea has
// MaxImages already.
func (s *Service) AddImage(ctx context.Context, a permission.Actor, ideaID ID, read func() ([]byte, error), storageDir string) (*Image, error) {
	const op = "idea.AddImage"
	// The rules first (a refused picture is never stored), then the file,
	// then the row, in the transaction that decided.
	var img Image
	var name string
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		it, pl, err := lockOwnIdea(ctx, tx, a, op, ideaID)
		if err == nil {
			err = pl.edit(ctx, tx, op, it.AuthorID, it.Status)
		}
		if err != nil {
			return err
		}
		data, err := read()
		if err != nil {
			return err
		}
		if name, err = media.Save(ctx, op, "image", storageDir, "ideas", fmt.Sprint(ideaID), data); err != nil {
			return err
		}
		var count int
		if err := tx.GetContext(ctx, &count, `SELECT count(*) FROM idea_images WHERE idea_id = $1`, ideaID); err != nil {
			return err
		}
		if count >= MaxImages {
			return errs.InvalidField(op, "image", "an idea has at most %d images", MaxImages).WithRule("too_many_images", MaxImages)
		}
		if err := tx.GetContext(ctx, &img, `INSERT INTO idea_images (idea_id, name, position) VALUES ($1, $2, $3) RETURNING id, name`,
			ideaID, name, count); err != nil {
			return err
		}
		return recordOnIdea(ctx, tx, a.UserID, "idea.image_added", ideaID, map[string]any{"image_id": img.ID})
	})
	if err != nil {
		media.Remove(ctx, storageDir, "ideas", name)
		return nil, err
	}
	return &withURLs(ideaID, []Image{img})[0], nil
}

// RemoveImage deletes an idea's picture: whoever may edit the idea.
// Errors: errs.NotFound, errs.Forbidden.
func (s *Service) RemoveImage(ctx context.Context, a permission.Actor, ideaID ID, imageID int64, storageDir string) error {
	const op = "idea.RemoveImage"
	var name string
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		it, pl, err := lockOwnIdea(ctx, tx, a, op, ideaID)
		if err == nil {
			err = pl.edit(ctx, tx, op, it.AuthorID, it.Status)
		}
		if err != nil {
			return err
		}
		err = tx.GetContext(ctx, &name, `DELETE FROM idea_images WHERE id = $1 AND idea_id = $2 RETURNING name`, imageID, ideaID)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E("idea.RemoveImage", errs.NotFound, "no image %d on idea %d", imageID, ideaID)
		}
		if err != nil {
			return err
		}
		return recordOnIdea(ctx, tx, a.UserID, "idea.image_removed", ideaID, map[string]any{"image_id": imageID})
	})
	if err == nil {
		media.Remove(ctx, storageDir, "ideas", name)
	}
	return err
}

// ImageFile returns the path of a picture of a live idea the actor may see,
// and whether anyone at all may see it (so shared caches may keep it).
// Errors: errs.NotFound.
func (s *Service) ImageFile(ctx context.Context, a permission.Actor, ideaID ID, name, storageDir string) (path string, public bool, err error) {
	const op = "idea.ImageFile"
	path = media.Path(ctx, storageDir, "ideas", name)
	if path == "" {
		return "", false, errs.E(op, errs.NotFound, "no such image")
	}
	err = s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var projectID project.ID
		err := tx.GetContext(ctx, &projectID, `SELECT i.project_id FROM idea_images m JOIN ideas i ON i.id = m.idea_id
			WHERE m.idea_id = $1 AND m.name = $2 AND i.deleted_at IS NULL AND i.hidden_at IS NULL`, ideaID, name)
		if isNoRows(err) {
			return errs.E(op, errs.NotFound, "no such image")
		}
		if err != nil {
			return err
		}
		visible, open, err := project.Sees(ctx, tx, a, projectID)
		if err == nil && !visible {
			err = errs.E(op, errs.NotFound, "no such image")
		}
		if err != nil {
			return notVisible(err, op, "image", int64(ideaID))
		}
		public = open
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return path, public, nil
}

// recordOnIdea logs an action on an idea with its project.
func recordOnIdea(ctx context.Context, tx *tenant.Tx, actor int64, action string, ideaID ID, payload map[string]any) error {
	var project int64
	if err := tx.GetContext(ctx, &project, `SELECT project_id FROM ideas WHERE id = $1`, ideaID); err != nil {
		return err
	}
	_, err := activity.Record(ctx, tx, activity.Activity{Actor: actor, Action: action, ItemType: "idea", ItemID: int64(ideaID),
		ProjectID: project, Payload: payload})
	return err
}
