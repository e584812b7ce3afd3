package user_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/campaign"
	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/export"
	"agora/domain/feature"
	"agora/domain/group"
	"agora/domain/idea"
	"agora/domain/locale"
	"agora/domain/media"
	"agora/domain/moderation"
	"agora/domain/project"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// pngImage is a small valid PNG of one colour.
func pngImage(t *testing.T, c color.Color) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 3, 2))
	for x := 0; x < 3; x++ {
		for y := 0; y < 2; y++ {
			img.Set(x, y, c)
		}
	}
	var b bytes.Buffer
	require.NoError(t, png.Encode(&b, img))
	return b.Bytes()
}

// archivePeople makes, in this order, the person, a peer and an admin of
// city, the person and the peer invited before they had accounts. Made in
// the same order in two cities, the people of both have the same ids.
func archivePeople(t *testing.T, env *tenanttest.Env, city *tenant.Tenant, slug string) (me, peer, boss *user.User) {
	t.Helper()
	ctx := tenanttest.Ctx(city)
	users := user.NewService(env.DB)
	meAddr, peerAddr := "me."+slug+"@example.org", "peer."+slug+"@example.org"
	_, _, err := users.Invite(ctx, []string{meAddr, peerAddr}, user.RoleCitizen)
	require.NoError(t, err)
	me = fixture.User(t, env, city, fixture.UserOpts{Email: meAddr, Role: user.RoleAdmin})
	peer = fixture.User(t, env, city, fixture.UserOpts{Email: peerAddr, Role: user.RoleAdmin})
	boss = fixture.User(t, env, city, fixture.UserOpts{Role: user.RoleAdmin})
	return me, peer, boss
}

// fillArchive gives me rows in every table the archive covers, through the
// real services, each text carrying marker; me starts as an admin and ends
// as a project moderator, demoted by boss. flag is the feature me switches.
// It returns me's API token, which the archive must not hold.
func fillArchive(t *testing.T, env *tenanttest.Env, city *tenant.Tenant, me, peer, boss *user.User, marker string, flag feature.Key, dot color.Color) string {
	t.Helper()
	ctx := tenanttest.Ctx(city)
	users := user.NewService(env.DB)
	ideas := idea.NewService(env.DB)
	_, err := users.UpdateProfile(ctx, me.ID, user.Profile{FirstName: "Arch", LastName: "Ive", Bio: marker + " bio", Locale: "en"})
	require.NoError(t, err)
	_, err = users.SetAvatar(ctx, me.ID, pngImage(t, dot), env.StorageDir)
	require.NoError(t, err)
	fixture.Session(t, env, city, me)
	tok, err := users.CreateToken(ctx, me.ID, marker+" token")
	require.NoError(t, err)
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		if _, _, err := user.IssueCode(ctx, tx, me.ID, user.PurposeReset, time.Hour); err != nil {
			return err
		}
		id, _, err := email.Claim(ctx, tx, string(email.Notifications), me.Email, marker+"-event", int64(me.ID))
		if err != nil {
			return err
		}
		return email.MarkSent(ctx, tx, id)
	}))
	_, err = email.NewConsentService(env.DB).Set(ctx, int64(me.ID), email.Consents{email.UserDigest: false})
	require.NoError(t, err)
	g, err := group.NewService(env.DB).Create(ctx, locale.Text{"en": marker + " group"}, "manual", nil)
	require.NoError(t, err)
	require.NoError(t, group.NewService(env.DB).AddMember(ctx, g.ID, int64(me.ID)))

	p := fixture.Project(t, env, city, fixture.ProjectOpts{Phase: &fixture.PhaseOpts{}})
	fixture.Follow(t, env, city, me, "project", int64(p.ID))
	mine := fixture.Idea(t, env, city, fixture.IdeaOpts{Project: p.ID, Author: me, Title: marker + " idea"})
	_, err = ideas.AddImage(ctx, fixture.Actor(t, env, city, me), mine.ID, func() ([]byte, error) { return pngImage(t, dot), nil }, env.StorageDir)
	require.NoError(t, err)
	// The peer's idea and comment, which me comments, reacts to and reports;
	// the peer's comment on me's idea notifies me.
	target := fixture.Idea(t, env, city, fixture.IdeaOpts{Project: p.ID, Author: peer, Title: "target of " + marker})
	theirs := fixture.Comment(t, env, city, fixture.CommentOpts{Idea: target.ID, Author: peer, Body: "comment for " + marker})
	fixture.Comment(t, env, city, fixture.CommentOpts{Idea: mine.ID, Author: peer, Body: "reply to " + marker})
	fixture.Comment(t, env, city, fixture.CommentOpts{Idea: target.ID, Author: me, Body: marker + " comment"})
	a := fixture.Actor(t, env, city, me)
	require.NoError(t, ideas.React(ctx, a, target.ID, "like"))
	_, err = ideas.ReactToComment(ctx, a, theirs.ID, "dislike")
	require.NoError(t, err)
	require.NoError(t, moderation.NewService(env.DB).Report(ctx, int64(me.ID), "comment", int64(theirs.ID), "spam", marker+" report"))

	// Staff work, as an admin.
	_, err = ideas.SetStatus(ctx, a, target.ID, "viewed", marker+" note")
	require.NoError(t, err)
	_, err = ideas.AddFeedback(ctx, a, target.ID, marker+" feedback")
	require.NoError(t, err)
	_, err = export.NewService(env.DB, env.StorageDir, export.NewSigner("archive test")).Request(ctx, a, export.Users, export.CSV, export.Filters{})
	require.NoError(t, err)
	campaigns := campaign.NewService(env.DB)
	text := locale.Text{"en": marker + " campaign", "fr": marker + " campagne", "nl": marker + " campagne"}
	c, err := campaigns.Create(ctx, int64(me.ID), campaign.Message{Subject: text, Body: locale.Text{"en": "<p>Hello</p>", "fr": "<p>Bonjour</p>", "nl": "<p>Hallo</p>"}, Audience: campaign.Everyone})
	require.NoError(t, err)
	_, err = campaigns.Test(ctx, int64(me.ID), c.ID, "en")
	require.NoError(t, err)
	_, err = campaigns.Send(ctx, int64(me.ID), c.ID)
	require.NoError(t, err)
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := campaign.Begin(ctx, tx, c.ID) // as the worker does: the audience is frozen
		return err
	}))
	require.NoError(t, feature.NewService(env.DB).Set(ctx, int64(me.ID), flag, true))
	_, err = digest.NewService(env.DB).SetSchedule(ctx, int64(me.ID), digest.Schedule{Weekday: 3, Hour: 9})
	require.NoError(t, err)
	_, err = campaigns.SetSettings(ctx, int64(me.ID), campaign.Settings{PerSecond: 5})
	require.NoError(t, err)

	// Then me steps down to moderate the project.
	_, err = users.SetRole(ctx, boss.ID, me.ID, user.RoleModerator)
	require.NoError(t, err)
	_, err = project.NewService(env.DB).AddModerator(ctx, boss.ID, p.ID, me.Email)
	require.NoError(t, err)
	return tok.Token
}

// buildArchive builds u's archive and returns its path and its sections.
func buildArchive(t *testing.T, env *tenanttest.Env, city *tenant.Tenant, u *user.User) (string, []byte, map[string]json.RawMessage) {
	t.Helper()
	ctx := tenanttest.Ctx(city)
	users := user.NewService(env.DB)
	e, err := users.RequestDataExport(ctx, u.ID)
	require.NoError(t, err)
	require.NoError(t, users.BuildDataExport(ctx, e.ID, env.StorageDir))
	path, err := users.DataExportFile(ctx, u.ID, e.ID, env.StorageDir)
	require.NoError(t, err)
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &doc), "the archive is one JSON document")
	return path, raw, doc
}

// archiveFile is an entry of the archive's files section.
type archiveFile struct {
	Kind        string `json:"kind"`
	IdeaID      int64  `json:"idea_id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Base64      string `json:"base64"`
	Missing     bool   `json:"missing"`
}

// requireOwnRows checks that every section of doc holds rows of u only,
// and, when full, at least one.
func requireOwnRows(t *testing.T, doc map[string]json.RawMessage, u *user.User, full bool) {
	t.Helper()
	mine := func(key string, row map[string]any, cols []string) {
		for _, c := range cols {
			if n, ok := row[c].(float64); ok && int64(n) == int64(u.ID) {
				return
			}
			if s, ok := row[c].(string); ok && s == u.Email {
				return
			}
		}
		t.Errorf("section %s holds a row of someone else (by %v): %v", key, cols, row)
	}
	for _, sec := range user.ArchiveSections() {
		raw, ok := doc[sec.Key]
		require.True(t, ok, "the archive lacks section %s", sec.Key)
		require.Contains(t, string(doc["contents"]), `"`+sec.Key+`"`, "contents does not describe %s", sec.Key)
		if sec.One {
			var row map[string]any
			require.NoError(t, json.Unmarshal(raw, &row), sec.Key)
			mine(sec.Key, row, sec.Columns)
			continue
		}
		var rows []map[string]any
		require.NoError(t, json.Unmarshal(raw, &rows), sec.Key)
		if full {
			require.NotEmpty(t, rows, "section %s holds none of the person's rows", sec.Key)
		}
		for _, row := range rows {
			mine(sec.Key, row, sec.Columns)
		}
	}
}

func TestDataExportHoldsEveryRowOfThePersonAndNoOneElses(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	alpha := env.CityOnPlan(t, "alpha", tenant.PlanPremium)
	beta := env.CityOnPlan(t, "beta", tenant.PlanPremium)
	me, peer, boss := archivePeople(t, env, alpha, "alpha")
	meB, peerB, bossB := archivePeople(t, env, beta, "beta")
	require.Equal(t, me.ID, meB.ID, "the person of beta has the id of alpha's: a read outside alpha would find beta's rows")

	flags := feature.Keys()
	fillArchive(t, env, beta, meB, peerB, bossB, "beta-me", flags[0], color.White)
	fillArchive(t, env, alpha, peer, me, boss, "alpha-peer", flags[1], color.Black)
	secret := fillArchive(t, env, alpha, me, peer, boss, "alpha-me", flags[2], color.RGBA{R: 200, A: 255})

	path, raw, doc := buildArchive(t, env, alpha, me)
	require.True(t, strings.HasPrefix(path, tenant.StoragePath(env.StorageDir, alpha.ID)+string(filepath.Separator)), path)
	requireOwnRows(t, doc, me, true)
	_, _, peerDoc := buildArchive(t, env, alpha, peer)
	requireOwnRows(t, peerDoc, peer, false)

	archive := string(raw)
	for _, want := range []string{"alpha-me bio", "alpha-me token", "alpha-me idea", "alpha-me comment", "alpha-me report",
		"alpha-me note", "alpha-me feedback", "alpha-me campaign", "alpha-me group", "alpha-me-event", me.Email} {
		require.Contains(t, archive, want)
	}
	// Rows about an idea read with its title, not only its id.
	for _, key := range []string{"reactions", "reports", "idea_status_changes", "idea_feedback"} {
		require.Contains(t, string(doc[key]), "target of alpha-me", "section %s does not name the idea", key)
	}
	require.Contains(t, string(doc["notifications"]), "alpha-me idea", "a notification does not name its idea")
	require.NotContains(t, archive, "beta-", "alpha's archive holds data of beta")
	require.NotContains(t, archive, secret, "the archive holds an API token")
	for _, secretColumn := range []string{"password_hash", "token_hash", "code_hash", "short_hash", "csrf_token", "file_name"} {
		require.NotContains(t, archive, `"`+secretColumn+`"`)
	}

	// The person's pictures, as the city stores them; none of the peer's.
	ctx := tenanttest.Ctx(alpha)
	var files []archiveFile
	require.NoError(t, json.Unmarshal(doc["files"], &files))
	var peerFiles []archiveFile
	require.NoError(t, json.Unmarshal(peerDoc["files"], &peerFiles))
	require.Len(t, peerFiles, 2)
	kinds := map[string]int{}
	for _, f := range files {
		kinds[f.Kind]++
		require.False(t, f.Missing, f.Name)
		require.Equal(t, "image/png", f.ContentType)
		dir := map[string]string{"avatar": "avatars", "idea_image": "ideas"}[f.Kind]
		stored, err := os.ReadFile(media.Path(ctx, env.StorageDir, dir, f.Name))
		require.NoError(t, err, f.Name)
		got, err := base64.StdEncoding.DecodeString(f.Base64)
		require.NoError(t, err)
		require.Equal(t, stored, got, "file %s", f.Name)
		for _, pf := range peerFiles {
			require.NotEqual(t, f.Name, pf.Name, "the peer's archive holds the person's file")
		}
	}
	require.Equal(t, map[string]int{"avatar": 1, "idea_image": 1}, kinds)

	// A picture gone from the disk is named as missing; the archive is still built.
	for _, f := range files {
		if f.Kind == "idea_image" {
			require.NoError(t, os.Remove(media.Path(ctx, env.StorageDir, "ideas", f.Name)))
		}
	}
	_, _, doc = buildArchive(t, env, alpha, me)
	files = nil
	require.NoError(t, json.Unmarshal(doc["files"], &files))
	require.Len(t, files, 2)
	for _, f := range files {
		require.Equal(t, f.Kind == "idea_image", f.Missing, f.Name)
		require.Equal(t, f.Missing, f.Base64 == "", f.Name)
	}
}
