// Package media stores the images people upload (avatars, idea pictures,
// project headers) under their city's storage directory, after checking
// that they are what they claim to be.
package media

import (
	"bytes"
	"context"
	"fmt"
	"image"
	_ "image/jpeg" // decoders for image validation
	_ "image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"

	"agora/domain/errs"
	"agora/domain/token"
	"agora/tenant"
)

// Image limits.
const (
	MaxBytes = 2 << 20
	MaxSide  = 4096
)

var imageTypes = map[string]string{"image/png": ".png", "image/jpeg": ".jpg"}

// nameRe is the shape of every stored file name: a prefix, a random part and
// the extension. Serving code refuses anything else before touching disk.
var nameRe = regexp.MustCompile(`^[0-9a-z]+-[A-Za-z0-9_-]{16}\.(png|jpg)$`)

// CheckImage reports whether data is a PNG or JPEG of at most MaxBytes and
// MaxSide pixels a side, and returns its file extension. Errors: errs.Invalid
// naming field and the rule.
func CheckImage(op, field string, data []byte) (string, error) {
	if len(data) == 0 {
		return "", errs.InvalidField(op, field, "choose an image file").WithRule("file_missing")
	}
	if len(data) > MaxBytes {
		return "", errs.InvalidField(op, field, "the image is larger than 2 MB").WithRule("file_size", 2)
	}
	ext, ok := imageTypes[http.DetectContentType(data)]
	if !ok {
		return "", errs.InvalidField(op, field, "the image must be a PNG or JPEG file").WithRule("image_type")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return "", errs.InvalidField(op, field, "the file is not a readable image").WithRule("image_type")
	}
	if cfg.Width > MaxSide || cfg.Height > MaxSide || cfg.Width < 1 || cfg.Height < 1 {
		return "", errs.InvalidField(op, field, "the image must be at most %d pixels a side", MaxSide).WithRule("image_side", MaxSide)
	}
	return ext, nil
}

// Dir is the directory of one kind of file ("avatars", "ideas", "projects")
// of the context's city.
func Dir(ctx context.Context, storageDir, kind string) string {
	t, _ := tenant.FromContext(ctx)
	return filepath.Join(tenant.StoragePath(storageDir, t.ID), kind)
}

// Save checks data as an image (see CheckImage), strips its metadata (see
// Strip) and writes it under the city's kind directory as
// "<prefix>-<random><ext>"; it returns the name.
func Save(ctx context.Context, op, field, storageDir, kind, prefix string, data []byte) (string, error) {
	ext, err := CheckImage(op, field, data)
	if err != nil {
		return "", err
	}
	if data, err = Strip(data, ext); err != nil {
		return "", errs.InvalidField(op, field, "the file is not a readable image").WithRule("image_type")
	}
	dir := Dir(ctx, storageDir, kind)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", err
	}
	secret, _ := token.New("")
	name := fmt.Sprintf("%s-%s%s", prefix, secret[:16], ext)
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o640); err != nil {
		return "", err
	}
	return name, nil
}

// Remove deletes a stored file, if it is there.
func Remove(ctx context.Context, storageDir, kind, name string) {
	if name != "" && nameRe.MatchString(filepath.Base(name)) {
		_ = os.Remove(filepath.Join(Dir(ctx, storageDir, kind), filepath.Base(name)))
	}
}

// Path is where a stored file of the city lives, or "" when name is not one
// Save could have made (so no name ever leaves the city's directory).
func Path(ctx context.Context, storageDir, kind, name string) string {
	if !nameRe.MatchString(name) {
		return ""
	}
	return filepath.Join(Dir(ctx, storageDir, kind), name)
}
