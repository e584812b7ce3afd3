package web

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/feature"
	"agora/domain/follow"
	"agora/domain/user"
)

// apiFollow follows (PUT) or unfollows (DELETE) /api/v1/follows/:type/:id.
func (s *Server) apiFollow(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	on := c.Request.Method == http.MethodPut
	if err := s.setFollow(c, u, c.Param("type"), id, on); err != nil {
		s.apiError(c, err)
		return
	}
	n, following, err := s.follows.Status(c.Request.Context(), int64(u.ID), c.Param("type"), id)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"following": following, "followers": n})
}

// setFollow follows (on) what the user may see, or unfollows anything.
func (s *Server) setFollow(c *gin.Context, u *user.User, itemType string, id int64, on bool) error {
	if on {
		if err := s.features.Enabled(c.Request.Context(), feature.Follows); err != nil {
			return err
		}
		a, err := s.actor(c)
		if err == nil {
			err = s.visibleItem(c, a, itemType, id)
		}
		if err != nil {
			return err
		}
	}
	return s.follows.Set(c.Request.Context(), int64(u.ID), itemType, id, on)
}

// apiMyFollows lists what the caller follows.
func (s *Server) apiMyFollows(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	fs, err := s.follows.Of(c.Request.Context(), int64(u.ID))
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, list[follow.Follow]{Data: nonNil(fs), Total: len(fs)})
}

// followSubmit toggles following from a page's button and goes back.
func (s *Server) followSubmit(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	if err := s.setFollow(c, u, c.Param("type"), id, c.PostForm("follow") == "on"); err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, localPath(c.PostForm("back")))
}
