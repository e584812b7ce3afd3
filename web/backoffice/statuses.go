package backoffice

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/idea"
	"agora/web/kit"
)

// statusesView is the data of /admin/statuses.
type statusesView struct {
	Statuses []idea.Status
	// Locked is the plan that has custom statuses, when this city's lacks it.
	Locked string
}

func (s *Backoffice) CreateStatus(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var st idea.Status
	if !s.BindJSON(c, &st) {
		return
	}
	out, err := s.ideas.AddStatus(c.Request.Context(), me.ID, st)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Backoffice) DeleteStatus(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	if err := s.ideas.RemoveStatus(c.Request.Context(), me.ID, c.Param("code")); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Backoffice) StatusesPage(c *gin.Context) {
	s.renderStatuses(c, http.StatusOK, nil)
}

func (s *Backoffice) renderStatuses(c *gin.Context, status int, f *kit.Form) {
	list, err := s.ideas.Statuses(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	if f == nil {
		f = kit.EmptyForm()
	}
	sv := &statusesView{Statuses: list, Locked: kit.Locked(c)}
	v := &page{Chrome: kit.Chrome{Form: f, Title: s.I18n.T(kit.Locale(c), "admin.statuses.title")}, IdeaStatuses: sv}
	s.adminNotice(c, v)
	s.pages.Render(c, status, "admin_statuses", v)
}

func (s *Backoffice) CreateStatusSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	f := kit.NewForm(c, "code", "color")
	_, err := s.ideas.AddStatus(c.Request.Context(), me.ID, idea.Status{Code: f.Values["code"], Color: f.Values["color"], Title: kit.TextFromForm(c, "title")})
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderStatuses(c, status, f)
		return
	}
	s.backTo(c, "/admin/statuses", "status_created", 1, nil)
}

func (s *Backoffice) DeleteStatusSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	err := s.ideas.RemoveStatus(c.Request.Context(), me.ID, c.Param("code"))
	s.backTo(c, "/admin/statuses", "status_deleted", 1, err)
}

// --- folders ---
