package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/domain/email"
	"agora/domain/email/devsmtp"
	"agora/domain/user"
	"agora/fixture"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// startMail starts a capture SMTP server for the test and returns it with
// Agora's real SMTP sender pointed at it.
func startMail(t *testing.T) (*devsmtp.Server, *email.SMTP) {
	t.Helper()
	srv, err := devsmtp.Start("127.0.0.1:0", 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	smtp, err := email.NewSMTP(srv.URL())
	require.NoError(t, err)
	return srv, smtp
}

// senderFunc turns a function into an email.Sender.
type senderFunc func(ctx context.Context, m email.Message) error

func (f senderFunc) Send(ctx context.Context, m email.Message) error { return f(ctx, m) }

func httpsPortal(host string) string { return "https://" + host }

// setCityName changes the name the city signs its emails with (its portal
// settings, not the registry's name).
func setCityName(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, name string) {
	t.Helper()
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE settings SET name = $1`, name)
		return err
	}))
}

// outboxTask returns the confirmation task Register recorded for u, as the
// relay would enqueue it (same type and payload).
func outboxTask(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, u *user.User) *asynq.Task {
	t.Helper()
	var row struct {
		Type    string `db:"task_type"`
		Payload string `db:"payload"`
	}
	require.NoError(t, env.DB.Platform().GetContext(context.Background(), &row,
		`SELECT task_type, payload::text AS payload FROM platform.outbox WHERE task_id = $1`,
		fmt.Sprintf("t%d:email:confirm:%d:register", c.ID, u.ID)), "the outbox row of %s's confirmation", u.Email)
	require.Equal(t, tenant.TaskEmail, row.Type)
	return asynq.NewTask(row.Type, []byte(row.Payload))
}

type delivery struct {
	Recipient string `db:"recipient"`
	Event     string `db:"event"`
	State     string `db:"state"`
}

// ageClaims makes every claim of the city's ledger that is not sent older
// than its lease, as if the run holding it had died a while ago (the clock,
// driven).
func ageClaims(t *testing.T, env *tenanttest.Env, c *tenant.Tenant) {
	t.Helper()
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE email_deliveries
			SET claimed_at = claimed_at - make_interval(secs => $1) WHERE state = 'claimed'`, (email.Lease + time.Minute).Seconds())
		return err
	}))
}

// holdClaim claims, in the city's ledger, the email of campaign to
// recipient for event as another run would, claimed age ago (0: a run
// still sending it; more than email.Lease: a run that died mid-send), and
// returns the ledger row's id.
func holdClaim(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, campaign, recipient, event string, age time.Duration) int64 {
	t.Helper()
	var id int64
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &id, `INSERT INTO email_deliveries (campaign, recipient, event, claimed_at)
			VALUES ($1, $2, $3, now() - make_interval(secs => $4)) RETURNING id`, campaign, recipient, event, age.Seconds())
	}))
	return id
}

// requireInFlight fails unless err is the retryable end of a task whose
// emails another run holds.
func requireInFlight(t *testing.T, err error, msgAndArgs ...any) {
	t.Helper()
	require.ErrorIs(t, err, jobs.ErrInFlight, msgAndArgs...)
	require.NotErrorIs(t, err, asynq.SkipRetry, msgAndArgs...)
}

// requireDoneOrInFlight fails unless each of errs is nil or ErrInFlight:
// runs of one task at once each send what they claimed, and those that
// found emails claimed by another run end with ErrInFlight.
func requireDoneOrInFlight(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if err != nil {
			requireInFlight(t, err, "run %d", i)
		}
	}
}

// deliveries returns the city's email ledger rows for one recipient.
func deliveries(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, addr string) []delivery {
	t.Helper()
	var out []delivery
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.SelectContext(context.Background(), &out,
			`SELECT recipient, event, state FROM email_deliveries WHERE recipient = $1 ORDER BY id`, addr)
	}))
	return out
}

var confirmLink = regexp.MustCompile(`https?://[^\s"<>]+/confirm\?token=[A-Za-z0-9_\-]+`)

// TestEmailWorkerBrandsEachCity runs the whole path of an account email with
// the real worker: Register writes the outbox row in the city's transaction,
// the relay moves it to asynq, the middleware restores the city and the
// handler sends through SMTP. Each city's citizen gets exactly one email,
// signed with that city's name, sent from its host and linking to its host,
// and the link works in that city only.
func TestEmailWorkerBrandsEachCity(t *testing.T) {
	exclusiveRedis(t) // uses redisDB: not parallel
	env := tenanttest.New(t)
	ctx := context.Background()
	mailSrv, smtp := startMail(t)

	a := env.City(t, "mail_a", "a.example.org")
	b := env.City(t, "mail_b", "b.example.org")
	require.Equal(t, "a.example.org", a.PrimaryHost)
	require.Equal(t, "b.example.org", b.PrimaryHost)
	setCityName(t, env, a, "Antwerpen Participeert")
	setCityName(t, env, b, "Ville de Bruxelles")

	type want struct {
		city     *tenant.Tenant
		name     string
		addr     string
		first    string
		locale   string
		subject  string
		greeting string
	}
	cases := []want{
		{a, "Antwerpen Participeert", "anna@example.net", "Anna", "en",
			"Confirm your email address for Antwerpen Participeert", "Hello Anna,"},
		{b, "Ville de Bruxelles", "bart@example.net", "Bart", "fr",
			"Confirmez votre adresse e-mail pour Ville de Bruxelles", "Bonjour Bart,"},
	}
	users := map[string]*user.User{}

	// A's citizen signs up before the worker runs (the relay's first drain
	// picks it up), B's while it runs (the relay wakes on NOTIFY).
	users[cases[0].addr] = fixture.User(t, env, a, fixture.UserOpts{Email: cases[0].addr, FirstName: cases[0].first, LastName: "Peeters", Locale: cases[0].locale, Unconfirmed: true})
	log, _ := testLogger(t)
	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })
	stop := startWorker(t, jobs.WorkerDeps{
		Redis: redisOpt(), DB: env.DB, Registry: env.Registry, Client: client, StorageDir: env.StorageDir,
		Log: log, Concurrency: 4, Sender: smtp, PortalURL: httpsPortal, DSN: env.URL,
	})
	users[cases[1].addr] = fixture.User(t, env, b, fixture.UserOpts{Email: cases[1].addr, FirstName: cases[1].first, LastName: "Peeters", Locale: cases[1].locale, Unconfirmed: true})
	// Same user id in both cities: a handler reading the wrong schema would
	// find (and write to) the other city's citizen.
	require.Equal(t, users[cases[0].addr].ID, users[cases[1].addr].ID, "both cities' first citizen should share an id")

	wctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, err := mailSrv.Wait(wctx, func([]devsmtp.Message) bool {
		return len(mailSrv.To(cases[0].addr)) > 0 && len(mailSrv.To(cases[1].addr)) > 0
	})
	require.NoError(t, err)
	// Both handlers have recorded their delivery: nothing else is coming.
	for _, c := range cases {
		eventually(t, 10*time.Second, func() bool {
			d := deliveries(t, env, c.city, c.addr)
			return len(d) == 1 && d[0].State == "sent"
		}, func() string { return fmt.Sprintf("ledger of %s: %+v", c.addr, deliveries(t, env, c.city, c.addr)) })
	}
	// The worker deletes each outbox row once its task ran.
	var outbox int
	eventually(t, 10*time.Second, func() bool {
		require.NoError(t, env.DB.Platform().GetContext(ctx, &outbox, `SELECT count(*) FROM platform.outbox`))
		return outbox == 0
	}, func() string { return fmt.Sprintf("%d outbox rows left behind", outbox) })

	svc := user.NewService(env.DB)
	for i, c := range cases {
		other := cases[1-i].city
		msgs := mailSrv.To(c.addr)
		require.Equal(t, 1, len(msgs), "emails to %s", c.addr)
		m := msgs[0]
		from, err := mail.ParseAddress(m.Header.Get("From"))
		require.NoError(t, err, "From %q", m.Header.Get("From"))
		require.Equal(t, c.name, from.Name, "the From display name is the city's own name")
		require.Equal(t, "noreply@"+c.city.PrimaryHost, from.Address)
		require.Equal(t, "noreply@"+c.city.PrimaryHost, m.From, "envelope sender")
		require.Equal(t, c.subject, m.Subject)
		require.Contains(t, m.Text, c.greeting, "the email is addressed to this city's citizen, in their language")
		require.Contains(t, m.HTML, c.name)
		require.True(t, strings.HasSuffix(m.Header.Get("Message-Id"), "@"+c.city.PrimaryHost+">"), "Message-Id %q", m.Header.Get("Message-Id"))
		require.NotContains(t, m.Text+m.HTML, cases[1-i].name, "the other city's name leaked into the email")
		require.NotContains(t, m.Text+m.HTML, other.PrimaryHost, "the other city's host leaked into the email")

		link := confirmLink.FindString(m.Text)
		require.NotEmpty(t, link, "no confirmation link in %q", m.Text)
		require.Contains(t, m.HTML, link, "the HTML part links to the same place")
		lu, err := url.Parse(link)
		require.NoError(t, err)
		require.Equal(t, "https", lu.Scheme)
		require.Equal(t, c.city.PrimaryHost, lu.Host, "the link goes to the city's own host")

		// The link's token is unknown in the other city, and confirms this
		// city's citizen.
		_, err = svc.ConfirmByLink(tenanttest.Ctx(other), lu.Query().Get("token"))
		require.Error(t, err, "%s's link confirmed an account in another city", c.city.Slug)
		got, err := svc.ConfirmByLink(tenanttest.Ctx(c.city), lu.Query().Get("token"))
		require.NoError(t, err)
		require.Equal(t, c.addr, got.Email)
		require.True(t, got.Confirmed())
	}
	stop()
}

// TestEmailInFlightRetriesAfterTheLease runs the real worker on an email
// that another run claimed a moment ago (it may be sending it, or it died
// mid-send): nothing is sent now, and the task is not done but waits to
// retry once the claim's lease is over, without counting a failed attempt,
// its outbox row kept meanwhile.
func TestEmailInFlightRetriesAfterTheLease(t *testing.T) {
	exclusiveRedis(t) // uses redisDB: not parallel
	env := tenanttest.New(t)
	c := env.City(t, "mail_held")
	mailSrv, smtp := startMail(t)
	const addr = "held@example.net"
	u := fixture.User(t, env, c, fixture.UserOpts{Email: addr, FirstName: "Hilde", LastName: "Peeters", Locale: "en", Unconfirmed: true})
	holdClaim(t, env, c, user.PurposeConfirm, addr, "register", 0)
	log, _ := testLogger(t)
	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })
	stop := startWorker(t, jobs.WorkerDeps{
		Redis: redisOpt(), DB: env.DB, Registry: env.Registry, Client: client, StorageDir: env.StorageDir,
		Log: log, Concurrency: 4, Sender: smtp, PortalURL: httpsPortal, DSN: env.URL,
	})
	insp := asynq.NewInspector(redisOpt())
	t.Cleanup(func() { insp.Close() })
	id := fmt.Sprintf("t%d:email:confirm:%d:register", c.ID, u.ID)
	var ti *asynq.TaskInfo
	eventually(t, 15*time.Second, func() bool {
		var err error
		ti, err = insp.GetTaskInfo("critical", id)
		return err == nil && ti.State == asynq.TaskStateRetry
	}, func() string { return fmt.Sprintf("task %s: %+v", id, ti) })
	stop()
	require.Contains(t, ti.LastErr, "in flight")
	require.Zero(t, ti.Retried, "a task that found its email in flight has not failed")
	require.True(t, ti.NextProcessAt.After(time.Now().Add(email.Lease)), "retried at %s, before the lease is over", ti.NextProcessAt)
	require.Empty(t, mailSrv.To(addr))
	var rows int
	require.NoError(t, env.DB.Platform().GetContext(context.Background(), &rows, `SELECT count(*) FROM platform.outbox WHERE task_id = $1`, id))
	require.Equal(t, 1, rows, "the task will run again: its outbox row stays")
}

// TestEmailTaskWithoutCityIsRefused: an email:send task whose payload names
// no city is refused for good (asynq.SkipRetry) before the handler runs, so
// nothing is sent.
func TestEmailTaskWithoutCityIsRefused(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "mail_nocity")
	u := fixture.User(t, env, c, fixture.UserOpts{Email: "nocity@example.net", FirstName: "Nora", LastName: "Peeters", Locale: "en", Unconfirmed: true})
	mailSrv, smtp := startMail(t)
	emails, err := jobs.NewEmails(env.DB, smtp, httpsPortal)
	require.NoError(t, err)
	log, _ := testLogger(t)
	ran := false
	h := jobs.TenantMiddleware(env.Registry, log)(asynq.HandlerFunc(func(ctx context.Context, task *asynq.Task) error {
		ran = true
		return emails.Send(ctx, task)
	}))

	for _, payload := range []string{
		fmt.Sprintf(`{"kind": "confirm", "user_id": %d, "event": "register"}`, u.ID),
		fmt.Sprintf(`{"kind": "confirm", "user_id": %d, "event": "register", "tenant_id": 0}`, u.ID),
		fmt.Sprintf(`{"kind": "confirm", "user_id": %d, "event": "register", "tenant_id": "%d"}`, u.ID, c.ID),
	} {
		ran = false
		err := h.ProcessTask(context.Background(), asynq.NewTask(tenant.TaskEmail, []byte(payload)))
		require.ErrorIs(t, err, asynq.SkipRetry, "payload %s", payload)
		require.ErrorIs(t, err, jobs.ErrNoTenant, "payload %s", payload)
		require.False(t, ran, "the email handler ran without a city for %s", payload)
	}
	require.Zero(t, len(mailSrv.Messages()))
	require.Empty(t, deliveries(t, env, c, u.Email))

	// The same task with its city (as the outbox wrote it) does send.
	require.NoError(t, h.ProcessTask(context.Background(), outboxTask(t, env, c, u)))
	require.Equal(t, 1, len(mailSrv.To(u.Email)))
}

// TestEmailSendIsExactlyOnce drives the email handler (behind the tenant
// middleware, as the worker runs it) the ways asynq may run a task: twice,
// concurrently, after a failed send, after a cancelled one. A citizen never
// gets the same email twice while its claim's lease lasts, a failed send is
// sent by the retry, and a send cut short is sent by the first run after
// the lease (at least once, with the same Message-ID), never dropped.
func TestEmailSendIsExactlyOnce(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "mail_once")
	mailSrv, smtp := startMail(t)
	log, _ := testLogger(t)
	mw := jobs.TenantMiddleware(env.Registry, log)
	handler := func(s email.Sender) asynq.Handler {
		emails, err := jobs.NewEmails(env.DB, s, httpsPortal)
		require.NoError(t, err)
		return mw(asynq.HandlerFunc(emails.Send))
	}
	plain := handler(smtp)
	// signUp registers a citizen and returns their confirmation task.
	n := 0
	signUp := func(t *testing.T) (string, *asynq.Task) {
		n++
		addr := fmt.Sprintf("once%d@example.net", n)
		u := fixture.User(t, env, c, fixture.UserOpts{Email: addr, FirstName: "Olga", LastName: "Peeters", Locale: "en", Unconfirmed: true})
		return addr, outboxTask(t, env, c, u)
	}
	requireSentOnce := func(t *testing.T, addr string) {
		t.Helper()
		require.Equal(t, 1, len(mailSrv.To(addr)), "emails received by %s", addr)
		d := deliveries(t, env, c, addr)
		require.Len(t, d, 1, "ledger rows of %s: %+v", addr, d)
		require.Equal(t, "sent", d[0].State)
		require.Equal(t, "register", d[0].Event)
	}

	t.Run("run twice", func(t *testing.T) {
		addr, task := signUp(t)
		require.NoError(t, plain.ProcessTask(context.Background(), task))
		require.NoError(t, plain.ProcessTask(context.Background(), task), "a re-run of a sent email is done, not an error")
		requireSentOnce(t, addr)
	})

	t.Run("run concurrently", func(t *testing.T) {
		addr, task := signUp(t)
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = plain.ProcessTask(context.Background(), task)
			}()
		}
		wg.Wait()
		requireDoneOrInFlight(t, errs)
		require.NoError(t, plain.ProcessTask(context.Background(), task), "the retry of a run that found the email in flight")
		requireSentOnce(t, addr)
	})

	t.Run("send fails once then the retry sends", func(t *testing.T) {
		addr, task := signUp(t)
		smtpDown := errors.New("421 service not available")
		var calls atomic.Int32
		flaky := handler(senderFunc(func(ctx context.Context, m email.Message) error {
			if calls.Add(1) == 1 {
				return smtpDown
			}
			return smtp.Send(ctx, m)
		}))
		err := flaky.ProcessTask(context.Background(), task)
		require.ErrorIs(t, err, smtpDown)
		require.NotErrorIs(t, err, asynq.SkipRetry, "a failed send must be retried")
		require.Zero(t, len(mailSrv.To(addr)))
		require.Empty(t, deliveries(t, env, c, addr), "the claim of a failed send must be released")

		require.NoError(t, flaky.ProcessTask(context.Background(), task), "the retry")
		require.NoError(t, flaky.ProcessTask(context.Background(), task), "a later duplicate run")
		require.EqualValues(t, 2, calls.Load(), "the sender is called for the failure and the retry only")
		requireSentOnce(t, addr)
	})

	// cancelMidSend runs task with a sender that calls before (which may
	// deliver), then blocks until the task's context ends; the context is
	// cancelled while the send is in progress.
	cancelMidSend := func(t *testing.T, task *asynq.Task, before func(ctx context.Context, m email.Message) error) error {
		t.Helper()
		inSend := make(chan struct{})
		h := handler(senderFunc(func(ctx context.Context, m email.Message) error {
			if err := before(ctx, m); err != nil {
				return err
			}
			close(inSend)
			<-ctx.Done()
			return ctx.Err()
		}))
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- h.ProcessTask(ctx, task) }()
		select {
		case <-inSend:
		case err := <-done:
			t.Fatalf("the handler returned before sending: %v", err)
		case <-time.After(10 * time.Second):
			t.Fatal("the handler never reached the sender")
		}
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(10 * time.Second):
			t.Fatal("the handler did not return after its context was cancelled")
			return nil
		}
	}

	// A send cut short leaves its claim (the server may have the message):
	// re-runs within the claim's lease send nothing and end with
	// ErrInFlight, so asynq retries them; the first run after the lease
	// sends it. The worker killed mid-send leaves the same claim.
	t.Run("cancelled before the server took the message", func(t *testing.T) {
		addr, task := signUp(t)
		err := cancelMidSend(t, task, func(context.Context, email.Message) error { return nil })
		require.Error(t, err, "a cancelled send is not a success")
		require.Zero(t, len(mailSrv.To(addr)))
		// Re-runs (asynq requeues a task cut short by a shutdown).
		requireInFlight(t, plain.ProcessTask(context.Background(), task), "a re-run within the lease")
		require.Zero(t, len(mailSrv.To(addr)))
		ageClaims(t, env, c)
		require.NoError(t, plain.ProcessTask(context.Background(), task), "the run after the lease")
		require.NoError(t, plain.ProcessTask(context.Background(), task))
		requireSentOnce(t, addr)
	})

	// The outcome of a send cut short after the server took the message is
	// unknown to the handler: within the lease it is not sent again; after
	// it, it is, with the same Message-ID, so the duplicate can be
	// recognised, and with a link that works.
	t.Run("cancelled after the server took the message", func(t *testing.T) {
		addr, task := signUp(t)
		err := cancelMidSend(t, task, smtp.Send) // delivered, then the task is cut short
		require.Error(t, err)
		require.Equal(t, 1, len(mailSrv.To(addr)))
		requireInFlight(t, plain.ProcessTask(context.Background(), task))
		require.Equal(t, 1, len(mailSrv.To(addr)), "sent again within the lease")
		ageClaims(t, env, c)
		require.NoError(t, plain.ProcessTask(context.Background(), task))
		require.NoError(t, plain.ProcessTask(context.Background(), task))
		msgs := mailSrv.To(addr)
		require.Equal(t, 2, len(msgs), "at least once: sent again after the lease, once")
		require.Equal(t, msgs[0].Header.Get("Message-Id"), msgs[1].Header.Get("Message-Id"), "the same email, recognisably")
		d := deliveries(t, env, c, addr)
		require.Len(t, d, 1)
		require.Equal(t, "sent", d[0].State)
		link := confirmLink.FindString(msgs[1].Text)
		require.NotEmpty(t, link)
		lu, err := url.Parse(link)
		require.NoError(t, err)
		_, err = user.NewService(env.DB).ConfirmByLink(tenanttest.Ctx(c), lu.Query().Get("token"))
		require.NoError(t, err, "the link of the email sent after the lease works")
	})
}

var invitationLink = regexp.MustCompile(`https://[^\s"<>]+/invitations/([A-Za-z0-9_\-]+)`)

// TestInvitationEmailRerunKeepsItsLink: the first admin's invitation, queued
// by provisioning, is emailed once; when asynq runs the task again (a worker
// died after the send, before the task was acknowledged) nothing is sent and
// the link already emailed keeps working.
func TestInvitationEmailRerunKeepsItsLink(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	ctx := context.Background()
	const admin = "mayor@example.net"
	created, err := env.Provisioner.Create(ctx, tenant.Spec{
		Slug: "mail_invite", Name: "City mail_invite", Plan: tenant.PlanStandard, Lifecycle: tenant.Active,
		Locales: []string{"en", "fr", "nl"}, TimeZone: "Europe/Brussels", AdminEmail: admin,
	})
	require.NoError(t, err)
	c := created.Tenant
	var row struct {
		Type    string `db:"task_type"`
		Payload string `db:"payload"`
	}
	require.NoError(t, env.DB.Platform().GetContext(ctx, &row, `SELECT task_type, payload::text AS payload
		FROM platform.outbox WHERE tenant_id = $1 AND task_id LIKE 't' || $1 || ':email:invitation:%'`, c.ID),
		"provisioning queued no invitation email")
	task := asynq.NewTask(row.Type, []byte(row.Payload))

	mailSrv, smtp := startMail(t)
	emails, err := jobs.NewEmails(env.DB, smtp, httpsPortal)
	require.NoError(t, err)
	log, _ := testLogger(t)
	h := jobs.TenantMiddleware(env.Registry, log)(asynq.HandlerFunc(emails.Send))
	svc := user.NewService(env.DB)

	require.NoError(t, h.ProcessTask(ctx, task))
	msgs := mailSrv.To(admin)
	require.Equal(t, 1, len(msgs), "invitation emails")
	m := invitationLink.FindStringSubmatch(msgs[0].Text)
	require.NotNil(t, m, "no invitation link in %q", msgs[0].Text)
	require.True(t, strings.HasPrefix(m[0], "https://"+c.PrimaryHost+"/"), "link %s is not on the city's host", m[0])
	_, err = svc.InvitationByToken(tenanttest.Ctx(c), m[1])
	require.NoError(t, err, "the emailed invitation link does not work")

	require.NoError(t, h.ProcessTask(ctx, task), "the re-run")
	require.Equal(t, 1, len(mailSrv.To(admin)), "invitation emails after a re-run")
	_, err = svc.InvitationByToken(tenanttest.Ctx(c), m[1])
	require.NoError(t, err, "a re-run of the task killed the invitation link already emailed")
}
