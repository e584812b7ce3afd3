package web_test

import (
	"bytes"
	"encoding/binary"
	"encoding/xml"
	"image/png"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestFavicon: every page links Agora's icon, an SVG served from /static,
// and /favicon.ico answers on city and platform hosts with a valid ICO
// holding a 32-pixel PNG.
func TestFavicon(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	c := env.City(t, "icons")
	for _, host := range []string{c.DefaultHost, tenanttest.PlatformHost} {
		home := h.Get(t, host, "/")
		webtest.RequireHTML(t, home, 200)
		require.Contains(t, home.Body, `<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">`)
		require.Contains(t, home.Body, `<link rel="icon" href="/favicon.ico" sizes="32x32">`)

		svg := h.Get(t, host, "/static/favicon.svg")
		require.Equal(t, 200, svg.Status)
		require.Contains(t, svg.Header.Get("Content-Type"), "image/svg+xml")
		var root struct {
			XMLName xml.Name
			ViewBox string `xml:"viewBox,attr"`
		}
		require.NoError(t, xml.Unmarshal([]byte(svg.Body), &root))
		require.Equal(t, "svg", root.XMLName.Local)
		require.Equal(t, "0 0 32 32", root.ViewBox)

		ico := h.Get(t, host, "/favicon.ico")
		require.Equal(t, 200, ico.Status, "%s: %s", host, ico.Body)
		require.Equal(t, "image/x-icon", ico.Header.Get("Content-Type"))
		b := []byte(ico.Body)
		require.GreaterOrEqual(t, len(b), 22)
		require.Equal(t, []byte{0, 0, 1, 0, 1, 0}, b[:6], "an icon file with one image")
		size, offset := binary.LittleEndian.Uint32(b[14:18]), binary.LittleEndian.Uint32(b[18:22])
		require.Equal(t, len(b), int(offset+size))
		img, err := png.Decode(bytes.NewReader(b[offset:]))
		require.NoError(t, err)
		require.Equal(t, 32, img.Bounds().Dx())
		require.Equal(t, int(b[6]), img.Bounds().Dy(), "the directory says the PNG's size")
	}
}
