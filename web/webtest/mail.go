package webtest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"agora/domain/email"
	"agora/domain/email/devsmtp"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// MailTimeout bounds every wait for background work.
const MailTimeout = 20 * time.Second

// Mailer is a running email pipeline: the real worker (outbox relay, asynq
// server, email handlers) and an SMTP server that keeps what it receives.
type Mailer struct {
	SMTP *devsmtp.Server
	insp *asynq.Inspector
	env  *tenanttest.Env
}

// MailOptions say where a mailer's worker queues and what its links say.
type MailOptions struct {
	// RedisDB is the Redis database of the worker's queues, the test's own
	// while it runs (see tenanttest.LockRedisDB): not 0, where the web
	// server keeps its rate limits.
	RedisDB int
	// Port is the portal's port in the emails' links ("" for none).
	Port string
}

// StartMailer takes o.RedisDB, flushes it and runs the worker over env
// until the test ends, sending to a fresh in-process SMTP server. The
// worker's log is shown if the test fails.
func StartMailer(t *testing.T, env *tenanttest.Env, o MailOptions) *Mailer {
	t.Helper()
	require.NotZero(t, o.RedisDB, "the mailer needs a Redis database of its own")
	opt := asynq.RedisClientOpt{Addr: tenanttest.RedisAddr(), DB: o.RedisDB}
	tenanttest.LockRedisDB(t, opt.Addr, opt.DB)
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: opt.DB})
	t.Cleanup(func() { _ = rdb.Close() })
	flush := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return rdb.FlushDB(ctx).Err()
	}
	require.NoError(t, flush(), "flush Redis db %d (is Redis running?)", opt.DB)
	t.Cleanup(func() { _ = flush() })

	mailSrv, err := devsmtp.Start("127.0.0.1:0", 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mailSrv.Close() })
	sender, err := email.NewSMTP(mailSrv.URL())
	require.NoError(t, err)

	client := asynq.NewClient(opt)
	t.Cleanup(func() { _ = client.Close() })
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = insp.Close() })

	port := ""
	if o.Port != "" {
		port = ":" + o.Port
	}
	logs := &LogBuffer{}
	w, err := jobs.NewWorker(jobs.WorkerDeps{
		Redis: opt, DB: env.DB, Registry: env.Registry, Client: client, StorageDir: env.StorageDir,
		Log:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Sender:    sender,
		PortalURL: func(h string) string { return "http://" + h + port },
		DSN:       env.URL, Concurrency: 4,
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "worker Run")
		case <-time.After(30 * time.Second):
			t.Error("the worker did not stop within 30s of its context ending")
		}
		if t.Failed() && logs.Len() > 0 {
			t.Logf("worker log:\n%s", logs.String())
		}
	})
	return &Mailer{SMTP: mailSrv, insp: insp, env: env}
}

// Wait polls until at least n messages to addr match keep (nil keeps all),
// and returns those.
func (m *Mailer) Wait(t *testing.T, addr string, n int, keep func(devsmtp.Message) bool) []devsmtp.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), MailTimeout)
	defer cancel()
	var got []devsmtp.Message
	pick := func(msgs []devsmtp.Message) []devsmtp.Message {
		var out []devsmtp.Message
		for _, msg := range msgs {
			if slices.ContainsFunc(msg.To, func(to string) bool { return strings.EqualFold(to, addr) }) && (keep == nil || keep(msg)) {
				out = append(out, msg)
			}
		}
		return out
	}
	_, err := m.SMTP.Wait(ctx, func(msgs []devsmtp.Message) bool {
		got = pick(msgs)
		return len(got) >= n
	})
	require.NoError(t, err, "waiting for %d email(s) to %s; got %d", n, addr, len(got))
	return got
}

// To returns what arrived for addr that keep (nil keeps all) accepts, now.
func (m *Mailer) To(addr string, keep func(devsmtp.Message) bool) []devsmtp.Message {
	var out []devsmtp.Message
	for _, msg := range m.SMTP.To(addr) {
		if keep == nil || keep(msg) {
			out = append(out, msg)
		}
	}
	return out
}

// Delivery is one row of a city's email ledger.
type Delivery struct {
	Campaign string `db:"campaign"`
	Event    string `db:"event"`
	State    string `db:"state"`
}

// Ledger reads the email ledger rows of one user of city.
func (m *Mailer) Ledger(t *testing.T, city *tenant.Tenant, userID int64) []Delivery {
	t.Helper()
	var rows []Delivery
	require.NoError(t, m.env.DB.InReadTx(tenanttest.Ctx(city), func(tx *tenant.Tx) error {
		return tx.SelectContext(context.Background(), &rows,
			`SELECT campaign, event, state FROM email_deliveries WHERE user_id = $1 ORDER BY id`, userID)
	}))
	return rows
}

// Settle polls until every email the given cities asked for is done: no task
// left in the outbox, none waiting, running or retrying in asynq's critical
// queue, no ledger row still claimed. After it, an email that has not
// arrived is never going to.
func (m *Mailer) Settle(t *testing.T, cities ...*tenant.Tenant) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(MailTimeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	state := ""
	for {
		var outbox int
		require.NoError(t, m.env.DB.Platform().GetContext(ctx, &outbox, `SELECT count(*) FROM platform.outbox`))
		busy := 0
		queues, err := m.insp.Queues()
		require.NoError(t, err)
		if slices.Contains(queues, "critical") {
			q, err := m.insp.GetQueueInfo("critical")
			require.NoError(t, err)
			require.Zero(t, q.Archived, "an email task failed for good; see the worker log")
			busy = q.Pending + q.Active + q.Scheduled + q.Retry
		}
		claimed := 0
		for _, c := range cities {
			var n int
			require.NoError(t, m.env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
				return tx.GetContext(ctx, &n, `SELECT count(*) FROM email_deliveries WHERE state = 'claimed'`)
			}))
			claimed += n
		}
		if outbox == 0 && busy == 0 && claimed == 0 {
			return
		}
		state = fmt.Sprintf("outbox %d, queued or running %d, claimed %d", outbox, busy, claimed)
		if time.Now().After(deadline) {
			t.Fatalf("background email work not settled within %s: %s", MailTimeout, state)
		}
		<-tick.C
	}
}
