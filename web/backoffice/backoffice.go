// Package backoffice is where a city's staff work (/admin and the staff
// JSON API): projects and their phases, folders, areas, statuses and
// moderators; users, invitations and registration questions; the
// moderation inbox; official answers on ideas; exports; features, digests
// and email campaigns. Admins see all of it; project moderators the parts
// about their projects.
package backoffice

import (
	"embed"
	"slices"
	"strconv"

	"agora/domain/campaign"
	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/export"
	"agora/domain/feature"
	"agora/domain/group"
	"agora/domain/idea"
	"agora/domain/moderation"
	"agora/domain/project"
	"agora/domain/site"
	"agora/domain/user"
	"agora/web/kit"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Deps are the services the back office needs.
type Deps struct {
	Site       *site.Service
	Users      *user.Service
	Projects   *project.Service
	Ideas      *idea.Service
	Features   *feature.Service
	Exports    *export.Service
	Campaigns  *campaign.Service
	Moderation *moderation.Service
	Groups     *group.Service
	Digests    *digest.Service
	Composer   *email.Composer // renders the previews of emails
}

// Backoffice serves the staff pages and API.
type Backoffice struct {
	*kit.Kit
	pages      *kit.Templates
	site       *site.Service
	users      *user.Service
	projects   *project.Service
	ideas      *idea.Service
	features   *feature.Service
	exports    *export.Service
	campaigns  *campaign.Service
	moderation *moderation.Service
	groups     *group.Service
	digests    *digest.Service
	composer   *email.Composer
}

// New builds the back office's handlers.
func New(k *kit.Kit, d Deps) (*Backoffice, error) {
	pages, err := k.Parse(templateFiles, "templates", "project_fields.html")
	if err != nil {
		return nil, err
	}
	return &Backoffice{Kit: k, pages: pages, site: d.Site, users: d.Users, projects: d.Projects, ideas: d.Ideas,
		features: d.Features, exports: d.Exports, campaigns: d.Campaigns, moderation: d.Moderation, groups: d.Groups,
		digests: d.Digests, composer: d.Composer}, nil
}

// page is the data of the back office's pages: the chrome and the part of
// the back office the page shows.
type page struct {
	kit.Chrome
	Home          *site.Home
	Admin         *adminView
	AdminProjects *adminProjectsView
	IdeaStatuses  *statusesView
	Flags         []feature.Flag
	Reports       []moderation.Report
	ReportFilter  moderation.Filter
	Digests       *digestsView
	CityExports   *exportsView
	Campaigns     *campaignsView
	BackOffice    *homeView // the back office's home
}

// AreaChecked reports whether the edited project has area id.
func (v *page) AreaChecked(id int64) bool {
	return v.AdminProjects != nil && v.AdminProjects.Project != nil && slices.Contains(v.AdminProjects.Project.Areas, id)
}

// FolderName is the title of folder id.
func (v *page) FolderName(id *int64) string {
	if id == nil {
		return ""
	}
	if v.AdminProjects == nil {
		return ""
	}
	for _, f := range v.AdminProjects.Folders {
		if f.ID == *id {
			return v.L(f.Title)
		}
	}
	return ""
}

// FormValue is a submitted value, or the edited project's current one.
func (v *page) FormValue(name string) string {
	if v.Form != nil {
		if val, ok := v.Form.Values[name]; ok && val != "" {
			return val
		}
	}
	if v.AdminProjects != nil && v.AdminProjects.Project != nil {
		p := v.AdminProjects.Project
		switch name {
		case "slug":
			return p.Slug
		case "status":
			return string(p.Status)
		case "visibility":
			return p.Visibility
		case "folder_id":
			if p.FolderID != nil {
				return strconv.FormatInt(*p.FolderID, 10)
			}
		}
	}
	return ""
}

// Field is the form input name, holding the submitted value or else the
// edited project's current one (its slug), so saving the form unchanged
// keeps the project as it is.
func (v *page) Field(name, typ, autocomplete string) kit.FieldView {
	f := v.Chrome.Field(name, typ, autocomplete)
	if f.Value == "" {
		f.Value = v.FormValue(name)
	}
	return f
}

// FormText is the project text field name in locale l: as submitted when
// the form comes back refused, else the edited project's.
func (v *page) FormText(name, l string) string {
	if v.Form != nil {
		if val, ok := v.Form.Values[name+"_"+l]; ok {
			return val
		}
	}
	if v.AdminProjects == nil || v.AdminProjects.Project == nil {
		return ""
	}
	switch name {
	case "title":
		return v.AdminProjects.Project.Title[l]
	case "description":
		return v.AdminProjects.Project.Description[l]
	}
	return ""
}

// TopicChecked reports whether the edited project has topic id.
func (v *page) TopicChecked(id int64) bool {
	return v.AdminProjects != nil && v.AdminProjects.Project != nil && slices.Contains(v.AdminProjects.Project.Topics, id)
}

// ProjectStatuses, VisibilityNames and PhaseToggles list form choices.
func (v *page) ProjectStatuses() []string { return []string{"draft", "published", "archived"} }

func (v *page) VisibilityNames() []string { return []string{"public", "groups", "admins"} }

func (v *page) PhaseToggles() []string {
	return []string{"posting", "commenting", "reacting", "dislikes"}
}

// RoleNames lists the roles, for selects.
func (v *page) RoleNames() []string { return []string{"citizen", "moderator", "admin"} }

// PageNumbers lists the pages of the admin's user list.
func (v *page) PageNumbers() []int {
	if v.Admin == nil {
		return nil
	}
	out := make([]int, 0, v.Admin.Pages)
	for i := 1; i <= v.Admin.Pages && i <= 100; i++ {
		out = append(out, i)
	}
	return out
}
