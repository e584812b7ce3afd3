package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/group"
	"agora/tenant"
)

// columns of a campaign row (aliased c) with its groups and statistics.
const columns = `c.id, c.subject, c.body, c.audience, c.status, c.created_by, c.created_at, c.updated_at,
	c.sending_at, c.sent_at, c.resolved_at IS NOT NULL AS resolved, c.recipients, c.sent, c.failed, c.skipped,
	ARRAY(SELECT g.group_id FROM campaign_groups g WHERE g.campaign_id = c.id ORDER BY g.group_id) AS group_ids`

// row is a campaign as read, its statistics apart.
type row struct {
	Campaign
	Stats
	Resolved bool `db:"resolved"`
}

func (r row) campaign() Campaign {
	c := r.Campaign
	c.Stats = r.Stats
	c.Stats.settle()
	if c.GroupIDs == nil {
		c.GroupIDs = pq.Int64Array{}
	}
	return c
}

// load reads campaign id on q, locking its row when lock is set. Errors:
// errs.NotFound.
func load(ctx context.Context, q sqlx.QueryerContext, id int64, lock bool) (row, error) {
	query := `SELECT ` + columns + ` FROM campaigns c WHERE c.id = $1`
	if lock {
		query += ` FOR UPDATE OF c`
	}
	var r row
	err := sqlx.GetContext(ctx, q, &r, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return r, errs.E("campaign.Get", errs.NotFound, "no campaign %d", id)
	}
	if err != nil {
		return r, fmt.Errorf("campaign %d: %w", id, err)
	}
	return r, nil
}

// Load returns campaign id, read on q (a city transaction). Errors:
// errs.NotFound.
func Load(ctx context.Context, q sqlx.QueryerContext, id int64) (Campaign, error) {
	r, err := load(ctx, q, id, false)
	return r.campaign(), err
}

// reachable is the condition every recipient meets: a live account with a
// confirmed address (users aliased u).
const reachable = `u.deleted_at IS NULL AND u.email IS NOT NULL AND u.email_confirmed_at IS NOT NULL`

// audience is the SQL condition, over users aliased u, of c's audience, with
// its arguments numbered from next.
func audience(ctx context.Context, q sqlx.QueryerContext, c Campaign, next int) (string, []any, error) {
	if c.Audience == Everyone {
		return "true", nil, nil
	}
	return group.AnyOf(ctx, q, c.GroupIDs, next)
}

// Reach is how many people a campaign's audience holds now, and how many
// of them left the "manual" campaign type and will not get it.
type Reach struct {
	People       int `db:"people" json:"people"`
	Unsubscribed int `db:"unsubscribed" json:"unsubscribed"`
}

func reach(ctx context.Context, q sqlx.QueryerContext, c Campaign) (Reach, error) {
	cond, args, err := audience(ctx, q, c, 2)
	if err != nil {
		return Reach{}, err
	}
	var r Reach
	err = sqlx.GetContext(ctx, q, &r, `SELECT count(*) AS people,
		count(*) FILTER (WHERE EXISTS (SELECT 1 FROM email_consents k WHERE k.user_id = u.id AND k.campaign = $1 AND NOT k.subscribed)) AS unsubscribed
		FROM users u WHERE `+reachable+` AND `+cond, append([]any{string(email.Manual)}, args...)...)
	if err != nil {
		return r, fmt.Errorf("audience of campaign %d: %w", c.ID, err)
	}
	return r, nil
}

// checkGroups fails with errs.Invalid unless every id names a group.
func checkGroups(ctx context.Context, q sqlx.QueryerContext, op string, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	var found []int64
	if err := sqlx.SelectContext(ctx, q, &found, `SELECT id FROM groups WHERE id = ANY($1)`, pq.Int64Array(ids)); err != nil {
		return err
	}
	for _, id := range ids {
		if !slices.Contains(found, id) {
			return errs.InvalidField(op, "group_ids", "no group %d", id).WithRule("campaign_group")
		}
	}
	return nil
}

// setGroups replaces the groups of campaign id.
func setGroups(ctx context.Context, tx sqlx.ExecerContext, id int64, ids []int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_groups WHERE campaign_id = $1`, id); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO campaign_groups (campaign_id, group_id) SELECT $1, unnest($2::bigint[])`, id, pq.Int64Array(ids))
	return err
}

// Begin freezes the audience of a campaign being sent, once: its members
// reachable now become its recipients, each pending. It locks the campaign,
// so two runs freeze it once. It returns the campaign; one that is not
// being sent (a draft, or sent) is returned unchanged. Errors:
// errs.NotFound.
func Begin(ctx context.Context, tx *tenant.Tx, id int64) (Campaign, error) {
	r, err := load(ctx, tx, id, true)
	if err != nil || r.Status != Sending || r.Resolved {
		return r.campaign(), err
	}
	c := r.campaign()
	cond, args, err := audience(ctx, tx, c, 2)
	if err != nil {
		return c, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_recipients (campaign_id, user_id)
		SELECT $1, u.id FROM users u WHERE `+reachable+` AND `+cond+` ON CONFLICT DO NOTHING`, append([]any{id}, args...)...); err != nil {
		return c, fmt.Errorf("recipients of campaign %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET resolved_at = now(),
		recipients = (SELECT count(*) FROM campaign_recipients WHERE campaign_id = $1) WHERE id = $1`, id); err != nil {
		return c, err
	}
	r, err = load(ctx, tx, id, false)
	return r.campaign(), err
}

// Continue queues, on tx, round n of campaign id's sending task: round 0
// when Send is pressed, the next round when a run hands the rest over
// before its deadline. Each round's task id is deterministic, so a round is
// queued once however many runs ask for it.
func Continue(ctx context.Context, tx *tenant.Tx, id int64, round int) error {
	taskID := fmt.Sprintf("campaign:%d", id)
	if round > 0 {
		taskID = fmt.Sprintf("campaign:%d:%d", id, round)
	}
	return tx.Enqueue(ctx, tenant.Task{Type: TaskSend, Queue: "low", ID: taskID,
		Payload: map[string]any{"campaign_id": id, "round": round}})
}

// Recipient is one person a campaign is still to reach.
type Recipient struct {
	UserID       int64  `db:"user_id"`
	Email        string `db:"email"`
	FirstName    string `db:"first_name"`
	Locale       string `db:"locale"`
	Gone         bool   `db:"gone"`         // the account was deleted or lost its address since
	Unsubscribed bool   `db:"unsubscribed"` // left the "manual" campaign type
}

// Recipients returns, on q, the next page of campaign id's recipients that
// are pending or failed, after user id after, by user id (keyset), at most
// limit.
func Recipients(ctx context.Context, q sqlx.QueryerContext, id, after int64, limit int) ([]Recipient, error) {
	var out []Recipient
	err := sqlx.SelectContext(ctx, q, &out, `SELECT r.user_id, coalesce(u.email, '') AS email, coalesce(u.first_name, '') AS first_name,
		coalesce(u.locale, '') AS locale, (u.id IS NULL OR u.deleted_at IS NOT NULL OR u.email IS NULL) AS gone,
		EXISTS (SELECT 1 FROM email_consents k WHERE k.user_id = r.user_id AND k.campaign = $4 AND NOT k.subscribed) AS unsubscribed
		FROM campaign_recipients r LEFT JOIN users u ON u.id = r.user_id
		WHERE r.campaign_id = $1 AND r.user_id > $2 AND r.state IN ('pending', 'failed')
		ORDER BY r.user_id LIMIT $3`, id, after, limit, string(email.Manual))
	if err != nil {
		return nil, fmt.Errorf("recipients of campaign %d: %w", id, err)
	}
	return out, nil
}

// Outcome states of one recipient.
const (
	StateSent    = "sent"
	StateFailed  = "failed"
	StateSkipped = "skipped"
)

// Outcome is what became of one recipient's email.
type Outcome struct {
	UserID int64
	State  string // StateSent, StateFailed or StateSkipped
	Detail string // why it failed or was skipped
}

// Record stores outcomes of campaign id on tx and recounts its statistics.
// A recipient already sent stays sent.
func Record(ctx context.Context, tx sqlx.ExecerContext, id int64, outcomes []Outcome) error {
	if len(outcomes) > 0 {
		ids := make([]int64, len(outcomes))
		states := make([]string, len(outcomes))
		details := make([]string, len(outcomes))
		for i, o := range outcomes {
			ids[i], states[i], details[i] = o.UserID, o.State, o.Detail
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaign_recipients r SET state = o.state, detail = o.detail, updated_at = now()
			FROM unnest($2::bigint[], $3::text[], $4::text[]) AS o(user_id, state, detail)
			WHERE r.campaign_id = $1 AND r.user_id = o.user_id AND r.state <> 'sent'`,
			id, pq.Int64Array(ids), pq.StringArray(states), pq.StringArray(details)); err != nil {
			return fmt.Errorf("outcomes of campaign %d: %w", id, err)
		}
	}
	_, err := tx.ExecContext(ctx, `UPDATE campaigns c SET sent = s.sent, failed = s.failed, skipped = s.skipped
		FROM (SELECT count(*) FILTER (WHERE state = 'sent') AS sent, count(*) FILTER (WHERE state = 'failed') AS failed,
		             count(*) FILTER (WHERE state = 'skipped') AS skipped
		        FROM campaign_recipients WHERE campaign_id = $1) s
		WHERE c.id = $1`, id)
	return err
}

// Finish marks campaign id sent, on tx, once no recipient is pending (failed
// ones are tried again by the task's retries). It reports whether the
// campaign is sent.
func Finish(ctx context.Context, tx sqlx.QueryerContext, id int64) (bool, error) {
	var status Status
	err := sqlx.GetContext(ctx, tx, &status, `WITH done AS (
		UPDATE campaigns SET status = 'sent', sent_at = now()
		 WHERE id = $1 AND status = 'sending'
		   AND NOT EXISTS (SELECT 1 FROM campaign_recipients WHERE campaign_id = $1 AND state = 'pending')
		RETURNING status)
		SELECT coalesce((SELECT status FROM done), (SELECT status FROM campaigns WHERE id = $1))`, id)
	return status == Sent, err
}

// Test is one test email being sent.
type Test struct {
	ID         int64  `db:"id"`
	CampaignID int64  `db:"campaign_id"`
	UserID     int64  `db:"user_id"`
	Locale     string `db:"locale"`
	Email      string `db:"email"` // empty when the staff member has no address any more
}

// LoadTest returns test email n, read on q. Errors: errs.NotFound.
func LoadTest(ctx context.Context, q sqlx.QueryerContext, n int64) (Test, error) {
	var t Test
	err := sqlx.GetContext(ctx, q, &t, `SELECT t.id, t.campaign_id, t.user_id, t.locale, coalesce(u.email, '') AS email
		FROM campaign_tests t JOIN users u ON u.id = t.user_id AND u.deleted_at IS NULL WHERE t.id = $1`, n)
	if errors.Is(err, sql.ErrNoRows) {
		return t, errs.E("campaign.Test", errs.NotFound, "no test email %d", n)
	}
	return t, err
}

// Settings is how fast a city's campaigns leave.
type Settings struct {
	PerSecond int `db:"per_second" json:"per_second"` // emails per second, 1 to 50
}

// Pace limits of Settings.PerSecond.
const (
	MinPerSecond     = 1
	MaxPerSecond     = 50
	DefaultPerSecond = 10
)

// GetSettings returns the city's campaign settings, read on q.
func GetSettings(ctx context.Context, q sqlx.QueryerContext) (Settings, error) {
	var s Settings
	err := sqlx.GetContext(ctx, q, &s, `SELECT per_second FROM campaign_settings`)
	if errors.Is(err, sql.ErrNoRows) {
		return Settings{PerSecond: DefaultPerSecond}, nil
	}
	return s, err
}
