package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hibiken/asynq"

	"agora/domain/email"
	"agora/domain/site"
	"agora/domain/user"
	"agora/tenant"
)

// EmailPayload is the payload of tenant.TaskEmail: one account email
// (confirmation, password reset, invitation).
type EmailPayload struct {
	Payload
	Kind         string  `json:"kind"`
	UserID       user.ID `json:"user_id"`
	InvitationID int64   `json:"invitation_id"`
	Event        string  `json:"event"`
}

// Emails sends account emails with the city's branding, once per (kind,
// recipient, event) thanks to the ledger (after a crash mid-send, at least
// once: see Send).
type Emails struct {
	db        *tenant.DB
	sender    email.Sender
	composer  *email.Composer
	portalURL func(host string) string
}

// NewEmails returns the email handlers. portalURL turns a host into the
// portal's base URL (scheme and, in development, port).
func NewEmails(db *tenant.DB, sender email.Sender, portalURL func(host string) string) (*Emails, error) {
	c, err := email.NewComposer()
	if err != nil {
		return nil, err
	}
	return &Emails{db: db, sender: sender, composer: c, portalURL: portalURL}, nil
}

// letter is one account email being prepared.
type letter struct {
	to, locale, firstName string
	userID                int64
	path                  string // link path, the secret appended
	secret, code          string
	role                  string
}

// prepare claims the ledger row and issues the email's secret, on tx. Only
// hold == email.Claimed lets the caller send; hold is 0 when there is
// nothing to send any more. A claim taken over after a crash (see
// email.Lease) issues a fresh secret: the one of the email that may have
// left stops working, and the email sent now carries a working one.
func prepare(ctx context.Context, tx *tenant.Tx, p EmailPayload) (l letter, ledger int64, hold email.Hold, err error) {
	switch p.Kind {
	case user.PurposeConfirm, user.PurposeReset, user.PurposeChangeEmail:
		rcpt, err := user.GetRecipient(ctx, tx, p.UserID)
		if err != nil {
			return l, 0, 0, err
		}
		l = letter{to: rcpt.Email, locale: rcpt.Locale, firstName: rcpt.FirstName, userID: int64(rcpt.ID), path: "/confirm?token="}
		ttl := user.ConfirmTTL
		switch p.Kind {
		case user.PurposeReset:
			l.path, ttl = "/reset?token=", user.ResetTTL
		case user.PurposeChangeEmail:
			if rcpt.PendingEmail == nil {
				return l, 0, 0, nil // changed or cancelled meanwhile: nothing to send
			}
			l.to, l.path = *rcpt.PendingEmail, "/confirm-email?token="
		}
		if ledger, hold, err = email.Claim(ctx, tx, p.Kind, l.to, p.Event, l.userID); err != nil || hold != email.Claimed {
			return l, ledger, hold, err
		}
		l.secret, l.code, err = user.IssueCode(ctx, tx, rcpt.ID, p.Kind, ttl)
		return l, ledger, hold, err
	case user.PurposeAccountExists:
		// A notice, no secret: the link is the login page (the email also
		// points to the password reset).
		rcpt, err := user.GetRecipient(ctx, tx, p.UserID)
		if err != nil {
			return l, 0, 0, err
		}
		l = letter{to: rcpt.Email, locale: rcpt.Locale, firstName: rcpt.FirstName, userID: int64(rcpt.ID), path: "/login"}
		ledger, hold, err = email.Claim(ctx, tx, p.Kind, l.to, p.Event, l.userID)
		return l, ledger, hold, err
	case user.KindInvitation:
		inv, err := user.PendingInvitation(ctx, tx, p.InvitationID)
		if err != nil {
			return l, 0, 0, err
		}
		// Claim first: a re-run must not replace the token of a link that
		// was already emailed.
		if ledger, hold, err = email.Claim(ctx, tx, p.Kind, inv.Email, p.Event, 0); err != nil || hold != email.Claimed {
			return l, ledger, hold, err
		}
		_, secret, err := user.IssueInvitationToken(ctx, tx, p.InvitationID)
		l = letter{to: inv.Email, locale: tx.Tenant.DefaultLocale(), path: "/invitations/", secret: secret, role: string(inv.Role)}
		return l, ledger, hold, err
	}
	return l, 0, 0, fmt.Errorf("email kind %q: %w", p.Kind, asynq.SkipRetry)
}

// Send claims the ledger row and issues the one-time secret in one city
// transaction, sends, then records the delivery. A send that fails releases
// the claim so the retry sends. A send cut short (the task cancelled, the
// worker killed) keeps its claim, since the server may have the message:
// until the claim's lease is over a re-run ends with ErrInFlight, and the
// run after it sends the email again under the same Message-ID (at least
// once). A re-run of an email sent is done.
func (e *Emails) Send(ctx context.Context, task *asynq.Task) error {
	var p EmailPayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.Event == "" {
		return fmt.Errorf("email payload %s: %w", task.Payload(), asynq.SkipRetry)
	}
	t, _ := tenant.FromContext(ctx)
	var (
		l        letter
		settings site.Settings
		ledger   int64
		hold     email.Hold
	)
	err := e.db.InTx(ctx, func(tx *tenant.Tx) error {
		var err error
		if settings, err = site.GetSettings(ctx, tx); err != nil {
			return err
		}
		l, ledger, hold, err = prepare(ctx, tx, p)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("the addressee of %s is gone: %w", p.Kind, asynq.SkipRetry)
	}
	switch {
	case err != nil:
		return err
	case hold == email.Held:
		return fmt.Errorf("%s email: %w", p.Kind, inFlight(1))
	case hold != email.Claimed:
		return nil // sent before, or nothing to send
	}
	base := e.portalURL(t.PrimaryHost)
	subject, text, html, err := e.composer.Compose(
		email.Branding{CityName: settings.Name, PrimaryColor: settings.PrimaryColor, PortalURL: base},
		email.Content{Kind: p.Kind, Locale: l.locale, FirstName: l.firstName, Link: base + l.path + l.secret, Code: l.code, Role: l.role})
	if err == nil {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		err = e.sender.Send(sctx, email.Message{
			FromName: settings.Name, From: "noreply@" + strings.TrimPrefix(t.PrimaryHost, "www."), To: l.to,
			Subject: subject, Text: text, HTML: html,
			MessageID: messageID(p.Kind, ledger, t), Campaign: p.Kind,
		})
		cancel()
	}
	// Record the outcome even if the task's context ended meanwhile.
	bg := context.WithoutCancel(ctx)
	if err != nil {
		if ctx.Err() != nil {
			// Cancelled mid-send: the server may have the message already.
			// Keep the claim; the run after its lease sends it again.
			return err
		}
		// The send failed: give the claim back so the retry sends it.
		if rerr := e.db.InTx(bg, func(tx *tenant.Tx) error { return email.Release(bg, tx, ledger) }); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	return e.db.InTx(bg, func(tx *tenant.Tx) error { return email.MarkSent(bg, tx, ledger) })
}
