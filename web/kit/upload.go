package kit

import (
	"errors"
	"io"
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/media"
)

// ReadImage reads the uploaded image in field of a multipart form (routes
// that take files have it parsed by ReadBody), refusing files over the
// limit of images.
func ReadImage(c *gin.Context, field string) ([]byte, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, media.MaxBytes+64<<10)
	fh, err := c.FormFile(field)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errs.InvalidField("upload", field, "the image is larger than 2 MB").WithRule("file_size", 2)
		}
		return nil, errs.InvalidField("upload", field, "choose an image file").WithRule("file_missing")
	}
	if fh.Size > media.MaxBytes {
		return nil, errs.InvalidField("upload", field, "the image is larger than 2 MB").WithRule("file_size", 2)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, media.MaxBytes+1))
}
