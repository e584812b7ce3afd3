package portal

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/follow"
	"agora/domain/user"
	"agora/web/kit"
)

// Follow follows (PUT) or unfollows (DELETE) /api/v1/follows/:type/:id.
func (s *Portal) Follow(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	on := c.Request.Method == http.MethodPut
	if err := s.setFollow(c, u, c.Param("type"), id, on); err != nil {
		s.APIError(c, err)
		return
	}
	n, following, err := s.follows.Status(c.Request.Context(), int64(u.ID), c.Param("type"), id)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"following": following, "followers": n})
}

// setFollow follows (on) what the user may see, or unfollows anything.
func (s *Portal) setFollow(c *gin.Context, u *user.User, itemType string, id int64, on bool) error {
	if on {
		if err := s.visibleItem(c, kit.Caller(c), itemType, id); err != nil {
			return err
		}
	}
	return s.follows.Set(c.Request.Context(), int64(u.ID), itemType, id, on)
}

// MyFollows lists what the caller follows.
func (s *Portal) MyFollows(c *gin.Context) {
	u, ok := s.User(c)
	if !ok {
		return
	}
	fs, err := s.follows.Of(c.Request.Context(), int64(u.ID))
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[follow.Follow]{Data: kit.NonNil(fs), Total: len(fs)})
}

// FollowSubmit toggles following from a page's button and goes back.
func (s *Portal) FollowSubmit(c *gin.Context) {
	u, ok := s.PageUser(c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	if err := s.setFollow(c, u, c.Param("type"), id, c.PostForm("follow") == "on"); err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, kit.LocalPath(c.PostForm("back")))
}
