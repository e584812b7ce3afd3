package export

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/lib/pq"

	"agora/domain/idea"
	"agora/domain/locale"
	"agora/tenant"
)

// source reads one kind of row page by page, in id order. Keyset pages: a
// page is the next PageSize ids of the source's table (found on its primary
// key alone, whatever the planner thinks of the filters), then the rows of
// that id range that pass the filters; so a page costs the same at the end
// of a big table as at its start, even before the table has statistics.
type source struct {
	columns []column
	// labels are the headers of columns that have their own (registration
	// questions), by column name.
	labels map[string]string
	// count is the number of rows the export will hold (for progress).
	count string
	// table is the table whose ids the pages walk.
	table string
	// page selects the rows with $1 < id <= $3, limited to project $2 (0: all).
	page string
	// scan turns the current row into cell values and returns its id.
	scan func(rows *sql.Rows, vals []any) (int64, error)
}

// lookups are the small tables an export names things from, read once.
type lookups struct {
	prefs    []string         // the city's locales, default first
	projects map[int64]string // project id -> title
	statuses map[int64]string // status id -> title
	topics   map[int64]string // topic id -> title
	fields   []field          // registration questions, in form order
}

// field is a registration question: its key and its label in the city's
// language.
type field struct {
	Key   string      `db:"key"`
	Label locale.Text `db:"label"`
}

func loadLookups(ctx context.Context, tx *tenant.Tx, prefs []string, kind Kind) (*lookups, error) {
	l := &lookups{prefs: prefs, projects: map[int64]string{}, statuses: map[int64]string{}, topics: map[int64]string{}}
	titles := func(q string, into map[int64]string) error {
		rows, err := tx.QueryContext(ctx, q)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var t locale.Text
			if err := rows.Scan(&id, &t); err != nil {
				return err
			}
			into[id] = t.Pick(prefs...)
		}
		return rows.Err()
	}
	switch kind {
	case Ideas:
		if err := titles(`SELECT id, title FROM projects`, l.projects); err != nil {
			return nil, err
		}
		if err := titles(`SELECT id, title FROM idea_statuses`, l.statuses); err != nil {
			return nil, err
		}
		if err := titles(`SELECT id, title FROM topics`, l.topics); err != nil {
			return nil, err
		}
	case Users:
		if err := tx.SelectContext(ctx, &l.fields, `SELECT key, label FROM registration_fields ORDER BY position, id`); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// sourceOf is the source of kind.
func sourceOf(kind Kind, l *lookups) (*source, error) {
	switch kind {
	case Ideas:
		return ideasSource(l), nil
	case Comments:
		return commentsSource(), nil
	case Reactions:
		return reactionsSource(), nil
	case Users:
		return usersSource(l), nil
	}
	return nil, fmt.Errorf("export: no source for kind %q", kind)
}

// authorName is the shown name of a contribution's author: blank for
// anonymous contributions and deleted accounts.
const authorName = `CASE WHEN u.id IS NULL OR u.deleted_at IS NOT NULL THEN '' ELSE btrim(u.first_name || ' ' || u.last_name) END`

func ideasSource(l *lookups) *source {
	return &source{
		columns: []column{{"id", 8}, {"project_id", 10}, {"project", 30}, {"phase_id", 9}, {"title", 40}, {"body", 60},
			{"status", 18}, {"author_id", 10}, {"author", 24}, {"anonymous", 10}, {"likes", 8}, {"dislikes", 8}, {"comments", 9},
			{"topics", 24}, {"location", 24}, {"latitude", 11}, {"longitude", 11}, {"hidden", 8}, {"created_at", 18}, {"updated_at", 18}},
		table: "ideas",
		count: `SELECT count(*) FROM ideas WHERE deleted_at IS NULL AND ($1::bigint = 0 OR project_id = $1)`,
		// The author of an anonymous idea is never exported, not even by id.
		page: `SELECT i.id, i.project_id, i.phase_id, i.title, i.body, i.status_id,
			CASE WHEN i.anonymous THEN NULL ELSE i.author_id END,
			CASE WHEN i.anonymous THEN '' ELSE ` + authorName + ` END,
			i.anonymous, i.likes_count, i.dislikes_count, i.comments_count,
			ARRAY(SELECT it.topic_id FROM idea_topics it WHERE it.idea_id = i.id ORDER BY it.topic_id),
			i.location_name, i.location_lat, i.location_lng, i.hidden_at IS NOT NULL, i.created_at, i.updated_at
			FROM ideas i LEFT JOIN users u ON u.id = i.author_id
			WHERE i.deleted_at IS NULL AND i.id > $1 AND i.id <= $3 AND ($2::bigint = 0 OR i.project_id = $2)
			ORDER BY i.id`,
		scan: func(rows *sql.Rows, vals []any) (int64, error) {
			var (
				id, project, status, likes, dislikes, comments int64
				phase, author                                  sql.NullInt64
				title, body, name, place                       string
				anonymous, hidden                              bool
				topics                                         pq.Int64Array
				lat, lng                                       sql.NullFloat64
				created, updated                               time.Time
			)
			if err := rows.Scan(&id, &project, &phase, &title, &body, &status, &author, &name, &anonymous, &likes, &dislikes,
				&comments, &topics, &place, &lat, &lng, &hidden, &created, &updated); err != nil {
				return 0, err
			}
			names := make([]string, len(topics))
			for i, t := range topics {
				names[i] = l.topics[t]
			}
			sort.Strings(names)
			copy(vals, []any{id, project, l.projects[project], nullInt(phase), title, plainText(body), l.statuses[status], nullInt(author), name,
				anonymous, likes, dislikes, comments, strings.Join(names, ", "), place, nullFloat(lat), nullFloat(lng), hidden, created, updated})
			return id, nil
		},
	}
}

func commentsSource() *source {
	return &source{
		columns: []column{{"id", 8}, {"idea_id", 8}, {"project_id", 10}, {"parent_id", 9}, {"author_id", 10}, {"author", 24},
			{"body", 60}, {"deleted_by", 10}, {"likes", 8}, {"dislikes", 8}, {"hidden", 8}, {"created_at", 18}, {"updated_at", 18}},
		table: "comments",
		count: `SELECT count(*) FROM comments c JOIN ideas i ON i.id = c.idea_id
			WHERE i.deleted_at IS NULL AND ($1::bigint = 0 OR i.project_id = $1)`,
		page: `SELECT c.id, c.idea_id, i.project_id, c.parent_id, c.author_id, ` + authorName + `, c.body, coalesce(c.deleted_by, ''),
			c.likes_count, c.dislikes_count, c.hidden_at IS NOT NULL, c.created_at, c.updated_at
			FROM comments c JOIN ideas i ON i.id = c.idea_id LEFT JOIN users u ON u.id = c.author_id
			WHERE i.deleted_at IS NULL AND c.id > $1 AND c.id <= $3 AND ($2::bigint = 0 OR i.project_id = $2)
			ORDER BY c.id`,
		scan: func(rows *sql.Rows, vals []any) (int64, error) {
			var (
				id, ideaID, project, likes, dislikes int64
				parent, author                       sql.NullInt64
				name, body, deletedBy                string
				hidden                               bool
				created, updated                     time.Time
			)
			if err := rows.Scan(&id, &ideaID, &project, &parent, &author, &name, &body, &deletedBy, &likes, &dislikes, &hidden,
				&created, &updated); err != nil {
				return 0, err
			}
			copy(vals, []any{id, ideaID, project, nullInt(parent), nullInt(author), name, plainText(body), deletedBy, likes, dislikes,
				hidden, created, updated})
			return id, nil
		},
	}
}

// reactionsSource exports likes and dislikes on ideas and comments: what was
// liked, how, when and by which account id (no names: a reaction is not a
// public act of its author).
func reactionsSource() *source {
	const from = ` FROM reactions r
			LEFT JOIN comments c ON r.item_type = 'comment' AND c.id = r.item_id
			JOIN ideas i ON i.id = CASE WHEN r.item_type = 'idea' THEN r.item_id ELSE c.idea_id END
			WHERE i.deleted_at IS NULL`
	return &source{
		columns: []column{{"id", 8}, {"item_type", 10}, {"item_id", 9}, {"idea_id", 8}, {"project_id", 10}, {"mode", 8},
			{"user_id", 9}, {"created_at", 18}},
		table: "reactions",
		count: `SELECT count(*)` + from + ` AND ($1::bigint = 0 OR i.project_id = $1)`,
		page: `SELECT r.id, r.item_type, r.item_id, i.id, i.project_id, r.mode, r.user_id, r.created_at` + from + `
			AND r.id > $1 AND r.id <= $3 AND ($2::bigint = 0 OR i.project_id = $2)
			ORDER BY r.id`,
		scan: func(rows *sql.Rows, vals []any) (int64, error) {
			var (
				id, item, ideaID, project, userID int64
				itemType, mode                    string
				created                           time.Time
			)
			if err := rows.Scan(&id, &itemType, &item, &ideaID, &project, &mode, &userID, &created); err != nil {
				return 0, err
			}
			copy(vals, []any{id, itemType, item, ideaID, project, mode, userID, created})
			return id, nil
		},
	}
}

// usersSource exports the city's accounts with their personal fields (email
// and the answers to the registration questions): admins only request it.
func usersSource(l *lookups) *source {
	cols := []column{{"id", 8}, {"email", 30}, {"first_name", 16}, {"last_name", 16}, {"handle", 20}, {"role", 10}, {"locale", 7},
		{"email_confirmed", 10}, {"blocked_until", 18}, {"created_at", 18}}
	labels := map[string]string{}
	for _, f := range l.fields {
		cols = append(cols, column{"field_" + f.Key, 16})
		labels["field_"+f.Key] = f.Label.Pick(l.prefs...)
	}
	fixed := 10
	return &source{
		columns: cols,
		labels:  labels,
		table:   "users",
		count:   `SELECT count(*) FROM users WHERE deleted_at IS NULL AND $1::bigint = $1`,
		page: `SELECT id, email, first_name, last_name, handle, role, locale, email_confirmed_at IS NOT NULL, blocked_until, created_at,
			custom_fields FROM users
			WHERE deleted_at IS NULL AND id > $1 AND id <= $3 AND $2::bigint = $2
			ORDER BY id`,
		scan: func(rows *sql.Rows, vals []any) (int64, error) {
			var (
				id                                       int64
				email, first, last, handle, role, locale string
				confirmed                                bool
				blocked                                  *time.Time
				created                                  time.Time
				custom                                   []byte
			)
			if err := rows.Scan(&id, &email, &first, &last, &handle, &role, &locale, &confirmed, &blocked, &created, &custom); err != nil {
				return 0, err
			}
			copy(vals, []any{id, email, first, last, handle, role, locale, confirmed, nil, created})
			if blocked != nil {
				vals[8] = *blocked
			}
			var answers map[string]any
			if len(l.fields) > 0 {
				_ = json.Unmarshal(custom, &answers)
			}
			for i, f := range l.fields {
				vals[fixed+i] = answer(answers[f.Key])
			}
			return id, nil
		},
	}
}

// answer is a registration answer as one cell.
func answer(v any) any {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return v
	case bool:
		return v
	case float64:
		return v
	case []any:
		parts := make([]string, 0, len(v))
		for _, x := range v {
			parts = append(parts, fmt.Sprint(x))
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func nullInt(n sql.NullInt64) any {
	if !n.Valid {
		return nil
	}
	return n.Int64
}

func nullFloat(n sql.NullFloat64) any {
	if !n.Valid {
		return nil
	}
	return n.Float64
}

// plainText is the text of a stored (sanitised) body as a cell holds it:
// what its author typed, paragraphs and line breaks kept, no entities.
func plainText(s string) string { return idea.TextOf(idea.BodyHTML(s)) }
