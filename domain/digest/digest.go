// Package digest is a city's weekly email digests: the schedule admins set,
// the period each digest covers, and what goes in the user, admin and
// moderator digests (rules as pure functions, the SQL that reads them).
package digest

import (
	"fmt"
	"time"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/locale"
)

// Kind is one of the digests.
type Kind string

const (
	User      Kind = "user"      // citizens: what moved in what they follow
	Admin     Kind = "admin"     // admins: the city's week in figures
	Moderator Kind = "moderator" // moderators: the week of each project they moderate
)

// Kinds lists the digests.
func Kinds() []Kind { return []Kind{User, Admin, Moderator} }

// Valid reports whether k is a known digest.
func (k Kind) Valid() bool { return k == User || k == Admin || k == Moderator }

// Campaign is the email campaign type of the digest (the consent a
// recipient gives or withdraws, and the ledger's campaign).
func (k Kind) Campaign() string { return string(k) + "_digest" }

// Feature is the plan feature that includes the digest.
func (k Kind) Feature() feature.Key {
	switch k {
	case Admin:
		return feature.AdminDigest
	case Moderator:
		return feature.ModeratorDigest
	}
	return feature.UserDigest
}

// Schedule is when a city's digests go out each week, in its own time zone.
type Schedule struct {
	Weekday int `db:"weekday" json:"weekday"` // ISO 8601: 1 = Monday ... 7 = Sunday
	Hour    int `db:"hour" json:"hour"`       // 0-23
}

// DefaultSchedule is a new city's: Monday at 8:00.
var DefaultSchedule = Schedule{Weekday: 1, Hour: 8}

// Validate returns errs.Invalid naming the field out of range.
func (s Schedule) Validate() error {
	const op = "digest.Schedule"
	if s.Weekday < 1 || s.Weekday > 7 {
		return errs.InvalidField(op, "weekday", "must be 1 (Monday) to 7 (Sunday), got %d", s.Weekday).WithRule("range", 1, 7)
	}
	if s.Hour < 0 || s.Hour > 23 {
		return errs.InvalidField(op, "hour", "must be 0 to 23, got %d", s.Hour).WithRule("range", 0, 23)
	}
	return nil
}

// slotOfWeek is when the digest of the ISO week containing t (in loc) goes
// out. Across a daylight-saving change time.Date moves a missing hour forward.
func (s Schedule) slotOfWeek(t time.Time, loc *time.Location) time.Time {
	local := t.In(loc)
	monday := local.Day() - (int(local.Weekday())+6)%7
	return time.Date(local.Year(), local.Month(), monday+s.Weekday-1, s.Hour, 0, 0, 0, loc)
}

// DueWindow is how long after its slot a digest may still start: an hourly
// tick missed by a worker restart sends it late rather than never, but a
// worker down for days does not send last week's news.
const DueWindow = 24 * time.Hour

// Period is the stretch of time a digest covers: the week before its slot.
// Key names it in task ids and the email ledger ("2026-W48").
type Period struct {
	Key      string    `json:"key"`
	From, To time.Time // [From, To)
}

// periodOf is the period whose digest goes out at slot.
func periodOf(slot time.Time) Period {
	y, w := slot.ISOWeek()
	return Period{Key: fmt.Sprintf("%04d-W%02d", y, w), From: slot.AddDate(0, 0, -7), To: slot}
}

// Due returns the period whose digest is due at now for a city in loc with
// schedule s: the current week's, from its slot until DueWindow later.
func Due(now time.Time, loc *time.Location, s Schedule) (Period, bool) {
	slot := s.slotOfWeek(now, loc)
	if now.Before(slot) || !now.Before(slot.Add(DueWindow)) {
		return Period{}, false
	}
	return periodOf(slot), true
}

// Next is the first slot after now.
func Next(now time.Time, loc *time.Location, s Schedule) time.Time {
	slot := s.slotOfWeek(now, loc)
	if slot.After(now) {
		return slot
	}
	return s.slotOfWeek(now.In(loc).AddDate(0, 0, 7), loc)
}

// Preview is the period a preview covers: the last seven days.
func Preview(now time.Time) Period {
	return Period{Key: "preview", From: now.AddDate(0, 0, -7), To: now}
}

// Idea is an idea with activity in the period.
type Idea struct {
	ID           int64       `db:"id"`
	ProjectID    int64       `db:"project_id"`
	ProjectSlug  string      `db:"project_slug"`
	ProjectTitle locale.Text `db:"project_title"`
	Title        string      `db:"title"`
	Likes        int         `db:"likes_count"`
	Comments     int         `db:"comments_count"`
	// Score is the period's activity: likes, comments (twice) and the idea
	// itself when it was posted in the period.
	Score int `db:"score"`
}

// Phase is a phase that started in the period.
type Phase struct {
	ID           int64       `db:"id"`
	ProjectID    int64       `db:"project_id"`
	ProjectSlug  string      `db:"project_slug"`
	ProjectTitle locale.Text `db:"project_title"`
	Title        locale.Text `db:"title"`
	Method       string      `db:"method"`
	StartsAt     time.Time   `db:"starts_at"`
}

// Follows is what one user follows, as far as the user digest cares.
type Follows struct {
	Projects map[int64]bool
	Ideas    map[int64]bool
}

// At most this many ideas and phases in one user digest.
const (
	MaxIdeas  = 5
	MaxPhases = 5
)

// UserDigest is one citizen's digest.
type UserDigest struct {
	Ideas  []Idea  // trending ideas they follow or in projects they follow
	Phases []Phase // phases started in projects they follow
}

// Empty reports whether there is nothing to send.
func (d UserDigest) Empty() bool { return len(d.Ideas) == 0 && len(d.Phases) == 0 }

// ForUser picks what a user who follows f finds in their digest, from the
// city's ideas with activity (most active first) and new phases.
func ForUser(f Follows, trending []Idea, phases []Phase) UserDigest {
	var d UserDigest
	for _, i := range trending {
		if len(d.Ideas) == MaxIdeas {
			break
		}
		if f.Ideas[i.ID] || f.Projects[i.ProjectID] {
			d.Ideas = append(d.Ideas, i)
		}
	}
	for _, p := range phases {
		if len(d.Phases) == MaxPhases {
			break
		}
		if f.Projects[p.ProjectID] {
			d.Phases = append(d.Phases, p)
		}
	}
	return d
}

// Stats are a week of the city or of one project, as staff see it.
type Stats struct {
	NewIdeas    int `db:"new_ideas"`
	NewComments int `db:"new_comments"`
	NewUsers    int `db:"new_users"` // the city's only
	// AwaitingModeration counts unread reports at the period's end.
	AwaitingModeration int `db:"awaiting_moderation"`
}

// Zero reports whether nothing happened.
func (s Stats) Zero() bool { return s == Stats{} }

// AdminDigest is the city admins' digest.
type AdminDigest struct {
	Stats
	TopIdeas []Idea // the most active ideas of the city
}

// Empty reports whether there is nothing to send.
func (d AdminDigest) Empty() bool { return d.Stats.Zero() && len(d.TopIdeas) == 0 }

// ModeratorDigest is one moderator's digest of one project.
type ModeratorDigest struct {
	ProjectID    int64       `db:"project_id"`
	ProjectSlug  string      `db:"project_slug"`
	ProjectTitle locale.Text `db:"project_title"`
	Stats
	TopIdeas []Idea `db:"-"` // the project's most active ideas
}

// Empty reports whether there is nothing to send.
func (d ModeratorDigest) Empty() bool { return d.Stats.Zero() && len(d.TopIdeas) == 0 }

// MaxTopIdeas is how many ideas staff digests list.
const MaxTopIdeas = 5

// top returns the first n ideas of trending that keep says to keep.
func top(trending []Idea, n int, keep func(Idea) bool) []Idea {
	var out []Idea
	for _, i := range trending {
		if len(out) == n {
			break
		}
		if keep == nil || keep(i) {
			out = append(out, i)
		}
	}
	return out
}

// ForAdmins is the admins' digest from the city's figures and its ideas
// with activity (most active first).
func ForAdmins(s Stats, trending []Idea) AdminDigest {
	return AdminDigest{Stats: s, TopIdeas: top(trending, MaxTopIdeas, nil)}
}

// ForModerators completes each project's figures with its most active
// ideas, and orders the digests by project.
func ForModerators(projects []ModeratorDigest, trending []Idea) map[int64]ModeratorDigest {
	out := make(map[int64]ModeratorDigest, len(projects))
	for _, p := range projects {
		p.TopIdeas = top(trending, MaxTopIdeas, func(i Idea) bool { return i.ProjectID == p.ProjectID })
		out[p.ProjectID] = p
	}
	return out
}
