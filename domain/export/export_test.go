package export

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/errs"
	"agora/domain/locale"
	"agora/domain/permission"
)

func TestAuthorize(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	later := now.Add(time.Hour)
	admin := permission.Actor{UserID: 1, Role: "admin"}
	mod := permission.Actor{UserID: 2, Role: "citizen", ModeratorOf: []int64{7}}
	citizen := permission.Actor{UserID: 3, Role: "citizen"}
	blocked := permission.Actor{UserID: 4, Role: "admin", BlockedUntil: &later}
	for _, tc := range []struct {
		name    string
		a       permission.Actor
		kind    Kind
		project int64
		want    errs.Code // "" allowed
	}{
		{"visitor", permission.Actor{}, Ideas, 0, errs.Unauthenticated},
		{"citizen", citizen, Ideas, 7, errs.Forbidden},
		{"blocked admin", blocked, Ideas, 0, errs.Forbidden},
		{"admin, whole city", admin, Ideas, 0, ""},
		{"admin, users", admin, Users, 0, ""},
		{"moderator, own project", mod, Comments, 7, ""},
		{"moderator, reactions of own project", mod, Reactions, 7, ""},
		{"moderator, another project", mod, Ideas, 8, errs.Forbidden},
		{"moderator, whole city", mod, Ideas, 0, errs.Invalid},
		{"moderator, users", mod, Users, 0, errs.Forbidden},
	} {
		err := Authorize(tc.a, tc.kind, tc.project, now)
		if tc.want == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		require.Equal(t, tc.want, errs.CodeOf(err), "%s: %v", tc.name, err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	require.NoError(t, Validate(Ideas, XLSX, Filters{Project: 3}))
	require.NoError(t, Validate(Users, CSV, Filters{}))
	for _, tc := range []struct {
		kind   Kind
		format Format
		f      Filters
		field  string
	}{
		{"votes", XLSX, Filters{}, "kind"},
		{Ideas, "pdf", Filters{}, "format"},
		{Ideas, CSV, Filters{Project: -1}, "project"},
		{Users, CSV, Filters{Project: 3}, "project"},
	} {
		e, ok := errs.As(Validate(tc.kind, tc.format, tc.f))
		require.True(t, ok, "%+v", tc)
		require.Equal(t, errs.Invalid, e.Code)
		require.Equal(t, tc.field, e.Field)
	}
}

func TestVisible(t *testing.T) {
	t.Parallel()
	admin := permission.Actor{UserID: 1, Role: "admin"}
	mod := permission.Actor{UserID: 2, Role: "citizen", ModeratorOf: []int64{7}}
	require.True(t, Visible(admin, Export{Kind: Users}))
	require.True(t, Visible(mod, Export{Kind: Ideas, Filters: Filters{Project: 7}}))
	require.False(t, Visible(mod, Export{Kind: Ideas, Filters: Filters{Project: 8}}))
	require.False(t, Visible(mod, Export{Kind: Ideas}))
	require.False(t, Visible(permission.Actor{UserID: 3, Role: "citizen"}, Export{Kind: Ideas, Filters: Filters{Project: 7}}))
}

func TestSignedLinks(t *testing.T) {
	t.Parallel()
	s := NewSigner("a-secret-of-at-least-thirty-two-characters")
	now := time.Now()
	exp := now.Add(Lifetime)
	tok := s.Token(5, 9, exp)
	require.NoError(t, s.Check(5, 9, tok, now))

	for name, check := range map[string]error{
		"another city":   s.Check(6, 9, tok, now),
		"another export": s.Check(5, 10, tok, now),
		"another key":    NewSigner("another-secret-of-at-least-thirty-two-chars").Check(5, 9, tok, now),
		"a later expiry": s.Check(5, 9, "9999999999"+tok[len(tok)-44:], now),
		"garbage":        s.Check(5, 9, "nope", now),
		"empty":          s.Check(5, 9, "", now),
		"no key":         Signer{}.Check(5, 9, Signer{}.Token(5, 9, exp), now),
	} {
		require.Equal(t, errs.NotFound, errs.CodeOf(check), name)
	}
	err := s.Check(5, 9, tok, exp)
	require.Equal(t, errs.Forbidden, errs.CodeOf(err))
	require.True(t, IsExpired(err))
}

func TestDownloadName(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 23, 30, 0, 0, time.UTC)
	require.Equal(t, "gent-ideas-2025-03-01.xlsx", Export{Kind: Ideas, Format: XLSX, CreatedAt: at}.DownloadName("gent"))
	require.Equal(t, "gent-comments-project-4-2025-03-01.csv",
		Export{Kind: Comments, Format: CSV, CreatedAt: at, Filters: Filters{Project: 4}}.DownloadName("gent"))
}

func TestPercent(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0, Export{Status: Queued}.Percent())
	require.Equal(t, 40, Export{Status: Running, RowsDone: 4000, RowsTotal: 10000}.Percent())
	require.Equal(t, 100, Export{Status: Running, RowsDone: 11000, RowsTotal: 10000}.Percent())
	require.Equal(t, 100, Export{Status: Done}.Percent())
}

func TestPlainTextAndFormulas(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Hello world\n\n& more", plainText("<p>Hello <strong>world</strong></p><p>&amp; more</p>"))
	require.Equal(t, "Auto's op het plein\nkunnen weg", plainText("<p>Auto&#39;s op het plein<br>kunnen weg</p>"))
	require.Equal(t, "as is", plainText("as is"))
	require.Equal(t, "'=HYPERLINK(\"x\")", spreadsheetSafe(`=HYPERLINK("x")`))
	require.Equal(t, "'-1", spreadsheetSafe("-1"))
	require.Equal(t, "fine", spreadsheetSafe("fine"))
}

// TestHeadersInTheCityLanguage: every column of every kind has a readable
// header in each language of the portal, never its snake_case name; a
// registration question is headed by its label.
func TestHeadersInTheCityLanguage(t *testing.T) {
	t.Parallel()
	l := &lookups{prefs: []string{"nl", "en"}, fields: []field{{Key: "district", Label: locale.Text{"en": "District", "nl": "Wijk"}}}}
	for _, loc := range []string{"en", "fr", "nl"} {
		for _, k := range Kinds {
			src, err := sourceOf(k, l)
			require.NoError(t, err)
			heads, err := src.headers(loc)
			require.NoError(t, err)
			require.Len(t, heads, len(src.columns))
			for i, h := range heads {
				require.NotContains(t, h, "exports.column.", "%s %s: %s has no header", loc, k, src.columns[i].name)
				require.NotEqual(t, src.columns[i].name, h, "%s %s: a readable header", loc, k)
			}
		}
	}
	src, err := sourceOf(Ideas, l)
	require.NoError(t, err)
	heads, err := src.headers("nl")
	require.NoError(t, err)
	require.Equal(t, []string{"ID", "Project-ID", "Project", "Fase-ID", "Titel", "Tekst", "Status", "Auteur-ID", "Auteur"}, heads[:9])
	heads, err = src.headers("fr")
	require.NoError(t, err)
	require.Equal(t, "Titre", heads[4])
	src, err = sourceOf(Users, l)
	require.NoError(t, err)
	heads, err = src.headers("nl")
	require.NoError(t, err)
	require.Equal(t, []string{"ID", "E-mail", "Voornaam", "Achternaam"}, heads[:4])
	require.Equal(t, "Wijk", heads[len(heads)-1], "a registration question is headed by its label")
}
