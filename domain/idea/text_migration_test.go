package idea_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/locale"
	"agora/fixture"
	"agora/migrations"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// TestMigrationUnescapesStoredText: titles, places, search text and the
// titles of custom statuses stored escaped before ideas kept what was typed
// read as typed after the city migration; text without entities is left
// alone, and so is a title the rule would refuse once unescaped.
func TestMigrationUnescapesStoredText(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "escaped")
	ctx := tenanttest.Ctx(c)
	p := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "square", Title: "Square"})
	var m migrations.Migration
	for _, x := range migrations.City().Migrations {
		if x.Name == "unescape_idea_text" {
			m = x
		}
	}
	require.NotZero(t, m.Version, "the migration exists")

	cases := []struct{ title, place, text, wantTitle, wantPlace, wantText string }{
		{"Auto&#39;s &amp; fietsen", "Place de l&#39;Église &amp; &lt;co&gt;", "C&#39;est « super » &amp; cher",
			"Auto's & fietsen", "Place de l'Église & <co>", "C'est « super » & cher"},
		{"&#34;Quoted&#34; &amp;lt;typed&amp;gt;", "", "a &gt; b", `"Quoted" &lt;typed&gt;`, "", "a > b"},
		{"Plain title", "Korenmarkt", "nothing to do", "Plain title", "Korenmarkt", "nothing to do"},
		{"&lt;&gt;", "", "", "&lt;&gt;", "", ""},
	}
	ids := make([]int64, len(cases))
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		for i, tc := range cases {
			if err := tx.GetContext(ctx, &ids[i], `INSERT INTO ideas (project_id, title, location_name, body_text, status_id)
				VALUES ($1, $2, $3, $4, (SELECT id FROM idea_statuses WHERE code = 'proposed')) RETURNING id`,
				p.ID, tc.title, tc.place, tc.text); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO idea_statuses (code, title, color, position, custom)
			VALUES ('en_cours', '{"fr": "Examen d&#39;abord &amp; ensuite", "nl": "Eerst &#34;kijken&#34;"}', '#6b7280', 90, true),
			       ('seeded', '{"en": "Fish &amp; chips"}', '#6b7280', 91, false)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, m.SQL)
		return err
	}))
	var titles []struct {
		Code  string      `db:"code"`
		Title locale.Text `db:"title"`
	}
	require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &titles, `SELECT code, title FROM idea_statuses WHERE code IN ('en_cours', 'seeded') ORDER BY code`)
	}))
	require.Equal(t, locale.Text{"fr": "Examen d'abord & ensuite", "nl": `Eerst "kijken"`}, titles[0].Title, "a status the city added")
	require.Equal(t, locale.Text{"en": "Fish &amp; chips"}, titles[1].Title, "a status the city did not write is left alone")
	for i, tc := range cases {
		var got struct {
			Title string `db:"title"`
			Place string `db:"location_name"`
			Text  string `db:"body_text"`
		}
		require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
			return tx.GetContext(ctx, &got, `SELECT title, location_name, body_text FROM ideas WHERE id = $1`, ids[i])
		}))
		require.Equal(t, tc.wantTitle, got.Title, tc.title)
		require.Equal(t, tc.wantPlace, got.Place, tc.title)
		require.Equal(t, tc.wantText, got.Text, tc.title)
	}
}
