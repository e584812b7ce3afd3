// Package project is a city's participation projects and their phase
// timelines: the rules (pure functions), the SQL store and the service.
package project

import (
	"github.com/lib/pq"

	"agora/domain/jsonb"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/locale"
	"agora/domain/permission"
)

// Status is where a project stands.
type Status string

const (
	Draft     Status = "draft"
	Published Status = "published"
	Archived  Status = "archived"
)

// Methods are the participation methods a phase can have (the database's
// list): phases stored with any of them are read and shown. A new phase
// may only choose an offered one (Offered).
var Methods = []string{"information", "ideation", "voting", "poll", "native_survey", "volunteering", "proposals"}

// methodFeatures is the feature each method belongs to: a method is
// offered when this release has built its feature (feature.Built), so a
// method turns itself on with its feature's line in the plan table.
var methodFeatures = map[string]feature.Key{
	"information":   feature.Information,
	"ideation":      feature.Ideation,
	"voting":        feature.Voting,
	"poll":          feature.Polls,
	"native_survey": feature.NativeSurveys,
	"volunteering":  feature.Volunteering,
	"proposals":     feature.Proposals,
}

// Offered lists the methods a phase may choose, in the order of Methods.
func Offered() []string {
	var out []string
	for _, m := range Methods {
		if OfferedMethod(m) {
			out = append(out, m)
		}
	}
	return out
}

// OfferedMethod reports whether a phase may choose method m: Agora has
// built what the method does.
func OfferedMethod(m string) bool {
	k, ok := methodFeatures[m]
	return ok && feature.Built(k)
}

// checkMethod refuses a method that is not offered, unless the phase keeps
// the method it has (kept): a phase made before its method was withdrawn
// keeps it through other edits, but none can choose it anew.
func checkMethod(op string, p Phase, kept string) error {
	if p.Method == kept || OfferedMethod(p.Method) || !slices.Contains(Methods, p.Method) {
		return nil // unknown methods are CheckPhase's to refuse
	}
	return errs.InvalidField(op, "method", "%s phases are not available in Agora yet; choose one of %s", p.Method, strings.Join(Offered(), ", ")).
		WithRule("method_not_built")
}

// ID identifies a project within one city.
type ID int64

// PhaseID identifies a phase of a project.
type PhaseID int64

// Project is one participation project.
type Project struct {
	ID          ID          `db:"id" json:"id"`
	Slug        string      `db:"slug" json:"slug"`
	Title       locale.Text `db:"title" json:"title"`
	Description locale.Text `db:"description" json:"description"`
	Status      Status      `db:"status" json:"status"`
	Visibility  string      `db:"visibility" json:"visibility"`
	Position    int         `db:"position" json:"position"`
	FolderID    *int64      `db:"folder_id" json:"folder_id"`
	// HeaderImage is the header image's file name ("" when none), served at
	// HeaderURL.
	HeaderImage string        `db:"header_image" json:"header_image"`
	CreatedAt   time.Time     `db:"created_at" json:"created_at"`
	PublishedAt *time.Time    `db:"published_at" json:"published_at"`
	Topics      pq.Int64Array `db:"topics" json:"topics"`
	Areas       pq.Int64Array `db:"areas" json:"areas"`
	Groups      pq.Int64Array `db:"groups" json:"groups"`
	Moderators  pq.Int64Array `db:"moderators" json:"moderators"`
	Phases      Phases        `db:"phases" json:"phases"`
}

// Phases are a project's timeline, read as one JSON array with the project.
type Phases []Phase

// Scan reads the JSON array.
func (ps *Phases) Scan(src any) error {
	out := Phases{}
	if err := jsonb.Scan("phases", src, &out); err != nil {
		return err
	}
	*ps = out
	return nil
}

// HeaderURL is where the project's header image is served ("" when none).
func (p Project) HeaderURL() string {
	if p.HeaderImage == "" {
		return ""
	}
	return "/projects/" + p.Slug + "/header/" + p.HeaderImage
}

// Phase is one step of a project's timeline.
type Phase struct {
	ID                PhaseID     `db:"id" json:"id"`
	ProjectID         ID          `db:"project_id" json:"project_id"`
	Title             locale.Text `db:"title" json:"title"`
	Description       locale.Text `db:"description" json:"description"`
	Method            string      `db:"method" json:"method"`
	StartsAt          time.Time   `db:"starts_at" json:"starts_at"`
	EndsAt            *time.Time  `db:"ends_at" json:"ends_at"`
	PostingEnabled    bool        `db:"posting_enabled" json:"posting_enabled"`
	CommentingEnabled bool        `db:"commenting_enabled" json:"commenting_enabled"`
	ReactingEnabled   bool        `db:"reacting_enabled" json:"reacting_enabled"`
	DislikesEnabled   bool        `db:"dislikes_enabled" json:"dislikes_enabled"`
	ReactionLimit     *int        `db:"reaction_limit" json:"reaction_limit"`
	Permissions       Permissions `db:"permissions" json:"permissions"`
}

// Current reports whether the phase runs at t.
func (p Phase) Current(t time.Time) bool {
	return !t.Before(p.StartsAt) && (p.EndsAt == nil || t.Before(*p.EndsAt))
}

// name is how errors refer to a phase: its title, else its start date.
func (p Phase) name() string {
	if t := p.Title.Pick("en"); t != "" {
		return fmt.Sprintf("%q", t)
	}
	return "starting " + p.StartsAt.Format("2006-01-02")
}

var slugRe = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,80}$`)

// CheckProject validates a project's fields; errors name the field.
func CheckProject(op string, p *Project) error {
	p.Slug = strings.TrimSpace(p.Slug)
	switch {
	case !slugRe.MatchString(p.Slug):
		return errs.InvalidField(op, "slug", "%q must be lower-case letters, digits and hyphens", p.Slug).WithRule("slug_format")
	}
	if err := locale.CheckTitle(op, "title", p.Title); err != nil {
		return err
	}
	if err := locale.CheckDescription(op, "description", p.Description); err != nil {
		return err
	}
	if p.Status == "" {
		p.Status = Draft
	}
	if p.Status != Draft && p.Status != Published && p.Status != Archived {
		return errs.InvalidField(op, "status", "%q is not draft, published or archived", p.Status).WithRule("choice")
	}
	if p.Visibility == "" {
		p.Visibility = string(permission.Public)
	}
	switch permission.Visibility(p.Visibility) {
	case permission.Public, permission.GroupsOnly, permission.AdminsOnly:
	default:
		return errs.InvalidField(op, "visibility", "%q is not public, groups or admins", p.Visibility).WithRule("choice")
	}
	return nil
}

// The years a city could mean in a date it enters (a phase, a trial's end):
// anything else is a typing slip, and years outside what every client and
// format can show (year 0, year 10000) must never be stored.
const (
	MinYear = 1900
	MaxYear = 2200
)

// SensibleDate reports whether t falls within MinYear and MaxYear.
func SensibleDate(t time.Time) bool {
	y := t.UTC().Year()
	return y >= MinYear && y <= MaxYear
}

// Public reports whether anyone at all may see the project: published and
// visible to everyone (so its pictures may sit in shared caches).
func (p Project) Public() bool {
	return p.Status == Published && permission.Visibility(p.Visibility) == permission.Public
}

// CheckPhase validates one phase on its own; errors name the field.
func CheckPhase(op string, p Phase) error {
	if err := locale.CheckTitle(op, "title", p.Title); err != nil {
		return err
	}
	if err := locale.CheckDescription(op, "description", p.Description); err != nil {
		return err
	}
	switch {
	case !slices.Contains(Methods, p.Method):
		return errs.InvalidField(op, "method", "%q is not one of %s", p.Method, strings.Join(Methods, ", ")).WithRule("choice")
	case p.StartsAt.IsZero():
		return errs.InvalidField(op, "starts_at", "is required").WithRule("required")
	case !SensibleDate(p.StartsAt):
		return errs.InvalidField(op, "starts_at", "must be a date between %d and %d", MinYear, MaxYear).WithRule("date_range", MinYear, MaxYear)
	case p.EndsAt != nil && !SensibleDate(*p.EndsAt):
		return errs.InvalidField(op, "ends_at", "must be a date between %d and %d", MinYear, MaxYear).WithRule("date_range", MinYear, MaxYear)
	case p.EndsAt != nil && !p.EndsAt.After(p.StartsAt):
		return errs.InvalidField(op, "ends_at", "must be after starts_at").WithRule("ends_before_start")
	case p.ReactionLimit != nil && *p.ReactionLimit < 1:
		return errs.InvalidField(op, "reaction_limit", "must be at least 1").WithRule("positive")
	}
	return p.Permissions.check(op)
}

// CheckTimeline reports whether phase p fits among the project's other phases:
// no overlap, and only the last phase open-ended. The error names both
// phases (its rule's arguments are their titles, for pages to name them in
// their language). (The database enforces the same with an exclusion constraint.)
func CheckTimeline(op string, others []Phase, p Phase) error {
	sorted := append([]Phase(nil), others...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].StartsAt.Before(sorted[j].StartsAt) })
	for _, o := range sorted {
		if o.ID == p.ID && p.ID != 0 {
			continue
		}
		if overlaps(o, p) {
			switch {
			case o.EndsAt == nil && o.StartsAt.Before(p.StartsAt):
				return errs.InvalidField(op, "starts_at", "phase %s cannot follow phase %s, which is open-ended: only the last phase may be open-ended",
					p.name(), o.name()).WithRule("after_open_ended", p.Title, o.Title)
			case p.EndsAt == nil && p.StartsAt.Before(o.StartsAt):
				return errs.InvalidField(op, "ends_at", "phase %s cannot be open-ended: phase %s comes after it; only the last phase may be open-ended",
					p.name(), o.name()).WithRule("open_ended_not_last", p.Title, o.Title)
			default:
				return errs.InvalidField(op, "starts_at", "phase %s overlaps phase %s", p.name(), o.name()).WithRule("overlap", p.Title, o.Title)
			}
		}
	}
	return nil
}

// overlaps reports whether two half-open periods [start, end) intersect; a
// nil end is infinity.
func overlaps(a, b Phase) bool {
	aEndsAfterBStarts := a.EndsAt == nil || a.EndsAt.After(b.StartsAt)
	bEndsAfterAStarts := b.EndsAt == nil || b.EndsAt.After(a.StartsAt)
	return aEndsAfterBStarts && bEndsAfterAStarts
}

// CurrentPhase returns the phase running at t, if any.
func CurrentPhase(phases []Phase, t time.Time) (Phase, bool) {
	for _, p := range phases {
		if p.Current(t) {
			return p, true
		}
	}
	return Phase{}, false
}
