package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/feature"
	"agora/domain/site"
	"agora/tenant"
)

// Task types of the weekly digests.
const (
	// TypeDigestTick (hourly) enqueues the digests that are due in each city,
	// by the city's own schedule and time zone.
	TypeDigestTick = "digest:tick"
	// TypeDigestUser, TypeDigestAdmin and TypeDigestModerator send one
	// city's digest of one kind for one period.
	TypeDigestUser      = "digest:user"
	TypeDigestAdmin     = "digest:admin"
	TypeDigestModerator = "digest:moderator"
	// DigestTickSchedule runs the tick a few minutes past every hour, so a
	// digest set for 8:00 leaves at 8:02 in the city's time zone.
	DigestTickSchedule = "2 * * * *"
)

func init() { platformTypes[TypeDigestTick] = true }

// DigestType is the task type of digest kind k ("" for no digest).
func DigestType(k digest.Kind) string {
	switch k {
	case digest.User:
		return TypeDigestUser
	case digest.Admin:
		return TypeDigestAdmin
	case digest.Moderator:
		return TypeDigestModerator
	}
	return ""
}

// digestKind is the digest kind of task type typ ("" for none).
func digestKind(typ string) digest.Kind {
	for _, k := range digest.Kinds() {
		if DigestType(k) == typ {
			return k
		}
	}
	return ""
}

// DigestPayload is the payload of the digest tasks.
type DigestPayload struct {
	Payload
	Period string    `json:"period"` // e.g. 2026-W48: the ledger's event
	From   time.Time `json:"from"`   // the period covered, [from, to)
	To     time.Time `json:"to"`
}

// NewDigestTask builds the task that sends digest k of period p in city id.
// Its TaskID is deterministic and retained for longer than a digest stays
// due, so every tick of the due window, from any scheduler, enqueues it once.
func NewDigestTask(id tenant.ID, k digest.Kind, p digest.Period) (*asynq.Task, error) {
	if !k.Valid() || p.Key == "" {
		return nil, fmt.Errorf("digest task: kind %q, period %q", k, p.Key)
	}
	b, err := json.Marshal(DigestPayload{Payload: Payload{TenantID: id}, Period: p.Key, From: p.From.UTC(), To: p.To.UTC()})
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(DigestType(k), b,
		asynq.TaskID(fmt.Sprintf("%s:%d:%s", DigestType(k), id, p.Key)),
		asynq.Queue("low"), asynq.MaxRetry(10), asynq.Timeout(2*time.Hour),
		asynq.Retention(digest.DueWindow+24*time.Hour)), nil
}

// NewDigestTickTask builds the hourly tick.
func NewDigestTickTask() *asynq.Task {
	return asynq.NewTask(TypeDigestTick, nil, asynq.Queue("low"), asynq.MaxRetry(3))
}

// Digests sends the weekly digests of every city.
type Digests struct {
	db        *tenant.DB
	reg       *tenant.Registry
	client    *asynq.Client
	sender    email.Sender
	composer  *email.Composer
	features  *feature.Service
	portalURL func(host string) string
	secret    string
	log       *slog.Logger

	// Now is the clock of the tick (time.Now).
	Now func() time.Time
	// PageSize is how many recipients one keyset page holds (500).
	PageSize int
	// Parallel is how many emails of a page are in flight at once (4).
	Parallel int
}

// NewDigests returns the digest handlers, wired from the worker's deps.
func NewDigests(d WorkerDeps) (*Digests, error) {
	c, err := email.NewComposer()
	if err != nil {
		return nil, err
	}
	log := d.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Digests{db: d.DB, reg: d.Registry, client: d.Client, sender: d.Sender, composer: c,
		features: feature.NewService(d.DB), portalURL: d.PortalURL, secret: d.SecretKey, log: log,
		Now: time.Now, PageSize: 500, Parallel: 4}, nil
}

// Handle registers the tick and the digest tasks on mux.
func (d *Digests) Handle(mux *asynq.ServeMux) {
	mux.HandleFunc(TypeDigestTick, d.Tick)
	for _, k := range digest.Kinds() {
		mux.HandleFunc(DigestType(k), d.Send)
	}
}

// sends reports whether a city in lifecycle l gets digests: active and
// trial cities do, suspended and churned ones do not.
func sends(l tenant.Lifecycle) bool { return l == tenant.Active || l == tenant.Trial }

// Tick enqueues, for every active or trial city whose digests are due now by
// its own schedule and time zone, one task per digest its plan includes. A
// city whose schedule cannot be read is skipped (and reported); the others
// still get theirs.
func (d *Digests) Tick(ctx context.Context, _ *asynq.Task) error {
	ts, err := d.reg.List(ctx)
	if err != nil {
		return err
	}
	now := d.Now()
	var failed []error
	for _, t := range ts {
		if !sends(t.Lifecycle) {
			continue
		}
		var kinds []digest.Kind
		for _, k := range digest.Kinds() {
			if t.Allows(string(k.Feature())) {
				kinds = append(kinds, k)
			}
		}
		if len(kinds) == 0 {
			continue
		}
		var sch digest.Schedule
		err := d.db.InReadTx(tenant.WithTenant(ctx, t), func(tx *tenant.Tx) error {
			var err error
			sch, err = digest.GetSchedule(ctx, tx)
			return err
		})
		if err != nil {
			failed = append(failed, fmt.Errorf("digest schedule of %s: %w", t.Slug, err))
			continue
		}
		loc, err := time.LoadLocation(t.TimeZone)
		if err != nil {
			d.log.Warn("digest: unknown time zone, using UTC", "tenant", t.Slug, "time_zone", t.TimeZone)
			loc = time.UTC
		}
		p, due := digest.Due(now, loc, sch)
		if !due {
			continue
		}
		for _, k := range kinds {
			task, err := NewDigestTask(t.ID, k, p)
			if err != nil {
				return err
			}
			if _, err := d.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) && !errors.Is(err, asynq.ErrDuplicateTask) {
				failed = append(failed, fmt.Errorf("enqueue %s digest of %s: %w", k, t.Slug, err))
			}
		}
	}
	return errors.Join(failed...)
}

// digestRun is one city's digest of one kind for one period being sent.
type digestRun struct {
	t        *tenant.Tenant
	kind     digest.Kind
	period   digest.Period
	content  digest.Content
	settings site.Settings
	base     string // the city's portal URL
}

// letter is one digest email ready to claim and send.
type digestLetter struct {
	r    digest.Recipient
	data any
}

// Send sends one city's digest (the task's type names the kind) to every
// recipient who wants it, in keyset pages of users. Each email is claimed
// in the ledger under the period's event before it is sent, so re-running
// the task, or resuming it after a shutdown, never sends an email twice.
// A shutdown stops the run between two emails, never inside one. Emails
// held by another run (or left by a run that died mid-send) make the task
// end with ErrInFlight once it sent the rest, so its retry, once their
// lease is over, sends those whose holder died. Empty
// digests are skipped; a city without the feature (plan or admins' choice)
// or no longer active gets nothing.
func (d *Digests) Send(ctx context.Context, task *asynq.Task) error {
	var p DigestPayload
	kind := digestKind(task.Type())
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.Period == "" || !kind.Valid() || !p.From.Before(p.To) {
		return fmt.Errorf("digest payload %s: %w", task.Payload(), asynq.SkipRetry)
	}
	t, ok := tenant.FromContext(ctx)
	if !ok {
		return fmt.Errorf("%s: %w: %w", task.Type(), ErrNoTenant, asynq.SkipRetry)
	}
	log := d.log.With("tenant", t.Slug, "tenant_id", int64(t.ID), "digest", string(kind), "period", p.Period)
	if ok, err := maySend(ctx, d.features, t, kind.Feature(), log); !ok {
		return err
	}
	run := digestRun{t: t, kind: kind, period: digest.Period{Key: p.Period, From: p.From, To: p.To}, base: d.portalURL(t.PrimaryHost)}
	err := d.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		if run.settings, err = site.GetSettings(ctx, tx); err != nil {
			return err
		}
		run.content, err = digest.LoadContent(ctx, tx, kind, run.period)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s digest of %s: %w", kind, t.Slug, err)
	}
	var (
		after                      digest.Cursor
		sent, held, skipped, pages int
	)
	for {
		if err := ctx.Err(); err != nil {
			log.Info("digest interrupted", "sent", sent, "pages", pages)
			return err
		}
		var (
			page    digest.Page
			follows map[int64]digest.Follows
		)
		err := d.db.InReadTx(ctx, func(tx *tenant.Tx) error {
			var err error
			page, err = digest.Recipients(ctx, tx, kind, p.Period, after, d.PageSize)
			if err != nil || len(page.Recipients) == 0 || kind != digest.User {
				return err
			}
			ids := make([]int64, len(page.Recipients))
			for i, r := range page.Recipients {
				ids[i] = r.UserID
			}
			follows, err = digest.FollowsOf(ctx, tx, ids)
			return err
		})
		if err != nil {
			return fmt.Errorf("%s digest of %s: %w", kind, t.Slug, err)
		}
		pages++
		after = page.Next
		letters := make([]digestLetter, 0, len(page.Recipients))
		for _, r := range page.Recipients {
			data, empty := run.content.For(r, follows[r.UserID])
			if empty {
				skipped++
				continue
			}
			letters = append(letters, digestLetter{r: r, data: data})
		}
		n, h, err := d.deliver(ctx, run, letters)
		sent, held = sent+n, held+h
		if err != nil {
			log.Warn("digest stopped", "sent", sent, "err", err)
			return err
		}
		if page.Last {
			break
		}
	}
	log.Info("digest sent", "sent", sent, "held", held, "empty", skipped, "pages", pages)
	return inFlight(held)
}

// deliver claims and sends letters, Parallel at a time, and records the
// deliveries (see postman.deliver). It stops taking new letters when ctx
// ends or a send fails; letters already claimed are finished either way
// (sent and recorded, or released), so their outcome is always known. It
// returns how many it sent and how many are held by another run.
func (d *Digests) deliver(ctx context.Context, run digestRun, letters []digestLetter) (sent, held int, err error) {
	post := cityPost{t: run.t, settings: run.settings, base: run.base, secret: d.secret}
	parcels := make([]parcel, len(letters))
	for i, l := range letters {
		parcels[i] = d.parcel(run, post, l)
	}
	out, err := postman{db: d.db, sender: d.sender, parallel: d.Parallel}.deliver(ctx, parcels, nil)
	for _, o := range out {
		switch {
		case o.ledger != 0:
			sent++
		case o.held:
			held++
		}
	}
	return sent, held, err
}

// parcel is one digest email, rendered with the city's branding, its
// one-click unsubscribe link (RFC 8058) and the link to the recipient's
// preferences.
func (d *Digests) parcel(run digestRun, post cityPost, l digestLetter) parcel {
	campaign := run.kind.Campaign()
	return parcel{campaign: campaign, event: digest.Event(run.kind, run.period.Key, l.r.ProjectID), to: l.r.Email, userID: l.r.UserID,
		compose: func(ledger int64) (email.Message, error) {
			unsubscribe := post.unsubscribe(l.r.UserID, email.Campaign(campaign))
			subject, text, html, err := d.composer.Compose(post.branding(),
				email.Content{Kind: campaign, Locale: l.r.Locale, FirstName: l.r.FirstName, Data: l.data,
					Unsubscribe: unsubscribe, Preferences: post.preferences()})
			if err != nil {
				return email.Message{}, err
			}
			return post.message(campaign, ledger, l.r.Email, subject, text, html, unsubscribe), nil
		}}
}
