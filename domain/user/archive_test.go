package user

import (
	"context"
	"slices"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant/tenanttest"
)

// namingColumns walks a city schema for the columns that name a person, as
// "table.column": every foreign key to users, and every integer column
// whose name says it holds a person (author_id, requested_by, ...) even
// without a foreign key.
func namingColumns(t *testing.T, env *tenanttest.Env, schema string) []string {
	t.Helper()
	var out []string
	require.NoError(t, env.DB.Platform().SelectContext(context.Background(), &out, `
		SELECT DISTINCT tbl.relname || '.' || a.attname
		  FROM pg_constraint c
		  JOIN pg_class tbl ON tbl.oid = c.conrelid
		  JOIN pg_class ref ON ref.oid = c.confrelid
		  JOIN pg_namespace n ON n.oid = tbl.relnamespace AND n.oid = ref.relnamespace
		  JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)
		 WHERE c.contype = 'f' AND ref.relname = 'users' AND n.nspname = $1
		UNION
		SELECT table_name || '.' || column_name FROM information_schema.columns
		 WHERE table_schema = $1 AND data_type IN ('bigint', 'integer')
		   AND (column_name ~ '(^|_)(user|author|actor|reporter|assignee|owner|creator|recipient|member|moderator|voter|inviter)(_id)?$'
		        OR column_name ~ '_by$')`, schema))
	sort.Strings(out)
	return out
}

func TestArchiveCoversEveryTableNamingAPerson(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	city := env.City(t, "census")
	found := namingColumns(t, env, city.Schema)
	// The walk itself must see what is known to be there.
	for _, known := range []string{"ideas.author_id", "sessions.user_id", "campaigns.sent_by", "reports.reporter_id", "notifications.actor_id"} {
		require.Contains(t, found, known, "the schema walk misses a known column")
	}
	covered := map[string]bool{}
	for _, sec := range archiveSections {
		for _, col := range sec.Columns {
			covered[sec.Table+"."+col] = true
		}
	}
	var missing []string
	for _, tc := range found {
		if !covered[tc] && archiveExcluded[tc] == "" {
			missing = append(missing, tc)
		}
	}
	require.Empty(t, missing, "these columns name a person but the personal data archive neither holds them "+
		"(archiveSections in domain/user/archive.go) nor leaves them out with a reason (archiveExcluded)")

	// The lists name only what exists, and nothing twice.
	var columns []string
	require.NoError(t, env.DB.Platform().SelectContext(context.Background(), &columns,
		`SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = $1`, city.Schema))
	keys := map[string]bool{"files": true, "generated_at": true, "city": true, "contents": true}
	for _, sec := range archiveSections {
		require.False(t, keys[sec.Key], "archive key %s twice", sec.Key)
		keys[sec.Key] = true
		require.NotEmpty(t, sec.About, sec.Key)
		for _, col := range sec.Columns {
			require.True(t, slices.Contains(columns, sec.Table+"."+col), "section %s names %s.%s, which the schema lacks", sec.Key, sec.Table, col)
		}
	}
	for tc, why := range archiveExcluded {
		require.Contains(t, found, tc, "excluded %s names no person (any more)", tc)
		require.False(t, covered[tc], "%s is both exported and excluded", tc)
		require.NotEmpty(t, why, tc)
	}
}
