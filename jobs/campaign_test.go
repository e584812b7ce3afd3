package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/domain/campaign"
	"agora/domain/email"
	"agora/domain/group"
	"agora/domain/locale"
	"agora/domain/user"
	"agora/fixture"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// campaignCity is a premium city with a manual group of people.
type campaignCity struct {
	city    *tenant.Tenant
	admin   int64
	adminTo string
	group   int64
	members map[string]int64 // address -> user id
}

// seedCampaignCity makes c's admin and a group of members, one per
// locale given (en, fr, nl, de, ...), each addressed <slug>.<i>.<locale>@...,
// and an outsider who is in no group.
func seedCampaignCity(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, locales ...string) campaignCity {
	t.Helper()
	ctx := tenanttest.Ctx(c)
	mk := func(addr, loc string, role user.Role) int64 {
		return int64(fixture.User(t, env, c, fixture.UserOpts{Email: addr, FirstName: "Mem", LastName: "Ber", Locale: loc, Role: role}).ID)
	}
	cc := campaignCity{city: c, adminTo: c.Slug + ".admin@example.net", members: map[string]int64{}}
	cc.admin = mk(cc.adminTo, "en", user.RoleAdmin)
	g, err := group.NewService(env.DB).Create(ctx, locale.Text{"en": "Panel"}, group.Manual, nil)
	require.NoError(t, err)
	cc.group = g.ID
	for i, loc := range locales {
		addr := fmt.Sprintf("%s.%d.%s@example.net", c.Slug, i, loc)
		id := mk(addr, loc, user.RoleCitizen)
		require.NoError(t, group.NewService(env.DB).AddMember(ctx, g.ID, id))
		cc.members[addr] = id
	}
	mk(c.Slug+".outsider@example.net", "en", user.RoleCitizen)
	return cc
}

// newCampaign writes a campaign to the city's group in French and Dutch
// and presses Send; it returns the campaign and its queued task.
func (cc campaignCity) newCampaign(t *testing.T, env *tenanttest.Env, tag string) (*campaign.Campaign, *asynq.Task) {
	t.Helper()
	ctx := tenanttest.Ctx(cc.city)
	svc := campaign.NewService(env.DB)
	c, err := svc.Create(ctx, cc.admin, campaign.Message{
		Subject:  locale.Text{"fr": "Le parc " + tag, "nl": "Het park " + tag},
		Body:     locale.Text{"fr": `<p>Venez au <a href="https://parc.example/">parc</a>.</p>`, "nl": "<p>Kom naar het park.</p>"},
		GroupIDs: []int64{cc.group}})
	require.NoError(t, err)
	_, err = svc.Send(ctx, cc.admin, c.ID)
	require.NoError(t, err)
	return c, outboxCampaignTask(t, env, cc.city, fmt.Sprintf("campaign:%d", c.ID), campaign.TaskSend)
}

// outboxCampaignTask is the task recorded in the outbox under id, as the
// relay would enqueue it.
func outboxCampaignTask(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, id, typ string) *asynq.Task {
	t.Helper()
	var payload string
	require.NoError(t, env.DB.Platform().GetContext(context.Background(), &payload,
		`SELECT payload::text FROM platform.outbox WHERE task_id = $1 AND task_type = $2`, fmt.Sprintf("t%d:%s", c.ID, id), typ))
	return asynq.NewTask(typ, []byte(payload))
}

// fakeClock paces without waiting: Sleep moves the clock and adds up.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	slept time.Duration
}

func (f *fakeClock) Now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeClock) Sleep(_ context.Context, d time.Duration) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.now, f.slept = f.now.Add(d), f.slept+d
	return nil
}

// campaignHandlers are the campaign handlers behind the tenant middleware,
// as the worker runs them, sending with sender on a fake clock.
func campaignHandlers(t *testing.T, env *tenanttest.Env, sender email.Sender, tweak func(*jobs.Campaigns)) (send, test asynq.Handler, clock *fakeClock) {
	t.Helper()
	log, _ := testLogger(t)
	h, err := jobs.NewCampaigns(jobs.WorkerDeps{DB: env.DB, Registry: env.Registry, Sender: sender, PortalURL: httpsPortal,
		SecretKey: digestSecret, Log: log})
	require.NoError(t, err)
	clock = &fakeClock{now: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	h.Now, h.Sleep = clock.Now, clock.Sleep
	if tweak != nil {
		tweak(h)
	}
	mw := jobs.TenantMiddleware(env.Registry, log)
	return mw(asynq.HandlerFunc(h.Send)), mw(asynq.HandlerFunc(h.Test)), clock
}

func campaignStats(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, id int64) *campaign.Campaign {
	t.Helper()
	got, err := campaign.NewService(env.DB).Get(tenanttest.Ctx(c), id)
	require.NoError(t, err)
	return got
}

// TestCampaignReachesItsGroup: a premium city's campaign to one group
// reaches exactly its members who did not leave the "manual" campaign
// type, once each, in their language (else the first of the city's that
// the campaign is written in), from the city, with the one-click
// unsubscribe headers and footer; paced at the city's rate. Another city
// with the same user ids gets nothing.
func TestCampaignReachesItsGroup(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "camp_reach", tenant.PlanPremium, "reach.campaign.example.org")
	other := env.CityOnPlan(t, "camp_other", tenant.PlanPremium)
	setCityName(t, env, c, "Roeselare Doet Mee")
	cc := seedCampaignCity(t, env, c, "fr", "nl", "en", "nl", "fr")
	seedCampaignCity(t, env, other, "fr", "nl", "en", "nl", "fr")
	ctx := tenanttest.Ctx(c)
	left := c.Slug + ".3.nl@example.net"
	otherLeft := c.Slug + ".4.fr@example.net" // left another campaign type only
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		if err := email.SetConsents(ctx, tx, cc.members[left], email.Consents{email.Manual: false}); err != nil {
			return err
		}
		return email.SetConsents(ctx, tx, cc.members[otherLeft], email.Consents{email.UserDigest: false})
	}))
	mailSrv, smtp := startMail(t)
	send, _, clock := campaignHandlers(t, env, smtp, nil)

	camp, task := cc.newCampaign(t, env, "#1")
	require.NoError(t, send.ProcessTask(context.Background(), task))

	want := map[string]string{ // address -> the subject they get
		c.Slug + ".0.fr@example.net": "Le parc #1",
		c.Slug + ".1.nl@example.net": "Het park #1",
		c.Slug + ".2.en@example.net": "Le parc #1", // not written in English: the city's next language
		otherLeft:                    "Le parc #1",
	}
	got := map[string]string{}
	for _, m := range mailSrv.Messages() {
		require.Len(t, m.To, 1)
		_, dup := got[m.To[0]]
		require.False(t, dup, "%s got the campaign twice", m.To[0])
		got[m.To[0]] = m.Subject

		from, err := mail.ParseAddress(m.Header.Get("From"))
		require.NoError(t, err)
		require.Equal(t, "Roeselare Doet Mee", from.Name)
		require.Equal(t, "noreply@reach.campaign.example.org", from.Address)
		lu := m.Header.Get("List-Unsubscribe")
		require.Regexp(t, `^<https://reach\.campaign\.example\.org/unsubscribe\?token=[^>]+>$`, lu)
		require.Equal(t, "List-Unsubscribe=One-Click", m.Header.Get("List-Unsubscribe-Post"))
		link := strings.Trim(lu, "<>")
		require.Contains(t, m.Text, link, "the plain-text footer carries the unsubscribe link")
		require.Contains(t, m.HTML, strings.ReplaceAll(link, "&", "&amp;"))
		u, _ := url.Parse(link)
		tok, err := email.ParseUnsubscribe(digestSecret, u.Query().Get("token"))
		require.NoError(t, err)
		require.Equal(t, email.Unsubscribe{TenantID: c.ID, UserID: cc.members[m.To[0]], Campaign: email.Manual}, tok)
		if strings.HasPrefix(m.Subject, "Le parc") {
			require.Contains(t, m.HTML, `<a href="https://parc.example/">parc</a>`, "the staff's rich text")
			require.Contains(t, m.Text, "Venez au parc (https://parc.example/).", "and its plain text")
		} else {
			require.Contains(t, m.Text, "Kom naar het park.")
		}
	}
	require.Equal(t, want, got, "members who did not leave manual campaigns, once each, in their language")

	after := campaignStats(t, env, c, camp.ID)
	require.Equal(t, campaign.Sent, after.Status)
	require.Equal(t, campaign.Stats{Recipients: 5, Sent: 4, Skipped: 1}, after.Stats)
	require.Equal(t, 3*100*time.Millisecond, clock.slept, "4 emails at the default 10 a second: the first at once")

	// A faster city rate from the next run on.
	_, err := campaign.NewService(env.DB).SetSettings(ctx, cc.admin, campaign.Settings{PerSecond: 50})
	require.NoError(t, err)
	send2, _, clock2 := campaignHandlers(t, env, smtp, nil)
	_, task2 := cc.newCampaign(t, env, "#2")
	require.NoError(t, send2.ProcessTask(context.Background(), task2))
	require.Equal(t, 3*20*time.Millisecond, clock2.slept)
	require.Len(t, perRecipient(mailSrv, "#2"), 4)
}

// TestCampaignIsExactlyOnce runs one city's campaign the ways asynq may run
// a task: twice, concurrently, cut short mid-batch by a shutdown and then
// resumed, and with a failed send that its retry sends. Counted at the SMTP
// server, every member gets it exactly once; the statistics agree.
func TestCampaignIsExactlyOnce(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "camp_once", tenant.PlanPremium)
	locales := make([]string, 23)
	for i := range locales {
		locales[i] = []string{"fr", "nl"}[i%2]
	}
	cc := seedCampaignCity(t, env, c, locales...)
	var want []string
	for addr := range cc.members {
		want = append(want, addr)
	}
	small := func(h *jobs.Campaigns) { h.PageSize, h.Parallel = 4, 3 }
	ctx := context.Background()

	t.Run("run twice", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		send, _, _ := campaignHandlers(t, env, smtp, small)
		camp, task := cc.newCampaign(t, env, "twice")
		require.NoError(t, send.ProcessTask(ctx, task))
		require.NoError(t, send.ProcessTask(ctx, task), "a re-run of a sent campaign is done, not an error")
		requireOnceEach(t, mailSrv, "twice", want)
		require.Equal(t, campaign.Stats{Recipients: 23, Sent: 23}, campaignStats(t, env, c, camp.ID).Stats)
	})

	t.Run("run concurrently", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		send, _, _ := campaignHandlers(t, env, smtp, small)
		_, task := cc.newCampaign(t, env, "together")
		var wg sync.WaitGroup
		errs := make([]error, 4)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = send.ProcessTask(ctx, task)
			}()
		}
		wg.Wait()
		requireDoneOrInFlight(t, errs)
		require.NoError(t, send.ProcessTask(ctx, task), "the retry of a run that found emails in flight")
		requireOnceEach(t, mailSrv, "together", want)
	})

	// The statistics count what the SMTP server accepted: an email claimed
	// by a run that died (older than the lease) is sent by the next run,
	// with the Message-ID of its ledger row; one claimed by a run that may
	// still be sending it stays pending and makes the task retry.
	t.Run("claims are not counted as sent", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		send, _, _ := campaignHandlers(t, env, smtp, small)
		camp, task := cc.newCampaign(t, env, "claims")
		dead, live := c.Slug+".2.fr@example.net", c.Slug+".5.nl@example.net"
		deadRow := holdClaim(t, env, c, string(email.Manual), dead, campaign.Event(camp.ID), email.Lease+time.Minute)
		holdClaim(t, env, c, string(email.Manual), live, campaign.Event(camp.ID), 0)

		requireInFlight(t, send.ProcessTask(ctx, task))
		require.Empty(t, mailSrv.To(live))
		got := mailSrv.To(dead)
		require.Len(t, got, 1, "the claim of a run that died is taken over and sent")
		require.Equal(t, fmt.Sprintf("<manual.%d.%d@%s>", deadRow, c.ID, c.PrimaryHost), got[0].Header.Get("Message-Id"),
			"the email keeps its ledger row's Message-ID")
		mid := campaignStats(t, env, c, camp.ID)
		require.Equal(t, campaign.Stats{Recipients: 23, Sent: 22, Pending: 1}, mid.Stats, "a claim is not an email sent")
		require.Equal(t, campaign.Sending, mid.Status)
		requireInFlight(t, send.ProcessTask(ctx, task), "still held")
		require.Equal(t, mid.Stats, campaignStats(t, env, c, camp.ID).Stats)

		ageClaims(t, env, c)
		require.NoError(t, send.ProcessTask(ctx, task))
		requireOnceEach(t, mailSrv, "claims", want)
		done := campaignStats(t, env, c, camp.ID)
		require.Equal(t, campaign.Sent, done.Status)
		require.Equal(t, campaign.Stats{Recipients: 23, Sent: 23}, done.Stats)
	})

	t.Run("cancelled mid-batch then resumed", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		camp, task := cc.newCampaign(t, env, "resumed")
		runCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		var sends atomic.Int32
		// A shutdown arrives while the 7th email is being sent (3 in flight).
		cut, _, _ := campaignHandlers(t, env, senderFunc(func(sctx context.Context, m email.Message) error {
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
		mid := campaignStats(t, env, c, camp.ID)
		require.Equal(t, campaign.Sending, mid.Status)
		require.Equal(t, first, mid.Stats.Sent, "the statistics count what left")
		require.Equal(t, 23-first, mid.Stats.Pending)

		send, _, _ := campaignHandlers(t, env, smtp, small)
		require.NoError(t, send.ProcessTask(ctx, task))
		require.NoError(t, send.ProcessTask(ctx, task))
		requireOnceEach(t, mailSrv, "resumed", want)
		var states []string
		require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			return tx.SelectContext(ctx, &states, `SELECT state FROM email_deliveries WHERE campaign = 'manual' AND event = $1`,
				campaign.Event(camp.ID))
		}))
		require.Len(t, states, 23)
		for _, s := range states {
			require.Equal(t, "sent", s)
		}
		done := campaignStats(t, env, c, camp.ID)
		require.Equal(t, campaign.Sent, done.Status)
		require.Equal(t, campaign.Stats{Recipients: 23, Sent: 23}, done.Stats)
	})

	t.Run("a failed send is retried, the others are not repeated", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		camp, task := cc.newCampaign(t, env, "flaky")
		var sends atomic.Int32
		down := errors.New("451 try again later")
		flaky, _, _ := campaignHandlers(t, env, senderFunc(func(sctx context.Context, m email.Message) error {
			if n := sends.Add(1); n == 5 || n == 9 {
				return down
			}
			return smtp.Send(sctx, m)
		}), small)
		err := flaky.ProcessTask(ctx, task)
		require.Error(t, err, "failures make the task retry")
		require.NotErrorIs(t, err, asynq.SkipRetry)
		mid := campaignStats(t, env, c, camp.ID)
		require.Equal(t, campaign.Stats{Recipients: 23, Sent: 21, Failed: 2}, mid.Stats, "the run went on past single failures")
		require.Equal(t, campaign.Sent, mid.Status, "nobody is pending; the retry sends the failed ones")
		send, _, _ := campaignHandlers(t, env, smtp, small)
		require.NoError(t, send.ProcessTask(ctx, task))
		requireOnceEach(t, mailSrv, "flaky", want)
		require.Equal(t, campaign.Stats{Recipients: 23, Sent: 23}, campaignStats(t, env, c, camp.ID).Stats)
	})

	t.Run("a run near its deadline hands over to its next round", func(t *testing.T) {
		mailSrv, smtp := startMail(t)
		camp, task := cc.newCampaign(t, env, "rounds")
		send, _, _ := campaignHandlers(t, env, smtp, func(h *jobs.Campaigns) { h.PageSize, h.Parallel, h.Handoff = 4, 3, time.Hour })
		short, cancel := context.WithTimeout(ctx, 10*time.Minute) // asynq's timeout: nearer than the handoff
		defer cancel()
		require.NoError(t, send.ProcessTask(short, task))
		require.Len(t, mailSrv.Messages(), 4, "one page, then the hand-over")
		require.Equal(t, campaign.Sending, campaignStats(t, env, c, camp.ID).Status)
		next := outboxCampaignTask(t, env, c, fmt.Sprintf("campaign:%d:1", camp.ID), campaign.TaskSend)
		require.NoError(t, send.ProcessTask(short, task), "the same round again hands over to the same next round")
		require.NoError(t, send.ProcessTask(ctx, next))
		requireOnceEach(t, mailSrv, "rounds", want)
		require.Equal(t, campaign.Stats{Recipients: 23, Sent: 23}, campaignStats(t, env, c, camp.ID).Stats)
	})

	t.Run("a mail server that is down stops the run", func(t *testing.T) {
		_, task := cc.newCampaign(t, env, "down")
		var sends atomic.Int32
		down, _, _ := campaignHandlers(t, env, senderFunc(func(context.Context, email.Message) error {
			sends.Add(1)
			return errors.New("connection refused")
		}), func(h *jobs.Campaigns) { h.PageSize, h.Parallel, h.StopAfter = 4, 1, 3 })
		require.Error(t, down.ProcessTask(ctx, task))
		require.EqualValues(t, 3, sends.Load(), "three failures in a row end the run")
	})
}

// TestCampaignTestEmail: a test email reaches the staff member who asked
// for it and no one else, marked as a test, in the language chosen, once
// however often its task runs, and counts in no statistics; the campaign
// stays a draft.
func TestCampaignTestEmail(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "camp_test", tenant.PlanPremium)
	cc := seedCampaignCity(t, env, c, "fr", "nl")
	ctx := tenanttest.Ctx(c)
	svc := campaign.NewService(env.DB)
	camp, err := svc.Create(ctx, cc.admin, campaign.Message{Subject: locale.Text{"fr": "Le parc", "nl": "Het park"},
		Body: locale.Text{"fr": "Venez", "nl": "Kom"}, GroupIDs: []int64{cc.group}})
	require.NoError(t, err)
	ts, err := svc.Test(ctx, cc.admin, camp.ID, "nl")
	require.NoError(t, err)
	task := outboxCampaignTask(t, env, c, fmt.Sprintf("campaign_test:%d", ts.ID), campaign.TaskTest)

	mailSrv, smtp := startMail(t)
	_, test, _ := campaignHandlers(t, env, smtp, nil)
	require.NoError(t, test.ProcessTask(context.Background(), task))
	require.NoError(t, test.ProcessTask(context.Background(), task))
	msgs := mailSrv.Messages()
	require.Len(t, msgs, 1, "one test email, to the sender only")
	require.Equal(t, []string{cc.adminTo}, msgs[0].To)
	require.Equal(t, "[Test] Het park", msgs[0].Subject)
	require.Contains(t, msgs[0].Text, "Dit is een test")
	require.Contains(t, msgs[0].Text, "Kom")
	require.NotEmpty(t, msgs[0].Header.Get("List-Unsubscribe"))
	var events []string
	require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(context.Background(), &events, `SELECT event FROM email_deliveries WHERE campaign = 'manual'`)
	}))
	require.Equal(t, []string{campaign.TestEvent(ts.ID)}, events)
	after := campaignStats(t, env, c, camp.ID)
	require.Equal(t, campaign.Draft, after.Status)
	require.Equal(t, campaign.Stats{}, after.Stats)
}

// TestCampaignNeedsThePremiumPlan: a campaign task of a standard city (its
// plan changed after Send, say) sends nothing.
func TestCampaignNeedsThePremiumPlan(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "camp_std") // standard
	cc := seedCampaignCity(t, env, c, "fr", "nl")
	_, task := cc.newCampaign(t, env, "std")
	mailSrv, smtp := startMail(t)
	send, _, _ := campaignHandlers(t, env, smtp, nil)
	require.NoError(t, send.ProcessTask(context.Background(), task))
	require.Empty(t, mailSrv.Messages())
}
