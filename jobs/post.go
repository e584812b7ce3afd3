package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/site"
	"agora/tenant"
)

// The way every campaign email (digests, notifications, manual campaigns,
// plan changes) leaves: claimed in the city's ledger, then sent, then
// recorded as sent right after (see courier), or given back when the send
// failed, so no email is sent twice and none is lost to a failed send. An
// email whose claim a run that died left behind is sent again by the first
// run after the claim's lease (email.Lease): at least once to the SMTP
// server, with the same Message-ID (see cityPost.message), never silently
// lost.

// parcel is one email to claim in the ledger and send.
type parcel struct {
	campaign, event, to string // the ledger's key
	userID              int64
	// compose builds the message once ledger, its ledger row, is claimed.
	compose func(ledger int64) (email.Message, error)
}

// delivery is what became of one parcel.
type delivery struct {
	tried  bool  // the parcel was taken (a stopped batch leaves the rest)
	ledger int64 // the ledger row of an email sent now
	before bool  // sent before, by an earlier run
	held   bool  // being sent by another run, or left by one that died: try again after the lease
	err    error // the send failed; the claim was given back
}

// ErrInFlight ends a task some of whose emails are claimed by another run
// whose lease (email.Lease) is not over: the task sent everything else, and
// its retry, once the lease is over, sends those whose holder died. It is
// not a failure: the worker retries it after the lease without counting a
// retry.
var ErrInFlight = errors.New("emails still in flight")

// inFlight is ErrInFlight, counted, when n emails are held; else nil.
func inFlight(n int) error {
	if n == 0 {
		return nil
	}
	return fmt.Errorf("%d %w; will retry", n, ErrInFlight)
}

// sendTimeout bounds one email's send once it has begun. It is far shorter
// than email.Lease, so a live send's claim is never taken over.
const sendTimeout = time.Minute

// postman claims, sends and records a batch of emails.
type postman struct {
	db     *tenant.DB
	sender email.Sender
	// parallel is how many emails are in flight at once (at least 1).
	parallel int
	// stopAfter stops the batch after this many failed sends in a row
	// (at most 1: at the first).
	stopAfter int
	// pace, when set, waits for the next email's turn; its error (the
	// context ended) stops the batch.
	pace func(ctx context.Context) error
}

// deliver claims and sends parcels, parallel at a time, each recorded as
// sent in the ledger by its courier's next transaction (see courier). It stops
// taking parcels when ctx ends or failures pile up; those already taken are
// finished either way, so their outcome is always known. It then records,
// through record (optional) and in one transaction that a cancelled ctx
// does not cut short, what the caller keeps of deliveries. It returns each
// parcel's delivery, in order, and why the batch stopped early: ctx's error,
// or the failure that ended it.
func (p postman) deliver(ctx context.Context, parcels []parcel, record func(ctx context.Context, tx *tenant.Tx, out []delivery) error) ([]delivery, error) {
	out := make([]delivery, len(parcels))
	var (
		mu       sync.Mutex
		streak   int   // failures in a row
		stop     error // why the batch stops
		unmarked error // emails sent whose record failed
		wg       sync.WaitGroup
	)
	work := make(chan int)
	for range max(p.parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := courier{p: p}
			for i := range work {
				mu.Lock()
				stopped := stop != nil
				mu.Unlock()
				if stopped {
					continue // taken before the batch stopped: left untried
				}
				d := c.deliver(ctx, parcels[i])
				mu.Lock()
				out[i] = d
				switch {
				case d.err == nil:
					streak = 0
				case stop == nil:
					if streak++; streak >= max(p.stopAfter, 1) {
						stop = d.err
					}
				}
				mu.Unlock()
			}
			if err := c.flush(ctx); err != nil {
				mu.Lock()
				unmarked = errors.Join(unmarked, err)
				mu.Unlock()
			}
		}()
	}
	for i := range parcels {
		mu.Lock()
		stopped := stop != nil
		mu.Unlock()
		if stopped || ctx.Err() != nil {
			break
		}
		if p.pace != nil && p.pace(ctx) != nil {
			break
		}
		work <- i
	}
	close(work)
	wg.Wait()
	if stop == nil {
		stop = unmarked
	}
	// Record what was sent even when the task is being cancelled.
	if record != nil {
		bg := context.WithoutCancel(ctx)
		if err := p.db.InTx(bg, func(tx *tenant.Tx) error { return record(bg, tx, out) }); err != nil {
			return out, errors.Join(stop, err)
		}
	}
	if stop == nil {
		stop = ctx.Err()
	}
	return out, stop
}

// failures is a batch's outcome as a task's error: why it stopped and every
// failed send of it when there are any (the retry sends them, and the held
// ones too), else ErrInFlight when some parcels are held, else nil.
func failures(out []delivery, stop error) error {
	errs := []error{stop}
	held := 0
	for _, d := range out {
		errs = append(errs, d.err)
		if d.held {
			held++
		}
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return inFlight(held)
}

// courier is one of a batch's senders, one parcel at a time. It records the
// email it sent last in the ledger in the transaction of its next claim, or
// when the batch ends (flush): one transaction per email, as few as without
// the record, and an email sent stays unrecorded only while its courier
// claims the next one. (A worker killed then leaves, per courier, at most
// the email sent and the one being sent as claims, which the run after
// their lease sends again.)
type courier struct {
	p    postman
	sent int64 // the ledger row of the email sent last, not recorded yet
}

// inTx runs fn in a city transaction that first records the email sent
// last.
func (c *courier) inTx(ctx context.Context, fn func(tx *tenant.Tx) error) error {
	err := c.p.db.InTx(ctx, func(tx *tenant.Tx) error {
		if c.sent != 0 {
			if err := email.MarkSent(ctx, tx, c.sent); err != nil {
				return err
			}
		}
		return fn(tx)
	})
	if err == nil {
		c.sent = 0
	}
	return err
}

// flush records the email sent last, even when ctx was cancelled.
func (c *courier) flush(ctx context.Context) error {
	if c.sent == 0 {
		return nil
	}
	ctx = context.WithoutCancel(ctx)
	if err := c.inTx(ctx, func(*tenant.Tx) error { return nil }); err != nil {
		return fmt.Errorf("record an email sent: %w", err)
	}
	return nil
}

// deliver claims one parcel's ledger row and sends it; the claim is given
// back when the send fails. Once begun it is not cut short by ctx: a claim
// whose send was interrupted would leave the recipient waiting for the
// lease.
func (c *courier) deliver(ctx context.Context, pc parcel) delivery {
	if ctx.Err() != nil {
		return delivery{}
	}
	ctx = context.WithoutCancel(ctx)
	var (
		ledger int64
		hold   email.Hold
	)
	err := c.inTx(ctx, func(tx *tenant.Tx) error {
		var err error
		ledger, hold, err = email.Claim(ctx, tx, pc.campaign, pc.to, pc.event, pc.userID)
		return err
	})
	switch {
	case err != nil:
		return delivery{tried: true, err: err}
	case hold == email.Sent:
		return delivery{tried: true, before: true}
	case hold == email.Held:
		return delivery{tried: true, held: true}
	}
	msg, err := pc.compose(ledger)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		err = c.p.sender.Send(sctx, msg)
		cancel()
	}
	if err != nil {
		// The send failed: give the claim back so a retry sends it.
		err = fmt.Errorf("%s email to user %d: %w", pc.campaign, pc.userID, err)
		if rerr := c.inTx(ctx, func(tx *tenant.Tx) error { return email.Release(ctx, tx, ledger) }); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return delivery{tried: true, err: err}
	}
	c.sent = ledger
	return delivery{tried: true, ledger: ledger}
}

// maySend reports whether city t sends the emails of feature k now: the
// city is active (or on trial) and k is on (plan and admins' choice). It
// logs why not; err is for a failure to tell.
func maySend(ctx context.Context, f *feature.Service, t *tenant.Tenant, k feature.Key, log *slog.Logger) (bool, error) {
	if !sends(t.Lifecycle) {
		log.Info("skipped: the city is " + string(t.Lifecycle))
		return false, nil
	}
	if err := f.Enabled(ctx, k); err != nil {
		if errs.CodeOf(err) == errs.FeatureUnavailable {
			log.Info("skipped: feature unavailable", "reason", err.Error())
			return false, nil
		}
		return false, err
	}
	return true, nil
}

// cityPost is what every email of one city shares: its branding, its
// portal's address and its sender address.
type cityPost struct {
	t        *tenant.Tenant
	settings site.Settings
	base     string // the portal's URL, e.g. https://participatie.gent.be
	secret   string // signs the unsubscribe links
}

func (c cityPost) branding() email.Branding {
	return email.Branding{CityName: c.settings.Name, PrimaryColor: c.settings.PrimaryColor, PortalURL: c.base}
}

// unsubscribe is the one-click unsubscribe link (RFC 8058) of user's
// emails of campaign k.
func (c cityPost) unsubscribe(userID int64, k email.Campaign) string {
	return c.base + "/unsubscribe?token=" + email.Unsubscribe{TenantID: c.t.ID, UserID: userID, Campaign: k}.Token(c.secret)
}

// preferences is the page where a user chooses which emails they get.
func (c cityPost) preferences() string { return c.base + "/profile#email-consents" }

// message addresses one email of kind, whose ledger row is ledger, from the
// city to to, with the one-click unsubscribe headers of unsubscribe (none
// for a transactional email, whose unsubscribe is ""). Its Message-ID is
// the ledger row's and the city's, so an email sent again after a crash
// (see email.Lease) carries the same one and can be recognised.
func (c cityPost) message(kind string, ledger int64, to, subject, text, html, unsubscribe string) email.Message {
	host := c.t.PrimaryHost
	m := email.Message{
		FromName: c.settings.Name, From: "noreply@" + strings.TrimPrefix(host, "www."), To: to,
		Subject: subject, Text: text, HTML: html,
		MessageID: messageID(kind, ledger, c.t), Campaign: kind,
	}
	if unsubscribe != "" {
		m.Headers = email.UnsubscribeHeaders(unsubscribe)
	}
	return m
}

// messageID is the Message-ID of the email of kind whose ledger row is
// ledger in city t: stable for the row, so every send of it carries the
// same one.
func messageID(kind string, ledger int64, t *tenant.Tenant) string {
	return fmt.Sprintf("%s.%d.%d@%s", kind, ledger, t.ID, t.PrimaryHost)
}
