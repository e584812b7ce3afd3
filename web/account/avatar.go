package account

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"agora/web/kit"
)

// SetAvatar replaces the caller's avatar (multipart field "avatar").
func (s *Account) SetAvatar(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	data, err := kit.ReadImage(c, "avatar")
	if err == nil {
		var name string
		if name, err = s.users.SetAvatar(c.Request.Context(), u.ID, data, s.Config.StorageDir); err == nil {
			c.JSON(http.StatusOK, gin.H{"avatar": name, "url": "/avatars/" + name})
			return
		}
	}
	s.APIError(c, err)
}

// AvatarSubmit replaces the avatar from the profile page.
func (s *Account) AvatarSubmit(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	data, err := kit.ReadImage(c, "avatar")
	if err == nil {
		_, err = s.users.SetAvatar(c.Request.Context(), u.ID, data, s.Config.StorageDir)
	}
	if err != nil {
		f := kit.EmptyForm()
		if _, internal := s.Explain(c, f, err); internal != nil {
			s.PageError(c, internal)
			return
		}
		c.Redirect(http.StatusSeeOther, "/profile?avatar_error="+url.QueryEscape(f.Errors["avatar"]))
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?saved=1")
}

// Avatar serves a user's avatar of this city; the file name alone never
// reaches another city's files.
func (s *Account) Avatar(c *gin.Context) {
	path, err := s.users.AvatarFile(c.Request.Context(), c.Param("name"), s.Config.StorageDir)
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400, immutable")
	c.Header("Content-Security-Policy", "default-src 'none'")
	c.File(path)
}
