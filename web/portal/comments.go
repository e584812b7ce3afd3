package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/idea"
	"agora/web/kit"
)

// Comments on ideas, from the idea page and the API. The idea service
// decides who may comment, edit and delete, inside its write.

// Comments is the thread of an idea the caller may see.
func (s *Portal) Comments(c *gin.Context) {
	a := kit.Caller(c)
	it, err := s.visibleIdea(c, a)
	if err != nil {
		s.APIError(c, err)
		return
	}
	cs, err := s.ideas.Comments(c.Request.Context(), it.ID)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[idea.Comment]{Data: kit.NonNil(cs), Total: it.CommentsCount})
}

// addComment posts the caller's comment (or reply) on the :id idea.
func (s *Portal) addComment(c *gin.Context, body string, parent int64) (*idea.Comment, error) {
	a := kit.Caller(c)
	return s.ideas.AddComment(c.Request.Context(), a, idea.ID(kit.ID(c, "id")), idea.CommentID(parent), body)
}

// AddComment posts a comment ({"body", "parent_id"}).
func (s *Portal) AddComment(c *gin.Context) {
	var r struct {
		Body     string `json:"body"`
		ParentID int64  `json:"parent_id"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	cm, err := s.addComment(c, r.Body, r.ParentID)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, cm)
}

// EditComment changes one's comment ({"body"}).
func (s *Portal) EditComment(c *gin.Context) {
	var r struct {
		Body string `json:"body"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	cm, err := s.editComment(c, r.Body)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, cm)
}

// editComment changes the body of the :id comment.
func (s *Portal) editComment(c *gin.Context, body string) (*idea.Comment, error) {
	a := kit.Caller(c)
	return s.ideas.EditComment(c.Request.Context(), a, idea.CommentID(kit.ID(c, "id")), body)
}

// CommentEditSubmit saves a comment edited on the idea page; a text
// refused (too long, a word the city does not allow) opens the edit form
// again with what was typed and why.
func (s *Portal) CommentEditSubmit(c *gin.Context) {
	body := c.PostForm("body")
	cm, err := s.editComment(c, body)
	if ideaID, _ := strconv.ParseInt(c.PostForm("idea_id"), 10, 64); errs.CodeOf(err) == errs.Invalid && ideaID > 0 {
		_, msg, _ := s.Refusal(c, err)
		s.renderIdea(c, http.StatusUnprocessableEntity, idea.ID(ideaID), commentForm("edit", kit.ID(c, "id"), body, msg))
		return
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ideas/%d#comment-%d", cm.IdeaID, cm.ID))
}

// deleteComment deletes the :id comment and returns its idea.
func (s *Portal) deleteComment(c *gin.Context) (idea.ID, error) {
	a := kit.Caller(c)
	return s.ideas.DeleteComment(c.Request.Context(), a, idea.CommentID(kit.ID(c, "id")))
}

// DeleteComment deletes a comment (its author or staff).
func (s *Portal) DeleteComment(c *gin.Context) {
	if _, err := s.deleteComment(c); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// CommentSubmit posts a comment or a reply from the idea page. A text
// refused opens the form it was typed in again, with it and the reason;
// other refusals go back to the idea page saying why.
func (s *Portal) CommentSubmit(c *gin.Context) {
	parent, _ := strconv.ParseInt(c.PostForm("parent_id"), 10, 64)
	_, err := s.addComment(c, c.PostForm("body"), parent)
	dest := "/ideas/" + c.Param("id")
	switch errs.CodeOf(err) {
	case errs.Unauthenticated:
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(dest))
		return
	case errs.Internal:
		if err != nil {
			s.PageError(c, err)
			return
		}
	}
	if err != nil {
		status, msg, internal := s.Refusal(c, err)
		switch {
		case internal != nil:
			s.PageError(c, internal)
		case errs.CodeOf(err) == errs.Invalid:
			// The text itself was refused: the form again, with it.
			s.renderIdea(c, status, idea.ID(kit.ID(c, "id")), commentForm("comment", parent, c.PostForm("body"), msg))
		default:
			c.Redirect(http.StatusSeeOther, dest+"?comment_error="+url.QueryEscape(msg)+"#comments")
		}
		return
	}
	c.Redirect(http.StatusSeeOther, dest+"#comments")
}

// CommentDeleteSubmit deletes a comment from the idea page.
func (s *Portal) CommentDeleteSubmit(c *gin.Context) {
	ideaID, err := s.deleteComment(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ideas/"+strconv.FormatInt(int64(ideaID), 10)+"#comments")
}

// ReactToComment sets (PUT {"mode"}) or removes (DELETE) the caller's
// reaction on a comment, under the phase's rules for reacting.
func (s *Portal) ReactToComment(c *gin.Context) {
	var r struct {
		Mode string `json:"mode"`
	}
	if c.Request.Method == http.MethodPut && !s.BindJSON(c, &r) {
		return
	}
	cm, err := s.ideas.ReactToComment(c.Request.Context(), kit.Caller(c), idea.CommentID(kit.ID(c, "id")), r.Mode)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, cm)
}
