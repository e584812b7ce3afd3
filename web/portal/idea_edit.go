package portal

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/idea"
	"agora/web/kit"
)

// IdeaEditPage shows the edit form, filled in.
func (s *Portal) IdeaEditPage(c *gin.Context) {
	_, it, err := s.ideaEditable(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	f := &kit.Form{Values: map[string]string{"title": it.Title, "body": it.Body, "location_name": it.LocationName,
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
	p, err := s.project(c, it.ProjectID)
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
	a, it, err := s.ideaEditable(c)
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
		err = n.Check("ideas")
	}
	if err == nil {
		err = s.checkLanguage(c, "body", n.Title, n.Body)
	}
	if err == nil {
		_, err = s.ideas.Update(c.Request.Context(), a.UserID, it.ID, n)
	}
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderIdeaEdit(c, status, it, f, n.Topics)
		return
	}
	c.Redirect(http.StatusSeeOther, fmt.Sprintf("/ideas/%d", it.ID))
}

// IdeaDeleteSubmit deletes the idea (its author or staff) and returns to
// the project.
func (s *Portal) IdeaDeleteSubmit(c *gin.Context) {
	a, it, err := s.ideaOwned(c)
	if err == nil {
		err = s.ideas.Delete(c.Request.Context(), a.UserID, it.ID)
	}
	if err != nil {
		s.PageError(c, err)
		return
	}
	p, err := s.project(c, it.ProjectID)
	if err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/projects/"+p.Slug+"?deleted=1")
}
