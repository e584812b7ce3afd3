package email

import (
	"context"
	"database/sql"
	"errors"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Claim records, on a city transaction, that the email of campaign to
// recipient for event is about to be sent. It returns the ledger row's id and
// false when that email was already claimed (sent, or being sent by another
// worker): the caller must not send it.
func Claim(ctx context.Context, tx sqlx.QueryerContext, campaign, recipient, event string, userID int64) (int64, bool, error) {
	var id int64
	err := sqlx.GetContext(ctx, tx, &id, `INSERT INTO email_deliveries (campaign, recipient, event, user_id)
		VALUES ($1, $2, $3, nullif($4, 0)) ON CONFLICT (campaign, recipient, event) DO NOTHING RETURNING id`,
		campaign, recipient, event, userID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	return id, err == nil, err
}

// MarkSent records a successful delivery.
func MarkSent(ctx context.Context, tx sqlx.ExecerContext, id int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE email_deliveries SET state = 'sent', sent_at = now() WHERE id = $1`, id)
	return err
}

// Release gives a claim back after a failed send, so a retry may send it.
func Release(ctx context.Context, tx sqlx.ExecerContext, id int64) error {
	_, err := tx.ExecContext(ctx, `DELETE FROM email_deliveries WHERE id = $1 AND state = 'claimed'`, id)
	return err
}

// MarkSentAll records that the claimed emails ids were delivered.
func MarkSentAll(ctx context.Context, tx sqlx.ExecerContext, ids []int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE email_deliveries SET state = 'sent', sent_at = now() WHERE id = ANY($1)`, pq.Int64Array(ids))
	return err
}
