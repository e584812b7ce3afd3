package campaign

import (
	"context"
	"fmt"
	"slices"
	"time"

	"agora/domain/errs"
	"agora/tenant"
)

// MaxTestsPerHour bounds the test emails one person sends of one campaign.
const MaxTestsPerHour = 20

// Service writes, tries and sends the campaigns of the context's city. It
// does not check the plan: its callers (routes and the worker) do.
type Service struct{ db *tenant.DB }

// NewService returns the campaign service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

func locales(ctx context.Context) []string {
	if t, ok := tenant.FromContext(ctx); ok {
		return t.Locales
	}
	return nil
}

// Create records a draft campaign written by actor. Errors: errs.Invalid
// naming the field.
func (s *Service) Create(ctx context.Context, actor int64, m Message) (*Campaign, error) {
	const op = "campaign.Create"
	if err := m.Clean(op, locales(ctx)); err != nil {
		return nil, err
	}
	var out Campaign
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if err := checkGroups(ctx, tx, op, m.GroupIDs); err != nil {
			return err
		}
		var id int64
		if err := tx.GetContext(ctx, &id, `INSERT INTO campaigns (subject, body, audience, created_by, updated_by)
			VALUES ($1, $2, $3, nullif($4, 0), nullif($4, 0)) RETURNING id`, m.Subject, m.Body, string(m.Audience), actor); err != nil {
			return err
		}
		if err := setGroups(ctx, tx, id, m.GroupIDs); err != nil {
			return err
		}
		var err error
		out, err = Load(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Update changes a draft. Errors: errs.NotFound, errs.Conflict once the
// campaign is being sent or sent, errs.Invalid naming the field.
func (s *Service) Update(ctx context.Context, actor, id int64, p Patch) (*Campaign, error) {
	const op = "campaign.Update"
	var out Campaign
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		r, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if r.Status != Draft {
			return errs.E(op, errs.Conflict, "a campaign that was sent cannot be changed").WithRule("campaign_not_draft")
		}
		m := p.apply(r.campaign())
		if err := m.Clean(op, locales(ctx)); err != nil {
			return err
		}
		if err := checkGroups(ctx, tx, op, m.GroupIDs); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET subject = $2, body = $3, audience = $4,
			updated_by = nullif($5, 0), updated_at = now() WHERE id = $1`, id, m.Subject, m.Body, string(m.Audience), actor); err != nil {
			return err
		}
		if err := setGroups(ctx, tx, id, m.GroupIDs); err != nil {
			return err
		}
		out, err = Load(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Get returns campaign id with its statistics. Errors: errs.NotFound.
func (s *Service) Get(ctx context.Context, id int64) (*Campaign, error) {
	var out Campaign
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		out, err = Load(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns the newest campaigns (at most limit, 100 at most) with
// their statistics, in one query.
func (s *Service) List(ctx context.Context, limit int) ([]Campaign, error) {
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	out := []Campaign{}
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var rows []row
		if err := tx.SelectContext(ctx, &rows, `SELECT `+columns+` FROM campaigns c ORDER BY c.created_at DESC, c.id DESC LIMIT $1`, limit); err != nil {
			return err
		}
		for _, r := range rows {
			out = append(out, r.campaign())
		}
		return nil
	})
	return out, err
}

// Reach counts who campaign id's audience holds now (for a draft, who
// would get it; the audience is frozen when the sending begins). Errors:
// errs.NotFound.
func (s *Service) Reach(ctx context.Context, id int64) (Reach, error) {
	var out Reach
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		c, err := Load(ctx, tx, id)
		if err != nil {
			return err
		}
		out, err = reach(ctx, tx, c)
		return err
	})
	return out, err
}

// Send starts sending draft id on behalf of actor: it marks the campaign
// as being sent and queues its task in the same transaction, so the task
// exists if and only if the campaign left the drafts. Errors:
// errs.NotFound, errs.Conflict when it was already sent, errs.Invalid when
// it is not ready (see Ready) or its audience holds nobody.
func (s *Service) Send(ctx context.Context, actor, id int64) (*Campaign, error) {
	const op = "campaign.Send"
	var out Campaign
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		r, err := load(ctx, tx, id, true)
		if err != nil {
			return err
		}
		c := r.campaign()
		if c.Status != Draft {
			return errs.E(op, errs.Conflict, "this campaign was already sent").WithRule("campaign_not_draft")
		}
		if err := c.Ready(op); err != nil {
			return err
		}
		n, err := reach(ctx, tx, c)
		if err != nil {
			return err
		}
		if n.People == 0 {
			return errs.InvalidField(op, "group_ids", "nobody with a confirmed address is in this audience").WithRule("campaign_nobody")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = 'sending', sending_at = now(), sent_by = nullif($2, 0),
			updated_at = now() WHERE id = $1`, id, actor); err != nil {
			return err
		}
		if err := Continue(ctx, tx, id, 0); err != nil {
			return err
		}
		out, err = Load(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// TestSend is a test email queued: who it goes to and in which language.
type TestSend struct {
	ID     int64  `json:"id"`
	To     string `json:"to"`
	Locale string `json:"locale"`
}

// Test queues one test email of campaign id to actor (and no one else), in
// language loc (empty: the actor's own, then the city's), whatever the
// campaign's status. It is not counted in the campaign's statistics.
// Errors: errs.NotFound, errs.Invalid (not ready, a language the city does
// not have, an actor without an address), errs.RateLimited after
// MaxTestsPerHour tests of one campaign in an hour.
func (s *Service) Test(ctx context.Context, actor, id int64, loc string) (*TestSend, error) {
	const op = "campaign.Test"
	cityLocales := locales(ctx)
	if loc != "" && !slices.Contains(cityLocales, loc) {
		return nil, errs.InvalidField(op, "locale", "%q is not a language of this city", loc).WithRule("campaign_locale", loc)
	}
	var out TestSend
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		c, err := Load(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := c.Ready(op); err != nil {
			return err
		}
		var me struct {
			Email  *string `db:"email"`
			Locale string  `db:"locale"`
		}
		if err := tx.GetContext(ctx, &me, `SELECT email, locale FROM users WHERE id = $1 AND deleted_at IS NULL`, actor); err != nil {
			return errs.E(op, errs.NotFound, "no such account")
		}
		if me.Email == nil {
			return errs.InvalidField(op, "email", "your account has no email address").WithRule("campaign_no_address")
		}
		// Serialise one person's tests of one campaign, so the count holds.
		if err := tx.Lock(ctx, fmt.Sprintf("campaign_test.%d.%d", id, actor)); err != nil {
			return err
		}
		var recent int
		if err := tx.GetContext(ctx, &recent, `SELECT count(*) FROM campaign_tests WHERE campaign_id = $1 AND user_id = $2 AND created_at > $3`,
			id, actor, time.Now().Add(-time.Hour)); err != nil {
			return err
		}
		if recent >= MaxTestsPerHour {
			return errs.E(op, errs.RateLimited, "at most %d test emails of one campaign an hour", MaxTestsPerHour).WithRule("campaign_tests", MaxTestsPerHour)
		}
		prefs := append([]string{loc, me.Locale}, cityLocales...)
		out = TestSend{To: *me.Email, Locale: c.LocaleFor(prefs...)}
		if err := tx.GetContext(ctx, &out.ID, `INSERT INTO campaign_tests (campaign_id, user_id, locale) VALUES ($1, $2, $3) RETURNING id`,
			id, actor, out.Locale); err != nil {
			return err
		}
		return tx.Enqueue(ctx, tenant.Task{Type: TaskTest, Queue: "critical", ID: fmt.Sprintf("campaign_test:%d", out.ID),
			Payload: map[string]any{"campaign_id": id, "test_id": out.ID}})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// Settings returns how fast the city's campaigns leave.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	var out Settings
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		out, err = GetSettings(ctx, tx)
		return err
	})
	return out, err
}

// SetSettings changes how fast the city's campaigns leave, from the next
// page of recipients on. Errors: errs.Invalid naming per_second.
func (s *Service) SetSettings(ctx context.Context, actor int64, in Settings) (Settings, error) {
	if in.PerSecond < MinPerSecond || in.PerSecond > MaxPerSecond {
		return Settings{}, errs.InvalidField("campaign.SetSettings", "per_second", "must be %d to %d", MinPerSecond, MaxPerSecond).
			WithRule("range", MinPerSecond, MaxPerSecond)
	}
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE campaign_settings SET per_second = $1, updated_by = nullif($2, 0), updated_at = now()`, in.PerSecond, actor)
		return err
	})
	if err != nil {
		return Settings{}, err
	}
	return in, nil
}
