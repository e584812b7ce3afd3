package portal

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/idea"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/web/kit"
)

// ideasView is what the project page shows of its ideas.
type ideasView struct {
	List   []idea.Idea
	Total  int
	Sort   string
	Query  string
	Topic  int64
	Status string
	// Prev and Next are the neighbouring pages' addresses ("" at the ends).
	Prev, Next string
	CanPost    bool
	Denial     *denialView // why the visitor cannot post, and what to do
}

// denialView is a call to action for a refused participation.
type denialView struct {
	Text, Link, LinkText string
}

// featureDenial explains that a feature is off for the city (plan or
// admins), or is nil when it is on.
func (s *Portal) featureDenial(c *gin.Context, k feature.Key) *denialView {
	if s.features.Enabled(c.Request.Context(), k) == nil {
		return nil
	}
	return &denialView{Text: s.I18n.T(kit.Locale(c), "denied.feature_off")}
}

// denial explains a refusal in the visitor's language with the step that
// would allow it.
func (s *Portal) denial(c *gin.Context, d permission.Decision) *denialView {
	loc := kit.Locale(c)
	v := &denialView{Text: s.I18n.T(loc, "denied."+string(d.Reason))}
	switch d.Reason {
	case permission.LogIn:
		v.Link, v.LinkText = "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()), s.I18n.T(loc, "nav.login")
	case permission.ConfirmEmail:
		v.Link, v.LinkText = "/profile", s.I18n.T(loc, "confirm.submit")
	}
	return v
}

// projectIdeas fills the project page's idea list and posting box.
func (s *Portal) projectIdeas(c *gin.Context, p *project.Project, a permission.Actor) (*ideasView, error) {
	now := time.Now()
	ph, ok := project.CurrentPhase(p.Phases, now)
	if !ok || (ph.Method != "ideation" && ph.Method != "proposals") {
		return nil, nil
	}
	q := kit.QueryInts(c, "page", "topic")
	if q.Err != nil {
		return nil, q.Err
	}
	page := max(int(q.V["page"]), 1)
	iv := &ideasView{Sort: c.DefaultQuery("sort", "new"), Query: c.Query("q"), Topic: q.V["topic"], Status: c.Query("status")}
	var err error
	iv.List, iv.Total, err = s.ideas.List(c.Request.Context(), idea.Filter{Project: p.ID, Sort: iv.Sort, Query: iv.Query, Topic: iv.Topic,
		Status: iv.Status, Page: page, Seed: randomSeed(a)})
	if err != nil {
		return nil, err
	}
	link := func(n int) string {
		v := c.Request.URL.Query()
		v.Set("page", strconv.Itoa(n))
		return "/projects/" + p.Slug + "?" + v.Encode() + "#ideas-h"
	}
	if page > 1 {
		iv.Prev = link(page - 1)
	}
	if page*idea.PageSize < iv.Total {
		iv.Next = link(page + 1)
	}
	d := permission.Can(a, permission.Post, ph.Scope(*p), now)
	if d.OK() && a.Anonymous() {
		d = permission.Decision{Reason: permission.LogIn}
	}
	iv.CanPost = d.OK()
	if !d.OK() {
		iv.Denial = s.denial(c, d)
	}
	if off := s.featureDenial(c, feature.Ideation); off != nil {
		iv.CanPost, iv.Denial = false, off
	}
	return iv, nil
}

// PostIdeaSubmit posts an idea from the project page's form.
func (s *Portal) PostIdeaSubmit(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.projects.Get(c.Request.Context(), c.Param("slug"))
	if err == nil && !project.CanView(*p, a, time.Now()) {
		err = errs.E("project", errs.NotFound, "no project")
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Set(projectKey(p.ID), p) // ideaScope reuses it
	n := idea.New{ProjectID: p.ID, Title: c.PostForm("title"), Body: c.PostForm("body"), Topics: kit.CheckedIDs(c, "topics"),
		LocationName: c.PostForm("location_name")}
	lat, lng, err := formCoordinates(c)
	n.LocationLat, n.LocationLng = lat, lng
	if err == nil {
		_, _, err = s.ideaScope(c, a, p.ID, permission.Post)
	}
	ph, _ := project.CurrentPhase(p.Phases, time.Now())
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
		f := kit.NewForm(c, "title", "body", "location_name", "location_lat", "location_lng")
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderProject(c, status, p, a, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/ideas/"+strconv.FormatInt(it.ID, 10))
}

// formCoordinates reads the optional location_lat and location_lng fields.
func formCoordinates(c *gin.Context) (lat, lng *float64, err error) {
	for _, f := range []struct {
		name string
		dst  **float64
	}{{"location_lat", &lat}, {"location_lng", &lng}} {
		raw := strings.TrimSpace(strings.ReplaceAll(c.PostForm(f.name), ",", "."))
		if raw == "" {
			continue
		}
		v, perr := strconv.ParseFloat(raw, 64)
		if perr != nil {
			return nil, nil, errs.InvalidField("ideas", f.name, "%q is not a number", raw).WithRule("number")
		}
		*f.dst = &v
	}
	return lat, lng, nil
}

// IdeaPage shows one idea with its reactions.
func (s *Portal) IdeaPage(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.project(c, it.ProjectID)
	if err != nil {
		s.PageError(c, err)
		return
	}
	h, err := s.site.Home(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	v := &page{Chrome: kit.Chrome{Settings: &h.Settings}, Home: &h, Project: p, Idea: it, IdeaBody: template.HTML(it.Body)} // sanitised when stored
	v.Title = it.Title
	if v.Feedback, err = s.ideas.Feedback(c.Request.Context(), it.ID); err != nil {
		s.PageError(c, err)
		return
	}
	if v.StatusHistory, err = s.ideas.StatusHistory(c.Request.Context(), it.ID); err != nil {
		s.PageError(c, err)
		return
	}
	if v.Comments, err = s.ideas.Comments(c.Request.Context(), it.ID); err != nil {
		s.PageError(c, err)
		return
	}
	v.ViewerID, v.Moderates = a.UserID, !a.Anonymous() && a.Staff(p.ID)
	if _, v.Following, err = s.follows.Status(c.Request.Context(), a.UserID, "idea", it.ID); err != nil {
		s.PageError(c, err)
		return
	}
	if msg := c.Query("comment_error"); msg != "" {
		v.Form = &kit.Form{Values: map[string]string{}, Errors: map[string]string{"comment": msg}}
	}
	if !a.Anonymous() && a.Staff(p.ID) {
		if v.Statuses, err = s.ideas.Statuses(c.Request.Context()); err != nil {
			s.PageError(c, err)
			return
		}
	}
	v.ReactionError, v.ImageError, v.StaffError = c.Query("reaction_error"), c.Query("image_error"), c.Query("staff_error")
	if c.Query("reported") != "" {
		v.Notice = s.I18n.T(kit.Locale(c), "report.thanks")
	}
	v.CanEditIdea = s.editRule(c, a, it) == nil
	v.ReactionsLeft = -1
	if ph, ok := project.CurrentPhase(p.Phases, time.Now()); ok {
		if d := permission.Can(a, permission.React, ph.Scope(*p), time.Now()); !d.OK() || a.Anonymous() {
			if d.OK() {
				d = permission.Decision{Reason: permission.LogIn}
			}
			v.ReactDenial = s.denial(c, d)
		}
		v.DislikesOn = ph.DislikesEnabled
		if !a.Anonymous() && it.PhaseID != nil {
			left, limited, err := s.ideas.ReactionsLeft(c.Request.Context(), a.UserID, *it.PhaseID)
			if err != nil {
				s.PageError(c, err)
				return
			}
			if limited {
				v.ReactionsLeft = left
			}
		}
		if d := permission.Can(a, permission.Comment, ph.Scope(*p), time.Now()); !d.OK() || a.Anonymous() {
			if d.OK() {
				d = permission.Decision{Reason: permission.LogIn}
			}
			v.CommentDenial = s.denial(c, d)
		}
	} else {
		v.CommentDenial = s.denial(c, permission.Decision{Reason: permission.Disabled})
	}
	if off := s.featureDenial(c, feature.Comments); off != nil {
		v.CommentDenial = off
	}
	if off := s.featureDenial(c, feature.Reactions); off != nil {
		v.ReactDenial = off
	}
	s.pages.Render(c, http.StatusOK, "idea", v)
}

// ReactSubmit likes, dislikes or withdraws from the idea page's buttons.
func (s *Portal) ReactSubmit(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
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
	s.backToIdea(c, "reaction_error", err)
}

// staffIdeaSubmit handles the idea page's staff forms: status (with note)
// and official feedback. Non-staff get 403; a refused form comes back to
// the idea page with its reason.
func (s *Portal) staffIdeaSubmit(c *gin.Context, act func(a permission.Actor, it *idea.Idea) error) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	it, err := s.visibleIdea(c, a)
	if err != nil {
		s.PageError(c, err)
		return
	}
	if a.Anonymous() || !a.Staff(it.ProjectID) {
		s.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
		return
	}
	s.backToIdea(c, "staff_error", act(a, it))
}

func (s *Portal) StatusSubmit(c *gin.Context) {
	s.staffIdeaSubmit(c, func(a permission.Actor, it *idea.Idea) error {
		_, err := s.ideas.SetStatus(c.Request.Context(), a.UserID, it.ID, c.PostForm("status"), c.PostForm("note"))
		return err
	})
}

func (s *Portal) FeedbackSubmit(c *gin.Context) {
	s.staffIdeaSubmit(c, func(a permission.Actor, it *idea.Idea) error {
		_, err := s.ideas.AddFeedback(c.Request.Context(), a.UserID, it.ID, c.PostForm("body"))
		return err
	})
}
