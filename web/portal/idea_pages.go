package portal

import (
	"agora/domain/user"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
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

// denialOf explains, in the visitor's language, why the idea service
// would refuse an action (nil when it would not), with the step that would
// allow it: log in, confirm the address.
func (s *Portal) denialOf(c *gin.Context, err error) *denialView {
	if err == nil {
		return nil
	}
	loc := kit.Locale(c)
	if errs.CodeOf(err) == errs.FeatureUnavailable {
		return &denialView{Text: s.I18n.T(loc, "denied.feature_off")}
	}
	reason := permission.Disabled
	if e, ok := errs.As(err); ok {
		if r, ok := strings.CutPrefix(e.Rule, "denied_"); ok {
			reason = permission.Reason(r)
		}
	}
	v := &denialView{Text: s.I18n.T(loc, "denied."+string(reason))}
	switch reason {
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
	iv.List, iv.Total, err = s.ideas.List(c.Request.Context(), a, idea.Filter{Project: p.ID, Sort: iv.Sort, Query: iv.Query, Topic: iv.Topic,
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
	iv.Denial = s.denialOf(c, s.ideas.May(c.Request.Context(), a, p.ID, permission.Post))
	iv.CanPost = iv.Denial == nil
	return iv, nil
}

// PostIdeaSubmit posts an idea from the project page's form.
func (s *Portal) PostIdeaSubmit(c *gin.Context) {
	a, err := s.Actor(c) // the page shown again after a refusal needs their memberships
	var p *project.Project
	if err == nil {
		p, err = s.projects.View(c.Request.Context(), a, c.Param("slug"))
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	n := idea.New{ProjectID: p.ID, Title: c.PostForm("title"), Body: c.PostForm("body"), Topics: kit.CheckedIDs(c, "topics"),
		LocationName: c.PostForm("location_name")}
	lat, lng, err := formCoordinates(c)
	n.LocationLat, n.LocationLng = lat, lng
	var it *idea.Idea
	if err == nil {
		it, err = s.ideas.Post(c.Request.Context(), a, n)
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
	c.Redirect(http.StatusSeeOther, "/ideas/"+strconv.FormatInt(int64(it.ID), 10))
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
	var f *kit.Form
	if msg := c.Query("comment_error"); msg != "" {
		f = commentForm("comment", 0, "", msg)
	}
	s.renderIdea(c, http.StatusOK, idea.ID(kit.ID(c, "id")), f)
}

// commentForm is the comment form of the idea page that was refused with
// msg: which (a "comment" or reply to parent id, an "edit" of comment id)
// and the text typed in it.
func commentForm(which string, id int64, body, msg string) *kit.Form {
	f := kit.EmptyForm()
	f.Values["form"], f.Values["id"], f.Values["body"] = which, strconv.FormatInt(id, 10), body
	f.Errors["comment"] = msg
	return f
}

// renderIdea shows idea id's page with status, its comment form f (nil
// when none was sent) showing what was typed and why it was refused.
func (s *Portal) renderIdea(c *gin.Context, status int, id idea.ID, f *kit.Form) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	it, err := s.ideas.Get(c.Request.Context(), a, id)
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.projects.Get(c.Request.Context(), strconv.FormatInt(int64(it.ProjectID), 10))
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
	v.ViewerID, v.Moderates = a.UserID, !a.Anonymous() && a.Staff(int64(p.ID))
	if _, v.Following, err = s.follows.Status(c.Request.Context(), a.UserID, "idea", int64(it.ID)); err != nil {
		s.PageError(c, err)
		return
	}
	v.Form = f
	if !a.Anonymous() && a.Staff(int64(p.ID)) {
		if v.Statuses, err = s.ideas.Statuses(c.Request.Context()); err != nil {
			s.PageError(c, err)
			return
		}
	}
	v.ReactionError, v.ImageError, v.StaffError = c.Query("reaction_error"), c.Query("image_error"), c.Query("staff_error")
	if c.Query("reported") != "" {
		v.Notice = s.I18n.T(kit.Locale(c), "report.thanks")
	}
	ctx := c.Request.Context()
	ab, err := s.ideas.AbilitiesOn(ctx, a, it, p)
	if err != nil {
		s.PageError(c, err)
		return
	}
	v.CanEditIdea = ab.Edit == nil
	v.ReactDenial, v.CommentDenial = s.denialOf(c, ab.React), s.denialOf(c, ab.Comment)
	v.ReactionsLeft = -1
	if ph, ok := project.CurrentPhase(p.Phases, time.Now()); ok {
		v.DislikesOn = ph.DislikesEnabled
		if !a.Anonymous() && it.PhaseID != nil {
			left, limited, err := s.ideas.ReactionsLeft(ctx, user.ID(a.UserID), *it.PhaseID)
			if err != nil {
				s.PageError(c, err)
				return
			}
			if limited {
				v.ReactionsLeft = left
			}
		}
	}
	s.pages.Render(c, status, "idea", v)
}

// ReactSubmit likes, dislikes or withdraws from the idea page's buttons:
// one write, which decides and changes the reaction (pressing the reaction
// one has takes it back).
func (s *Portal) ReactSubmit(c *gin.Context) {
	a := kit.Caller(c)
	if a.Anonymous() {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape("/ideas/"+c.Param("id")))
		return
	}
	s.BackToIdea(c, "reaction_error", s.ideas.Press(c.Request.Context(), a, idea.ID(kit.ID(c, "id")), c.PostForm("mode")))
}
