package digest

import (
	"context"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"agora/domain/project"
	"agora/tenant"
)

// Content is what one run of a digest reads once, before it pages through
// its recipients.
type Content struct {
	Kind     Kind
	Period   Period
	Trending []Idea                    // user digest: public ideas; staff digests: every idea
	Phases   []Phase                   // user digest
	City     Stats                     // admin digest
	Projects map[int64]ModeratorDigest // moderator digest, by project
}

// LoadContent reads, on a city transaction, what the digest k of period p
// shows.
func LoadContent(ctx context.Context, q sqlx.QueryerContext, k Kind, p Period) (Content, error) {
	c := Content{Kind: k, Period: p}
	var err error
	if c.Trending, err = Trending(ctx, q, p, k == User); err != nil {
		return c, err
	}
	switch k {
	case User:
		c.Phases, err = NewPhases(ctx, q, p)
	case Admin:
		c.City, err = CityStats(ctx, q, p)
	case Moderator:
		var projects []ModeratorDigest
		if projects, err = ProjectStats(ctx, q, p); err == nil {
			c.Projects = ForModerators(projects, c.Trending)
		}
	}
	return c, err
}

// For returns the digest of one recipient (a UserDigest, AdminDigest or
// ModeratorDigest) and whether it is empty and must not be sent. f is what
// the recipient follows (user digest only).
func (c Content) For(r Recipient, f Follows) (any, bool) {
	switch c.Kind {
	case User:
		d := ForUser(f, c.Trending, c.Phases)
		return d, d.Empty()
	case Admin:
		d := ForAdmins(c.City, c.Trending)
		return d, d.Empty()
	case Moderator:
		d, ok := c.Projects[r.ProjectID]
		return d, !ok || d.Empty()
	}
	return nil, true
}

// Service reads and changes a city's digest schedule and previews digests.
type Service struct{ db *tenant.DB }

// NewService returns the digest service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

// Schedule returns the city's digest schedule.
func (s *Service) Schedule(ctx context.Context) (Schedule, error) {
	var out Schedule
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		out, err = GetSchedule(ctx, tx)
		return err
	})
	return out, err
}

// SetSchedule changes the city's digest schedule. Errors: errs.Invalid
// naming the field out of range.
func (s *Service) SetSchedule(ctx context.Context, actor int64, sch Schedule) (Schedule, error) {
	if err := sch.Validate(); err != nil {
		return Schedule{}, err
	}
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error { return setSchedule(ctx, tx, actor, sch) })
	return sch, err
}

// Preview returns the digest k of the last seven days as userID would get
// it, and whether it is empty (and so would not be sent). A moderator
// digest previews the first project userID moderates that has news, else
// the first project with moderators that has news.
func (s *Service) Preview(ctx context.Context, k Kind, userID int64, now time.Time) (any, bool, error) {
	var (
		out   any
		empty = true
	)
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		c, err := LoadContent(ctx, tx, k, Preview(now))
		if err != nil {
			return err
		}
		r := Recipient{UserID: userID}
		var f Follows
		switch k {
		case User:
			fs, err := FollowsOf(ctx, tx, []int64{userID})
			if err != nil {
				return err
			}
			f = fs[userID]
		case Moderator:
			mine, err := project.ModeratedBy(ctx, tx, userID)
			if err != nil {
				return err
			}
			for _, id := range mine {
				if d, ok := c.Projects[id]; ok && !d.Empty() {
					r.ProjectID = id
					break
				}
			}
			if r.ProjectID == 0 {
				for _, d := range sortedProjects(c.Projects) {
					if !d.Empty() {
						r.ProjectID = d.ProjectID
						break
					}
				}
			}
		}
		out, empty = c.For(r, f)
		return nil
	})
	return out, empty, err
}

// sortedProjects lists moderator digests by project id.
func sortedProjects(m map[int64]ModeratorDigest) []ModeratorDigest {
	out := make([]ModeratorDigest, 0, len(m))
	for _, d := range m {
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ProjectID < out[j].ProjectID })
	return out
}
