package backoffice

import (
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/feature"
	"agora/domain/project"
	"agora/domain/user"
	"agora/web/kit"
)

// adminProjectsView is the data of the back office's project pages.
type adminProjectsView struct {
	Projects   []project.Project
	Project    *project.Project
	Methods    []string // the methods a new phase may choose
	Folders    []project.Folder
	Moderators []project.Moderator
	// ModeratorsLocked is the plan that has project moderators, when this
	// city's lacks it.
	ModeratorsLocked string
}

// MethodsFor lists the methods an existing phase may choose: the offered
// ones, and the phase's own when Agora no longer offers it (it keeps it).
func (av *adminProjectsView) MethodsFor(ph project.Phase) []string {
	if slices.Contains(av.Methods, ph.Method) {
		return av.Methods
	}
	return append([]string{ph.Method}, av.Methods...)
}

func (s *Backoffice) ProjectsPage(c *gin.Context) {
	ps, err := s.projects.List(c.Request.Context(), project.Filter{})
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.renderAdminProjects(c, http.StatusOK, &adminProjectsView{Projects: ps}, nil)
}

func (s *Backoffice) renderAdminProjects(c *gin.Context, status int, av *adminProjectsView, f *kit.Form) {
	h, err := s.site.Home(c.Request.Context())
	if err != nil {
		s.PageError(c, err)
		return
	}
	if f == nil {
		f = kit.EmptyForm()
	}
	av.Methods = project.Offered()
	if av.Folders, err = s.projects.Folders(c.Request.Context()); err != nil {
		s.PageError(c, err)
		return
	}
	if av.Project != nil {
		if av.Moderators, err = s.projects.Moderators(c.Request.Context(), av.Project.ID); err != nil {
			s.PageError(c, err)
			return
		}
	}
	if s.features.Enabled(c.Request.Context(), feature.ProjectModerators) != nil {
		av.ModeratorsLocked = string(feature.MinPlan(feature.ProjectModerators))
	}
	name := "admin_projects"
	title := "admin.projects.title"
	if av.Project != nil {
		name, title = "admin_project", "admin.project.title"
	}
	v := &page{Chrome: kit.Chrome{Form: f, Title: s.I18n.T(kit.Locale(c), title)}, Home: &h, AdminProjects: av}
	s.adminNotice(c, v)
	s.pages.Render(c, status, name, v)
}

// CreateProjectSubmit creates a project from the back office form.
func (s *Backoffice) CreateProjectSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	f := kit.NewForm(c, "slug", "status", "visibility", "folder_id")
	p := project.Project{Slug: f.Values["slug"], Title: kit.TextFromForm(c, "title"), Description: kit.TextFromForm(c, "description"),
		Status: project.Status(f.Values["status"]), Visibility: f.Values["visibility"], Topics: kit.CheckedIDs(c, "topics"),
		Areas: kit.CheckedIDs(c, "areas")}
	if folder, _ := strconv.ParseInt(f.Values["folder_id"], 10, 64); folder > 0 {
		p.FolderID = &folder
	}
	out, err := s.projects.Create(c.Request.Context(), me.ID, p)
	if err != nil {
		keepTexts(c, f, "title", "description")
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		ps, lerr := s.projects.List(c.Request.Context(), project.Filter{})
		if lerr != nil {
			s.PageError(c, lerr)
			return
		}
		s.renderAdminProjects(c, status, &adminProjectsView{Projects: ps}, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(int64(out.ID), 10)+"?msg=created")
}

func (s *Backoffice) ProjectPage(c *gin.Context) {
	p, err := s.projects.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.renderAdminProjects(c, http.StatusOK, &adminProjectsView{Project: p}, nil)
}

// UpdateProjectSubmit saves the edit form (fields, status, topics).
func (s *Backoffice) UpdateProjectSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	f := kit.NewForm(c, "slug", "status", "visibility", "folder_id")
	title, desc := kit.TextFromForm(c, "title"), kit.TextFromForm(c, "description")
	status := project.Status(f.Values["status"])
	topics, areas := kit.CheckedIDs(c, "topics"), kit.CheckedIDs(c, "areas")
	folder, _ := strconv.ParseInt(f.Values["folder_id"], 10, 64)
	_, err := s.projects.Update(c.Request.Context(), me.ID, project.ID(id), project.Patch{
		Slug: ptr(f.Values["slug"]), Title: &title, Description: &desc, Status: &status, Visibility: ptr(f.Values["visibility"]),
		Topics: &topics, Areas: &areas, FolderID: &folder})
	if err != nil {
		keepTexts(c, f, "title", "description")
		s.adminProjectError(c, id, f, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=saved")
}

// keepTexts puts the multilingual fields names, as posted in each of the
// city's languages, into f, for the form shown again after a refusal.
func keepTexts(c *gin.Context, f *kit.Form, names ...string) {
	for _, n := range names {
		for _, l := range kit.City(c).Locales {
			f.Values[n+"_"+l] = c.PostForm(n + "_" + l)
		}
	}
}

// phaseFromForm reads the phase form (add or edit); f collects the fields'
// errors. Dates are days in the city's time zone.
func (s *Backoffice) phaseFromForm(c *gin.Context) (project.Phase, *kit.Form) {
	f := kit.NewForm(c, "method", "starts_at", "ends_at", "reaction_limit")
	ph := project.Phase{Title: kit.TextFromForm(c, "phase_title"), Description: kit.TextFromForm(c, "phase_description"), Method: f.Values["method"],
		PostingEnabled: c.PostForm("posting") != "", CommentingEnabled: c.PostForm("commenting") != "",
		ReactingEnabled: c.PostForm("reacting") != "", DislikesEnabled: c.PostForm("dislikes") != ""}
	tz, err := time.LoadLocation(kit.City(c).TimeZone)
	if err != nil {
		tz = time.UTC
	}
	if v := f.Values["starts_at"]; v != "" {
		if ph.StartsAt, err = time.ParseInLocation("2006-01-02", v, tz); err != nil {
			f.Errors["starts_at"] = s.I18n.T(kit.Locale(c), "rule.date")
		}
	}
	if v := f.Values["ends_at"]; v != "" {
		end, err := time.ParseInLocation("2006-01-02", v, tz)
		if err != nil {
			f.Errors["ends_at"] = s.I18n.T(kit.Locale(c), "rule.date")
		}
		ph.EndsAt = &end
	}
	if v := f.Values["reaction_limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			f.Errors["reaction_limit"] = s.I18n.T(kit.Locale(c), "rule.positive")
		}
		ph.ReactionLimit = &n
	}
	return ph, f
}

// AddPhaseSubmit adds a phase from the back office form; timeline conflicts
// come back as a 422 naming the phases.
func (s *Backoffice) AddPhaseSubmit(c *gin.Context) {
	s.savePhase(c, "phase_added", func(actor user.ID, projectID project.ID, ph project.Phase) error {
		_, err := s.projects.AddPhase(c.Request.Context(), actor, projectID, ph)
		return err
	})
}

// UpdatePhaseSubmit saves a phase's edit form, under the same rules.
func (s *Backoffice) UpdatePhaseSubmit(c *gin.Context) {
	phaseID, _ := strconv.ParseInt(c.Param("phase"), 10, 64)
	s.savePhase(c, "phase_saved", func(actor user.ID, projectID project.ID, ph project.Phase) error {
		_, err := s.projects.UpdatePhase(c.Request.Context(), actor, projectID, project.PhaseID(phaseID), ph)
		return err
	})
}

// savePhase reads the phase form and saves it with save, then returns to
// the project page with msg, or shows it again with the errors.
func (s *Backoffice) savePhase(c *gin.Context, msg string, save func(actor user.ID, projectID project.ID, ph project.Phase) error) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	ph, f := s.phaseFromForm(c)
	if len(f.Errors) > 0 {
		s.adminProjectError(c, id, f, nil)
		return
	}
	if err := save(me.ID, project.ID(id), ph); err != nil {
		s.adminProjectError(c, id, f, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg="+msg)
}

// DeletePhaseSubmit removes a phase from the timeline.
func (s *Backoffice) DeletePhaseSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	phaseID, _ := strconv.ParseInt(c.Param("phase"), 10, 64)
	if err := s.projects.DeletePhase(c.Request.Context(), me.ID, project.ID(id), project.PhaseID(phaseID)); err != nil {
		s.PageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=phase_deleted")
}

// adminProjectError shows the project page again with the form's errors.
func (s *Backoffice) adminProjectError(c *gin.Context, id int64, f *kit.Form, err error) {
	status := http.StatusUnprocessableEntity
	if err != nil {
		var internal error
		if status, internal = s.Explain(c, f, err); internal != nil {
			s.PageError(c, internal)
			return
		}
	}
	p, gerr := s.projects.Get(c.Request.Context(), strconv.FormatInt(id, 10))
	if gerr != nil {
		s.PageError(c, gerr)
		return
	}
	s.renderAdminProjects(c, status, &adminProjectsView{Project: p}, f)
}

func ptr[T any](v T) *T { return &v }
