package kit

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// BodyLimit is what a group of routes accepts as a request body: its size,
// whether it may carry files (multipart), and how long the client has to
// send it. Every city route reads and bounds its whole body with readBody
// BEFORE it opens the door, so no database connection is ever held while a
// slow client is still sending.
type BodyLimit struct {
	max     int64
	files   bool
	timeout time.Duration
}

var (
	// TextBody: forms and JSON documents (ideas, comments, settings).
	TextBody = BodyLimit{max: 256 << 10, timeout: 20 * time.Second}
	// LongTextBody: documents with long texts in every language (campaigns).
	LongTextBody = BodyLimit{max: 2 << 20, timeout: 30 * time.Second}
	// FileBody: one uploaded file with its form (multipart). The limit is
	// above the 2 MB an image may have, so a picture just too large is told
	// so by the form (422) rather than refused outright.
	FileBody = BodyLimit{max: 10 << 20, files: true, timeout: 90 * time.Second}
)

// multipartMemory is how much of a multipart body is kept in memory.
const multipartMemory = 3 << 20

// keyBody holds the request's body as read by readBody (not for multipart).
const keyBody = "agora.body"

// bodyOf is the request's body as readBody read it; nil without one.
func bodyOf(c *gin.Context) []byte {
	b, _ := c.Get(keyBody)
	data, _ := b.([]byte)
	return data
}

// ReadBody reads the request's body whole, within l, before anything else
// runs: a body over the limit is answered 413, a multipart body on a route
// that takes no files 415, a body that breaks off 400. Multipart bodies are
// parsed with up to multipartMemory in memory and the rest in temporary
// files, which are removed when the request ends.
func (k *Kit) ReadBody(l BodyLimit) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		if r.Body == nil || r.Body == http.NoBody {
			c.Next()
			return
		}
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		multi := mt == "multipart/form-data"
		if multi && !l.files {
			k.Fail(c, http.StatusUnsupportedMediaType, "unsupported_media_type", "error.no_files")
			return
		}
		if r.ContentLength > l.max {
			k.Fail(c, http.StatusRequestEntityTooLarge, "too_large", "error.too_large", (l.max+(1<<20)-1)>>20)
			return
		}
		rc := http.NewResponseController(c.Writer)
		_ = rc.SetReadDeadline(time.Now().Add(l.timeout))
		body := http.MaxBytesReader(nil, r.Body, l.max)
		var err error
		if multi {
			r.Body = body
			err = r.ParseMultipartForm(multipartMemory)
			if r.MultipartForm != nil {
				form := r.MultipartForm
				defer func() { _ = form.RemoveAll() }()
			}
		} else {
			var data []byte
			if data, err = io.ReadAll(body); err == nil {
				r.Body = io.NopCloser(bytes.NewReader(data))
				r.ContentLength = int64(len(data))
				c.Set(keyBody, data)
			}
		}
		_ = rc.SetReadDeadline(time.Time{})
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			k.Fail(c, http.StatusRequestEntityTooLarge, "too_large", "error.too_large", (l.max+(1<<20)-1)>>20)
			return
		case err != nil:
			k.Fail(c, http.StatusBadRequest, "bad_request", "error.bad_body")
			return
		}
		c.Next()
	}
}
