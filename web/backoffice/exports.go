package backoffice

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
	"agora/domain/permission"
	"agora/domain/project"
	"agora/web/kit"
)

// exportDoc is an export as the API shows it: its progress and, once done,
// the signed download link (valid until expires_at).
type exportDoc struct {
	export.Export
	Percent     int    `json:"percent"`
	FileName    string `json:"file_name,omitempty"` // the name the download is offered under
	DownloadURL string `json:"download_url,omitempty"`
}

func (s *Backoffice) exportDoc(c *gin.Context, e export.Export) exportDoc {
	d := exportDoc{Export: e, Percent: e.Percent()}
	if tok := s.exports.Link(c.Request.Context(), e); tok != "" {
		d.FileName = e.DownloadName(kit.City(c).Slug)
		d.DownloadURL = "/exports/" + strconv.FormatInt(e.ID, 10) + "/download?token=" + url.QueryEscape(tok)
	}
	return d
}

// exportActor is the caller for the export API, with the projects they
// moderate (the route has checked the login and the feature).
func (s *Backoffice) exportActor(c *gin.Context) (permission.Actor, bool) {
	a, err := s.Actor(c)
	switch {
	case err != nil:
		s.APIError(c, err)
		return a, false
	case a.Anonymous():
		s.APIError(c, errs.E("exports", errs.Unauthenticated, "log in as city staff to export"))
		return a, false
	}
	return a, true
}

// RequestExport records an export and queues its build:
// {"kind": "ideas", "format": "xlsx", "project": 3}.
func (s *Backoffice) RequestExport(c *gin.Context) {
	a, ok := s.exportActor(c)
	if !ok {
		return
	}
	var in struct {
		Kind    string `json:"kind"`
		Format  string `json:"format"`
		Project int64  `json:"project"`
	}
	if !s.BindJSON(c, &in) {
		return
	}
	if in.Format == "" {
		in.Format = string(export.XLSX)
	}
	e, err := s.exports.Request(c.Request.Context(), a, export.Kind(in.Kind), export.Format(in.Format), export.Filters{Project: in.Project})
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, s.exportDoc(c, *e))
}

// Exports lists the newest exports the caller may see.
func (s *Backoffice) Exports(c *gin.Context) {
	a, ok := s.exportActor(c)
	if !ok {
		return
	}
	if !export.IsStaff(a) {
		s.APIError(c, errs.E("exports", errs.Forbidden, "only city admins and project moderators can export"))
		return
	}
	list, err := s.exports.List(c.Request.Context(), a, 50)
	if err != nil {
		s.APIError(c, err)
		return
	}
	docs := make([]exportDoc, len(list))
	for i, e := range list {
		docs[i] = s.exportDoc(c, e)
	}
	c.JSON(http.StatusOK, gin.H{"data": docs})
}

// Export shows one export: poll it until its status is done.
func (s *Backoffice) Export(c *gin.Context) {
	a, ok := s.exportActor(c)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	e, err := s.exports.Get(c.Request.Context(), a, id)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.exportDoc(c, *e))
}

// ExportDownload serves a finished export through its signed link, to staff
// who may see it: 404 for a link of another city or export, 410 once it
// expired, 403 for anyone else.
func (s *Backoffice) ExportDownload(c *gin.Context) {
	a, err := s.Actor(c)
	if err != nil {
		s.PageError(c, err)
		return
	}
	if a.Anonymous() && !kit.WantsJSON(c) {
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return
	}
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	path, name, err := s.exports.Download(c.Request.Context(), a, id, c.Query("token"))
	switch {
	case export.IsExpired(err):
		s.Fail(c, http.StatusGone, "gone", "exports.expired")
		return
	case err != nil && kit.WantsJSON(c):
		s.APIError(c, err)
		return
	case err != nil:
		s.PageError(c, err)
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
func (s *Backoffice) pageExportActor(c *gin.Context) (permission.Actor, bool) {
	a, err := s.Actor(c)
	switch {
	case err != nil:
		s.PageError(c, err)
		return a, false
	case a.Anonymous():
		c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request.URL.RequestURI()))
		return a, false
	case !export.IsStaff(a):
		s.Fail(c, http.StatusForbidden, "forbidden", "error.forbidden")
		return a, false
	}
	return a, true
}

// ExportsPage is the back office's export page: a form to request an
// export and the list of recent ones with their progress and download links.
// Admins export everything; project moderators their projects.
func (s *Backoffice) ExportsPage(c *gin.Context) {
	a, ok := s.pageExportActor(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ev := &exportsView{Admin: a.Role == "admin"}
	v := &page{Chrome: kit.Chrome{Title: s.I18n.T(kit.Locale(c), "exports.title"), Form: kit.EmptyForm()}, CityExports: ev}
	if ev.Locked = kit.Locked(c); ev.Locked != "" {
		s.pages.Render(c, http.StatusOK, "admin_exports", v)
		return
	}
	ps, err := s.projects.List(ctx, project.Filter{})
	if err != nil {
		s.PageError(c, err)
		return
	}
	for _, p := range ps {
		if ev.Admin || slices.Contains(a.ModeratorOf, int64(p.ID)) {
			ev.Projects = append(ev.Projects, p)
		}
	}
	list, err := s.exports.List(ctx, a, 50)
	if err != nil {
		s.PageError(c, err)
		return
	}
	for _, e := range list {
		ev.List = append(ev.List, s.exportDoc(c, e))
		ev.Running = ev.Running || e.Active()
	}
	s.adminNotice(c, v)
	s.pages.Render(c, http.StatusOK, "admin_exports", v)
}

// RequestExportSubmit handles the export form.
func (s *Backoffice) RequestExportSubmit(c *gin.Context) {
	a, ok := s.pageExportActor(c)
	if !ok {
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
		s.PageError(c, err)
		return
	}
	s.backTo(c, "/admin/exports", "export_requested", 1, nil)
}

// ExportTime formats an export's time (a time.Time or *time.Time) for the
// list, in the city's time zone and the page's language.
func (v *page) ExportTime(at any) string {
	switch at := at.(type) {
	case time.Time:
		return v.DateTime(at)
	case *time.Time:
		if at != nil {
			return v.DateTime(*at)
		}
	}
	return ""
}
