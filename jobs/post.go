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

// The way every campaign email (digests, notifications, manual campaigns)
// leaves: claimed in the city's ledger, then sent, then recorded as sent, or
// given back when the send failed, so no email is ever sent twice and none
// is lost to a failed send.

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
	ledger int64 // the ledger row of a sent email
	taken  bool  // already claimed: sent before, or being sent by another run
	err    error // the send failed; the claim was given back
}

// sendTimeout bounds one email's send once it has begun.
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

// deliver claims and sends parcels, parallel at a time. It stops taking
// parcels when ctx ends or failures pile up; those already taken are
// finished either way, so their outcome is always known. It then records,
// in one transaction that a cancelled ctx does not cut short, the emails
// sent in the ledger and, through record (optional), what the caller keeps
// of deliveries. It returns each parcel's delivery, in order, and why the
// batch stopped early: ctx's error, or the failure that ended it.
func (p postman) deliver(ctx context.Context, parcels []parcel, record func(ctx context.Context, tx *tenant.Tx, out []delivery) error) ([]delivery, error) {
	out := make([]delivery, len(parcels))
	var (
		mu     sync.Mutex
		streak int   // failures in a row
		stop   error // why the batch stops
		wg     sync.WaitGroup
	)
	work := make(chan int)
	for range max(p.parallel, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				mu.Lock()
				stopped := stop != nil
				mu.Unlock()
				if stopped {
					continue // taken before the batch stopped: left untried
				}
				d := p.deliverOne(ctx, parcels[i])
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
	var sent []int64
	for _, d := range out {
		if d.ledger != 0 {
			sent = append(sent, d.ledger)
		}
	}
	// Record what was sent even when the task is being cancelled.
	bg := context.WithoutCancel(ctx)
	if len(sent) > 0 || record != nil {
		err := p.db.InTx(bg, func(tx *tenant.Tx) error {
			if len(sent) > 0 {
				if err := email.MarkSentAll(bg, tx, sent); err != nil {
					return err
				}
			}
			if record != nil {
				return record(bg, tx, out)
			}
			return nil
		})
		if err != nil {
			return out, errors.Join(stop, err)
		}
	}
	if stop == nil {
		stop = ctx.Err()
	}
	return out, stop
}

// failures joins why a batch stopped and every failed send of it.
func failures(out []delivery, stop error) error {
	errs := []error{stop}
	for _, d := range out {
		errs = append(errs, d.err)
	}
	return errors.Join(errs...)
}

// deliverOne claims one parcel's ledger row and sends it. Once begun it is
// not cut short by ctx: a claim whose send was interrupted would leave the
// recipient without their email.
func (p postman) deliverOne(ctx context.Context, pc parcel) delivery {
	if ctx.Err() != nil {
		return delivery{}
	}
	ctx = context.WithoutCancel(ctx)
	var (
		ledger  int64
		claimed bool
	)
	err := p.db.InTx(ctx, func(tx *tenant.Tx) error {
		var err error
		ledger, claimed, err = email.Claim(ctx, tx, pc.campaign, pc.to, pc.event, pc.userID)
		return err
	})
	switch {
	case err != nil:
		return delivery{tried: true, err: err}
	case !claimed:
		return delivery{tried: true, taken: true}
	}
	msg, err := pc.compose(ledger)
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		err = p.sender.Send(sctx, msg)
		cancel()
	}
	if err != nil {
		// The send failed: give the claim back so a retry sends it.
		err = fmt.Errorf("%s email to user %d: %w", pc.campaign, pc.userID, err)
		if rerr := p.db.InTx(ctx, func(tx *tenant.Tx) error { return email.Release(ctx, tx, ledger) }); rerr != nil {
			err = errors.Join(err, rerr)
		}
		return delivery{tried: true, err: err}
	}
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
// for a transactional email, whose unsubscribe is "").
func (c cityPost) message(kind string, ledger int64, to, subject, text, html, unsubscribe string) email.Message {
	host := c.t.PrimaryHost
	m := email.Message{
		FromName: c.settings.Name, From: "noreply@" + strings.TrimPrefix(host, "www."), To: to,
		Subject: subject, Text: text, HTML: html,
		MessageID: fmt.Sprintf("%s.%d.%d@%s", kind, ledger, c.t.ID, host),
	}
	if unsubscribe != "" {
		m.Headers = email.UnsubscribeHeaders(unsubscribe)
	}
	return m
}
