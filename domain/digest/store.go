package digest

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/feature"
	"agora/tenant"
)

// Every function here runs on a city transaction (tenant.Tx).

// GetSchedule reads the city's digest schedule.
func GetSchedule(ctx context.Context, q sqlx.QueryerContext) (Schedule, error) {
	var s Schedule
	err := sqlx.GetContext(ctx, q, &s, `SELECT weekday, hour FROM digest_settings`)
	if err != nil {
		return s, fmt.Errorf("digest schedule: %w", err)
	}
	return s, nil
}

// setSchedule stores the schedule and records who changed it.
func setSchedule(ctx context.Context, tx *tenant.Tx, actor int64, s Schedule) error {
	if _, err := tx.ExecContext(ctx, `UPDATE digest_settings SET weekday = $1, hour = $2, updated_by = nullif($3, 0), updated_at = now()`,
		s.Weekday, s.Hour, actor); err != nil {
		return fmt.Errorf("set digest schedule: %w", err)
	}
	_, err := activity.Record(ctx, tx, activity.Activity{Actor: actor, Action: "digest.scheduled", ItemType: "digest_settings",
		Payload: map[string]any{"weekday": s.Weekday, "hour": s.Hour}})
	return err
}

// maxTrending bounds the ideas with activity a run keeps in memory; a user
// digest lists the most active of them that the user follows.
const maxTrending = 2000

const trendingSQL = `WITH act AS (
	SELECT item_id AS idea_id, 1 AS w FROM reactions
	 WHERE item_type = 'idea' AND mode = 'like' AND created_at >= $1 AND created_at < $2
	UNION ALL
	SELECT idea_id, 2 FROM comments
	 WHERE created_at >= $1 AND created_at < $2 AND deleted_by IS NULL AND hidden_at IS NULL
	UNION ALL
	SELECT id, 1 FROM ideas WHERE created_at >= $1 AND created_at < $2)
SELECT i.id, i.project_id, p.slug AS project_slug, p.title AS project_title, i.title, i.likes_count, i.comments_count,
       sum(a.w)::int AS score
  FROM act a JOIN ideas i ON i.id = a.idea_id JOIN projects p ON p.id = i.project_id
 WHERE i.deleted_at IS NULL AND i.hidden_at IS NULL
   AND (NOT $3 OR (p.status = 'published' AND p.visibility = 'public'))
 GROUP BY i.id, p.id
 ORDER BY score DESC, i.id DESC
 LIMIT $4`

// Trending returns the ideas with activity in p, most active first: in
// public published projects only when public (what any citizen may see),
// else in every project (what staff see).
func Trending(ctx context.Context, q sqlx.QueryerContext, p Period, public bool) ([]Idea, error) {
	var out []Idea
	if err := sqlx.SelectContext(ctx, q, &out, trendingSQL, p.From, p.To, public, maxTrending); err != nil {
		return nil, fmt.Errorf("trending ideas: %w", err)
	}
	return out, nil
}

// NewPhases returns the phases of public published projects that started in p.
func NewPhases(ctx context.Context, q sqlx.QueryerContext, p Period) ([]Phase, error) {
	var out []Phase
	err := sqlx.SelectContext(ctx, q, &out, `SELECT ph.id, ph.project_id, p.slug AS project_slug, p.title AS project_title,
		ph.title, ph.method, ph.starts_at
		FROM phases ph JOIN projects p ON p.id = ph.project_id
		WHERE ph.starts_at >= $1 AND ph.starts_at < $2 AND p.status = 'published' AND p.visibility = 'public'
		ORDER BY ph.starts_at, ph.id LIMIT 500`, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("new phases: %w", err)
	}
	return out, nil
}

// CityStats counts the city's new ideas, comments and users in p, and the
// reports still unread at its end.
func CityStats(ctx context.Context, q sqlx.QueryerContext, p Period) (Stats, error) {
	var s Stats
	err := sqlx.GetContext(ctx, q, &s, `SELECT
		(SELECT count(*) FROM ideas WHERE created_at >= $1 AND created_at < $2 AND deleted_at IS NULL) AS new_ideas,
		(SELECT count(*) FROM comments WHERE created_at >= $1 AND created_at < $2 AND deleted_by IS NULL) AS new_comments,
		(SELECT count(*) FROM users WHERE created_at >= $1 AND created_at < $2 AND deleted_at IS NULL) AS new_users,
		(SELECT count(*) FROM reports WHERE read_at IS NULL AND created_at < $2) AS awaiting_moderation`, p.From, p.To)
	if err != nil {
		return s, fmt.Errorf("city stats: %w", err)
	}
	return s, nil
}

// ProjectStats counts, for every project that has moderators, its new ideas
// and comments in p and its reports unread at p's end.
func ProjectStats(ctx context.Context, q sqlx.QueryerContext, p Period) ([]ModeratorDigest, error) {
	var out []ModeratorDigest
	err := sqlx.SelectContext(ctx, q, &out, `SELECT p.id AS project_id, p.slug AS project_slug, p.title AS project_title,
		(SELECT count(*) FROM ideas i WHERE i.project_id = p.id AND i.created_at >= $1 AND i.created_at < $2 AND i.deleted_at IS NULL) AS new_ideas,
		(SELECT count(*) FROM comments c JOIN ideas i ON i.id = c.idea_id
		  WHERE i.project_id = p.id AND c.created_at >= $1 AND c.created_at < $2 AND c.deleted_by IS NULL) AS new_comments,
		0 AS new_users,
		(SELECT count(*) FROM reports r WHERE r.project_id = p.id AND r.read_at IS NULL AND r.created_at < $2) AS awaiting_moderation
		FROM projects p WHERE EXISTS (SELECT 1 FROM project_moderators m WHERE m.project_id = p.id)
		ORDER BY p.id`, p.From, p.To)
	if err != nil {
		return nil, fmt.Errorf("project stats: %w", err)
	}
	return out, nil
}

// FollowsOf returns the projects and ideas each of users follows.
func FollowsOf(ctx context.Context, q sqlx.QueryerContext, users []int64) (map[int64]Follows, error) {
	rows, err := q.QueryxContext(ctx, `SELECT user_id, item_type, item_id FROM follows
		WHERE user_id = ANY($1) AND item_type IN ('project', 'idea')`, pq.Int64Array(users))
	if err != nil {
		return nil, fmt.Errorf("follows: %w", err)
	}
	defer rows.Close()
	out := make(map[int64]Follows, len(users))
	for rows.Next() {
		var (
			uid, item int64
			typ       string
		)
		if err := rows.Scan(&uid, &typ, &item); err != nil {
			return nil, err
		}
		f, ok := out[uid]
		if !ok {
			f = Follows{Projects: map[int64]bool{}, Ideas: map[int64]bool{}}
			out[uid] = f
		}
		if typ == "project" {
			f.Projects[item] = true
		} else {
			f.Ideas[item] = true
		}
	}
	return out, rows.Err()
}

// Recipient is one email of a digest run: a user, and for moderator
// digests the project it is about.
type Recipient struct {
	UserID    int64  `db:"id"`
	Email     string `db:"email"`
	FirstName string `db:"first_name"`
	Locale    string `db:"locale"`
	ProjectID int64  `db:"project_id"`
}

// Cursor is where the next page of recipients starts (keyset pagination).
type Cursor struct{ UserID, ProjectID int64 }

// After is the cursor past r.
func (r Recipient) After() Cursor { return Cursor{r.UserID, r.ProjectID} }

// Event is the ledger event of a digest email: one per kind, period and,
// for moderators, project.
func Event(k Kind, period string, projectID int64) string {
	if k == Moderator {
		return fmt.Sprintf("digest:%s:%s:project:%d", k, period, projectID)
	}
	return fmt.Sprintf("digest:%s:%s", k, period)
}

// The candidates of user and admin digests: live users with a confirmed
// address, of a role for the admin digest, in keyset order.
const usersSQL = `SELECT u.id, u.email, u.first_name, u.locale, 0::bigint AS project_id FROM users u
 WHERE u.id > $1 AND u.deleted_at IS NULL AND u.email IS NOT NULL AND u.email_confirmed_at IS NOT NULL
   AND ($3 = '' OR u.role = $3)
 ORDER BY u.id LIMIT $2`

// The candidates of moderator digests: one per moderator and project.
const moderatorsSQL = `SELECT u.id, u.email, u.first_name, u.locale, m.project_id
  FROM project_moderators m JOIN users u ON u.id = m.user_id
 WHERE (m.user_id, m.project_id) > ($1, $2) AND u.deleted_at IS NULL AND u.email IS NOT NULL AND u.email_confirmed_at IS NOT NULL
 ORDER BY m.user_id, m.project_id LIMIT $3`

// Page is one keyset page of a digest's recipients.
type Page struct {
	Recipients []Recipient // those who want the digest and were not sent it yet
	Next       Cursor      // where the next page starts
	Last       bool        // no page follows
}

// Recipients returns the page of at most limit candidates of digest k
// after the cursor, keeping those who did not leave its campaign and were
// not sent this period's digest yet. Consents and deliveries are looked up
// for the page's users only (by index, whatever the tables' statistics say),
// so a re-run walks a city of sent digests in a few queries per page.
func Recipients(ctx context.Context, q sqlx.QueryerContext, k Kind, period string, after Cursor, limit int) (Page, error) {
	var (
		cands []Recipient
		err   error
	)
	switch k {
	case User:
		err = sqlx.SelectContext(ctx, q, &cands, usersSQL, after.UserID, limit, "")
	case Admin:
		err = sqlx.SelectContext(ctx, q, &cands, usersSQL, after.UserID, limit, "admin")
	case Moderator:
		// Moderators have no role while the city may not use project
		// moderators, so they get no digest of the projects either.
		on, ferr := feature.On(ctx, q, feature.ProjectModerators)
		if ferr != nil || !on {
			return Page{Next: after, Last: true}, ferr
		}
		err = sqlx.SelectContext(ctx, q, &cands, moderatorsSQL, after.UserID, after.ProjectID, limit)
	default:
		return Page{}, fmt.Errorf("recipients: unknown digest %q", k)
	}
	if err != nil {
		return Page{}, fmt.Errorf("recipients of the %s digest: %w", k, err)
	}
	page := Page{Next: after, Last: len(cands) < limit}
	if len(cands) == 0 {
		return page, nil
	}
	page.Next = cands[len(cands)-1].After()
	ids := make([]int64, len(cands))
	emails := make([]string, len(cands))
	events := make([]string, len(cands))
	for i, r := range cands {
		ids[i], emails[i], events[i] = r.UserID, r.Email, Event(k, period, r.ProjectID)
	}
	var left []int64
	if err := sqlx.SelectContext(ctx, q, &left, `SELECT user_id FROM email_consents
		WHERE campaign = $1 AND NOT subscribed AND user_id = ANY($2)`, k.Campaign(), pq.Int64Array(ids)); err != nil {
		return Page{}, fmt.Errorf("consents: %w", err)
	}
	var sent []struct {
		Recipient string `db:"recipient"`
		Event     string `db:"event"`
	}
	// Only emails sent: a claim left by a run that died mid-send is the
	// sender's to take over (see email.Claim), not a digest delivered.
	if err := sqlx.SelectContext(ctx, q, &sent, `SELECT recipient, event FROM email_deliveries
		WHERE campaign = $1 AND recipient = ANY($2) AND event = ANY($3) AND state = 'sent'`,
		k.Campaign(), pq.StringArray(emails), pq.StringArray(events)); err != nil {
		return Page{}, fmt.Errorf("deliveries: %w", err)
	}
	skip := make(map[int64]bool, len(left))
	for _, id := range left {
		skip[id] = true
	}
	done := make(map[[2]string]bool, len(sent))
	for _, s := range sent {
		done[[2]string{s.Recipient, s.Event}] = true
	}
	for i, r := range cands {
		if !skip[r.UserID] && !done[[2]string{r.Email, events[i]}] {
			page.Recipients = append(page.Recipients, r)
		}
	}
	return page, nil
}
