package idea

import (
	"agora/domain/user"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/errs"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/tenant"
)

// Service manages ideas, their comments and reactions through the scoped
// transaction. Every write takes the actor and decides, inside its own
// transaction, whether they may (see rules.go): callers bind, call and
// answer.
type Service struct{ db *tenant.DB }

// NewService returns the idea service.
func NewService(db *tenant.DB) *Service { return &Service{db: db} }

const selectIdea = `SELECT i.id, i.project_id, i.phase_id, CASE WHEN i.anonymous THEN NULL ELSE i.author_id END AS author_id,
	CASE WHEN i.anonymous OR u.id IS NULL THEN '' WHEN u.deleted_at IS NOT NULL THEN '' ELSE u.first_name || ' ' || left(u.last_name, 1) || '.' END AS author_name,
	i.title, i.body, s.code AS status, s.title AS status_title, s.color AS status_color, i.location_lat, i.location_lng, i.location_name, i.likes_count, i.dislikes_count, i.comments_count, i.created_at, i.deleted_at,
	(SELECT count(*) FROM follows f WHERE f.item_type = 'idea' AND f.item_id = i.id) AS followers_count,
	ARRAY(SELECT t.topic_id FROM idea_topics t WHERE t.idea_id = i.id ORDER BY t.topic_id) AS topics,
	coalesce((SELECT json_agg(json_build_object('id', m.id, 'name', m.name) ORDER BY m.position, m.id)
	            FROM idea_images m WHERE m.idea_id = i.id), '[]') AS images
	FROM ideas i JOIN idea_statuses s ON s.id = i.status_id LEFT JOIN users u ON u.id = i.author_id`

// Post records a new idea by the actor in the project's current phase, with
// status "proposed", when the phase takes ideas and its rule lets them
// post. Errors: errs.Invalid naming the field (project_id for a project the
// actor may not see), the denial of the phase's rule, errs.FeatureUnavailable.
func (s *Service) Post(ctx context.Context, a permission.Actor, n New) (*Idea, error) {
	const op = "idea.Post"
	if err := n.Check(op); err != nil {
		return nil, err
	}
	if err := clean(ctx, op, "body", n.Title, n.Body); err != nil {
		return nil, err
	}
	html, text := Sanitize(n.Body)
	t, _ := tenant.FromContext(ctx)
	var id int64
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		pl, err := at(ctx, tx, a, n.ProjectID, true)
		if err == nil {
			err = pl.may(ctx, tx, op, permission.Post)
		}
		if errs.CodeOf(err) == errs.NotFound {
			return errs.InvalidField(op, "project_id", "no project %d", n.ProjectID).WithRule("unknown_id")
		}
		if err != nil {
			return err
		}
		err = tx.GetContext(ctx, &id, `INSERT INTO ideas (project_id, phase_id, author_id, title, body, body_text, status_id, lang,
				location_lat, location_lng, location_name)
			VALUES ($1, $2, $3, $4, $5, $6, (SELECT id FROM idea_statuses WHERE code = 'proposed'), $7::regconfig, $8, $9, $10) RETURNING id`,
			n.ProjectID, pl.phase.ID, a.UserID, n.Title, html, text, searchConfig(t.DefaultLocale()), n.LocationLat, n.LocationLng, n.LocationName)
		if err != nil {
			return err
		}
		if len(n.Topics) > 0 {
			_, err := tx.ExecContext(ctx, `INSERT INTO idea_topics (idea_id, topic_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
				id, pq.Int64Array(n.Topics))
			var pe *pq.Error
			if errors.As(err, &pe) && pe.Code == "23503" {
				return errs.InvalidField(op, "topics", "names a topic that does not exist").WithRule("unknown_id")
			}
			if err != nil {
				return err
			}
		}
		// The author follows their idea, to hear of comments and answers.
		if _, err := tx.ExecContext(ctx, `INSERT INTO follows (user_id, item_type, item_id) VALUES ($1, 'idea', $2) ON CONFLICT DO NOTHING`,
			a.UserID, id); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: a.UserID, Action: "idea.created", ItemType: "idea", ItemID: id,
			ProjectID: int64(n.ProjectID)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, a, ID(id))
}

// Get returns an idea (not deleted, not hidden) the actor may see, with
// its topics and the actor's reaction. Errors: errs.NotFound, also for an
// idea of a project the actor may not see.
func (s *Service) Get(ctx context.Context, a permission.Actor, id ID) (*Idea, error) {
	var it Idea
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		err := tx.GetContext(ctx, &it, selectIdea+` WHERE i.id = $1 AND i.deleted_at IS NULL AND i.hidden_at IS NULL`, id)
		if isNoRows(err) {
			return errs.E("idea.Get", errs.NotFound, "no idea %d", id)
		}
		if err != nil {
			return err
		}
		visible, _, err := project.Sees(ctx, tx, a, it.ProjectID)
		if err == nil && !visible {
			err = errs.E("idea.Get", errs.NotFound, "no idea %d", id)
		}
		if err != nil {
			return notVisible(err, "idea.Get", "idea", int64(id))
		}
		if !a.Anonymous() {
			err := tx.GetContext(ctx, &it.MyReaction, `SELECT mode FROM reactions WHERE user_id = $1 AND item_type = 'idea' AND item_id = $2`, a.UserID, id)
			if err != nil && !isNoRows(err) {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	it.ready()
	return &it, nil
}

// Filter narrows and orders an idea list.
type Filter struct {
	Project project.ID
	Phase   project.PhaseID
	Topic   int64
	Area    int64 // ideas of projects in this area
	Status  string
	Query   string
	Sort    string // new (default), popular, trending, random, oldest
	Seed    string // for random: stable per viewer and day
	Page    int
}

// PageSize is the number of ideas per page; MaxPage the last page asked
// for that is taken as it is.
const (
	PageSize = 20
	MaxPage  = 100_000
)

var sorts = map[string]string{
	"new":     "i.created_at DESC, i.id DESC",
	"oldest":  "i.created_at, i.id",
	"popular": "(i.likes_count - i.dislikes_count) DESC, i.id DESC",
	// trending: reactions and comments weigh less as the idea ages
	// (date_part is float8: extract would compute in slow numeric).
	"trending": "(i.likes_count + 2 * i.comments_count + 1) / power(date_part('epoch', now() - i.created_at) / 3600 + 2, 1.5) DESC, i.id DESC",
	// random: shuffled by a seed, so a viewer's order stays put all day.
	"random": "md5(i.id::text || $seed), i.id",
	// status: in the order of the statuses, newest first within each.
	"status": "s.position, i.created_at DESC, i.id DESC",
}

// Sorts lists the sort orders List knows.
var Sorts = []string{"new", "popular", "trending", "random", "status", "oldest"}

// List returns one page of ideas and the total, in two queries whatever
// the page size: the page's ids with the total, then their rows (with
// topics and pictures).
// The conditions name only the filters given, so the planner sees each as
// it is (a topic filter becomes a join on its index).
// Only ideas of projects the actor may see are listed.
func (s *Service) List(ctx context.Context, a permission.Actor, f Filter) ([]Idea, int, error) {
	order, ok := sorts[f.Sort]
	if f.Sort == "" {
		order, ok = sorts["new"], true
	}
	if !ok {
		return nil, 0, errs.InvalidField("idea.List", "sort", "%q is not one of %s", f.Sort, strings.Join(Sorts, ", ")).WithRule("sort")
	}
	// Pages past the last are empty; past MaxPage they are the last one
	// a list can have, so an offset never overflows.
	f.Page = min(max(f.Page, 1), MaxPage)
	t, _ := tenant.FromContext(ctx)
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	conds := []string{"i.deleted_at IS NULL", "i.hidden_at IS NULL"}
	visible := arg(nil) // the projects the actor may see, read with the page below
	conds = append(conds, "i.project_id = ANY("+visible+")")
	if f.Project != 0 {
		conds = append(conds, "i.project_id = "+arg(f.Project))
	}
	if f.Phase != 0 {
		conds = append(conds, "i.phase_id = "+arg(f.Phase))
	}
	if f.Topic != 0 {
		conds = append(conds, "i.id IN (SELECT idea_id FROM idea_topics WHERE topic_id = "+arg(f.Topic)+")")
	}
	if f.Area != 0 {
		conds = append(conds, "i.project_id IN (SELECT project_id FROM project_areas WHERE area_id = "+arg(f.Area)+")")
	}
	if f.Status != "" {
		conds = append(conds, "i.status_id = (SELECT id FROM idea_statuses WHERE code = "+arg(f.Status)+")")
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		conds = append(conds, "i.id IN (SELECT x.id FROM ideas x WHERE x.search @@ websearch_to_tsquery("+arg(searchConfig(t.DefaultLocale()))+"::regconfig, "+arg(q)+"))")
	}
	where := strings.Join(conds, " AND ")
	countArgs := append([]any(nil), args...)
	// The conditions and orders read the narrow listing (see migration
	// 0025), which has the idea's columns they name under the same names.
	from := "idea_listing i"
	if f.Sort == "status" {
		from = "idea_listing i JOIN idea_statuses s ON s.id = i.status_id"
	}
	if f.Sort == "random" {
		order = strings.Replace(order, "$seed", arg(f.Seed), 1)
	}
	var out []Idea
	var total int
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		projects, err := project.VisibleTo(ctx, tx, a)
		if err != nil {
			return err
		}
		args[0], countArgs[0] = pq.Int64Array(projects), pq.Int64Array(projects)
		// The page and the total in one pass over the matching ideas.
		var page []struct {
			ID    int64 `db:"id"`
			Total int   `db:"total"`
		}
		if err := tx.SelectContext(ctx, &page, `SELECT i.id, count(*) OVER () AS total FROM `+from+` WHERE `+where+
			fmt.Sprintf(` ORDER BY %s LIMIT %d OFFSET %d`, order, PageSize, (f.Page-1)*PageSize), args...); err != nil {
			return err
		}
		if len(page) == 0 {
			if f.Page == 1 {
				return nil
			}
			// Past the last page: the total still counts.
			return tx.GetContext(ctx, &total, `SELECT count(*) FROM idea_listing i WHERE `+where, countArgs...)
		}
		total = page[0].Total
		ids := make([]int64, len(page))
		for i, p := range page {
			ids[i] = p.ID
		}
		var rows []Idea
		if err := tx.SelectContext(ctx, &rows, selectIdea+` WHERE i.id = ANY($1)`, pq.Int64Array(ids)); err != nil {
			return err
		}
		byID := map[ID]*Idea{}
		for i := range rows {
			rows[i].ready()
			byID[rows[i].ID] = &rows[i]
		}
		for _, id := range ids { // in the page's order
			if it, ok := byID[ID(id)]; ok {
				out = append(out, *it)
			}
		}
		return nil
	})
	return out, total, err
}

// reactable lists what can be reacted to: the query that locks a live item
// and reads its project and, for ideas, its own phase's reaction rules.
var reactable = map[string]struct{ table, lock string }{
	"idea": {"ideas", `SELECT i.project_id, i.phase_id, p.dislikes_enabled, p.reaction_limit,
			coalesce((SELECT mode FROM reactions r WHERE r.user_id = $2 AND r.item_type = 'idea' AND r.item_id = i.id), '') AS mode
		FROM ideas i LEFT JOIN phases p ON p.id = i.phase_id
		WHERE i.id = $1 AND i.deleted_at IS NULL AND i.hidden_at IS NULL FOR UPDATE OF i`},
	"comment": {"comments", `SELECT i.project_id, NULL::bigint AS phase_id, NULL::boolean AS dislikes_enabled, NULL::int AS reaction_limit,
			coalesce((SELECT mode FROM reactions r WHERE r.user_id = $2 AND r.item_type = 'comment' AND r.item_id = c.id), '') AS mode
		FROM comments c JOIN ideas i ON i.id = c.idea_id
		WHERE c.id = $1 AND c.deleted_by IS NULL AND c.hidden_at IS NULL AND i.deleted_at IS NULL AND i.hidden_at IS NULL FOR UPDATE OF c`},
}

// reactionRules is what the locked item says about reacting to it, and the
// actor's reaction to it so far ("" for none).
type reactionRules struct {
	ProjectID project.ID       `db:"project_id"`
	PhaseID   *project.PhaseID `db:"phase_id"`
	Dislikes  *bool            `db:"dislikes_enabled"`
	Limit     *int             `db:"reaction_limit"`
	Mode      string           `db:"mode"`
}

// React sets the actor's reaction on an idea to mode (like or dislike),
// creating, keeping or switching it, when the current phase lets them react.
// The idea's counters change in the same transaction, so they always equal
// the reaction rows, whatever runs concurrently. Errors: errs.Invalid for a
// bad mode or dislikes turned off, the denial of the phase's rule,
// errs.Conflict past the phase's reaction limit, errs.NotFound.
func (s *Service) React(ctx context.Context, a permission.Actor, ideaID ID, mode string) error {
	return s.setReaction(ctx, a, "idea", int64(ideaID), func(string) string { return mode })
}

// Unreact removes the actor's reaction on an idea, if any (under the same
// rules as React).
func (s *Service) Unreact(ctx context.Context, a permission.Actor, ideaID ID) error {
	return s.setReaction(ctx, a, "idea", int64(ideaID), func(string) string { return "" })
}

// Press is the idea page's reaction buttons: pressing the reaction one has
// takes it back (as does an empty mode), pressing another sets it. One
// transaction whatever it does.
func (s *Service) Press(ctx context.Context, a permission.Actor, ideaID ID, mode string) error {
	return s.setReaction(ctx, a, "idea", int64(ideaID), func(old string) string {
		if mode == old {
			return ""
		}
		return mode
	})
}

// ReactToComment sets (mode like or dislike) or removes (mode "") the
// actor's reaction on a comment, as React does for ideas.
func (s *Service) ReactToComment(ctx context.Context, a permission.Actor, commentID CommentID, mode string) (*Comment, error) {
	if err := s.setReaction(ctx, a, "comment", int64(commentID), func(string) string { return mode }); err != nil {
		return nil, err
	}
	return s.comment(ctx, commentID)
}

// setReaction changes the actor's reaction on any reactable item to what
// next says of the old one. The item row is locked first, so every change of
// its reactions queues there; the rules are decided on that transaction, and
// the counters move in it with the reaction row.
func (s *Service) setReaction(ctx context.Context, a permission.Actor, itemType string, itemID int64, next func(old string) string) error {
	op := "idea.React"
	it := reactable[itemType]
	if itemType == "comment" && a.Anonymous() {
		return errs.E(op, errs.Unauthenticated, "log in first").WithRule("log_in")
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var rules reactionRules
		err := tx.GetContext(ctx, &rules, it.lock, itemID, a.UserID)
		if isNoRows(err) {
			return errs.E(op, errs.NotFound, "no %s %d", itemType, itemID)
		}
		if err != nil {
			return err
		}
		pl, err := at(ctx, tx, a, rules.ProjectID, true)
		if err == nil && !pl.visible() {
			err = errs.E(op, errs.NotFound, "no %s %d", itemType, itemID)
		}
		if err == nil {
			err = pl.may(ctx, tx, op, permission.React)
		}
		if err != nil {
			return notVisible(err, op, itemType, itemID)
		}
		old, mode := rules.Mode, next(rules.Mode)
		switch {
		case mode != "" && mode != "like" && mode != "dislike":
			return errs.InvalidField(op, "mode", "%q is not like or dislike", mode).WithRule("choice")
		case old == mode:
			return nil
		case mode == "dislike" && !pl.dislikesOn(rules.Dislikes):
			return errs.InvalidField(op, "mode", "dislikes are off in this phase").WithRule("dislikes_off")
		}
		if itemType == "idea" && mode != "" && old == "" {
			if err := checkReactionLimit(ctx, tx, a.UserID, rules); err != nil {
				return err
			}
		}
		switch {
		case old == "":
			_, err = tx.ExecContext(ctx, `INSERT INTO reactions (user_id, item_type, item_id, mode) VALUES ($1, $2, $3, $4)`, a.UserID, itemType, itemID, mode)
		case mode == "":
			_, err = tx.ExecContext(ctx, `DELETE FROM reactions WHERE user_id = $1 AND item_type = $2 AND item_id = $3`, a.UserID, itemType, itemID)
		default:
			_, err = tx.ExecContext(ctx, `UPDATE reactions SET mode = $4, created_at = now() WHERE user_id = $1 AND item_type = $2 AND item_id = $3`,
				a.UserID, itemType, itemID, mode)
		}
		if err != nil {
			return err
		}
		// The counters move in one statement, by the old and the new mode.
		delta := map[string]int{}
		delta[old]--
		delta[mode]++
		if _, err := tx.ExecContext(ctx, `UPDATE `+it.table+` SET likes_count = likes_count + $2, dislikes_count = dislikes_count + $3
			WHERE id = $1`, itemID, delta["like"], delta["dislike"]); err != nil {
			return err
		}
		action := "reaction.created"
		switch {
		case mode == "":
			action = "reaction.removed"
		case old != "":
			action = "reaction.changed"
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: a.UserID, Action: action, ItemType: itemType, ItemID: itemID,
			ProjectID: int64(rules.ProjectID), Payload: map[string]any{"mode": mode}})
		return err
	})
}

// checkReactionLimit holds a new reaction to the number each person has in
// the idea's phase, when the phase limits it. The person's row is locked
// while counting, so two reactions of the same person cannot both take the
// last one.
func checkReactionLimit(ctx context.Context, tx *tenant.Tx, userID int64, rules reactionRules) error {
	const op = "idea.React"
	if rules.Limit == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
		return err
	}
	var used int
	if err := tx.GetContext(ctx, &used, `SELECT count(*) FROM reactions r JOIN ideas i ON i.id = r.item_id
		WHERE r.user_id = $1 AND r.item_type = 'idea' AND i.phase_id = $2 AND i.deleted_at IS NULL AND i.hidden_at IS NULL`, userID, *rules.PhaseID); err != nil {
		return err
	}
	if used >= *rules.Limit {
		return errs.E(op, errs.Conflict, "you have used all %d reactions of this phase; take one back to react here", *rules.Limit).
			WithRule("reaction_limit", *rules.Limit)
	}
	return nil
}

// ReactionsLeft is how many more ideas the user can react to in the phase,
// and whether the phase limits them at all.
func (s *Service) ReactionsLeft(ctx context.Context, userID user.ID, phaseID project.PhaseID) (left int, limited bool, err error) {
	err = s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		var limit *int
		if err := tx.GetContext(ctx, &limit, `SELECT reaction_limit FROM phases WHERE id = $1`, phaseID); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			return err
		}
		if limit == nil {
			return nil
		}
		var used int
		if err := tx.GetContext(ctx, &used, `SELECT count(*) FROM reactions r JOIN ideas i ON i.id = r.item_id
			WHERE r.user_id = $1 AND r.item_type = 'idea' AND i.phase_id = $2 AND i.deleted_at IS NULL AND i.hidden_at IS NULL`, userID, phaseID); err != nil {
			return err
		}
		left, limited = max(*limit-used, 0), true
		return nil
	})
	return left, limited, err
}

// Update changes an idea's title, body, place and topics: staff may always;
// its author while the city has not answered it and the phase takes ideas.
// Errors: errs.Invalid naming the field, errs.Forbidden, errs.NotFound, the
// denial of the phase's rule.
func (s *Service) Update(ctx context.Context, a permission.Actor, id ID, n New) (*Idea, error) {
	const op = "idea.Update"
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		it, pl, err := lockOwnIdea(ctx, tx, a, op, id)
		if err == nil {
			err = pl.edit(ctx, tx, op, it.AuthorID, it.Status)
		}
		if err == nil {
			err = clean(ctx, op, "body", n.Title, n.Body)
		}
		if err != nil {
			return err
		}
		n.ProjectID = it.Project
		if err := n.Check(op); err != nil {
			return err
		}
		html, text := Sanitize(n.Body)
		if _, err := tx.ExecContext(ctx, `UPDATE ideas SET title = $2, body = $3, body_text = $4,
				location_lat = $5, location_lng = $6, location_name = $7, updated_at = now()
			WHERE id = $1`, id, n.Title, html, text, n.LocationLat, n.LocationLng, n.LocationName); err != nil {
			return err
		}
		if n.Topics != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM idea_topics WHERE idea_id = $1`, id); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO idea_topics (idea_id, topic_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING`,
				id, pq.Int64Array(n.Topics))
			var pe *pq.Error
			if errors.As(err, &pe) && pe.Code == "23503" {
				return errs.InvalidField(op, "topics", "names a topic that does not exist").WithRule("unknown_id")
			}
			if err != nil {
				return err
			}
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: a.UserID, Action: "idea.updated", ItemType: "idea", ItemID: int64(id),
			ProjectID: int64(it.Project)})
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, a, ID(id))
}

// Delete removes an idea from every list and page (a soft delete: comments,
// reactions and history stay for the record): its author or staff.
// Errors: errs.Unauthenticated, errs.Forbidden, errs.NotFound.
func (s *Service) Delete(ctx context.Context, a permission.Actor, id ID) error {
	const op = "idea.Delete"
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		it, pl, err := lockOwnIdea(ctx, tx, a, op, id)
		if err == nil {
			err = pl.own(op, it.AuthorID)
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ideas SET deleted_at = now() WHERE id = $1`, id); err != nil {
			return err
		}
		_, err = activity.Record(ctx, tx, activity.Activity{Actor: a.UserID, Action: "idea.deleted", ItemType: "idea", ItemID: int64(id),
			ProjectID: int64(it.Project)})
		return err
	})
}
