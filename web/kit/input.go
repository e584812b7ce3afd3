package kit

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// Input is checked once, at the boundary, before any handler sees it: every
// path parameter, query value and form value must be valid UTF-8 without
// NUL (PostgreSQL stores neither), and a JSON body must not smuggle a NUL in
// as \u0000. A request that breaks this is answered 400 naming the part.
// Handlers can then pass strings to the database without a second thought.

// ValidText reports whether s can be stored as PostgreSQL text.
func ValidText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

// CheckInput is the middleware that refuses unreadable text (see above).
func (k *Kit) CheckInput(c *gin.Context) {
	for _, p := range c.Params {
		if !ValidText(p.Value) {
			k.BadInput(c, p.Key)
			return
		}
	}
	if name, ok := validValues(c.Request.URL.Query()); !ok {
		k.BadInput(c, name)
		return
	}
	// readBody has the body in memory, or parsed when it is multipart.
	switch ct := c.ContentType(); {
	case ct == "application/x-www-form-urlencoded", ct == "multipart/form-data":
		_ = c.Request.ParseForm() // multipart values are in PostForm already
		if name, ok := validValues(c.Request.PostForm); !ok {
			k.BadInput(c, name)
			return
		}
	case hasJSONNul(bodyOf(c)):
		k.BadInput(c, "body")
		return
	}
	c.Next()
}

// validValues returns the first name whose name or values are not valid
// text.
func validValues(v url.Values) (string, bool) {
	for name, vals := range v {
		if !ValidText(name) {
			return "parameter", false
		}
		for _, s := range vals {
			if !ValidText(s) {
				return name, false
			}
		}
	}
	return "", true
}

// hasJSONNul reports whether a JSON document holds a NUL character: a raw
// NUL byte, or the escape \u0000 (not an escaped backslash followed by
// "u0000", which is text).
func hasJSONNul(data []byte) bool {
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case 0:
			return true
		case '\\':
			if i+1 < len(data) && data[i+1] == 'u' && i+5 < len(data) && string(data[i+2:i+6]) == "0000" {
				return true
			}
			i++ // skip the escaped character
		}
	}
	return false
}

// BadInput answers 400 naming the part of the request that is not valid
// text, as a problem document or a page in the visitor's language.
func (k *Kit) BadInput(c *gin.Context, name string) {
	if WantsJSON(c) {
		loc := c.GetString(keyLocale)
		if loc == "" {
			loc = "en"
		}
		c.Header("Content-Language", loc)
		c.Render(http.StatusBadRequest, problemRender{Problem{
			Type: "about:blank", Title: k.I18n.T(loc, "error.bad_input.title"), Status: http.StatusBadRequest,
			Code: "bad_request", Detail: k.I18n.T(loc, "error.bad_input.body", name), Field: name, Instance: c.Request.URL.Path,
		}})
		c.Abort()
		return
	}
	k.Fail(c, http.StatusBadRequest, "bad_request", "error.bad_input", name)
}
