package portal

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/idea"
	"agora/domain/permission"
	"agora/web/kit"
)

func (s *Portal) Comments(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.APIError(c, err)
		return
	}
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

// addComment checks the phase's comment permission and posts.
func (s *Portal) addComment(c *gin.Context, body string, parent int64) (*idea.Comment, error) {
	a, err := s.Actor(c)
	if err != nil {
		return nil, err
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		return nil, err
	}
	if _, _, err := s.ideaScope(c, a, it.ProjectID, permission.Comment); err != nil {
		return nil, err
	}
	if a.Anonymous() {
		return nil, idea.Denied("comments", permission.Comment, permission.Decision{Reason: permission.LogIn})
	}
	if err := s.checkLanguage(c, "body", body); err != nil {
		return nil, err
	}
	return s.ideas.AddComment(c.Request.Context(), a.UserID, it.ID, parent, body)
}

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

// commentFor loads the comment named by :id, on an idea the actor may see.
func (s *Portal) commentFor(c *gin.Context) (permission.Actor, *idea.Comment, int64, error) {
	a, err := s.Actor(c)
	if err != nil {
		return a, nil, 0, err
	}
	if a.Anonymous() {
		return a, nil, 0, errs.E("comments", errs.Unauthenticated, "log in first")
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	cm, err := s.ideas.Comment(c.Request.Context(), id)
	if err != nil {
		return a, nil, 0, err
	}
	it, err := s.ideas.Get(c.Request.Context(), cm.IdeaID, a.UserID)
	if err != nil {
		return a, nil, 0, err
	}
	if _, err := s.visibleProject(c, a, it.ProjectID); err != nil {
		return a, nil, 0, err
	}
	return a, cm, it.ProjectID, nil
}

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

// editComment changes the body of the :id comment: its author, while the
// phase lets them comment (like posting), through the profanity filter.
func (s *Portal) editComment(c *gin.Context, body string) (*idea.Comment, error) {
	a, cm, project, err := s.commentFor(c)
	if err == nil && !a.Staff(project) {
		_, _, err = s.ideaScope(c, a, project, permission.Comment)
	}
	if err == nil {
		err = s.checkLanguage(c, "body", body)
	}
	if err != nil {
		return nil, err
	}
	return s.ideas.EditComment(c.Request.Context(), a.UserID, cm.ID, body)
}

// CommentEditSubmit saves a comment edited on the idea page.
func (s *Portal) CommentEditSubmit(c *gin.Context) {
	cm, err := s.editComment(c, c.PostForm("body"))
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ideas/%d#comment-%d", cm.IdeaID, cm.ID))
}

func (s *Portal) DeleteComment(c *gin.Context) {
	a, cm, project, err := s.commentFor(c)
	if err == nil {
		err = s.ideas.DeleteComment(c.Request.Context(), a.UserID, cm.ID, a.Staff(project))
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// CommentSubmit posts a comment or a reply from the idea page.
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
		f := kit.EmptyForm()
		if _, internal := s.Explain(c, f, err); internal != nil {
			s.PageError(c, internal)
			return
		}
		msg := f.Error
		for _, e := range f.Errors {
			msg = e
		}
		c.Redirect(http.StatusSeeOther, dest+"?comment_error="+url.QueryEscape(msg)+"#comments")
		return
	}
	c.Redirect(http.StatusSeeOther, dest+"#comments")
}

// CommentDeleteSubmit deletes a comment from the idea page.
func (s *Portal) CommentDeleteSubmit(c *gin.Context) {
	a, cm, project, err := s.commentFor(c)
	if err == nil {
		err = s.ideas.DeleteComment(c.Request.Context(), a.UserID, cm.ID, a.Staff(project))
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ideas/"+strconv.FormatInt(cm.IdeaID, 10)+"#comments")
}

// ReactToComment sets (PUT {"mode"}) or removes (DELETE) the caller's
// reaction on a comment, under the phase's rules for reacting.
func (s *Portal) ReactToComment(c *gin.Context) {
	var r struct {
		Mode string `json:"mode"`
	}
	set := c.Request.Method == http.MethodPut
	if set && !s.BindJSON(c, &r) {
		return
	}
	a, cm, project, err := s.commentFor(c)
	if err == nil {
		var ph *phaseInfo
		if ph, err = s.reactPhase(c, a, project); err == nil && set && r.Mode == "dislike" && !ph.dislikes {
			err = errs.InvalidField("comments", "mode", "dislikes are off in this phase").WithRule("dislikes_off")
		}
	}
	if err == nil {
		cm, err = s.ideas.ReactToComment(c.Request.Context(), a.UserID, cm.ID, r.Mode)
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, cm)
}

// phaseInfo is what a reaction needs to know of the current phase.
type phaseInfo struct{ dislikes bool }

// reactPhase checks that actor may react in the project's current phase.
func (s *Portal) reactPhase(c *gin.Context, a permission.Actor, project int64) (*phaseInfo, error) {
	_, ph, err := s.ideaScope(c, a, project, permission.React)
	if err != nil {
		return nil, err
	}
	return &phaseInfo{dislikes: ph.DislikesEnabled}, nil
}
