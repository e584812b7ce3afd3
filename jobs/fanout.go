package jobs

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/hibiken/asynq"

	"agora/domain/email"
	"agora/domain/site"
	"agora/tenant"
)

// FanoutPayload is the payload of activity.TaskFanout.
type FanoutPayload struct {
	Payload
	ActivityID int64 `json:"activity_id"`
}

// Fanout sends notification emails: one per notification of the activity
// whose recipient did not leave the "notifications" campaign, each at most
// once (the ledger's event is the notification), each with its one-click
// unsubscribe link.
type Fanout struct {
	db        *tenant.DB
	sender    email.Sender
	composer  *email.Composer
	portalURL func(host string) string
	secret    string
}

// NewFanout returns the fan-out handler; secret signs unsubscribe links.
func NewFanout(db *tenant.DB, sender email.Sender, portalURL func(string) string, secret string) (*Fanout, error) {
	c, err := email.NewComposer()
	if err != nil {
		return nil, err
	}
	return &Fanout{db: db, sender: sender, composer: c, portalURL: portalURL, secret: secret}, nil
}

// notice is one notification to email.
type notice struct {
	ID        int64   `db:"id"`
	Kind      string  `db:"kind"`
	UserID    int64   `db:"user_id"`
	Email     string  `db:"email"`
	FirstName string  `db:"first_name"`
	Locale    string  `db:"locale"`
	IdeaID    *int64  `db:"idea_id"`
	IdeaTitle string  `db:"idea_title"`
	Actor     string  `db:"actor"`
	Note      *string `db:"note"`
}

// noticeData is what the notification template reads.
type noticeData struct {
	Kind, Actor, IdeaTitle, Note string
}

// Send emails the activity's notifications.
func (f *Fanout) Send(ctx context.Context, task *asynq.Task) error {
	var p FanoutPayload
	if err := json.Unmarshal(task.Payload(), &p); err != nil || p.ActivityID <= 0 {
		return fmt.Errorf("fan-out payload %s: %w", task.Payload(), asynq.SkipRetry)
	}
	t, _ := tenant.FromContext(ctx)
	var notices []notice
	var settings site.Settings
	err := f.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		if settings, err = site.GetSettings(ctx, tx); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &notices, `SELECT n.id, n.kind, n.user_id, u.email, u.first_name, u.locale, n.idea_id,
			coalesce(i.title, '') AS idea_title,
			CASE WHEN a.id IS NULL OR a.deleted_at IS NOT NULL THEN '' ELSE a.first_name || ' ' || left(a.last_name, 1) || '.' END AS actor,
			nullif(act.payload->>'note', '') AS note
			FROM notifications n
			JOIN users u ON u.id = n.user_id AND u.deleted_at IS NULL AND u.email IS NOT NULL
			JOIN activities act ON act.id = n.activity_id
			LEFT JOIN ideas i ON i.id = n.idea_id
			LEFT JOIN users a ON a.id = n.actor_id
			WHERE n.activity_id = $1
			  AND NOT EXISTS (SELECT 1 FROM email_consents c WHERE c.user_id = n.user_id AND c.campaign = $2 AND NOT c.subscribed)
			ORDER BY n.id`, p.ActivityID, string(email.Notifications))
	})
	if err != nil {
		return err
	}
	post := cityPost{t: t, settings: settings, base: f.portalURL(t.PrimaryHost), secret: f.secret}
	parcels := make([]parcel, len(notices))
	for i, n := range notices {
		parcels[i] = f.parcel(post, n)
	}
	// One at a time, and a failed send does not stop the others.
	out, err := postman{db: f.db, sender: f.sender, stopAfter: len(parcels) + 1}.deliver(ctx, parcels, nil)
	return failures(out, err)
}

// parcel is one notification email, in the recipient's language, with its
// one-click unsubscribe link.
func (f *Fanout) parcel(post cityPost, n notice) parcel {
	return parcel{campaign: string(email.Notifications), event: fmt.Sprintf("notification:%d", n.ID), to: n.Email, userID: n.UserID,
		compose: func(ledger int64) (email.Message, error) {
			locale := n.Locale
			if locale == "" {
				locale = post.t.DefaultLocale()
			}
			link := post.base + "/notifications"
			if n.IdeaID != nil {
				link = fmt.Sprintf("%s/ideas/%d", post.base, *n.IdeaID)
			}
			d := noticeData{Kind: n.Kind, Actor: n.Actor, IdeaTitle: n.IdeaTitle}
			if n.Note != nil {
				d.Note = *n.Note
			}
			if d.Actor == "" {
				d.Actor = f.composer.String(locale, "notification.someone")
			}
			unsubscribe := post.unsubscribe(n.UserID, email.Notifications)
			subject, text, html, err := f.composer.Compose(post.branding(),
				email.Content{Kind: "notification", Locale: locale, FirstName: n.FirstName, Link: link, Data: d,
					Unsubscribe: unsubscribe, Preferences: post.preferences()})
			if err != nil {
				return email.Message{}, err
			}
			return post.message("notification", ledger, n.Email, subject, text, html, unsubscribe), nil
		}}
}
