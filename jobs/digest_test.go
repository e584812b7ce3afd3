package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"

	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/email/devsmtp"
	"agora/domain/feature"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

const digestSecret = "a-test-secret-of-at-least-32-characters!"

// digestCity is a city seeded for digests: a published project that its
// followers follow, with ideas, reactions and a comment in the last days and
// a phase that started yesterday; a confirmed citizen who follows nothing
// (an empty digest); an admin and a moderator of the project.
type digestCity struct {
	city       *tenant.Tenant
	project    int64
	followers  []string
	loner      string
	admin      string
	moderator  string
	ideaTitles []string
}

// seedDigestCity seeds c with n followers, their addresses naming the city.
func seedDigestCity(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, n int) digestCity {
	t.Helper()
	ctx := context.Background()
	d := digestCity{city: c, loner: c.Slug + ".loner@example.net", admin: c.Slug + ".admin@example.net", moderator: c.Slug + ".mod@example.net"}
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		if err := tx.GetContext(ctx, &d.project, `INSERT INTO projects (slug, title, status, visibility, published_at)
			VALUES ('park', jsonb_build_object('en', 'Park of ' || $1::text), 'published', 'public', now()) RETURNING id`, c.Slug); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO phases (project_id, title, method, starts_at)
			VALUES ($1, jsonb_build_object('en', 'Vote in ' || $2::text), 'ideation', now() - interval '1 day')`, d.project, c.Slug); err != nil {
			return err
		}
		var fans []int64
		if err := tx.SelectContext(ctx, &fans, `INSERT INTO users (email, first_name, last_name, locale, role, email_confirmed_at)
			SELECT $1 || '.fan' || g || '@example.net', 'Fan' || g, 'Peeters', 'en', 'citizen', now() FROM generate_series(1, $2) g
			RETURNING id`, c.Slug, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO follows (user_id, item_type, item_id) SELECT unnest($1::bigint[]), 'project', $2`,
			pq.Int64Array(fans), d.project); err != nil {
			return err
		}
		var staff []int64
		if err := tx.SelectContext(ctx, &staff, `INSERT INTO users (email, first_name, last_name, locale, role, email_confirmed_at)
			VALUES ($1, 'Lone', 'Wolf', 'en', 'citizen', now()), ($2, 'Ada', 'Admin', 'en', 'admin', now()), ($3, 'Mo', 'Derator', 'en', 'moderator', now())
			RETURNING id`, d.loner, d.admin, d.moderator); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO project_moderators (project_id, user_id) VALUES ($1, $2)`, d.project, staff[2]); err != nil {
			return err
		}
		var ideas []int64
		if err := tx.SelectContext(ctx, &ideas, `INSERT INTO ideas (project_id, author_id, title, status_id, created_at)
			SELECT $1, $2, 'Trees for ' || $3::text || ' #' || g, (SELECT id FROM idea_statuses WHERE code = 'proposed'), now() - interval '2 days'
			  FROM generate_series(1, 3) g RETURNING id`, d.project, fans[0], c.Slug); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO reactions (user_id, item_type, item_id, mode) SELECT unnest($1::bigint[]), 'idea', $2, 'like'`,
			pq.Int64Array(fans), ideas[0]); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE ideas SET likes_count = $2 WHERE id = $1`, ideas[0], len(fans)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO comments (idea_id, author_id, body) VALUES ($1, $2, '<p>Yes!</p>')`, ideas[1], fans[0])
		return err
	}))
	for i := 1; i <= n; i++ {
		d.followers = append(d.followers, fmt.Sprintf("%s.fan%d@example.net", c.Slug, i))
	}
	for i := 1; i <= 3; i++ {
		d.ideaTitles = append(d.ideaTitles, fmt.Sprintf("Trees for %s #%d", c.Slug, i))
	}
	return d
}

// lastWeek is a digest period that covers the seeded activity.
func lastWeek(key string) digest.Period {
	now := time.Now()
	return digest.Period{Key: key, From: now.AddDate(0, 0, -7), To: now.Add(time.Hour)}
}

// digestHandler is the digest handler behind the tenant middleware, as the
// worker runs it, sending with sender.
func digestHandler(t *testing.T, env *tenanttest.Env, sender email.Sender, tweak func(*jobs.Digests)) asynq.Handler {
	t.Helper()
	log, _ := testLogger(t)
	d, err := jobs.NewDigests(jobs.WorkerDeps{DB: env.DB, Registry: env.Registry, Sender: sender, PortalURL: httpsPortal,
		SecretKey: digestSecret, Log: log})
	require.NoError(t, err)
	if tweak != nil {
		tweak(d)
	}
	return jobs.TenantMiddleware(env.Registry, log)(asynq.HandlerFunc(d.Send))
}

func digestTask(t *testing.T, c *tenant.Tenant, k digest.Kind, p digest.Period) *asynq.Task {
	t.Helper()
	task, err := jobs.NewDigestTask(c.ID, k, p)
	require.NoError(t, err)
	return task
}

// perRecipient counts the received messages whose subject has subject, by
// recipient.
func perRecipient(srv *devsmtp.Server, subject string) map[string]int {
	out := map[string]int{}
	for _, m := range srv.Messages() {
		if strings.Contains(m.Subject, subject) {
			for _, r := range m.To {
				out[r]++
			}
		}
	}
	return out
}

// requireOnceEach fails unless each of addrs received exactly one message
// with subject, and nobody else did.
func requireOnceEach(t *testing.T, srv *devsmtp.Server, subject string, addrs []string) {
	t.Helper()
	got := perRecipient(srv, subject)
	want := map[string]int{}
	for _, a := range addrs {
		want[a] = 1
	}
	require.Equal(t, want, got, "digests received per recipient")
}

var httpsLink = regexp.MustCompile(`https?://[^\s"<>)]+`)

// TestDigestReadsItsOwnCity runs the digests of city A behind the tenant
// middleware while city B, whose users share A's user ids, has its own
// ideas: every email comes from A, shows A's ideas only, links to A's host
// only and carries a one-click unsubscribe for A; B's people get nothing; a
// citizen who follows nothing gets nothing (empty digest). A digest task
// that names no city is refused before it runs.
func TestDigestReadsItsOwnCity(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	a := env.City(t, "dig_a", "a.digest.example.org")
	b := env.City(t, "dig_b", "b.digest.example.org")
	setCityName(t, env, a, "Antwerpen Participeert")
	setCityName(t, env, b, "Brugge Beslist")
	da := seedDigestCity(t, env, a, 4)
	db := seedDigestCity(t, env, b, 4)
	mailSrv, smtp := startMail(t)
	h := digestHandler(t, env, smtp, nil)
	ctx := context.Background()

	p := lastWeek("2026-W48")
	require.NoError(t, h.ProcessTask(ctx, digestTask(t, a, digest.User, p)))
	require.NoError(t, h.ProcessTask(ctx, digestTask(t, a, digest.Admin, p)))
	require.NoError(t, h.ProcessTask(ctx, digestTask(t, a, digest.Moderator, p)))

	requireOnceEach(t, mailSrv, "Your week", da.followers)
	requireOnceEach(t, mailSrv, "the week on your participation platform", []string{da.admin})
	requireOnceEach(t, mailSrv, "the project you moderate", []string{da.moderator})
	require.Empty(t, mailSrv.To(da.loner), "a citizen who follows nothing has an empty digest: not sent")
	for _, addr := range append([]string{db.loner, db.admin, db.moderator}, db.followers...) {
		require.Empty(t, mailSrv.To(addr), "%s of city B got city A's digest", addr)
	}

	for _, m := range mailSrv.Messages() {
		from, err := mail.ParseAddress(m.Header.Get("From"))
		require.NoError(t, err)
		require.Equal(t, "Antwerpen Participeert", from.Name)
		require.Equal(t, "noreply@a.digest.example.org", from.Address)
		require.Contains(t, m.Subject, "Antwerpen Participeert")
		body := m.Text + m.HTML
		require.NotContains(t, body, "Brugge", "city B's name leaked")
		require.NotContains(t, body, "dig_b", "city B's content leaked")
		for _, link := range httpsLink.FindAllString(m.Text, -1) {
			u, err := url.Parse(link)
			require.NoError(t, err)
			require.Equal(t, "a.digest.example.org", u.Host, "link %s in %s's digest", link, m.To[0])
		}

		// RFC 8058: the one-click unsubscribe, also in both footers.
		lu := m.Header.Get("List-Unsubscribe")
		require.Regexp(t, `^<https://a\.digest\.example\.org/unsubscribe\?token=[^>]+>$`, lu)
		require.Equal(t, "List-Unsubscribe=One-Click", m.Header.Get("List-Unsubscribe-Post"))
		link := strings.Trim(lu, "<>")
		require.Contains(t, m.Text, link, "the plain-text footer carries the unsubscribe link")
		require.Contains(t, m.HTML, strings.ReplaceAll(link, "&", "&amp;"), "the HTML footer carries the unsubscribe link")
		u, _ := url.Parse(link)
		tok, err := email.ParseUnsubscribe(digestSecret, u.Query().Get("token"))
		require.NoError(t, err)
		require.Equal(t, a.ID, tok.TenantID, "the token names the city")
	}

	fan := mailSrv.To(da.followers[0])[0]
	require.Contains(t, fan.Text, "Trees for dig_a #1", "the most liked idea")
	require.Contains(t, fan.Text, "Vote in dig_a", "the phase that started")
	require.Contains(t, fan.Text, "https://a.digest.example.org/ideas/")
	admin := mailSrv.To(da.admin)[0]
	require.Regexp(t, `New ideas: 3\b`, admin.Text)
	require.Regexp(t, `New comments: 1\b`, admin.Text)
	mod := mailSrv.To(da.moderator)[0]
	require.Contains(t, mod.Text, "Park of dig_a")

	// Without a city the task is refused for good, and nothing is sent.
	before := len(mailSrv.Messages())
	err := h.ProcessTask(ctx, asynq.NewTask(jobs.TypeDigestUser, []byte(`{"period":"2026-W49","from":"2026-11-23T00:00:00Z","to":"2026-11-30T00:00:00Z"}`)))
	require.ErrorIs(t, err, jobs.ErrNoTenant)
	require.ErrorIs(t, err, asynq.SkipRetry)
	require.Len(t, mailSrv.Messages(), before)
}

// TestDigestIsExactlyOnce runs one city's digest the ways asynq may run a
// task: twice, concurrently, and cut short mid-batch by a shutdown then
// resumed. Counted at the SMTP server, every follower gets exactly one
// digest per period; unsubscribed users get none.
func TestDigestIsExactlyOnce(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "dig_once")
	d := seedDigestCity(t, env, c, 23)
	small := func(dg *jobs.Digests) { dg.PageSize, dg.Parallel = 4, 3 }
	ctx := context.Background()

	// Two followers leave the digest (one from the profile, one by its
	// link); one leaves another campaign only.
	var ids []int64
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &ids, `SELECT id FROM users WHERE email = ANY($1) ORDER BY email`,
			pq.StringArray([]string{d.followers[0], d.followers[1], d.followers[2]}))
	}))
	consents := email.NewConsentService(env.DB)
	_, err := consents.Set(tenanttest.Ctx(c), ids[0], email.Consents{email.UserDigest: false})
	require.NoError(t, err)
	tok, err := email.ParseUnsubscribe(digestSecret, email.Unsubscribe{TenantID: c.ID, UserID: ids[1], Campaign: email.UserDigest}.Token(digestSecret))
	require.NoError(t, err)
	require.NoError(t, consents.Unsubscribe(tenanttest.Ctx(c), tok))
	_, err = consents.Set(tenanttest.Ctx(c), ids[2], email.Consents{email.Notifications: false, email.Manual: false})
	require.NoError(t, err)
	var gone []string
	var want []string
	for _, f := range d.followers {
		var uid int64
		require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			return tx.GetContext(ctx, &uid, `SELECT id FROM users WHERE email = $1`, f)
		}))
		if uid == ids[0] || uid == ids[1] {
			gone = append(gone, f)
			continue
		}
		want = append(want, f)
	}
	require.Len(t, want, 21)

	t.Run("run twice", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		h := digestHandler(t, env, smtp, small)
		task := digestTask(t, c, digest.User, lastWeek("2026-W40"))
		require.NoError(t, h.ProcessTask(ctx, task))
		require.NoError(t, h.ProcessTask(ctx, task), "a re-run of a sent digest is done, not an error")
		requireOnceEach(t, mailSrv, "Your week", want)
		for _, g := range gone {
			require.Empty(t, mailSrv.To(g), "%s unsubscribed", g)
		}
	})

	t.Run("run concurrently", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		h := digestHandler(t, env, smtp, small)
		task := digestTask(t, c, digest.User, lastWeek("2026-W41"))
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = h.ProcessTask(ctx, task)
			}()
		}
		wg.Wait()
		requireDoneOrInFlight(t, errs)
		require.NoError(t, h.ProcessTask(ctx, task), "the retry of a run that found emails in flight")
		requireOnceEach(t, mailSrv, "Your week", want)
	})

	// A worker killed mid-send leaves claims that no run recorded: one run
	// died more than a lease ago, another may still be sending. The re-run
	// sends everything else and the first, and ends with ErrInFlight (so
	// asynq retries it) rather than success; once the second claim's lease
	// is over its retry sends that one too.
	t.Run("claims left by a killed worker are sent after their lease", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		h := digestHandler(t, env, smtp, small)
		p := lastWeek("2026-W45")
		task := digestTask(t, c, digest.User, p)
		event := digest.Event(digest.User, p.Key, 0)
		dead, live := want[3], want[10]
		holdClaim(t, env, c, digest.User.Campaign(), dead, event, email.Lease+time.Minute)
		holdClaim(t, env, c, digest.User.Campaign(), live, event, 0)

		requireInFlight(t, h.ProcessTask(ctx, task), "a claim held by a live run is not a digest sent")
		var others []string
		for _, w := range want {
			if w != live {
				others = append(others, w)
			}
		}
		requireOnceEach(t, mailSrv, "Your week", others)
		requireInFlight(t, h.ProcessTask(ctx, task), "still held")
		require.Empty(t, mailSrv.To(live))

		ageClaims(t, env, c)
		require.NoError(t, h.ProcessTask(ctx, task))
		require.NoError(t, h.ProcessTask(ctx, task), "a re-run of a sent digest is done")
		requireOnceEach(t, mailSrv, "Your week", want)
	})

	t.Run("cancelled mid-batch then resumed", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		task := digestTask(t, c, digest.User, lastWeek("2026-W42"))
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		var sends atomic.Int32
		// A shutdown arrives while the 7th email is being sent (3 in flight).
		cut := digestHandler(t, env, senderFunc(func(sctx context.Context, m email.Message) error {
			if sends.Add(1) == 7 {
				cancel()
			}
			return smtp.Send(sctx, m)
		}), small)
		err := cut.ProcessTask(runCtx, task)
		require.ErrorIs(t, err, context.Canceled)
		first := len(mailSrv.Messages())
		require.Greater(t, first, 0)
		require.Less(t, first, len(want), "the run stopped mid-batch")
		require.Equal(t, int(sends.Load()), first, "every send begun was finished")

		// asynq runs the task again after the restart.
		h := digestHandler(t, env, smtp, small)
		require.NoError(t, h.ProcessTask(ctx, task))
		require.NoError(t, h.ProcessTask(ctx, task))
		requireOnceEach(t, mailSrv, "Your week", want)
		var states []string
		require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			return tx.SelectContext(ctx, &states, `SELECT state FROM email_deliveries WHERE event = 'digest:user:2026-W42'`)
		}))
		require.Len(t, states, len(want))
		for _, s := range states {
			require.Equal(t, "sent", s)
		}
	})

	t.Run("a failed send is retried, the others are not repeated", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		task := digestTask(t, c, digest.User, lastWeek("2026-W43"))
		var sends atomic.Int32
		down := errors.New("421 try again later")
		flaky := digestHandler(t, env, senderFunc(func(sctx context.Context, m email.Message) error {
			if sends.Add(1) == 5 {
				return down
			}
			return smtp.Send(sctx, m)
		}), small)
		err := flaky.ProcessTask(ctx, task)
		require.ErrorIs(t, err, down)
		require.NotErrorIs(t, err, asynq.SkipRetry)
		require.NoError(t, digestHandler(t, env, smtp, small).ProcessTask(ctx, task))
		requireOnceEach(t, mailSrv, "Your week", want)
	})
}

// TestDigestSkipsWhatIsOff: a plan without the staff digests, admins who
// turned the user digest off, a suspended city and a week without activity
// send nothing.
func TestDigestSkipsWhatIsOff(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	created, err := env.Provisioner.Create(ctx, tenant.Spec{Slug: "dig_ess", Name: "Essential", Plan: tenant.PlanEssential,
		Lifecycle: tenant.Active, Locales: []string{"en"}, TimeZone: "Europe/Brussels"})
	require.NoError(t, err)
	ess := created.Tenant
	de := seedDigestCity(t, env, ess, 2)
	off := env.City(t, "dig_off")
	seedDigestCity(t, env, off, 2)
	require.NoError(t, feature.NewService(env.DB).Set(tenanttest.Ctx(off), 0, feature.UserDigest, false))
	susp := env.City(t, "dig_susp")
	seedDigestCity(t, env, susp, 2)
	_, err = env.Ops.Suspend(ctx, susp.Slug)
	require.NoError(t, err)
	quiet := env.City(t, "dig_quiet")
	seedDigestCity(t, env, quiet, 2)

	mailSrv, smtp := startMail(t)
	h := digestHandler(t, env, smtp, nil)
	p := lastWeek("2026-W44")
	for _, k := range []digest.Kind{digest.Admin, digest.Moderator} {
		require.NoError(t, h.ProcessTask(ctx, digestTask(t, ess, k, p)), "%s digest on essential", k)
	}
	require.NoError(t, h.ProcessTask(ctx, digestTask(t, off, digest.User, p)))
	require.NoError(t, h.ProcessTask(ctx, digestTask(t, susp, digest.User, p)))
	// A week long ago: nothing happened then.
	old := digest.Period{Key: "2020-W01", From: time.Date(2019, 12, 30, 7, 0, 0, 0, time.UTC), To: time.Date(2020, 1, 6, 7, 0, 0, 0, time.UTC)}
	for _, k := range digest.Kinds() {
		require.NoError(t, h.ProcessTask(ctx, digestTask(t, quiet, k, old)))
	}
	require.Empty(t, mailSrv.Messages())

	// The user digest is on every plan.
	require.NoError(t, h.ProcessTask(ctx, digestTask(t, ess, digest.User, p)))
	requireOnceEach(t, mailSrv, "Your week", de.followers)
}

// TestDigestTick drives the hourly tick with a clock: it enqueues, once per
// period whatever the number of ticks, the digests of the cities that are
// due by their own schedule and time zone, only those their plan includes,
// and none for a suspended city.
func TestDigestTick(t *testing.T) {
	exclusiveRedis(t)
	env := tenanttest.New(t)
	ctx := context.Background()
	mk := func(slug string, plan tenant.Plan, tz string, sch digest.Schedule) *tenant.Tenant {
		created, err := env.Provisioner.Create(ctx, tenant.Spec{Slug: slug, Name: slug, Plan: plan, Lifecycle: tenant.Active,
			Locales: []string{"en"}, TimeZone: tz})
		require.NoError(t, err)
		_, err = digest.NewService(env.DB).SetSchedule(tenanttest.Ctx(created.Tenant), 0, sch)
		require.NoError(t, err)
		return created.Tenant
	}
	monday8 := digest.Schedule{Weekday: 1, Hour: 8}
	due := mk("tick_due", tenant.PlanStandard, "Europe/Brussels", monday8)
	ess := mk("tick_ess", tenant.PlanEssential, "Europe/Brussels", monday8)
	mk("tick_later", tenant.PlanStandard, "Europe/Brussels", digest.Schedule{Weekday: 1, Hour: 10})
	mk("tick_ny", tenant.PlanStandard, "America/New_York", monday8)
	susp := mk("tick_susp", tenant.PlanStandard, "Europe/Brussels", monday8)
	_, err := env.Ops.Suspend(ctx, susp.Slug)
	require.NoError(t, err)

	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })
	log, _ := testLogger(t)
	d, err := jobs.NewDigests(jobs.WorkerDeps{DB: env.DB, Registry: env.Registry, Client: client, Log: log, SecretKey: digestSecret})
	require.NoError(t, err)
	brussels, err := time.LoadLocation("Europe/Brussels")
	require.NoError(t, err)
	// Monday 30 November 2026, 8:02 then 9:02 in Brussels: two ticks of
	// the due window (and a second scheduler's tick).
	for _, at := range []time.Time{
		time.Date(2026, 11, 30, 8, 2, 0, 0, brussels), time.Date(2026, 11, 30, 8, 2, 0, 0, brussels), time.Date(2026, 11, 30, 9, 2, 0, 0, brussels),
	} {
		d.Now = func() time.Time { return at }
		require.NoError(t, d.Tick(ctx, jobs.NewDigestTickTask()))
	}
	insp := asynq.NewInspector(redisOpt())
	t.Cleanup(func() { insp.Close() })
	pending, err := insp.ListPendingTasks("low")
	require.NoError(t, err)
	var ids []string
	for _, ti := range pending {
		ids = append(ids, ti.ID)
	}
	sort.Strings(ids)
	require.ElementsMatch(t, []string{
		fmt.Sprintf("digest:user:%d:2026-W49", due.ID),
		fmt.Sprintf("digest:admin:%d:2026-W49", due.ID),
		fmt.Sprintf("digest:moderator:%d:2026-W49", due.ID),
		fmt.Sprintf("digest:user:%d:2026-W49", ess.ID),
	}, ids, "tasks enqueued: %s", strings.Join(ids, ", "))
	for _, ti := range pending {
		if ti.ID == fmt.Sprintf("digest:user:%d:2026-W49", due.ID) {
			var p jobs.DigestPayload
			require.NoError(t, json.Unmarshal(ti.Payload, &p))
			require.Equal(t, due.ID, p.TenantID)
			require.True(t, p.To.Equal(time.Date(2026, 11, 30, 8, 0, 0, 0, brussels)), "to %s", p.To)
			require.True(t, p.From.Equal(time.Date(2026, 11, 23, 8, 0, 0, 0, brussels)), "from %s", p.From)
		}
	}
}
