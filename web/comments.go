package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/idea"
	"agora/domain/permission"
)

func (s *Server) apiComments(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.apiError(c, err)
		return
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		s.apiError(c, err)
		return
	}
	cs, err := s.ideas.Comments(c.Request.Context(), it.ID)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, list[idea.Comment]{Data: nonNil(cs), Total: it.CommentsCount})
}

// addComment checks the phase's comment permission and posts.
func (s *Server) addComment(c *gin.Context, body string, parent int64) (*idea.Comment, error) {
	a, err := s.actor(c)
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

func (s *Server) apiAddComment(c *gin.Context) {
	var r struct {
		Body     string `json:"body"`
		ParentID int64  `json:"parent_id"`
	}
	if !s.bindJSON(c, &r) {
		return
	}
	cm, err := s.addComment(c, r.Body, r.ParentID)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, cm)
}

// commentFor loads the comment named by :id, on an idea the actor may see.
func (s *Server) commentFor(c *gin.Context) (permission.Actor, *idea.Comment, int64, error) {
	a, err := s.actor(c)
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

func (s *Server) apiEditComment(c *gin.Context) {
	var r struct {
		Body string `json:"body"`
	}
	if !s.bindJSON(c, &r) {
		return
	}
	cm, err := s.editComment(c, r.Body)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, cm)
}

// editComment changes the body of the :id comment: its author, while the
// phase lets them comment (like posting), through the profanity filter.
func (s *Server) editComment(c *gin.Context, body string) (*idea.Comment, error) {
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

// commentEditSubmit saves a comment edited on the idea page.
func (s *Server) commentEditSubmit(c *gin.Context) {
	cm, err := s.editComment(c, c.PostForm("body"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ideas/%d#comment-%d", cm.IdeaID, cm.ID))
}

func (s *Server) apiDeleteComment(c *gin.Context) {
	a, cm, project, err := s.commentFor(c)
	if err == nil {
		err = s.ideas.DeleteComment(c.Request.Context(), a.UserID, cm.ID, a.Staff(project))
	}
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// commentSubmit posts a comment or a reply from the idea page.
func (s *Server) commentSubmit(c *gin.Context) {
	parent, _ := strconv.ParseInt(c.PostForm("parent_id"), 10, 64)
	_, err := s.addComment(c, c.PostForm("body"), parent)
	dest := "/ideas/" + c.Param("id")
	switch errs.CodeOf(err) {
	case errs.Unauthenticated:
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(dest))
		return
	case errs.Internal:
		if err != nil {
			s.pageError(c, err)
			return
		}
	}
	if err != nil {
		f := &form{Values: map[string]string{}, Errors: map[string]string{}}
		if _, internal := s.explain(c, f, err); internal != nil {
			s.pageError(c, internal)
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

// commentDeleteSubmit deletes a comment from the idea page.
func (s *Server) commentDeleteSubmit(c *gin.Context) {
	a, cm, project, err := s.commentFor(c)
	if err == nil {
		err = s.ideas.DeleteComment(c.Request.Context(), a.UserID, cm.ID, a.Staff(project))
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ideas/"+strconv.FormatInt(cm.IdeaID, 10)+"#comments")
}

// apiReactToComment sets (PUT {"mode"}) or removes (DELETE) the caller's
// reaction on a comment, under the phase's rules for reacting.
func (s *Server) apiReactToComment(c *gin.Context) {
	var r struct {
		Mode string `json:"mode"`
	}
	set := c.Request.Method == http.MethodPut
	if set && !s.bindJSON(c, &r) {
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
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, cm)
}

// phaseInfo is what a reaction needs to know of the current phase.
type phaseInfo struct{ dislikes bool }

// reactPhase checks that actor may react in the project's current phase.
func (s *Server) reactPhase(c *gin.Context, a permission.Actor, project int64) (*phaseInfo, error) {
	_, ph, err := s.ideaScope(c, a, project, permission.React)
	if err != nil {
		return nil, err
	}
	return &phaseInfo{dislikes: ph.DislikesEnabled}, nil
}
