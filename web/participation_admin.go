package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/idea"
	"agora/domain/locale"
	"agora/domain/media"
	"agora/domain/project"
	"agora/tenant"
)

// The back office's participation settings: idea statuses (custom ones on
// plans that have them), project folders, ordering, header images and
// moderators. Each is a page form and an API route over the same service.

// city is the request's city.
func city(c *gin.Context) *tenant.Tenant {
	t, _ := tenant.FromContext(c.Request.Context())
	return t
}

// readImage reads the uploaded image in field, refusing bodies over the
// limit before reading them whole.
func readImage(c *gin.Context, field string) ([]byte, error) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, media.MaxBytes+64<<10)
	fh, err := c.FormFile(field)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, errs.InvalidField("upload", field, "the image is larger than 2 MB").WithRule("file_size", 2)
		}
		return nil, errs.InvalidField("upload", field, "choose an image file").WithRule("file_missing")
	}
	if fh.Size > media.MaxBytes {
		return nil, errs.InvalidField("upload", field, "the image is larger than 2 MB").WithRule("file_size", 2)
	}
	f, err := fh.Open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, media.MaxBytes+1))
}

// --- idea statuses ---

// statusesView is the data of /admin/statuses.
type statusesView struct {
	Statuses []idea.Status
	// Locked is the plan that has custom statuses, when this city's lacks it.
	Locked string
}

func (s *Server) apiStatuses(c *gin.Context) {
	list, err := s.ideas.Statuses(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": nonNil(list)})
}

func (s *Server) apiCreateStatus(c *gin.Context) {
	me, _ := currentUser(c)
	var st idea.Status
	if !s.bindJSON(c, &st) {
		return
	}
	if !s.gate(c, feature.CustomIdeaStatuses) {
		return
	}
	out, err := s.ideas.AddStatus(c.Request.Context(), int64(me.ID), st)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Server) apiDeleteStatus(c *gin.Context) {
	me, _ := currentUser(c)
	if err := s.ideas.RemoveStatus(c.Request.Context(), int64(me.ID), c.Param("code")); err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) adminStatuses(c *gin.Context) {
	s.renderStatuses(c, http.StatusOK, nil)
}

func (s *Server) renderStatuses(c *gin.Context, status int, f *form) {
	list, err := s.ideas.Statuses(c.Request.Context())
	if err != nil {
		s.pageError(c, err)
		return
	}
	if f == nil {
		f = &form{Values: map[string]string{}, Errors: map[string]string{}}
	}
	sv := &statusesView{Statuses: list}
	if err := s.features.Enabled(c.Request.Context(), feature.CustomIdeaStatuses); err != nil {
		sv.Locked = string(feature.MinPlan(feature.CustomIdeaStatuses))
	}
	v := view{Form: f, IdeaStatuses: sv, Title: s.i18n.T(c.GetString(keyLocale), "admin.statuses.title")}
	s.adminNotice(c, &v)
	s.html(c, status, "admin_statuses", v)
}

// adminNotice shows the outcome of the last back-office form (backTo).
func (s *Server) adminNotice(c *gin.Context, v *view) {
	loc := c.GetString(keyLocale)
	if msg := c.Query("msg"); msg != "" {
		v.Notice = s.i18n.T(loc, "admin.msg."+msg, c.Query("n"))
	}
	if e := c.Query("err"); e != "" && v.Form != nil {
		v.Form.Error = e
	}
}

func (s *Server) adminCreateStatus(c *gin.Context) {
	me, _ := currentUser(c)
	f := newForm(c, "code", "color")
	err := s.features.Enabled(c.Request.Context(), feature.CustomIdeaStatuses)
	if err == nil {
		_, err = s.ideas.AddStatus(c.Request.Context(), int64(me.ID), idea.Status{Code: f.Values["code"], Color: f.Values["color"], Title: textFromForm(c, "title")})
	}
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderStatuses(c, status, f)
		return
	}
	s.backTo(c, "/admin/statuses", "status_created", 1, nil)
}

func (s *Server) adminDeleteStatus(c *gin.Context) {
	me, _ := currentUser(c)
	err := s.ideas.RemoveStatus(c.Request.Context(), int64(me.ID), c.Param("code"))
	s.backTo(c, "/admin/statuses", "status_deleted", 1, err)
}

// --- folders ---

func (s *Server) apiFolders(c *gin.Context) {
	list, err := s.projects.Folders(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": nonNil(list)})
}

func (s *Server) apiCreateFolder(c *gin.Context) {
	me, _ := currentUser(c)
	var in struct {
		Title locale.Text `json:"title"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	out, err := s.projects.AddFolder(c.Request.Context(), int64(me.ID), in.Title)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Server) apiDeleteFolder(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	if err := s.projects.RemoveFolder(c.Request.Context(), int64(me.ID), id); err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) adminCreateFolder(c *gin.Context) {
	me, _ := currentUser(c)
	_, err := s.projects.AddFolder(c.Request.Context(), int64(me.ID), textFromForm(c, "folder_title"))
	s.backTo(c, "/admin/projects", "folder_created", 1, err)
}

func (s *Server) adminDeleteFolder(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	err := s.projects.RemoveFolder(c.Request.Context(), int64(me.ID), id)
	s.backTo(c, "/admin/projects", "folder_deleted", 1, err)
}

// --- ordering ---

func (s *Server) adminMoveProject(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	delta := 1
	if c.PostForm("direction") == "up" {
		delta = -1
	}
	err := s.projects.Move(c.Request.Context(), int64(me.ID), id, delta)
	s.backTo(c, "/admin/projects", "moved", 1, err)
}

// --- header images ---

func (s *Server) apiSetProjectHeader(c *gin.Context) {
	a, id, ok := s.requireProjectStaff(c)
	if !ok {
		return
	}
	data, err := readImage(c, "header_image")
	if err == nil {
		var p *project.Project
		if p, err = s.projects.SetHeader(c.Request.Context(), a.UserID, id, data, s.cfg.StorageDir); err == nil {
			c.JSON(http.StatusOK, p)
			return
		}
	}
	s.apiError(c, err)
}

func (s *Server) adminProjectHeader(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	data, err := readImage(c, "header_image")
	if err == nil {
		_, err = s.projects.SetHeader(c.Request.Context(), int64(me.ID), id, data, s.cfg.StorageDir)
	}
	if err != nil {
		s.adminProjectError(c, id, &form{Values: map[string]string{}, Errors: map[string]string{}}, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=header_saved")
}

// projectHeader serves a visible project's header image.
func (s *Server) projectHeader(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	p, err := s.projects.Get(c.Request.Context(), c.Param("slug"))
	if err == nil && !project.CanView(*p, a, time.Now()) {
		err = errs.E("projects", errs.NotFound, "no project")
	}
	var path string
	if err == nil {
		path, err = s.projects.HeaderFile(c.Request.Context(), p, c.Param("name"), s.cfg.StorageDir)
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	serveImage(c, path, p.Public())
}

// serveImage sends a stored image. Names are never reused, so it may be
// cached for good; but only the pictures of a project anyone may see may be
// kept by shared caches (public), the others by the viewer's browser only.
func serveImage(c *gin.Context, path string, public bool) {
	if public {
		c.Header("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Header("Cache-Control", "private, max-age=86400")
	}
	c.Header("X-Content-Type-Options", "nosniff")
	c.File(path)
}

// --- moderators ---

func (s *Server) apiModerators(c *gin.Context) {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	list, err := s.projects.Moderators(c.Request.Context(), id)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": nonNil(list)})
}

// addModerator adds a moderator within the plan's feature and seats.
func (s *Server) addModerator(c *gin.Context, actor, projectID int64, email string) (*project.Moderator, error) {
	t := city(c)
	if err := s.features.Enabled(c.Request.Context(), feature.ProjectModerators); err != nil {
		return nil, err
	}
	_, seats := feature.Seats(t.Plan)
	return s.projects.AddModerator(c.Request.Context(), actor, projectID, email, seats, func(limit int) error {
		return feature.SeatsError("project.AddModerator", "project moderators", limit, t.Plan)
	})
}

func (s *Server) apiAddModerator(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	var in struct {
		Email string `json:"email"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	m, err := s.addModerator(c, int64(me.ID), id, in.Email)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, m)
}

func (s *Server) apiRemoveModerator(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	uid, _ := strconv.ParseInt(c.Param("user"), 10, 64)
	if err := s.projects.RemoveModerator(c.Request.Context(), int64(me.ID), id, uid); err != nil {
		s.apiError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

func (s *Server) adminAddModerator(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	f := newForm(c, "email")
	if _, err := s.addModerator(c, int64(me.ID), id, f.Values["email"]); err != nil {
		s.adminProjectError(c, id, f, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=moderator_added")
}

func (s *Server) adminRemoveModerator(c *gin.Context) {
	me, _ := currentUser(c)
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	uid, _ := strconv.ParseInt(c.Param("user"), 10, 64)
	if err := s.projects.RemoveModerator(c.Request.Context(), int64(me.ID), id, uid); err != nil {
		s.adminProjectError(c, id, &form{Values: map[string]string{}, Errors: map[string]string{}}, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/projects/"+strconv.FormatInt(id, 10)+"?msg=moderator_removed")
}

// --- areas ---

func (s *Server) apiAreas(c *gin.Context) {
	list, err := s.site.Areas(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": nonNil(list)})
}

func (s *Server) apiCreateArea(c *gin.Context) {
	var in struct {
		Title locale.Text `json:"title"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	out, err := s.site.AddArea(c.Request.Context(), in.Title)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

func (s *Server) adminCreateArea(c *gin.Context) {
	_, err := s.site.AddArea(c.Request.Context(), textFromForm(c, "area_title"))
	s.backTo(c, "/admin/projects", "area_created", 1, err)
}
