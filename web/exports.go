package web

import (
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/export"
	"agora/domain/feature"
	"agora/domain/permission"
	"agora/domain/project"
)

// exportDoc is an export as the API shows it: its progress and, once done,
// the signed download link (valid until expires_at).
type exportDoc struct {
	export.Export
	Percent     int    `json:"percent"`
	FileName    string `json:"file_name,omitempty"` // the name the download is offered under
	DownloadURL string `json:"download_url,omitempty"`
}

func (s *Server) exportDoc(c *gin.Context, e export.Export) exportDoc {
	d := exportDoc{Export: e, Percent: e.Percent()}
	if tok := s.exports.Link(c.Request.Context(), e); tok != "" {
		d.FileName = e.DownloadName(city(c).Slug)
		d.DownloadURL = "/exports/" + strconv.FormatInt(e.ID, 10) + "/download?token=" + url.QueryEscape(tok)
	}
	return d
}

// exportActor is the caller for the export API: 401 without a login, the
// feature gate, then the caller with the projects they moderate.
func (s *Server) exportActor(c *gin.Context) (permission.Actor, bool) {
	a, err := s.actor(c)
	switch {
	case err != nil:
		s.apiError(c, err)
		return a, false
	case a.Anonymous():
		s.apiError(c, errs.E("exports", errs.Unauthenticated, "log in as city staff to export"))
		return a, false
	}
	return a, s.gate(c, feature.Exports)
}

// apiRequestExport records an export and queues its build:
// {"kind": "ideas", "format": "xlsx", "project": 3}.
func (s *Server) apiRequestExport(c *gin.Context) {
	a, ok := s.exportActor(c)
	if !ok {
		return
	}
	var in struct {
		Kind    string `json:"kind"`
		Format  string `json:"format"`
		Project int64  `json:"project"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	if in.Format == "" {
		in.Format = string(export.XLSX)
	}
	e, err := s.exports.Request(c.Request.Context(), a, export.Kind(in.Kind), export.Format(in.Format), export.Filters{Project: in.Project})
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, s.exportDoc(c, *e))
}

// apiExports lists the newest exports the caller may see.
func (s *Server) apiExports(c *gin.Context) {
	a, ok := s.exportActor(c)
	if !ok {
		return
	}
	if !export.IsStaff(a) {
		s.apiError(c, errs.E("exports", errs.Forbidden, "only city admins and project moderators can export"))
		return
	}
	list, err := s.exports.List(c.Request.Context(), a, 50)
	if err != nil {
		s.apiError(c, err)
		return
	}
	docs := make([]exportDoc, len(list))
	for i, e := range list {
		docs[i] = s.exportDoc(c, e)
	}
	c.JSON(http.StatusOK, gin.H{"data": docs})
}

// apiExport shows one export: poll it until its status is done.
func (s *Server) apiExport(c *gin.Context) {
	a, ok := s.exportActor(c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	e, err := s.exports.Get(c.Request.Context(), a, id)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.exportDoc(c, *e))
}

// exportDownload serves a finished export through its signed link, to staff
// who may see it: 404 for a link of another city or export, 410 once it
// expired, 403 for anyone else.
func (s *Server) exportDownload(c *gin.Context) {
	a, err := s.actor(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	if a.Anonymous() && !wantsJSON(c) {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return
	}
	if !s.gate(c, feature.Exports) {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	path, name, err := s.exports.Download(c.Request.Context(), a, id, c.Query("token"))
	switch {
	case export.IsExpired(err):
		s.fail(c, http.StatusGone, "gone", "exports.expired")
		return
	case err != nil && wantsJSON(c):
		s.apiError(c, err)
		return
	case err != nil:
		s.pageError(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("X-Content-Type-Options", "nosniff")
	if filepath.Ext(name) == ".csv" {
		c.Header("Content-Type", "text/csv; charset=utf-8")
	} else {
		c.Header("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	}
	c.FileAttachment(path, name)
}

// exportsView is the back office's export page.
type exportsView struct {
	List     []exportDoc
	Projects []project.Project // what the caller may export
	Admin    bool              // may export the whole city and its users
	Locked   string            // the plan that has exports, when this city's lacks them
	Running  bool              // an export is still being built: the page refreshes itself
}

// Kinds lists what the caller may export.
func (v exportsView) Kinds() []export.Kind {
	if v.Admin {
		return export.Kinds
	}
	return []export.Kind{export.Ideas, export.Comments, export.Reactions}
}

// Formats lists the file formats.
func (v exportsView) Formats() []export.Format { return export.Formats }

// pageActor is the caller of a back-office export page: visitors go to log
// in, citizens get 403.
func (s *Server) pageExportActor(c *gin.Context) (permission.Actor, bool) {
	a, err := s.actor(c)
	switch {
	case err != nil:
		s.pageError(c, err)
		return a, false
	case a.Anonymous():
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return a, false
	case !export.IsStaff(a):
		s.fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
		return a, false
	}
	return a, true
}

// adminExports is the back office's export page: a form to request an
// export and the list of recent ones with their progress and download links.
// Admins export everything; project moderators their projects.
func (s *Server) adminExports(c *gin.Context) {
	a, ok := s.pageExportActor(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ev := &exportsView{Admin: a.Role == "admin"}
	v := view{Title: s.i18n.T(c.GetString(keyLocale), "exports.title"), Form: &form{Values: map[string]string{}, Errors: map[string]string{}},
		CityExports: ev}
	if err := s.features.Enabled(ctx, feature.Exports); err != nil {
		if errs.CodeOf(err) != errs.FeatureUnavailable {
			s.pageError(c, err)
			return
		}
		ev.Locked = string(feature.MinPlan(feature.Exports))
		s.html(c, http.StatusOK, "admin_exports", v)
		return
	}
	ps, err := s.projects.List(ctx, project.Filter{})
	if err != nil {
		s.pageError(c, err)
		return
	}
	for _, p := range ps {
		if ev.Admin || slices.Contains(a.ModeratorOf, p.ID) {
			ev.Projects = append(ev.Projects, p)
		}
	}
	list, err := s.exports.List(ctx, a, 50)
	if err != nil {
		s.pageError(c, err)
		return
	}
	for _, e := range list {
		ev.List = append(ev.List, s.exportDoc(c, e))
		ev.Running = ev.Running || e.Active()
	}
	s.adminNotice(c, &v)
	s.html(c, http.StatusOK, "admin_exports", v)
}

// adminRequestExport handles the export form.
func (s *Server) adminRequestExport(c *gin.Context) {
	a, ok := s.pageExportActor(c)
	if !ok {
		return
	}
	if !s.gate(c, feature.Exports) {
		return
	}
	project, _ := strconv.ParseInt(c.PostForm("project"), 10, 64)
	_, err := s.exports.Request(c.Request.Context(), a, export.Kind(c.PostForm("kind")), export.Format(c.PostForm("format")),
		export.Filters{Project: project})
	switch errs.CodeOf(err) {
	case errs.Invalid, errs.Conflict:
		s.backTo(c, "/admin/exports", "", 0, err)
		return
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	s.backTo(c, "/admin/exports", "export_requested", 1, nil)
}

// ExportTime formats an export's time (a time.Time or *time.Time) for the
// list, in the city's time zone.
func (v view) ExportTime(at any) string {
	var t time.Time
	switch at := at.(type) {
	case time.Time:
		t = at
	case *time.Time:
		if at == nil {
			return ""
		}
		t = *at
	default:
		return ""
	}
	loc := time.UTC
	if v.City != nil {
		if l, err := time.LoadLocation(v.City.TimeZone); err == nil {
			loc = l
		}
	}
	return t.In(loc).Format("2006-01-02 15:04")
}
