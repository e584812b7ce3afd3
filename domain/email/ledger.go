package email

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/jmoiron/sqlx"
)

// Lease is how long a claim in the ledger holds. A claim still not recorded
// as sent after Lease belongs to a run that died mid-send (a worker killed,
// a node lost): the next Claim takes it over and the email is sent again,
// under the same ledger row and so the same Message-ID. That is the ledger's
// promise after a crash: at least once to the SMTP server, never silently
// lost. Lease is far longer than a claim is held by a live run (a claim, one
// send bounded by its timeout, a record), so a live run's claim is never
// taken over.
const Lease = 10 * time.Minute

// Hold is what Claim found.
type Hold int

const (
	// Claimed: the claim is the caller's (new, or a lapsed claim taken
	// over): send the email, then MarkSent or Release.
	Claimed Hold = iota + 1
	// Sent: the email was sent before; do not send it.
	Sent
	// Held: another run claimed the email less than Lease ago and has not
	// recorded its outcome yet; do not send it now, try again once the
	// lease is over (the holder may have died).
	Held
)

// Claim records, on a city transaction, that the email of campaign to
// recipient for event is about to be sent, and returns the ledger row's id
// and what it found (see Hold): only Claimed lets the caller send. A claim
// older than Lease that was never marked sent is taken over (its claimed_at
// renewed). Whatever it returns, the row stays locked until tx ends, so two
// runs never both claim it.
func Claim(ctx context.Context, tx sqlx.QueryerContext, campaign, recipient, event string, userID int64) (int64, Hold, error) {
	var id int64
	err := sqlx.GetContext(ctx, tx, &id, `INSERT INTO email_deliveries AS d (campaign, recipient, event, user_id)
		VALUES ($1, $2, $3, nullif($4, 0))
		ON CONFLICT (campaign, recipient, event) DO UPDATE SET claimed_at = now()
		 WHERE d.state = 'claimed' AND d.claimed_at < now() - make_interval(secs => $5)
		RETURNING id`, campaign, recipient, event, userID, Lease.Seconds())
	if err == nil {
		return id, Claimed, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return 0, 0, err
	}
	// Claimed before and not lapsed: ON CONFLICT locked the row, which this
	// statement (a fresh snapshot) sees.
	var row struct {
		ID    int64  `db:"id"`
		State string `db:"state"`
	}
	if err := sqlx.GetContext(ctx, tx, &row, `SELECT id, state FROM email_deliveries
		WHERE campaign = $1 AND recipient = $2 AND event = $3`, campaign, recipient, event); err != nil {
		return 0, 0, err
	}
	if row.State == "sent" {
		return row.ID, Sent, nil
	}
	return row.ID, Held, nil
}

// MarkSent records that the SMTP server accepted the email of claim id.
func MarkSent(ctx context.Context, tx sqlx.ExecerContext, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE email_deliveries SET state = 'sent', sent_at = now() WHERE id = $1`, id)
	return err
}

// Release gives a claim back after a failed send, so a retry may send it.
func Release(ctx context.Context, tx sqlx.ExecerContext, id int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM email_deliveries WHERE id = $1 AND state = 'claimed'`, id)
	return err
}
