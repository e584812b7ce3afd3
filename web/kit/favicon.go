package kit

import (
	"io/fs"
	"net/http"

	"github.com/gin-gonic/gin"
)

// faviconICO is Agora's icon (static/favicon.svg drawn at 32 pixels) as
// an ICO file holding one PNG.
var faviconICO, _ = fs.ReadFile(staticFiles, "static/favicon.ico")

// Favicon answers /favicon.ico, which browsers and feed readers ask for
// whatever a page links: the layout links /static/favicon.svg, and this
// is the same icon for those that want an ICO.
func Favicon(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=86400")
	c.Data(http.StatusOK, "image/x-icon", faviconICO)
}
