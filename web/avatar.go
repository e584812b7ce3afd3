package web

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// apiSetAvatar replaces the caller's avatar (multipart field "avatar").
func (s *Server) apiSetAvatar(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	data, err := readImage(c, "avatar")
	if err == nil {
		var name string
		if name, err = s.users.SetAvatar(c.Request.Context(), u.ID, data, s.cfg.StorageDir); err == nil {
			c.JSON(http.StatusOK, gin.H{"avatar": name, "url": "/avatars/" + name})
			return
		}
	}
	s.apiError(c, err)
}

// avatarSubmit replaces the avatar from the profile page.
func (s *Server) avatarSubmit(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	data, err := readImage(c, "avatar")
	if err == nil {
		_, err = s.users.SetAvatar(c.Request.Context(), u.ID, data, s.cfg.StorageDir)
	}
	if err != nil {
		f := &form{Values: map[string]string{}, Errors: map[string]string{}}
		if _, internal := s.explain(c, f, err); internal != nil {
			s.pageError(c, internal)
			return
		}
		c.Redirect(http.StatusSeeOther, "/profile?avatar_error="+url.QueryEscape(f.Errors["avatar"]))
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?saved=1")
}

// avatar serves a user's avatar of this city; the file name alone never
// reaches another city's files.
func (s *Server) avatar(c *gin.Context) {
	path, err := s.users.AvatarFile(c.Request.Context(), c.Param("name"), s.cfg.StorageDir)
	if err != nil {
		s.pageError(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=86400, immutable")
	c.Header("Content-Security-Policy", "default-src 'none'")
	c.File(path)
}
