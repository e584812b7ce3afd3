package user

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for avatar validation
	_ "image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"agora/domain/errs"
	"agora/domain/token"
	"agora/tenant"
)

// Avatar limits.
const (
	AvatarMaxBytes = 2 << 20
	AvatarMaxSide  = 4096
)

var avatarTypes = map[string]string{"image/png": ".png", "image/jpeg": ".jpg"}

var avatarName = regexp.MustCompile(`^[0-9]+-[A-Za-z0-9_-]{16}\.(png|jpg)$`)

func avatarDir(storageDir string, id tenant.ID) string {
	return filepath.Join(tenant.StoragePath(storageDir, id), "avatars")
}

// SetAvatar stores a PNG or JPEG image (at most AvatarMaxBytes and
// AvatarMaxSide pixels a side) as the user's avatar, replacing the previous
// one. Errors: errs.Invalid naming "avatar" and the rule.
func (s *Service) SetAvatar(ctx context.Context, id ID, data []byte, storageDir string) (string, error) {
	const op = "user.SetAvatar"
	if len(data) == 0 {
		return "", errs.InvalidField(op, "avatar", "choose an image file").WithRule("file_missing")
	}
	if len(data) > AvatarMaxBytes {
		return "", errs.InvalidField(op, "avatar", "the image is larger than 2 MB").WithRule("file_size", 2)
	}
	ext, ok := avatarTypes[http.DetectContentType(data)]
	if !ok {
		return "", errs.InvalidField(op, "avatar", "the image must be a PNG or JPEG file").WithRule("image_type")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", errs.InvalidField(op, "avatar", "the file is not a readable image").WithRule("image_type")
	}
	if cfg.Width > AvatarMaxSide || cfg.Height > AvatarMaxSide || cfg.Width < 1 || cfg.Height < 1 {
		return "", errs.InvalidField(op, "avatar", "the image must be at most %d pixels a side", AvatarMaxSide).WithRule("image_side", AvatarMaxSide)
	}
	t, _ := tenant.FromContext(ctx)
	dir := avatarDir(storageDir, t.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	secret, _ := token.New("")
	name := fmt.Sprintf("%d-%s%s", id, secret[:16], ext)
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o640); err != nil {
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
		_ = os.Remove(filepath.Join(dir, name))
		return "", err
	}
	if old != "" {
		_ = os.Remove(filepath.Join(dir, filepath.Base(old)))
	}
	return name, nil
}

// AvatarFile returns the path of an avatar of this city by its file name, if
// a live user has it. Errors: errs.NotFound.
func (s *Service) AvatarFile(ctx context.Context, name, storageDir string) (string, error) {
	if !avatarName.MatchString(name) {
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
	t, _ := tenant.FromContext(ctx)
	return filepath.Join(avatarDir(storageDir, t.ID), name), nil
}

// AvatarName returns the user's avatar file name ("" when none).
func (s *Service) AvatarName(ctx context.Context, id ID) (string, error) {
	var name string
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &name, `SELECT avatar_path FROM users WHERE id = $1`, id)
	})
	return name, err
}
