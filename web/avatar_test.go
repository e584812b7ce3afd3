package web_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant/tenanttest"
)

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	img.Set(0, 0, color.RGBA{200, 30, 30, 255})
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

func avatarBody(t *testing.T, data []byte) (string, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("avatar", "me.png")
	require.NoError(t, err)
	_, _ = fw.Write(data)
	require.NoError(t, w.Close())
	return buf.String(), w.FormDataContentType()
}

func TestAvatarUpload(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "faces")
	other := env.City(t, "otherfaces")
	h := newHarness(t, env, serverOpts{})
	register(t, h, c.DefaultHost, "face@example.org")
	cookie, csrf := login(t, h, c.DefaultHost, "face@example.org")
	put := func(data []byte) response {
		body, ctype := avatarBody(t, data)
		return h.callRaw(t, "PUT", c.DefaultHost, "/api/v1/me/avatar", ctype, body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	p := requireProblem(t, put([]byte("GIF89a not really")), 422, "invalid")
	require.Contains(t, p.Detail, "PNG or JPEG")
	p = requireProblem(t, put(append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)), 422, "invalid")
	require.Contains(t, p.Detail, "avatar")
	p = requireProblem(t, put(pngBytes(t, 5000, 1)), 422, "invalid")
	require.Contains(t, p.Detail, "4096")
	p = requireProblem(t, put(bytes.Repeat([]byte("x"), 3<<20)), 422, "invalid")
	require.Contains(t, p.Detail, "2 MB")

	img := pngBytes(t, 64, 64)
	r := put(img)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	me := h.call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", cookie)
	require.Contains(t, me.Body, `"avatar":"`)
	i := strings.Index(me.Body, `"avatar":"`) + len(`"avatar":"`)
	name := me.Body[i : i+strings.IndexByte(me.Body[i:], '"')]
	got := h.get(t, c.DefaultHost, "/avatars/"+name)
	require.Equal(t, http.StatusOK, got.Status)
	require.Equal(t, string(img), got.Body)
	require.Equal(t, "image/png", got.Header.Get("Content-Type"))
	// The same file name is unknown on another city, and names cannot escape.
	require.Equal(t, http.StatusNotFound, h.get(t, other.DefaultHost, "/avatars/"+name).Status)
	require.Equal(t, http.StatusNotFound, h.get(t, c.DefaultHost, "/avatars/..%2f..%2fsecret.png").Status)
	// Replacing removes the old file from service.
	require.Equal(t, http.StatusOK, put(pngBytes(t, 32, 32)).Status)
	require.Equal(t, http.StatusNotFound, h.get(t, c.DefaultHost, "/avatars/"+name).Status)
}
