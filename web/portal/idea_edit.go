package portal

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/idea"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/web/kit"
)

// IdeaEditPage shows the edit form, filled in.
func (s *Portal) IdeaEditPage(c *gin.Context) {
	_, it, err := s.editable(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	// The body is edited as the text it was typed as (see idea.TextOf).
	f := &kit.Form{Values: map[string]string{"title": it.Title, "body": idea.TextOf(it.Body), "location_name": it.LocationName,
		"location_lat": coordValue(it.LocationLat), "location_lng": coordValue(it.LocationLng)}, Errors: map[string]string{}}
	s.renderIdeaEdit(c, http.StatusOK, it, f, it.Topics)
}

func coordValue(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}

func (s *Portal) renderIdeaEdit(c *gin.Context, status int, it *idea.Idea, f *kit.Form, topics []int64) {
	h, err := s.site.Home(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.projects.Get(c.Request.Context(), strconv.FormatInt(int64(it.ProjectID), 10))
	if err != nil {
		s.PageError(c, err)
		return
	}
	v := &page{Chrome: kit.Chrome{Settings: &h.Settings, Form: f, Title: s.I18n.T(kit.Locale(c), "idea.edit")}, Home: &h, Project: p, Idea: it, CheckedTopics: topics}
	s.pages.Render(c, status, "idea_edit", v)
}

// IdeaEditSubmit saves the edit form; a refusal shows the form again with
// what was typed and the reason.
func (s *Portal) IdeaEditSubmit(c *gin.Context) {
	a, it, err := s.editable(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	f := kit.NewForm(c, "title", "body", "location_name", "location_lat", "location_lng")
	n := idea.New{ProjectID: it.ProjectID, Title: f.Values["title"], Body: f.Values["body"], Topics: kit.CheckedIDs(c, "topics"),
		LocationName: f.Values["location_name"]}
	if n.Topics == nil {
		n.Topics = []int64{} // no box checked: no topics
	}
	n.LocationLat, n.LocationLng, err = formCoordinates(c)
	if err == nil {
		_, err = s.ideas.Update(c.Request.Context(), a, it.ID, n)
	}
	switch {
	case err != nil && errs.CodeOf(err) != errs.Invalid:
		s.PageError(c, err) // no longer the actor's to edit
	case err != nil:
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderIdeaEdit(c, status, it, f, n.Topics)
	default:
		c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ideas/%d", it.ID))
	}
}

// editable is the :id idea when the caller may edit it now.
func (s *Portal) editable(c *gin.Context) (permission.Actor, *idea.Idea, error) {
	a := kit.Caller(c)
	if a.Anonymous() {
		return a, nil, errs.E("ideas", errs.Unauthenticated, "log in first").WithRule("log_in")
	}
	it, err := s.visibleIdea(c, a)
	if err == nil {
		err = s.ideas.MayEdit(c.Request.Context(), a, it)
	}
	return a, it, err
}

// IdeaDeleteSubmit deletes the idea (its author or staff) and returns to
// the project.
func (s *Portal) IdeaDeleteSubmit(c *gin.Context) {
	a := kit.Caller(c)
	var it *idea.Idea
	var err error
	if a.Anonymous() {
		err = errs.E("ideas", errs.Unauthenticated, "log in first").WithRule("log_in")
	} else {
		it, err = s.visibleIdea(c, a)
	}
	if err == nil {
		err = s.ideas.Delete(c.Request.Context(), a, it.ID)
	}
	var p *project.Project
	if err == nil {
		p, err = s.projects.Get(c.Request.Context(), strconv.FormatInt(int64(it.ProjectID), 10))
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/projects/"+p.Slug+"?deleted=1")
}
