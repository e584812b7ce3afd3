package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/feature"
	"agora/domain/locale"
	"agora/domain/project"
	"agora/tenant"
)

// adminProjectsView is the data of the back office's project pages.
type adminProjectsView struct {
	Projects   []project.Project
	Project    *project.Project
	Methods    []string
	Folders    []project.Folder
	Moderators []project.Moderator
	// ModeratorsLocked is the plan that has project moderators, when this
	// city's lacks it.
	ModeratorsLocked string
}

// textFromForm reads a multilingual field edited side by side: name_<locale>
// for each of the city's locales.
func textFromForm(c *gin.Context, name string) locale.Text {
	t, _ := tenant.FromContext(c.Request.Context())
	out := locale.Text{}
	for _, l := range t.Locales {
		if v := strings.TrimSpace(c.PostForm(name + "_" + l)); v != "" {
			out[l] = v
		}
	}
	return out
}

func (s *Server) adminProjects(c *gin.Context) {
	ps, err := s.projects.List(c.Request.Context(), project.Filter{})
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.renderAdminProjects(c, http.StatusOK, &adminProjectsView{Projects: ps}, nil)
}

func (s *Server) renderAdminProjects(c *gin.Context, status int, av *adminProjectsView, f *form) {
	h, err := s.site.Home(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	if f == nil {
		f = &form{Values: map[string]string{}, Errors: map[string]string{}}
	}
	av.Methods = project.Methods
	if av.Folders, err = s.projects.Folders(c.Request.Context()); err != nil {
		s.pageError(c, err)
		return
	}
	if av.Project != nil {
		if av.Moderators, err = s.projects.Moderators(c.Request.Context(), av.Project.ID); err != nil {
			s.pageError(c, err)
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
	v := view{Home: &h, Form: f, AdminProjects: av, Title: s.i18n.T(c.GetString(keyLocale), title)}
	s.adminNotice(c, &v)
	s.html(c, status, name, v)
}

func checkedIDs(c *gin.Context, name string) []int64 {
	var out []int64
	for _, v := range c.PostFormArray(name) {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// adminCreateProject creates a project from the back office form.
func (s *Server) adminCreateProject(c *gin.Context) {
	me, _ := currentUser(c)
	f := newForm(c, "slug", "status", "visibility", "folder_id")
	p := project.Project{Slug: f.Values["slug"], Title: textFromForm(c, "title"), Description: textFromForm(c, "description"),
		Status: project.Status(f.Values["status"]), Visibility: f.Values["visibility"], Topics: checkedIDs(c, "topics"),
		Areas: checkedIDs(c, "areas")}
	if folder, _ := strconv.ParseInt(f.Values["folder_id"], 10, 64); folder > 0 {
		p.FolderID = &folder
	}
	out, err := s.projects.Create(c.Request.Context(), int64(me.ID), p)
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		ps, lerr := s.projects.List(c.Request.Context(), project.Filter{})
		if lerr != nil {
			s.pageError(c, lerr)
			return
		}
		s.renderAdminProjects(c, status, &adminProjectsView{Projects: ps}, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(out.ID, 10)+"?msg=created")
}

func (s *Server) adminProject(c *gin.Context) {
	p, err := s.projects.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.renderAdminProjects(c, http.StatusOK, &adminProjectsView{Project: p}, nil)
}

// adminUpdateProject saves the edit form (fields, status, topics).
func (s *Server) adminUpdateProject(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	f := newForm(c, "slug", "status", "visibility", "folder_id")
	title, desc := textFromForm(c, "title"), textFromForm(c, "description")
	status := project.Status(f.Values["status"])
	topics, areas := checkedIDs(c, "topics"), checkedIDs(c, "areas")
	folder, _ := strconv.ParseInt(f.Values["folder_id"], 10, 64)
	_, err := s.projects.Update(c.Request.Context(), int64(me.ID), id, project.Patch{
		Slug: ptr(f.Values["slug"]), Title: &title, Description: &desc, Status: &status, Visibility: ptr(f.Values["visibility"]),
		Topics: &topics, Areas: &areas, FolderID: &folder})
	if err != nil {
		s.adminProjectError(c, id, f, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=saved")
}

// phaseFromForm reads the phase form (add or edit); f collects the fields'
// errors. Dates are days in the city's time zone.
func (s *Server) phaseFromForm(c *gin.Context) (project.Phase, *form) {
	f := newForm(c, "method", "starts_at", "ends_at", "reaction_limit")
	ph := project.Phase{Title: textFromForm(c, "phase_title"), Description: textFromForm(c, "phase_description"), Method: f.Values["method"],
		PostingEnabled: c.PostForm("posting") != "", CommentingEnabled: c.PostForm("commenting") != "",
		ReactingEnabled: c.PostForm("reacting") != "", DislikesEnabled: c.PostForm("dislikes") != ""}
	tz, err := time.LoadLocation(city(c).TimeZone)
	if err != nil {
		tz = time.UTC
	}
	if v := f.Values["starts_at"]; v != "" {
		if ph.StartsAt, err = time.ParseInLocation("2006-01-02", v, tz); err != nil {
			f.Errors["starts_at"] = s.i18n.T(c.GetString(keyLocale), "rule.date")
		}
	}
	if v := f.Values["ends_at"]; v != "" {
		end, err := time.ParseInLocation("2006-01-02", v, tz)
		if err != nil {
			f.Errors["ends_at"] = s.i18n.T(c.GetString(keyLocale), "rule.date")
		}
		ph.EndsAt = &end
	}
	if v := f.Values["reaction_limit"]; v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			f.Errors["reaction_limit"] = s.i18n.T(c.GetString(keyLocale), "rule.positive")
		}
		ph.ReactionLimit = &n
	}
	return ph, f
}

// adminAddPhase adds a phase from the back office form; timeline conflicts
// come back as a 422 naming the phases.
func (s *Server) adminAddPhase(c *gin.Context) {
	s.savePhase(c, "phase_added", func(actor, project int64, ph project.Phase) error {
		_, err := s.projects.AddPhase(c.Request.Context(), actor, project, ph)
		return err
	})
}

// adminUpdatePhase saves a phase's edit form, under the same rules.
func (s *Server) adminUpdatePhase(c *gin.Context) {
	phaseID, _ := strconv.ParseInt(c.Param("phase"), 10, 64)
	s.savePhase(c, "phase_saved", func(actor, project int64, ph project.Phase) error {
		_, err := s.projects.UpdatePhase(c.Request.Context(), actor, project, phaseID, ph)
		return err
	})
}

// savePhase reads the phase form and saves it with save, then returns to
// the project page with msg, or shows it again with the errors.
func (s *Server) savePhase(c *gin.Context, msg string, save func(actor, project int64, ph project.Phase) error) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	ph, f := s.phaseFromForm(c)
	if len(f.Errors) > 0 {
		s.adminProjectError(c, id, f, nil)
		return
	}
	if err := save(int64(me.ID), id, ph); err != nil {
		s.adminProjectError(c, id, f, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg="+msg)
}

// adminDeletePhase removes a phase from the timeline.
func (s *Server) adminDeletePhase(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	phaseID, _ := strconv.ParseInt(c.Param("phase"), 10, 64)
	if err := s.projects.DeletePhase(c.Request.Context(), int64(me.ID), id, phaseID); err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=phase_deleted")
}

// adminProjectError shows the project page again with the form's errors.
func (s *Server) adminProjectError(c *gin.Context, id int64, f *form, err error) {
	status := http.StatusUnprocessableEntity
	if err != nil {
		var internal error
		if status, internal = s.explain(c, f, err); internal != nil {
			s.pageError(c, internal)
			return
		}
	}
	p, gerr := s.projects.Get(c.Request.Context(), strconv.FormatInt(id, 10))
	if gerr != nil {
		s.pageError(c, gerr)
		return
	}
	s.renderAdminProjects(c, status, &adminProjectsView{Project: p}, f)
}

func ptr[T any](v T) *T { return &v }
