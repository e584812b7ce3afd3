package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"agora/domain/campaign"
	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/site"
	"agora/tenant"
)

// CampaignPayload is the payload of campaign.TaskSend and campaign.TaskTest.
type CampaignPayload struct {
	Payload
	CampaignID int64 `json:"campaign_id"`
	TestID     int64 `json:"test_id,omitempty"`
	// Round counts the runs that handed a campaign over (see Handoff).
	Round int `json:"round,omitempty"`
}

// Campaigns sends the manual email campaigns of the cities whose plan has
// them, and the test emails their staff ask for.
type Campaigns struct {
	db        *tenant.DB
	sender    email.Sender
	composer  *email.Composer
	features  *feature.Service
	portalURL func(host string) string
	secret    string
	log       *slog.Logger

	// PageSize is how many recipients one keyset page holds (200).
	PageSize int
	// Parallel is how many emails are in flight at once (4); the city's
	// rate (campaign settings) bounds how many leave per second.
	Parallel int
	// StopAfter ends a run after this many failed sends in a row (10): the
	// mail server is most likely down, and the retry comes later.
	StopAfter int
	// Handoff: a run whose deadline (the task's timeout) is nearer than
	// this, once it has sent a page, queues the next round of the task
	// through the outbox and ends, instead of being cut off (2 minutes).
	// A large audience at a slow pace takes several rounds.
	Handoff time.Duration
	// Now and Sleep are the pacing's clock (time.Now and a timer).
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// NewCampaigns returns the campaign handlers, wired from the worker's deps.
func NewCampaigns(d WorkerDeps) (*Campaigns, error) {
	c, err := email.NewComposer()
	if err != nil {
		return nil, err
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Campaigns{db: d.DB, sender: d.Sender, composer: c, features: feature.NewService(d.DB), portalURL: d.PortalURL,
		secret: d.SecretKey, log: log, PageSize: 200, Parallel: 4, StopAfter: 10, Handoff: 2 * time.Minute, Now: time.Now, Sleep: sleep}, nil
}

// Handle registers the campaign tasks on mux.
func (h *Campaigns) Handle(mux *asynq.ServeMux) {
	mux.HandleFunc(campaign.TaskSend, h.Send)
	mux.HandleFunc(campaign.TaskTest, h.Test)
}

// sleep waits for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pacer lets one email leave every interval: the first at once, each next
// one when its turn comes, never in a burst after a slow stretch.
type pacer struct {
	every time.Duration
	next  time.Time
	now   func() time.Time
	sleep func(ctx context.Context, d time.Duration) error
}

func (p *pacer) wait(ctx context.Context) error {
	now := p.now()
	if d := p.next.Sub(now); d > 0 {
		if err := p.sleep(ctx, d); err != nil {
			return err
		}
		now = p.next
	}
	p.next = now.Add(p.every)
	return nil
}

// start reads the payload and checks that the task may run: its city, its
// lifecycle and its plan. ok is false when the task has nothing to do.
func (h *Campaigns) start(ctx context.Context, task *asynq.Task) (p CampaignPayload, t *tenant.Tenant, log *slog.Logger, ok bool, err error) {
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.CampaignID <= 0 || (task.Type() == campaign.TaskTest && p.TestID <= 0) {
		return p, nil, nil, false, fmt.Errorf("%s payload %s: %w", task.Type(), task.Payload(), asynq.SkipRetry)
	}
	t, found := tenant.FromContext(ctx)
	if !found {
		return p, nil, nil, false, fmt.Errorf("%s: %w: %w", task.Type(), ErrNoTenant, asynq.SkipRetry)
	}
	log = h.log.With("tenant", t.Slug, "tenant_id", int64(t.ID), "task_type", task.Type(), "campaign", p.CampaignID)
	ok, err = maySend(ctx, h.features, t, feature.ManualEmailCampaigns, log)
	return p, t, log, ok, err
}

// post reads what the city's emails share.
func (h *Campaigns) post(ctx context.Context, t *tenant.Tenant) (cityPost, error) {
	c := cityPost{t: t, base: h.portalURL(t.PrimaryHost), secret: h.secret}
	err := h.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		c.settings, err = site.GetSettings(ctx, tx)
		return err
	})
	return c, err
}

// parcel is campaign c's email to one recipient in language loc.
func (h *Campaigns) parcel(post cityPost, c campaign.Campaign, event string, userID int64, to, loc string, test bool) parcel {
	return parcel{campaign: string(email.Manual), event: event, to: to, userID: userID,
		compose: func(ledger int64) (email.Message, error) {
			unsubscribe := post.unsubscribe(userID, email.Manual)
			subject, text, html, err := c.Compose(h.composer, post.branding(), loc, unsubscribe, post.preferences(), test)
			if err != nil {
				return email.Message{}, err
			}
			return post.message(string(email.Manual), ledger, to, subject, text, html, unsubscribe), nil
		}}
}

// Send sends a campaign to its audience: it freezes the audience once,
// then pages through the recipients still pending (or failed) by keyset,
// skips those who left the "manual" campaign type or whose account is gone,
// and sends each the campaign in their language (else the city's), paced
// by the city's rate, each email claimed in the ledger first. Re-running the
// task, or resuming it after a shutdown, never sends an email twice. Each
// page's outcomes update the campaign's statistics, which count an email
// sent only once the SMTP server accepted it; once none is pending the
// campaign is sent. Failed sends make the task fail, so its retry tries
// them again; emails held by another run (or left by a run that died
// mid-send) stay pending and make it end with ErrInFlight, so its retry,
// once their lease is over, sends those whose holder died.
func (h *Campaigns) Send(ctx context.Context, task *asynq.Task) error {
	p, t, log, ok, err := h.start(ctx, task)
	if !ok {
		return err
	}
	var c campaign.Campaign
	if err := h.db.InTx(ctx, func(tx *tenant.Tx) error {
		var err error
		c, err = campaign.Begin(ctx, tx, p.CampaignID)
		return err
	}); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		return err
	}
	if c.Status == campaign.Draft {
		log.Warn("campaign skipped: still a draft")
		return nil
	}
	post, err := h.post(ctx, t)
	if err != nil {
		return err
	}
	pace := &pacer{now: h.Now, sleep: h.Sleep}
	event := campaign.Event(c.ID)
	var (
		after                              int64
		sent, failed, held, skipped, pages int
	)
	for {
		if err := ctx.Err(); err != nil {
			log.Info("campaign interrupted", "sent", sent, "pages", pages)
			return err
		}
		if dl, ok := ctx.Deadline(); ok && pages > 0 && time.Until(dl) < h.Handoff {
			if err := h.db.InTx(ctx, func(tx *tenant.Tx) error { return campaign.Continue(ctx, tx, c.ID, p.Round+1) }); err != nil {
				return err
			}
			log.Info("campaign handed over to its next round", "round", p.Round+1, "sent", sent, "failed", failed, "pages", pages)
			return nil
		}
		var (
			page []campaign.Recipient
			set  campaign.Settings
		)
		err := h.db.InReadTx(ctx, func(tx *tenant.Tx) error {
			var err error
			if set, err = campaign.GetSettings(ctx, tx); err != nil {
				return err
			}
			page, err = campaign.Recipients(ctx, tx, c.ID, after, h.PageSize)
			return err
		})
		if err != nil {
			return fmt.Errorf("campaign %d of %s: %w", c.ID, t.Slug, err)
		}
		if len(page) == 0 {
			break
		}
		pages++
		after = page[len(page)-1].UserID
		pace.every = time.Second / time.Duration(max(set.PerSecond, 1))
		var (
			outcomes []campaign.Outcome
			parcels  []parcel
			users    []int64
		)
		for _, r := range page {
			switch {
			case r.Gone:
				outcomes = append(outcomes, campaign.Outcome{UserID: r.UserID, State: campaign.StateSkipped, Detail: "account gone"})
			case r.Unsubscribed:
				outcomes = append(outcomes, campaign.Outcome{UserID: r.UserID, State: campaign.StateSkipped, Detail: "unsubscribed"})
			default:
				loc := c.LocaleFor(append([]string{r.Locale}, t.Locales...)...)
				parcels = append(parcels, h.parcel(post, c, event, r.UserID, r.Email, loc, false))
				users = append(users, r.UserID)
			}
		}
		skipped += len(outcomes)
		postman := postman{db: h.db, sender: h.sender, parallel: h.Parallel, stopAfter: h.StopAfter, pace: pace.wait}
		out, stop := postman.deliver(ctx, parcels, func(ctx context.Context, tx *tenant.Tx, out []delivery) error {
			outcomes := slices.Clone(outcomes)
			for i, d := range out {
				switch {
				case d.ledger != 0:
					outcomes = append(outcomes, campaign.Outcome{UserID: users[i], State: campaign.StateSent})
				case d.before:
					outcomes = append(outcomes, campaign.Outcome{UserID: users[i], State: campaign.StateSent, Detail: "sent by an earlier run"})
				case d.err != nil:
					outcomes = append(outcomes, campaign.Outcome{UserID: users[i], State: campaign.StateFailed, Detail: truncate(d.err.Error(), 500)})
				}
			}
			return campaign.Record(ctx, tx, c.ID, outcomes)
		})
		for _, d := range out {
			switch {
			case d.ledger != 0:
				sent++
			case d.held:
				held++
			case d.err != nil:
				failed++
			}
		}
		if stop != nil {
			log.Warn("campaign stopped", "sent", sent, "failed", failed, "err", stop)
			return stop
		}
	}
	var done bool
	if err := h.db.InTx(ctx, func(tx *tenant.Tx) error {
		var err error
		done, err = campaign.Finish(ctx, tx, c.ID)
		return err
	}); err != nil {
		return err
	}
	log.Info("campaign run done", "sent", sent, "failed", failed, "held", held, "skipped", skipped, "pages", pages, "campaign_sent", done)
	if failed > 0 {
		return fmt.Errorf("campaign %d of %s: %d emails failed; the retry sends them", c.ID, t.Slug, failed)
	}
	if held > 0 {
		return fmt.Errorf("campaign %d of %s: %w", c.ID, t.Slug, inFlight(held))
	}
	return nil
}

// Test sends one test email to the staff member who asked for it, marked as
// a test, in the language they chose; it is claimed in the ledger under its
// own event, so it leaves once, and counts in no statistics.
func (h *Campaigns) Test(ctx context.Context, task *asynq.Task) error {
	p, t, _, ok, err := h.start(ctx, task)
	if !ok {
		return err
	}
	var (
		test campaign.Test
		c    campaign.Campaign
	)
	if err := h.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		if test, err = campaign.LoadTest(ctx, tx, p.TestID); err != nil {
			return err
		}
		c, err = campaign.Load(ctx, tx, test.CampaignID)
		return err
	}); err != nil {
		if errs.CodeOf(err) == errs.NotFound {
			return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
		}
		return err
	}
	if test.Email == "" || test.CampaignID != p.CampaignID {
		return nil
	}
	post, err := h.post(ctx, t)
	if err != nil {
		return err
	}
	loc := c.LocaleFor(append([]string{test.Locale}, t.Locales...)...)
	out, err := postman{db: h.db, sender: h.sender}.deliver(ctx,
		[]parcel{h.parcel(post, c, campaign.TestEvent(test.ID), test.UserID, test.Email, loc, true)}, nil)
	return failures(out, err)
}

// truncate cuts s to at most n bytes, never inside a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
