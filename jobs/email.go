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

// TypeEmailSend sends one account email (confirmation, password reset).
const TypeEmailSend = user.TaskEmail

// EmailPayload is the payload of TypeEmailSend.
type EmailPayload struct {
	Payload
	Kind   string  `json:"kind"`
	UserID user.ID `json:"user_id"`
	Event  string  `json:"event"`
}

// Emails sends account emails with the city's branding, exactly once per
// (kind, recipient, event) thanks to the ledger.
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

var accountEmails = map[string]struct {
	purpose string
	path    string
}{
	user.PurposeConfirm: {user.PurposeConfirm, "/confirm?token="},
	user.PurposeReset:   {user.PurposeReset, "/reset?token="},
}

// Send claims the ledger row and issues the one-time code in one city
// transaction, sends, then records the delivery. A send that fails releases
// the claim so the retry sends; a worker that dies mid-send leaves the claim,
// so the email is never sent twice.
func (e *Emails) Send(ctx context.Context, task *asynq.Task) error {
	var p EmailPayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.UserID <= 0 || p.Event == "" {
		return fmt.Errorf("email payload %s: %w", task.Payload(), asynq.SkipRetry)
	}
	kind, ok := accountEmails[p.Kind]
	if !ok {
		return fmt.Errorf("email kind %q: %w", p.Kind, asynq.SkipRetry)
	}
	t, _ := tenant.FromContext(ctx)
	var (
		rcpt     user.Recipient
		settings site.Settings
		ledger   int64
		link     string
		code     string
		claimed  bool
	)
	err := e.db.InTx(ctx, func(tx *tenant.Tx) error {
		var err error
		if rcpt, err = user.GetRecipient(ctx, tx, p.UserID); err != nil {
			return err
		}
		if settings, err = site.GetSettings(ctx, tx); err != nil {
			return err
		}
		if ledger, claimed, err = email.Claim(ctx, tx, p.Kind, rcpt.Email, p.Event, int64(rcpt.ID)); err != nil || !claimed {
			return err
		}
		ttl := user.ConfirmTTL
		if p.Kind == user.PurposeReset {
			ttl = user.ResetTTL
		}
		link, code, err = user.IssueCode(ctx, tx, rcpt.ID, kind.purpose, ttl)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("user %d is gone: %w", p.UserID, asynq.SkipRetry)
	}
	if err != nil || !claimed {
		return err
	}
	base := e.portalURL(t.PrimaryHost)
	subject, text, html, err := e.composer.Compose(
		email.Branding{CityName: settings.Name, PrimaryColor: settings.PrimaryColor, PortalURL: base},
		email.Content{Kind: p.Kind, Locale: rcpt.Locale, FirstName: rcpt.FirstName, Link: base + kind.path + link, Code: code})
	if err == nil {
		err = e.sender.Send(ctx, email.Message{
			FromName: settings.Name, From: "noreply@" + strings.TrimPrefix(t.PrimaryHost, "www."), To: rcpt.Email,
			Subject: subject, Text: text, HTML: html,
			MessageID: fmt.Sprintf("%s.%d.%d@%s", p.Kind, ledger, t.ID, t.PrimaryHost),
		})
	}
	// Record the outcome even if the task's context ended meanwhile.
	bg := context.WithoutCancel(ctx)
	return e.db.InTx(bg, func(tx *tenant.Tx) error {
		if err != nil {
			if rerr := email.Release(bg, tx, ledger); rerr != nil {
				return errors.Join(err, rerr)
			}
			return err
		}
		return email.MarkSent(bg, tx, ledger)
	})
}
