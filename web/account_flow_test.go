package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
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

// The account flows below run what a citizen's emails go through for real:
// the API writes the outbox, the outbox relay and the asynq worker (on Redis
// database flowRedisDB) send through SMTP, and an in-process SMTP server
// receives the mail. They share flowRedisDB, flushing it as they start, so
// they never run in parallel with each other.

// flowRedisDB is the Redis database these tests' worker uses. Not 0 (the web
// server's rate limits and a dev worker) and not 9 (the jobs tests).
const flowRedisDB = 8

// mailer is a running email pipeline: the real worker and an SMTP server
// that keeps what it receives.
type mailer struct {
	smtp *devsmtp.Server
	insp *asynq.Inspector
	env  *tenanttest.Env
}

// startMailer takes flowRedisDB, flushes it and runs the worker over env
// until the test ends, sending to a fresh in-process SMTP server. The
// worker's log is shown if the test fails.
func startMailer(t *testing.T, env *tenanttest.Env) *mailer {
	t.Helper()
	tenanttest.LockRedisDB(t, "127.0.0.1:6379", flowRedisDB)
	opt := asynq.RedisClientOpt{Addr: "127.0.0.1:6379", DB: flowRedisDB}
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: flowRedisDB})
	t.Cleanup(func() { _ = rdb.Close() })
	flush := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return rdb.FlushDB(ctx).Err()
	}
	require.NoError(t, flush(), "flush Redis db %d (is Redis running?)", flowRedisDB)
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

	logs := &lockedBuffer{}
	w, err := jobs.NewWorker(jobs.WorkerDeps{
		Redis: opt, DB: env.DB, Registry: env.Registry, Client: client, StorageDir: env.StorageDir,
		Log:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
		Sender:    sender,
		PortalURL: func(h string) string { return "http://" + h },
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
	return &mailer{smtp: mailSrv, insp: insp, env: env}
}

// mailTimeout bounds every wait for background work.
const mailTimeout = 20 * time.Second

// wait polls until at least n messages to addr match keep, and returns those.
func (m *mailer) wait(t *testing.T, addr string, n int, keep func(devsmtp.Message) bool) []devsmtp.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), mailTimeout)
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
	_, err := m.smtp.Wait(ctx, func(msgs []devsmtp.Message) bool {
		got = pick(msgs)
		return len(got) >= n
	})
	require.NoError(t, err, "waiting for %d email(s) to %s; got %d", n, addr, len(got))
	return got
}

// to returns what arrived for addr that keep accepts, now.
func (m *mailer) to(addr string, keep func(devsmtp.Message) bool) []devsmtp.Message {
	var out []devsmtp.Message
	for _, msg := range m.smtp.To(addr) {
		if keep == nil || keep(msg) {
			out = append(out, msg)
		}
	}
	return out
}

// delivery is one row of a city's email ledger.
type delivery struct {
	Campaign string `db:"campaign"`
	Event    string `db:"event"`
	State    string `db:"state"`
}

// ledger reads the email ledger rows of one user of city.
func (m *mailer) ledger(t *testing.T, city *tenant.Tenant, userID int64) []delivery {
	t.Helper()
	var rows []delivery
	require.NoError(t, m.env.DB.InReadTx(tenanttest.Ctx(city), func(tx *tenant.Tx) error {
		return tx.SelectContext(context.Background(), &rows,
			`SELECT campaign, event, state FROM email_deliveries WHERE user_id = $1 ORDER BY id`, userID)
	}))
	return rows
}

// settle polls until every email the given cities asked for is done: no task
// left in the outbox, none waiting, running or retrying in asynq's critical
// queue, no ledger row still claimed. After it, an email that has not
// arrived is never going to.
func (m *mailer) settle(t *testing.T, cities ...*tenant.Tenant) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(mailTimeout)
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
			t.Fatalf("background email work not settled within %s: %s", mailTimeout, state)
		}
		<-tick.C
	}
}

var (
	codeRe        = regexp.MustCompile(`(?m)^\s*([0-9]{6})\s*$`)
	confirmLinkRe = regexp.MustCompile(`(https?)://([^/\s"]+)(/confirm\?token=[A-Za-z0-9_-]+)`)
	resetLinkRe   = regexp.MustCompile(`(https?)://([^/\s"]+)(/reset\?token=[A-Za-z0-9_-]+)`)
)

// confirmation is what a citizen reads in a confirmation email.
type confirmation struct {
	Code       string
	LinkHost   string
	LinkTarget string // path and query of the link
	Token      string
}

func parseConfirmation(t *testing.T, m devsmtp.Message) confirmation {
	t.Helper()
	code := codeRe.FindStringSubmatch(m.Text)
	require.NotNil(t, code, "no six-digit code on a line of its own in:\n%s", m.Text)
	link := confirmLinkRe.FindStringSubmatch(m.Text)
	require.NotNil(t, link, "no /confirm?token= link in:\n%s", m.Text)
	require.Contains(t, m.HTML, code[1], "the HTML part shows the code too")
	require.Contains(t, m.HTML, strings.ReplaceAll(link[3], "&", "&amp;"), "the HTML part has the link too")
	u, err := url.Parse(link[0])
	require.NoError(t, err)
	return confirmation{Code: code[1], LinkHost: link[2], LinkTarget: link[3], Token: u.Query().Get("token")}
}

func subjectHas(s string) func(devsmtp.Message) bool {
	return func(m devsmtp.Message) bool { return strings.Contains(m.Subject, s) }
}

// userDoc is the part of a user document the tests look at.
type userDoc struct {
	ID               int64   `json:"id"`
	Email            string  `json:"email"`
	Locale           string  `json:"locale"`
	EmailConfirmedAt *string `json:"email_confirmed_at"`
}

// problemField is a problem with the field it names.
type problemField struct {
	Code   string `json:"code"`
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

func decodeUser(t *testing.T, r response) userDoc {
	t.Helper()
	var u userDoc
	require.NoError(t, json.Unmarshal([]byte(r.Body), &u), r.Body)
	// The key is always present: null until confirmed.
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.Body), &raw))
	require.Contains(t, raw, "email_confirmed_at", r.Body)
	return u
}

// signUp registers addr in the city on host with the given locale ("" for
// the city's default) and returns the new user, as the database has it
// (registration answers the same whether or not an account was made).
func signUp(t *testing.T, h *harness, host, addr, locale string) userDoc {
	t.Helper()
	body := map[string]string{"email": addr, "password": "correct horse battery", "first_name": "Ann", "last_name": "Peeters"}
	if locale != "" {
		body["locale"] = locale
	}
	b, _ := json.Marshal(body)
	r := h.call(t, "POST", host, "/api/v1/users", string(b))
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	require.JSONEq(t, fmt.Sprintf(`{"status":"confirmation_sent","email":%q}`, strings.ToLower(addr)), r.Body)
	u := accountOf(t, h, host, addr)
	require.Nil(t, u.EmailConfirmedAt, "a new account starts unconfirmed")
	return u
}

// accountOf reads the account of addr in the city of host from its schema.
func accountOf(t testing.TB, h *harness, host, addr string) userDoc {
	t.Helper()
	city, res, err := h.env.Registry.Resolve(context.Background(), host)
	require.NoError(t, err)
	require.NotEqual(t, tenant.Unknown, res, host)
	var u userDoc
	require.NoError(t, h.env.DB.InReadTx(tenanttest.Ctx(city), func(tx *tenant.Tx) error {
		return tx.QueryRowxContext(context.Background(), `SELECT id, email, locale, to_char(email_confirmed_at, 'YYYY-MM-DD"T"HH24:MI:SS')
			FROM users WHERE email = lower($1) AND deleted_at IS NULL`, addr).Scan(&u.ID, &u.Email, &u.Locale, &u.EmailConfirmedAt)
	}), addr)
	return u
}

func getMe(t *testing.T, h *harness, host string, auth ...string) userDoc {
	t.Helper()
	r := h.call(t, "GET", host, "/api/v1/me", "", auth...)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	return decodeUser(t, r)
}

func siteName(t *testing.T, h *harness, host string) string {
	t.Helper()
	r := h.get(t, host, "/api/v1/site")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var s siteDoc
	require.NoError(t, json.Unmarshal([]byte(r.Body), &s))
	require.NotEmpty(t, s.Settings.Name)
	return s.Settings.Name
}

func confirmCode(t *testing.T, h *harness, host, cookie, csrf, code string) response {
	t.Helper()
	return h.call(t, "POST", host, "/api/v1/me/confirmation", `{"code":"`+code+`"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
}

// otherCode is a six-digit code that is not code.
func otherCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+1)%1_000_000)
}

// TestConfirmationEmailAndCode: registering sends exactly one confirmation
// email, in the account's language, signed by the city, with a code and a
// link on the city's primary host; the code confirms the account, a wrong
// one does not, and a code is worth something only to its own user in its
// own city.
func TestConfirmationEmailAndCode(t *testing.T) {
	env := tenanttest.New(t)
	a := env.City(t, "villea", "participer.villea.example") // locales en, fr, nl
	b := env.City(t, "villeb")
	h := newHarness(t, env, serverOpts{})
	m := startMailer(t, env)
	require.Equal(t, "participer.villea.example", a.PrimaryHost)
	require.NotEqual(t, a.PrimaryHost, a.DefaultHost)
	nameA, nameB := siteName(t, h, a.PrimaryHost), siteName(t, h, b.DefaultHost)
	const addr = "ann@example.org"

	ua := signUp(t, h, a.PrimaryHost, addr, "fr")
	require.Equal(t, "fr", ua.Locale)
	msgs := m.wait(t, addr, 1, subjectHas(nameA))
	require.Len(t, msgs, 1)
	mail := msgs[0]
	require.Equal(t, "Confirmez votre adresse e-mail pour "+nameA, mail.Subject, "the subject is in the account's language")
	require.Contains(t, mail.Text, "Bonjour Ann,")
	require.Contains(t, mail.Text, nameA)
	require.Contains(t, mail.Header.Get("From"), nameA, "the email is signed by the city")
	require.Contains(t, mail.Header.Get("From"), "@"+a.PrimaryHost)
	ca := parseConfirmation(t, mail)
	require.Equal(t, a.PrimaryHost, ca.LinkHost, "the link points at the city's primary host")

	cookieA, csrfA := login(t, h, a.PrimaryHost, addr)
	require.Nil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookieA).EmailConfirmedAt)

	// The same person in a second city, whose code we make equal to the one
	// of city A: codes are per user and per city, so using it in A must not
	// touch B.
	ub := signUp(t, h, b.DefaultHost, addr, "")
	mb := m.wait(t, addr, 1, subjectHas(nameB))
	require.Equal(t, "Confirm your email address for "+nameB, mb[0].Subject, "B's account is in B's default language")
	cb := parseConfirmation(t, mb[0])
	require.Equal(t, b.DefaultHost, cb.LinkHost)
	require.Equal(t, ua.ID, ub.ID, "both are their city's first user, so equal codes have equal hashes")
	var hashA []byte
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(a), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &hashA,
			`SELECT short_hash FROM email_codes WHERE user_id = $1 AND purpose = 'confirm' AND used_at IS NULL`, ua.ID)
	}))
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(b), func(tx *tenant.Tx) error {
		res, err := tx.ExecContext(context.Background(),
			`UPDATE email_codes SET short_hash = $2 WHERE user_id = $1 AND purpose = 'confirm' AND used_at IS NULL`, ub.ID, hashA)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		require.EqualValues(t, 1, n, "B's user has one live confirmation code")
		return nil
	}))

	// A wrong code: 422 naming the rule, and nothing confirmed.
	p := requireProblem(t, confirmCode(t, h, a.PrimaryHost, cookieA, csrfA, otherCode(ca.Code)), http.StatusUnprocessableEntity, "invalid")
	require.Contains(t, p.Detail, "code")
	require.Nil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookieA).EmailConfirmedAt)
	// Malformed bodies are 422 too, never 500.
	requireProblem(t, h.call(t, "POST", a.PrimaryHost, "/api/v1/me/confirmation", `{"code":123456}`,
		"Cookie", cookieA, "X-CSRF-Token", csrfA), http.StatusUnprocessableEntity, "invalid")
	// Without the CSRF token a cookie request is refused.
	requireProblem(t, h.call(t, "POST", a.PrimaryHost, "/api/v1/me/confirmation", `{"code":"`+ca.Code+`"}`,
		"Cookie", cookieA), http.StatusForbidden, "forbidden")
	// Anonymous: 401.
	requireProblem(t, h.call(t, "POST", a.PrimaryHost, "/api/v1/me/confirmation", `{"code":"`+ca.Code+`"}`),
		http.StatusUnauthorized, "unauthenticated")

	// The right code: 200 with the confirmed user.
	r := confirmCode(t, h, a.PrimaryHost, cookieA, csrfA, ca.Code)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	confirmed := decodeUser(t, r)
	require.NotNil(t, confirmed.EmailConfirmedAt)
	at, err := time.Parse(time.RFC3339Nano, *confirmed.EmailConfirmedAt)
	require.NoError(t, err)
	require.WithinDuration(t, time.Now(), at, time.Minute)
	require.NotNil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookieA).EmailConfirmedAt)
	// A code works once.
	requireProblem(t, confirmCode(t, h, a.PrimaryHost, cookieA, csrfA, ca.Code), http.StatusUnprocessableEntity, "invalid")

	// B's user, holding the very same code, is still unconfirmed, and the
	// code still works there.
	cookieB, csrfB := login(t, h, b.DefaultHost, addr)
	require.Nil(t, getMe(t, h, b.DefaultHost, "Cookie", cookieB).EmailConfirmedAt)
	r = confirmCode(t, h, b.DefaultHost, cookieB, csrfB, ca.Code)
	require.Equal(t, http.StatusOK, r.Status, "the same code in city B, for B's user: %s", r.Body)
	require.NotNil(t, decodeUser(t, r).EmailConfirmedAt)

	// Exactly one email per registration: once all background work is done,
	// each city sent one confirmation to the address, recorded once.
	m.settle(t, a, b)
	require.Len(t, m.to(addr, subjectHas(nameA)), 1, "city A sent one email")
	require.Len(t, m.to(addr, subjectHas(nameB)), 1, "city B sent one email")
	require.Len(t, m.smtp.Messages(), 2)
	require.Equal(t, []delivery{{Campaign: "confirm", Event: "register", State: "sent"}}, m.ledger(t, a, ua.ID))
	require.Equal(t, []delivery{{Campaign: "confirm", Event: "register", State: "sent"}}, m.ledger(t, b, ub.ID))
}

// TestConfirmationByLink: the link in the email confirms the account once,
// on its own city's host only.
func TestConfirmationByLink(t *testing.T) {
	env := tenanttest.New(t)
	a := env.City(t, "linka", "participer.linka.example")
	b := env.City(t, "linkb")
	h := newHarness(t, env, serverOpts{})
	m := startMailer(t, env)
	const addr = "lien@example.org"

	signUp(t, h, a.PrimaryHost, addr, "fr")
	ca := parseConfirmation(t, m.wait(t, addr, 1, nil)[0])
	require.Equal(t, a.PrimaryHost, ca.LinkHost)
	cookie, _ := login(t, h, a.PrimaryHost, addr)

	// Opened on another city's host, the link means nothing: the token is
	// unknown in that city's schema. It is still good in its own city.
	r := h.get(t, b.DefaultHost, ca.LinkTarget, "Accept-Language", "fr-BE,fr;q=0.9")
	requireHTML(t, r, http.StatusUnprocessableEntity)
	require.Nil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookie).EmailConfirmedAt)

	// The citizen's browser (French, like the account) opens the link.
	r = h.get(t, ca.LinkHost, ca.LinkTarget, "Accept-Language", "fr-BE,fr;q=0.9,en;q=0.5")
	requireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, `<html lang="fr">`)
	require.Contains(t, r.Body, "Votre adresse e-mail est confirmée")
	require.NotNil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookie).EmailConfirmedAt)

	// The same link again: 422, explained.
	r = h.get(t, ca.LinkHost, ca.LinkTarget, "Accept-Language", "fr")
	requireHTML(t, r, http.StatusUnprocessableEntity)
	require.Contains(t, r.Body, "Ce code est erroné ou a expiré")
	// ... and on the other city too.
	requireHTML(t, h.get(t, b.DefaultHost, ca.LinkTarget), http.StatusUnprocessableEntity)
	// A link without a token, or with a wrong one, is 422 as well; one
	// that is not even text is a bad request (400): never a 500.
	requireHTML(t, h.get(t, a.PrimaryHost, "/confirm"), http.StatusUnprocessableEntity)
	requireHTML(t, h.get(t, a.PrimaryHost, "/confirm?token=nonsense"), http.StatusUnprocessableEntity)
	requireHTML(t, h.get(t, a.PrimaryHost, "/confirm?token=%00%ff"), http.StatusBadRequest)
	// The code of the same email was spent with its link.
	cookie, csrf := login(t, h, a.PrimaryHost, addr)
	requireProblem(t, confirmCode(t, h, a.PrimaryHost, cookie, csrf, ca.Code), http.StatusUnprocessableEntity, "invalid")

	t.Run("page in the account's language", func(t *testing.T) {
		const other = "deux@example.org"
		signUp(t, h, a.PrimaryHost, other, "fr")
		c := parseConfirmation(t, m.wait(t, other, 1, nil)[0])
		r := h.get(t, c.LinkHost, c.LinkTarget) // no Accept-Language, no locale cookie
		requireHTML(t, r, http.StatusOK)
		require.Contains(t, r.Body, `<html lang="fr">`)
		require.Contains(t, r.Body, "Votre adresse e-mail est confirmée")
	})
}

// TestPasswordReset: asking for a reset reveals nothing about which
// addresses have accounts; the emailed link sets a new password once, and
// every session and API token from before stops working.
func TestPasswordReset(t *testing.T) {
	env := tenanttest.New(t)
	c := env.City(t, "reset", "participer.reset.example")
	h := newHarness(t, env, serverOpts{})
	m := startMailer(t, env)
	host := c.PrimaryHost
	name := siteName(t, h, host)
	const addr, unknown = "known@example.org", "nobody@example.org"

	u := signUp(t, h, host, addr, "nl")
	m.wait(t, addr, 1, nil) // the confirmation email
	oldCookie, oldCSRF := login(t, h, host, addr)
	tok := h.call(t, "POST", host, "/api/v1/tokens", `{"name":"script"}`, "Cookie", oldCookie, "X-CSRF-Token", oldCSRF)
	require.Equal(t, http.StatusCreated, tok.Status, tok.Body)
	var td struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal([]byte(tok.Body), &td))
	bearer := "Bearer " + td.Token
	// A second session, from another device.
	otherCookie, _ := login(t, h, host, addr)

	known := h.call(t, "POST", host, "/api/v1/password-resets", `{"email":"`+addr+`"}`)
	missing := h.call(t, "POST", host, "/api/v1/password-resets", `{"email":"`+unknown+`"}`)
	require.Equal(t, http.StatusAccepted, known.Status, known.Body)
	require.Equal(t, known.Status, missing.Status)
	require.Equal(t, known.Body, missing.Body, "the answer must not tell which addresses have accounts")
	require.Equal(t, known.Header.Get("Content-Type"), missing.Header.Get("Content-Type"))
	// A malformed address is the caller's mistake: 422 naming the field.
	var pf problemField
	r := h.call(t, "POST", host, "/api/v1/password-resets", `{"email":"not an address"}`)
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid")
	require.NoError(t, json.Unmarshal([]byte(r.Body), &pf))
	require.Equal(t, "email", pf.Field)

	isReset := subjectHas("wachtwoord") // the account is Dutch
	resets := m.wait(t, addr, 1, isReset)
	m.settle(t, c)
	require.Len(t, m.to(addr, isReset), 1, "one reset email")
	require.Empty(t, m.smtp.To(unknown), "no email to an address without an account")
	reset := resets[0]
	require.Contains(t, reset.Subject, name)
	link := resetLinkRe.FindStringSubmatch(reset.Text)
	require.NotNil(t, link, "no /reset?token= link in:\n%s", reset.Text)
	require.Equal(t, host, link[2], "the link points at the city's primary host")
	lu, err := url.Parse(link[0])
	require.NoError(t, err)
	token := lu.Query().Get("token")
	require.NotEmpty(t, token)
	// The link opens the reset form.
	requireHTML(t, h.get(t, host, link[3]), http.StatusOK)

	complete := func(token, pw string) response {
		b, _ := json.Marshal(map[string]string{"token": token, "password": pw})
		return h.call(t, "POST", host, "/api/v1/password-resets/complete", string(b))
	}
	// A password that breaks the city's rule: 422 naming the field, and the
	// token is not spent.
	r = complete(token, "short")
	requireProblem(t, r, http.StatusUnprocessableEntity, "invalid")
	require.NoError(t, json.Unmarshal([]byte(r.Body), &pf))
	require.Equal(t, "password", pf.Field, r.Body)
	require.Contains(t, pf.Detail, "password")
	// A wrong token.
	requireProblem(t, complete("not-the-token", "a brand new passphrase"), http.StatusUnprocessableEntity, "invalid")

	r = complete(token, "a brand new passphrase")
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)
	require.Empty(t, r.Body)

	// The old password is dead, the new one works.
	requireProblem(t, h.call(t, "POST", host, "/api/v1/session", `{"email":"`+addr+`","password":"correct horse battery"}`),
		http.StatusUnauthorized, "unauthenticated")
	r = h.call(t, "POST", host, "/api/v1/session", `{"email":"`+addr+`","password":"a brand new passphrase"}`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	newCookie := sessionCookie(t, r)
	require.Equal(t, u.ID, getMe(t, h, host, "Cookie", newCookie).ID)

	// Every session and token from before the reset is rejected.
	requireProblem(t, h.call(t, "GET", host, "/api/v1/me", "", "Cookie", oldCookie), http.StatusUnauthorized, "unauthenticated")
	requireProblem(t, h.call(t, "GET", host, "/api/v1/me", "", "Cookie", otherCookie), http.StatusUnauthorized, "unauthenticated")
	requireProblem(t, h.call(t, "GET", host, "/api/v1/me", "", "Authorization", bearer), http.StatusUnauthorized, "unauthenticated")
	requireProblem(t, h.call(t, "POST", host, "/api/v1/tokens", `{"name":"again"}`, "Authorization", bearer),
		http.StatusUnauthorized, "unauthenticated")

	// The token works once.
	requireProblem(t, complete(token, "yet another passphrase"), http.StatusUnprocessableEntity, "invalid")
	r = h.call(t, "POST", host, "/api/v1/session", `{"email":"`+addr+`","password":"yet another passphrase"}`)
	requireProblem(t, r, http.StatusUnauthorized, "unauthenticated")
}

// TestResendConfirmation: a new confirmation email replaces the old code;
// a confirmed user has nothing to resend.
func TestResendConfirmation(t *testing.T) {
	env := tenanttest.New(t)
	c := env.City(t, "resend")
	h := newHarness(t, env, serverOpts{})
	m := startMailer(t, env)
	host := c.DefaultHost
	const addr = "again@example.org"

	u := signUp(t, h, host, addr, "")
	first := parseConfirmation(t, m.wait(t, addr, 1, nil)[0])
	cookie, csrf := login(t, h, host, addr)
	resend := func(headers ...string) response {
		return h.call(t, "POST", host, "/api/v1/me/confirmation/resend", "", headers...)
	}

	requireProblem(t, resend(), http.StatusUnauthorized, "unauthenticated")
	requireProblem(t, resend("Cookie", cookie), http.StatusForbidden, "forbidden")
	r := resend("Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	msgs := m.wait(t, addr, 2, nil)
	require.Len(t, msgs, 2)
	second := parseConfirmation(t, msgs[1])
	require.NotEqual(t, first.Token, second.Token, "a new link")

	// Once the new email is out, the old code and link are void.
	if first.Code != second.Code { // one chance in a million they are equal
		requireProblem(t, confirmCode(t, h, host, cookie, csrf, first.Code), http.StatusUnprocessableEntity, "invalid")
	}
	requireHTML(t, h.get(t, host, first.LinkTarget), http.StatusUnprocessableEntity)
	require.Nil(t, getMe(t, h, host, "Cookie", cookie).EmailConfirmedAt)

	r = confirmCode(t, h, host, cookie, csrf, second.Code)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.NotNil(t, decodeUser(t, r).EmailConfirmedAt)

	// Confirmed: nothing to resend.
	p := requireProblem(t, resend("Cookie", cookie, "X-CSRF-Token", csrf), http.StatusConflict, "conflict")
	require.Contains(t, p.Detail, "already confirmed")

	m.settle(t, c)
	require.Len(t, m.smtp.To(addr), 2, "one email at registration, one on resend")
	ledger := m.ledger(t, c, u.ID)
	require.Len(t, ledger, 2)
	require.Equal(t, delivery{Campaign: "confirm", Event: "register", State: "sent"}, ledger[0])
	require.Equal(t, "confirm", ledger[1].Campaign)
	require.Equal(t, "sent", ledger[1].State)
	require.NotEqual(t, "register", ledger[1].Event)
}

// requireRetryAfter checks a 429 and its Retry-After, in seconds within the
// limit's window.
func requireRetryAfter(t *testing.T, r response, window time.Duration) {
	t.Helper()
	requireProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	require.NoError(t, err, "Retry-After %q must be whole seconds", r.Header.Get("Retry-After"))
	require.Positive(t, secs)
	require.LessOrEqual(t, secs, int(window.Seconds()))
}

// TestAccountRateLimits: guessing codes, registering and asking for resets
// are limited per city, per user or address and per client IP.
func TestAccountRateLimits(t *testing.T) {
	env := tenanttest.New(t)
	c := env.City(t, "limits")
	h := newHarness(t, env, serverOpts{})
	m := startMailer(t, env)
	host := c.DefaultHost
	cityID := int64(c.ID)

	type account struct {
		addr, cookie, csrf, code string
	}
	newAccount := func(t *testing.T, addr string) account {
		t.Helper()
		signUp(t, h, host, addr, "")
		code := parseConfirmation(t, m.wait(t, addr, 1, nil)[0]).Code
		cookie, csrf := login(t, h, host, addr)
		return account{addr, cookie, csrf, code}
	}

	t.Run("confirmation code per user", func(t *testing.T) {
		flushRateLimits(t, cityID)
		ac := newAccount(t, "guess@example.org")
		wrong := otherCode(ac.code)
		for i := 1; i <= 10; i++ {
			requireProblem(t, confirmCode(t, h, host, ac.cookie, ac.csrf, wrong), http.StatusUnprocessableEntity, "invalid")
		}
		requireRetryAfter(t, confirmCode(t, h, host, ac.cookie, ac.csrf, wrong), 15*time.Minute)
		// Even the right code is refused while limited, and so is a resend
		// (the limit is shared).
		requireRetryAfter(t, confirmCode(t, h, host, ac.cookie, ac.csrf, ac.code), 15*time.Minute)
		requireRetryAfter(t, h.call(t, "POST", host, "/api/v1/me/confirmation/resend", "", "Cookie", ac.cookie, "X-CSRF-Token", ac.csrf),
			15*time.Minute)
		require.Nil(t, getMe(t, h, host, "Cookie", ac.cookie).EmailConfirmedAt)

		// When the window ends, the code is still void: it died after five
		// wrong guesses. A new one works.
		flushRateLimits(t, cityID)
		requireProblem(t, confirmCode(t, h, host, ac.cookie, ac.csrf, ac.code), http.StatusUnprocessableEntity, "invalid")
		r := h.call(t, "POST", host, "/api/v1/me/confirmation/resend", "", "Cookie", ac.cookie, "X-CSRF-Token", ac.csrf)
		require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		fresh := parseConfirmation(t, m.wait(t, ac.addr, 2, nil)[1])
		r = confirmCode(t, h, host, ac.cookie, ac.csrf, fresh.Code)
		require.Equal(t, http.StatusOK, r.Status, r.Body)
	})

	t.Run("confirmation code per client IP", func(t *testing.T) {
		flushRateLimits(t, cityID)
		var accounts []account
		for i := range 4 {
			accounts = append(accounts, newAccount(t, fmt.Sprintf("ip%d@example.org", i)))
		}
		// 30 wrong guesses from one IP, spread so no user reaches their own
		// limit, then the 31st is refused, whoever makes it.
		for _, ac := range accounts[:3] {
			for range 10 {
				requireProblem(t, confirmCode(t, h, host, ac.cookie, ac.csrf, otherCode(ac.code)), http.StatusUnprocessableEntity, "invalid")
			}
		}
		last := accounts[3]
		requireRetryAfter(t, confirmCode(t, h, host, last.cookie, last.csrf, last.code), 15*time.Minute)
		require.Nil(t, getMe(t, h, host, "Cookie", last.cookie).EmailConfirmedAt)
	})

	t.Run("the confirmation page and the API share the per-user limit", func(t *testing.T) {
		flushRateLimits(t, cityID)
		ac := newAccount(t, "shared@example.org")
		for range 10 {
			requireProblem(t, confirmCode(t, h, host, ac.cookie, ac.csrf, otherCode(ac.code)), http.StatusUnprocessableEntity, "invalid")
		}
		form := url.Values{"code": {otherCode(ac.code)}, "csrf_token": {ac.csrf}}.Encode()
		req, err := http.NewRequest("POST", h.ts.URL+"/confirm", strings.NewReader(form))
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", ac.cookie)
		res, err := h.client.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the 11th guess, made on the page")
	})

	t.Run("registration per client IP", func(t *testing.T) {
		flushRateLimits(t, cityID)
		for i := 1; i <= 10; i++ {
			signUp(t, h, host, fmt.Sprintf("many%d@example.org", i), "")
		}
		r := h.call(t, "POST", host, "/api/v1/users",
			`{"email":"many11@example.org","password":"correct horse battery","first_name":"A","last_name":"B"}`)
		requireRetryAfter(t, r, time.Hour)
		requireProblem(t, h.call(t, "POST", host, "/api/v1/session", `{"email":"many11@example.org","password":"correct horse battery"}`),
			http.StatusUnauthorized, "unauthenticated")
	})

	t.Run("password reset per address", func(t *testing.T) {
		flushRateLimits(t, cityID)
		for range 5 {
			r := h.call(t, "POST", host, "/api/v1/password-resets", `{"email":"guess@example.org"}`)
			require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		}
		requireRetryAfter(t, h.call(t, "POST", host, "/api/v1/password-resets", `{"email":"Guess@Example.org"}`), time.Hour)
		// Another address from the same IP is still served.
		r := h.call(t, "POST", host, "/api/v1/password-resets", `{"email":"ip0@example.org"}`)
		require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		m.settle(t, c)
		require.Len(t, m.smtp.To("guess@example.org"), 2+5, "two confirmations and five resets, not six")
	})

	t.Run("password reset per client IP", func(t *testing.T) {
		flushRateLimits(t, cityID)
		for i := 1; i <= 10; i++ {
			r := h.call(t, "POST", host, "/api/v1/password-resets", fmt.Sprintf(`{"email":"nobody%d@example.org"}`, i))
			require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		}
		requireRetryAfter(t, h.call(t, "POST", host, "/api/v1/password-resets", `{"email":"nobody11@example.org"}`), time.Hour)
		// Completing a reset counts against the same limit.
		requireRetryAfter(t, h.call(t, "POST", host, "/api/v1/password-resets/complete",
			`{"token":"x","password":"a brand new passphrase"}`), time.Hour)
	})
}

// TestRegistrationTellsNoOneWhoIsRegistered: signing up with an address
// that has an account answers exactly as for a new one, creates nothing,
// and emails the account's owner a notice instead, once a day however often
// someone tries.
func TestRegistrationTellsNoOneWhoIsRegistered(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "whoisthere")
	h := newHarness(t, env, serverOpts{})
	m := startMailer(t, env)
	const addr = "ann@example.org"
	owner := signUp(t, h, c.DefaultHost, addr, "")
	m.wait(t, addr, 1, subjectHas("Confirm your email address"))

	for _, typed := range []string{addr, " ANN@example.org"} {
		r := h.call(t, "POST", c.DefaultHost, "/api/v1/users",
			`{"email":"`+typed+`","password":"someone else's password","first_name":"Eve","last_name":"Doe"}`)
		require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		require.JSONEq(t, `{"status":"confirmation_sent","email":"ann@example.org"}`, r.Body, "as for a new address")
	}
	page := h.get(t, c.DefaultHost, "/register")
	form := url.Values{"csrf_token": {csrfFromPage(t, page)}, "email": {addr}, "password": {"someone else's password"},
		"first_name": {"Eve"}, "last_name": {"Doe"}}
	r := h.callForm(t, c.DefaultHost, "/register", form.Encode(), "Cookie", cookieFrom(page))
	requireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, "We sent an email to "+addr)
	require.NotContains(t, r.Header.Get("Set-Cookie"), "agora_session=", "nobody is logged in")

	m.settle(t, c)
	notices := m.to(addr, subjectHas("You already have an account on City whoisthere"))
	require.Len(t, notices, 1, "one notice a day, however often someone tries")
	require.Contains(t, notices[0].Text, "Hello Ann,")
	require.Contains(t, notices[0].Text, "http://"+c.PrimaryHost+"/login")
	require.Contains(t, notices[0].Text, "http://"+c.PrimaryHost+"/forgot")
	require.Len(t, m.to(addr, subjectHas("Confirm your email address")), 1, "no second confirmation")

	// Nothing changed: the account keeps its owner's password and name.
	require.Equal(t, owner.ID, accountOf(t, h, c.DefaultHost, addr).ID)
	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"ann@example.org","password":"someone else's password"}`),
		http.StatusUnauthorized, "unauthenticated")
	cookie, _ := login(t, h, c.DefaultHost, addr)
	require.Equal(t, owner.ID, getMe(t, h, c.DefaultHost, "Cookie", cookie).ID)
}
