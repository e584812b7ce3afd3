package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/idea"
	"agora/domain/permission"
	"agora/domain/project"
)

// ideasView is what the project page shows of its ideas.
type ideasView struct {
	List    []idea.Idea
	Total   int
	Sort    string
	Query   string
	CanPost bool
	Denial  *denialView // why the visitor cannot post, and what to do
}

// denialView is a call to action for a refused participation.
type denialView struct {
	Text, Link, LinkText string
}

// denial explains a refusal in the visitor's language with the step that
// would allow it.
func (s *Server) denial(c *gin.Context, d permission.Decision) *denialView {
	loc := c.GetString(keyLocale)
	v := &denialView{Text: s.i18n.T(loc, "denied."+string(d.Reason))}
	switch d.Reason {
	case permission.LogIn:
		v.Link, v.LinkText = "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()), s.i18n.T(loc, "nav.login")
	case permission.ConfirmEmail:
		v.Link, v.LinkText = "/profile", s.i18n.T(loc, "confirm.submit")
	}
	return v
}

// projectIdeas fills the project page's idea list and posting box.
func (s *Server) projectIdeas(c *gin.Context, p *project.Project, a permission.Actor) (*ideasView, error) {
	now := time.Now()
	ph, ok := project.CurrentPhase(p.Phases, now)
	if !ok || (ph.Method != "ideation" && ph.Method != "proposals") {
		return nil, nil
	}
	page, _ := strconv.Atoi(c.Query("page"))
	iv := &ideasView{Sort: c.DefaultQuery("sort", "new"), Query: c.Query("q")}
	var err error
	iv.List, iv.Total, err = s.ideas.List(c.Request.Context(), idea.Filter{Project: p.ID, Sort: iv.Sort, Query: iv.Query, Page: page, Seed: randomSeed(a)})
	if err != nil {
		return nil, err
	}
	d := permission.Can(a, permission.Post, ph.Scope(*p), now)
	if d.OK() && a.Anonymous() {
		d = permission.Decision{Reason: permission.LogIn}
	}
	iv.CanPost = d.OK()
	if !d.OK() {
		iv.Denial = s.denial(c, d)
	}
	return iv, nil
}

// postIdeaSubmit posts an idea from the project page's form.
func (s *Server) postIdeaSubmit(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	p, err := s.projects.Get(c.Request.Context(), c.Param("slug"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	c.Set(projectKey(p.ID), p) // ideaScope reuses it
	n := idea.New{ProjectID: p.ID, Title: c.PostForm("title"), Body: c.PostForm("body")}
	_, ph, err := s.ideaScope(c, a, p.ID, permission.Post)
	if err == nil {
		err = s.checkLanguage(c, "body", n.Title, n.Body)
	}
	if err == nil && a.Anonymous() {
		err = idea.Denied("ideas", permission.Post, permission.Decision{Reason: permission.LogIn})
	}
	var it *idea.Idea
	if err == nil {
		it, err = s.ideas.Post(c.Request.Context(), a.UserID, &ph.ID, n)
	}
	if err != nil {
		if errs.CodeOf(err) == errs.Unauthenticated {
			c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape("/projects/"+p.Slug))
			return
		}
		f := &form{Values: map[string]string{"title": c.PostForm("title"), "body": c.PostForm("body")}, Errors: map[string]string{}}
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderProject(c, status, p, a, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ideas/"+strconv.FormatInt(it.ID, 10))
}

// ideaPage shows one idea with its reactions.
func (s *Server) ideaPage(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		s.pageError(c, err)
		return
	}
	p, err := s.project(c, it.ProjectID)
	if err != nil {
		s.pageError(c, err)
		return
	}
	h, err := s.site.Home(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	v := view{Settings: &h.Settings, Home: &h, Project: p, Idea: it, IdeaBody: template.HTML(it.Body)} // sanitised when stored
	v.Title = it.Title
	if v.Feedback, err = s.ideas.Feedback(c.Request.Context(), it.ID); err != nil {
		s.pageError(c, err)
		return
	}
	if v.Comments, err = s.ideas.Comments(c.Request.Context(), it.ID); err != nil {
		s.pageError(c, err)
		return
	}
	v.ViewerID, v.Moderates = a.UserID, !a.Anonymous() && a.Staff(p.ID)
	if _, v.Following, err = s.follows.Status(c.Request.Context(), a.UserID, "idea", it.ID); err != nil {
		s.pageError(c, err)
		return
	}
	if msg := c.Query("comment_error"); msg != "" {
		v.Form = &form{Values: map[string]string{}, Errors: map[string]string{"comment": msg}}
	}
	if !a.Anonymous() && a.Staff(p.ID) {
		if v.Statuses, err = s.ideas.Statuses(c.Request.Context()); err != nil {
			s.pageError(c, err)
			return
		}
	}
	if ph, ok := project.CurrentPhase(p.Phases, time.Now()); ok {
		if d := permission.Can(a, permission.React, ph.Scope(*p), time.Now()); !d.OK() || a.Anonymous() {
			if d.OK() {
				d = permission.Decision{Reason: permission.LogIn}
			}
			v.ReactDenial = s.denial(c, d)
		}
		v.DislikesOn = ph.DislikesEnabled
		if d := permission.Can(a, permission.Comment, ph.Scope(*p), time.Now()); !d.OK() || a.Anonymous() {
			if d.OK() {
				d = permission.Decision{Reason: permission.LogIn}
			}
			v.CommentDenial = s.denial(c, d)
		}
	} else {
		v.CommentDenial = s.denial(c, permission.Decision{Reason: permission.Disabled})
	}
	s.html(c, http.StatusOK, "idea", v)
}

// reactSubmit likes, dislikes or withdraws from the idea page's buttons.
func (s *Server) reactSubmit(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	id := c.Param("id")
	if a.Anonymous() {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape("/ideas/"+id))
		return
	}
	it, err := s.visibleIdea(c, a)
	if err == nil {
		_, _, err = s.ideaScope(c, a, it.ProjectID, permission.React)
	}
	if err == nil {
		switch mode := c.PostForm("mode"); {
		case mode == "" || mode == it.MyReaction:
			_, err = s.ideas.Unreact(c.Request.Context(), a.UserID, it.ID)
		default:
			_, err = s.ideas.React(c.Request.Context(), a.UserID, it.ID, mode)
		}
	}
	if err != nil && errs.CodeOf(err) != errs.Forbidden && errs.CodeOf(err) != errs.Invalid {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ideas/"+id)
}

// staffIdeaSubmit handles the idea page's staff forms: status (with note)
// and official feedback. Non-staff get 403.
func (s *Server) staffIdeaSubmit(c *gin.Context, act func(a permission.Actor, it *idea.Idea) error) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		s.pageError(c, err)
		return
	}
	if a.Anonymous() || !a.Staff(it.ProjectID) {
		s.fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
		return
	}
	if err := act(a, it); err != nil && errs.CodeOf(err) != errs.Invalid {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ideas/"+strconv.FormatInt(it.ID, 10))
}

func (s *Server) statusSubmit(c *gin.Context) {
	s.staffIdeaSubmit(c, func(a permission.Actor, it *idea.Idea) error {
		_, err := s.ideas.SetStatus(c.Request.Context(), a.UserID, it.ID, c.PostForm("status"), c.PostForm("note"))
		return err
	})
}

func (s *Server) feedbackSubmit(c *gin.Context) {
	s.staffIdeaSubmit(c, func(a permission.Actor, it *idea.Idea) error {
		_, err := s.ideas.AddFeedback(c.Request.Context(), a.UserID, it.ID, c.PostForm("body"))
		return err
	})
}
