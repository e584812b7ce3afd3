// Package portal is what citizens see of their city: the portal's pages
// (home, projects, ideas with their comments and pictures, follows,
// reports, notifications, the city's own pages) and the JSON API the portal
// is made of. Accounts and sign-in are in account; what staff do, even on
// a portal page, is in backoffice.
package portal

import (
	"embed"
	"fmt"
	"html/template"
	"slices"

	"agora/domain/feature"
	"agora/domain/follow"
	"agora/domain/idea"
	"agora/domain/moderation"
	"agora/domain/notify"
	"agora/domain/project"
	"agora/domain/site"
	"agora/web/kit"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Deps are the services the portal needs.
type Deps struct {
	Site          *site.Service
	Projects      *project.Service
	Ideas         *idea.Service
	Follows       *follow.Service
	Notifications *notify.Service
	Moderation    *moderation.Service
	Features      *feature.Service
}

// Portal serves the portal's pages and API.
type Portal struct {
	*kit.Kit
	pages         *kit.Templates
	site          *site.Service
	projects      *project.Service
	ideas         *idea.Service
	follows       *follow.Service
	notifications *notify.Service
	moderation    *moderation.Service
	features      *feature.Service
}

// New builds the portal's handlers.
func New(k *kit.Kit, d Deps) (*Portal, error) {
	pages, err := k.Parse(templateFiles, "templates", "idea_fields.html")
	if err != nil {
		return nil, err
	}
	return &Portal{Kit: k, pages: pages, site: d.Site, projects: d.Projects, ideas: d.Ideas, follows: d.Follows,
		notifications: d.Notifications, moderation: d.Moderation, features: d.Features}, nil
}

// page is the data of the portal's pages: the chrome, the city's site data
// (topics, areas, folders) and what the page shows.
type page struct {
	kit.Chrome
	Home          *site.Home
	Page          *site.Page
	Projects      []project.Project
	Project       *project.Project
	TopicFilter   int64
	HomeFilter    *homeFilter
	Folders       []project.Folder
	Ideas         *ideasView
	Idea          *idea.Idea
	IdeaBody      template.HTML
	ReactDenial   *denialView
	DislikesOn    bool
	Feedback      []idea.Feedback
	Statuses      []idea.Status // the city's idea statuses (staff's choices, list filters)
	StatusHistory []idea.StatusChange
	// The idea page's extras: reactions left in a limited phase (-1: no
	// limit), whether the viewer may edit the idea, errors of its forms.
	ReactionsLeft int
	CanEditIdea   bool
	ReactionError string
	ImageError    string
	StaffError    string
	CheckedTopics []int64 // the idea form's topics
	Comments      []idea.Comment
	CommentDenial *denialView
	ViewerID      int64
	Moderates     bool
	Following     bool
	Notifications []notify.Notification
}

// TopicName is the title of topic id among the city's topics.
func (v *page) TopicName(id int64) string {
	if v.Home != nil {
		for _, t := range v.Home.Topics {
			if t.ID == id {
				return v.L(t.Title)
			}
		}
	}
	return ""
}

// AreaName is the title of area id among the city's areas.
func (v *page) AreaName(id int64) string {
	if v.Home != nil {
		for _, a := range v.Home.Areas {
			if a.ID == id {
				return v.L(a.Title)
			}
		}
	}
	return ""
}

// FolderName is the title of folder id.
func (v *page) FolderName(id *int64) string {
	if id == nil {
		return ""
	}
	for _, f := range v.Folders {
		if f.ID == *id {
			return v.L(f.Title)
		}
	}
	return ""
}

// ReportReasons are the reasons a report can give.
func (v *page) ReportReasons() []string { return moderation.Reasons }

// PlainText is sanitised HTML as the text to edit it from: what was typed,
// paragraphs and line breaks kept (see idea.TextOf).
func (v *page) PlainText(html string) string { return idea.TextOf(html) }

// TopicIn reports whether the idea edit form has topic id checked.
func (v *page) TopicIn(id int64) bool { return slices.Contains(v.CheckedTopics, id) }

// CanDelete reports whether the viewer may delete comment cm.
func (v *page) CanDelete(cm idea.Comment) bool {
	return cm.DeletedBy == nil && v.ViewerID != 0 && (v.Moderates || v.Wrote(cm))
}

// Wrote reports whether the viewer wrote comment cm.
func (v *page) Wrote(cm idea.Comment) bool {
	return cm.AuthorID != nil && v.ViewerID != 0 && int64(*cm.AuthorID) == v.ViewerID
}

// Draft is the text typed in the idea page's comment form which (see
// commentForm) for id (a comment's, 0 for a new comment) when that form was refused, "" otherwise.
func (v *page) Draft(which string, id any) string {
	if !v.refused(which, id) {
		return ""
	}
	return v.Form.Values["body"]
}

// DraftError is why the comment form which for id was refused, if it was.
func (v *page) DraftError(which string, id any) string {
	if !v.refused(which, id) {
		return ""
	}
	return v.Form.Errors["comment"]
}

func (v *page) refused(which string, id any) bool {
	return v.Form != nil && v.Form.Values["form"] == which && v.Form.Values["id"] == fmt.Sprint(id)
}

// IdeaSorts lists the orders of an idea list.
func (v *page) IdeaSorts() []string { return idea.Sorts }

// TopicTitle is the title of topic id, from the idea page's site data.
func (v *page) TopicTitle(id int64) string { return v.TopicName(id) }
