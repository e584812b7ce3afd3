package user

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"agora/domain/errs"
	"agora/domain/media"
	"agora/tenant"
)

// SetAvatar stores a PNG or JPEG image (at most media.MaxBytes and
// media.MaxSide pixels a side) as the user's avatar, replacing the previous
// one. Errors: errs.Invalid naming "avatar" and the rule.
func (s *Service) SetAvatar(ctx context.Context, id ID, data []byte, storageDir string) (string, error) {
	name, err := media.Save(ctx, "user.SetAvatar", "avatar", storageDir, "avatars", fmt.Sprint(id), data)
	if err != nil {
		return "", err
	}
	var old string
	err = s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.GetContext(ctx, &old, `SELECT avatar_path FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE users SET avatar_path = $2, updated_at = now() WHERE id = $1`, id, name)
		return err
	})
	if err != nil {
		media.Remove(ctx, storageDir, "avatars", name)
		return "", err
	}
	media.Remove(ctx, storageDir, "avatars", old)
	return name, nil
}

// AvatarFile returns the path of an avatar of this city by its file name, if
// a live user has it. Errors: errs.NotFound.
func (s *Service) AvatarFile(ctx context.Context, name, storageDir string) (string, error) {
	path := media.Path(ctx, storageDir, "avatars", name)
	if path == "" {
		return "", errs.E("user.AvatarFile", errs.NotFound, "no such avatar")
	}
	var found bool
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &found, `SELECT EXISTS (SELECT 1 FROM users WHERE avatar_path = $1 AND deleted_at IS NULL)`, name)
	})
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if !found {
		return "", errs.E("user.AvatarFile", errs.NotFound, "no such avatar")
	}
	return path, nil
}

// AvatarName returns the user's avatar file name ("" when none).
func (s *Service) AvatarName(ctx context.Context, id ID) (string, error) {
	var name string
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &name, `SELECT avatar_path FROM users WHERE id = $1`, id)
	})
	return name, err
}
