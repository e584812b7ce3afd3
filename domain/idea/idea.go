// Package idea is the ideas (inputs) citizens post in a project's phases,
// their statuses and the reactions on them.
package idea

import (
	"agora/domain/jsonb"
	"agora/domain/project"
	"agora/domain/user"

	"strings"
	"time"

	"github.com/lib/pq"

	"agora/domain/errs"
	"agora/domain/locale"
	"agora/domain/permission"
)

// ID identifies an idea within one city.
type ID int64

// CommentID identifies a comment within one city.
type CommentID int64

// Idea is one input.
type Idea struct {
	ID             ID               `db:"id" json:"id"`
	ProjectID      project.ID       `db:"project_id" json:"project_id"`
	PhaseID        *project.PhaseID `db:"phase_id" json:"phase_id"`
	AuthorID       *user.ID         `db:"author_id" json:"author_id"`
	AuthorName     string           `db:"author_name" json:"author_name"`
	Title          string           `db:"title" json:"title"`
	Body           string           `db:"body" json:"body"` // sanitised HTML
	Status         string           `db:"status" json:"status"`
	StatusTitle    locale.Text      `db:"status_title" json:"status_title"`
	StatusColor    string           `db:"status_color" json:"status_color"`
	LikesCount     int              `db:"likes_count" json:"likes_count"`
	DislikesCount  int              `db:"dislikes_count" json:"dislikes_count"`
	CommentsCount  int              `db:"comments_count" json:"comments_count"`
	FollowersCount int              `db:"followers_count" json:"followers_count"`
	LocationLat    *float64         `db:"location_lat" json:"location_lat"`
	LocationLng    *float64         `db:"location_lng" json:"location_lng"`
	LocationName   string           `db:"location_name" json:"location_name"`
	CreatedAt      time.Time        `db:"created_at" json:"created_at"`
	Topics         pq.Int64Array    `db:"topics" json:"topics"`
	Images         Images           `db:"images" json:"images"`
	MyReaction     string           `db:"-" json:"my_reaction,omitempty"`
	DeletedAt      *time.Time       `db:"deleted_at" json:"-"`
}

// New is what a citizen submits.
type New struct {
	ProjectID project.ID `json:"project_id"`
	Title     string     `json:"title"`
	Body      string     `json:"body"`
	Topics    []int64    `json:"topics"`
	// An optional place: both coordinates or neither, and a name.
	LocationLat  *float64 `json:"location_lat"`
	LocationLng  *float64 `json:"location_lng"`
	LocationName string   `json:"location_name"`
}

// Images are an idea's pictures, read as one JSON array with the idea.
type Images []Image

// Scan reads the JSON array.
func (m *Images) Scan(src any) error {
	out := Images{}
	if err := jsonb.Scan("images", src, &out); err != nil {
		return err
	}
	*m = out
	return nil
}

// Image is a picture attached to an idea.
type Image struct {
	ID   int64  `db:"id" json:"id"`
	Name string `db:"name" json:"name"`
	URL  string `db:"-" json:"url"`
}

// Check validates a new idea; errors name the field.
func (n *New) Check(op string) error {
	n.Title = PlainTitle(n.Title)
	switch l := len([]rune(n.Title)); {
	case l < 3 || l > 200:
		return errs.InvalidField(op, "title", "must be 3 to 200 characters").WithRule("length", 3, 200)
	case len(n.Body) > 20000:
		return errs.InvalidField(op, "body", "must be at most 20000 characters").WithRule("too_long", 20000)
	case n.ProjectID <= 0:
		return errs.InvalidField(op, "project_id", "is required").WithRule("required")
	case (n.LocationLat == nil) != (n.LocationLng == nil):
		return errs.InvalidField(op, "location_lat", "give both coordinates of the place, or neither").WithRule("location_pair")
	case n.LocationLat != nil && (*n.LocationLat < -90 || *n.LocationLat > 90 || *n.LocationLng < -180 || *n.LocationLng > 180):
		return errs.InvalidField(op, "location_lat", "the coordinates are outside the map").WithRule("location_range")
	}
	n.LocationName = strings.TrimSpace(PlainTitle(n.LocationName))
	if len([]rune(n.LocationName)) > 200 {
		return errs.InvalidField(op, "location_name", "must be at most 200 characters").WithRule("too_long", 200)
	}
	return nil
}

// Denied turns a permission decision into the error that tells the user
// what to do.
func Denied(op string, action permission.Action, d permission.Decision) error {
	switch d.Reason {
	case permission.LogIn:
		return errs.E(op, errs.Unauthenticated, "log in or sign up to %s", verb(action)).WithRule("denied_log_in")
	case permission.ConfirmEmail:
		return errs.E(op, errs.Forbidden, "confirm your email address to %s", verb(action)).WithRule("denied_confirm_email")
	case permission.JoinGroup:
		return errs.E(op, errs.Forbidden, "only members of certain groups can %s here", verb(action)).WithRule("denied_join_group")
	case permission.Blocked:
		return errs.E(op, errs.Forbidden, "your account is blocked for now: you can read but not %s", verb(action)).WithRule("denied_blocked")
	case permission.Disabled:
		return errs.E(op, errs.Forbidden, "this phase does not allow to %s", verb(action)).WithRule("denied_disabled")
	case permission.NotVisible:
		return errs.E(op, errs.NotFound, "no such project")
	default:
		return errs.E(op, errs.Forbidden, "only admins and moderators can %s here", verb(action)).WithRule("denied_staff_only")
	}
}

func verb(a permission.Action) string {
	switch a {
	case permission.Post:
		return "post an idea"
	case permission.React:
		return "react"
	case permission.Comment:
		return "comment"
	}
	return strings.ReplaceAll(string(a), "_", " ")
}

// searchConfig is PostgreSQL's text search configuration for a locale.
func searchConfig(locale string) string {
	switch locale[:2] {
	case "en":
		return "english"
	case "fr":
		return "french"
	case "nl":
		return "dutch"
	case "de":
		return "german"
	case "es":
		return "spanish"
	case "it":
		return "italian"
	case "pt":
		return "portuguese"
	case "da":
		return "danish"
	case "sv":
		return "swedish"
	}
	return "simple"
}
