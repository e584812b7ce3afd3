package email

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jmoiron/sqlx"

	"agora/domain/errs"
	"agora/tenant"
)

// Campaign is a type of non-transactional email a user may leave. Every
// email of a campaign carries a one-click unsubscribe link for it; account
// emails (confirmation, password reset, change of email, invitation) are
// transactional and have no campaign.
type Campaign string

// Campaign types.
const (
	UserDigest      Campaign = "user_digest"      // the weekly digest of a citizen
	AdminDigest     Campaign = "admin_digest"     // the weekly digest of the city's admins
	ModeratorDigest Campaign = "moderator_digest" // the weekly digest of a project's moderators
	Notifications   Campaign = "notifications"    // in-app notifications sent by email
	Manual          Campaign = "manual"           // campaigns written by the city's staff
)

// Campaigns lists every campaign type, in the order the profile shows them.
func Campaigns() []Campaign {
	return []Campaign{UserDigest, Notifications, Manual, ModeratorDigest, AdminDigest}
}

// Valid reports whether c is a known campaign type.
func (c Campaign) Valid() bool { return slices.Contains(Campaigns(), c) }

// CampaignsFor lists the campaigns a user with role may receive: staff
// digests only to staff ("admin", "moderator", "citizen").
func CampaignsFor(role string) []Campaign {
	out := []Campaign{UserDigest, Notifications, Manual}
	switch role {
	case "admin":
		out = append(out, ModeratorDigest, AdminDigest)
	case "moderator":
		out = append(out, ModeratorDigest)
	}
	return out
}

// Consents maps campaign types to whether the user receives them.
type Consents map[Campaign]bool

// Consent is one stored choice.
type Consent struct {
	Campaign   Campaign  `db:"campaign"`
	Subscribed bool      `db:"subscribed"`
	UpdatedAt  time.Time `db:"updated_at"`
}

// GetConsents returns, on a city transaction, the user's choice for every
// campaign type: subscribed unless they left it.
func GetConsents(ctx context.Context, q sqlx.QueryerContext, userID int64) (Consents, error) {
	var rows []Consent
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT campaign, subscribed, updated_at FROM email_consents WHERE user_id = $1`, userID); err != nil {
		return nil, fmt.Errorf("consents of user %d: %w", userID, err)
	}
	out := Consents{}
	for _, c := range Campaigns() {
		out[c] = true
	}
	for _, r := range rows {
		if r.Campaign.Valid() {
			out[r.Campaign] = r.Subscribed
		}
	}
	return out, nil
}

// SetConsents records, on a city transaction, the user's choices for the
// campaigns named in cs; the others keep theirs. Errors: errs.Invalid naming
// an unknown campaign.
func SetConsents(ctx context.Context, tx sqlx.ExecerContext, userID int64, cs Consents) error {
	for c, on := range cs {
		if !c.Valid() {
			return errs.InvalidField("email.SetConsents", string(c), "%q is not a campaign type (one of %v)", c, Campaigns()).WithRule("unknown_campaign")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO email_consents (user_id, campaign, subscribed) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, campaign) DO UPDATE SET subscribed = excluded.subscribed, updated_at = now()
			WHERE email_consents.subscribed <> excluded.subscribed`, userID, string(c), on); err != nil {
			return fmt.Errorf("consent of user %d: %w", userID, err)
		}
	}
	return nil
}

// ConsentService reads and changes users' consents in the context's city.
type ConsentService struct{ db *tenant.DB }

// NewConsentService returns the consent service.
func NewConsentService(db *tenant.DB) *ConsentService { return &ConsentService{db: db} }

// Get returns the user's choice for every campaign type.
func (s *ConsentService) Get(ctx context.Context, userID int64) (Consents, error) {
	var out Consents
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		out, err = GetConsents(ctx, tx, userID)
		return err
	})
	return out, err
}

// Set records the choices in cs and returns every campaign's. Errors:
// errs.Invalid for an unknown campaign.
func (s *ConsentService) Set(ctx context.Context, userID int64, cs Consents) (Consents, error) {
	var out Consents
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if err := SetConsents(ctx, tx, userID, cs); err != nil {
			return err
		}
		var err error
		out, err = GetConsents(ctx, tx, userID)
		return err
	})
	return out, err
}

// Unsubscribe records that the user named by a verified unsubscribe token
// left its campaign. The token must belong to the context's city. Errors:
// errs.NotFound for a token of another city or a user that does not exist.
func (s *ConsentService) Unsubscribe(ctx context.Context, u Unsubscribe) error {
	const op = "email.Unsubscribe"
	t, ok := tenant.FromContext(ctx)
	if !ok || t.ID != u.TenantID {
		return errs.E(op, errs.NotFound, "this unsubscribe link belongs to another platform")
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var exists bool
		if err := tx.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, u.UserID); err != nil {
			return err
		}
		if !exists {
			return errs.E(op, errs.NotFound, "no such account")
		}
		return SetConsents(ctx, tx, u.UserID, Consents{u.Campaign: false})
	})
}
