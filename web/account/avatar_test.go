package account_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestAvatarUpload(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "faces")
	other := env.City(t, "otherfaces")
	h := webtest.New(t, env, webtest.Options{})
	h.Register(t, c.DefaultHost, "face@example.org")
	cookie, csrf := h.Login(t, c.DefaultHost, "face@example.org")
	put := func(data []byte) webtest.Response {
		body, ctype := webtest.Multipart(t, nil, "avatar", "me.png", data)
		return h.CallRaw(t, "PUT", c.DefaultHost, "/api/v1/me/avatar", ctype, body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	p := webtest.RequireProblem(t, put([]byte("GIF89a not really")), 422, "invalid")
	require.Contains(t, p.Detail, "PNG or JPEG")
	p = webtest.RequireProblem(t, put(append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 100)...)), 422, "invalid")
	require.Contains(t, p.Detail, "avatar")
	p = webtest.RequireProblem(t, put(webtest.PNG(t, 5000, 1)), 422, "invalid")
	require.Contains(t, p.Detail, "4096")
	p = webtest.RequireProblem(t, put(bytes.Repeat([]byte("x"), 3<<20)), 422, "invalid")
	require.Contains(t, p.Detail, "2 MB")

	img := webtest.PNG(t, 64, 64)
	r := put(img)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	me := h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", cookie)
	require.Contains(t, me.Body, `"avatar":"`)
	i := strings.Index(me.Body, `"avatar":"`) + len(`"avatar":"`)
	name := me.Body[i : i+strings.IndexByte(me.Body[i:], '"')]
	got := h.Get(t, c.DefaultHost, "/avatars/"+name)
	require.Equal(t, http.StatusOK, got.Status)
	require.Equal(t, string(img), got.Body)
	require.Equal(t, "image/png", got.Header.Get("Content-Type"))
	// The same file name is unknown on another city, and names cannot escape.
	require.Equal(t, http.StatusNotFound, h.Get(t, other.DefaultHost, "/avatars/"+name).Status)
	require.Equal(t, http.StatusNotFound, h.Get(t, c.DefaultHost, "/avatars/..%2f..%2fsecret.png").Status)
	// Replacing removes the old file from service.
	require.Equal(t, http.StatusOK, put(webtest.PNG(t, 32, 32)).Status)
	require.Equal(t, http.StatusNotFound, h.Get(t, c.DefaultHost, "/avatars/"+name).Status)
}
