package account_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/email/devsmtp"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// The account flows below run what a citizen's emails go through for real:
// the API writes the outbox, the outbox relay and the asynq worker (on Redis
// database flowRedisDB) send through SMTP, and an in-process SMTP server
// receives the mail. They share flowRedisDB, flushing it as they start, so
// they never run in parallel with each other.

// flowRedisDB is the Redis database these tests' worker uses. Not 0 (the web
// server's rate limits and a dev worker) and not 9 (the jobs tests).
const flowRedisDB = 8

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

func decodeUser(t *testing.T, r webtest.Response) userDoc {
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
func signUp(t *testing.T, h *webtest.Harness, host, addr, locale string) userDoc {
	t.Helper()
	body := map[string]string{"email": addr, "password": "correct horse battery", "first_name": "Ann", "last_name": "Peeters"}
	if locale != "" {
		body["locale"] = locale
	}
	b, _ := json.Marshal(body)
	r := h.Call(t, "POST", host, "/api/v1/users", string(b))
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	require.JSONEq(t, fmt.Sprintf(`{"status":"confirmation_sent","email":%q}`, strings.ToLower(addr)), r.Body)
	u := accountOf(t, h, host, addr)
	require.Nil(t, u.EmailConfirmedAt, "a new account starts unconfirmed")
	return u
}

// accountOf reads the account of addr in the city of host from its schema.
func accountOf(t testing.TB, h *webtest.Harness, host, addr string) userDoc {
	t.Helper()
	city, res, err := h.Env.Registry.Resolve(context.Background(), host)
	require.NoError(t, err)
	require.NotEqual(t, tenant.Unknown, res, host)
	var u userDoc
	require.NoError(t, h.Env.DB.InReadTx(tenanttest.Ctx(city), func(tx *tenant.Tx) error {
		return tx.QueryRowxContext(context.Background(), `SELECT id, email, locale, to_char(email_confirmed_at, 'YYYY-MM-DD"T"HH24:MI:SS')
			FROM users WHERE email = lower($1) AND deleted_at IS NULL`, addr).Scan(&u.ID, &u.Email, &u.Locale, &u.EmailConfirmedAt)
	}), addr)
	return u
}

func getMe(t *testing.T, h *webtest.Harness, host string, auth ...string) userDoc {
	t.Helper()
	r := h.Call(t, "GET", host, "/api/v1/me", "", auth...)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	return decodeUser(t, r)
}

func siteName(t *testing.T, h *webtest.Harness, host string) string {
	t.Helper()
	r := h.Get(t, host, "/api/v1/site")
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	var s webtest.SiteDoc
	require.NoError(t, json.Unmarshal([]byte(r.Body), &s))
	require.NotEmpty(t, s.Settings.Name)
	return s.Settings.Name
}

func confirmCode(t *testing.T, h *webtest.Harness, host, cookie, csrf, code string) webtest.Response {
	t.Helper()
	return h.Call(t, "POST", host, "/api/v1/me/confirmation", `{"code":"`+code+`"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
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
	h := webtest.New(t, env, webtest.Options{})
	m := webtest.StartMailer(t, env, webtest.MailOptions{RedisDB: flowRedisDB})
	require.Equal(t, "participer.villea.example", a.PrimaryHost)
	require.NotEqual(t, a.PrimaryHost, a.DefaultHost)
	nameA, nameB := siteName(t, h, a.PrimaryHost), siteName(t, h, b.DefaultHost)
	const addr = "ann@example.org"

	ua := signUp(t, h, a.PrimaryHost, addr, "fr")
	require.Equal(t, "fr", ua.Locale)
	msgs := m.Wait(t, addr, 1, subjectHas(nameA))
	require.Len(t, msgs, 1)
	mail := msgs[0]
	require.Equal(t, "Confirmez votre adresse e-mail pour "+nameA, mail.Subject, "the subject is in the account's language")
	require.Contains(t, mail.Text, "Bonjour Ann,")
	require.Contains(t, mail.Text, nameA)
	require.Contains(t, mail.Header.Get("From"), nameA, "the email is signed by the city")
	require.Contains(t, mail.Header.Get("From"), "@"+a.PrimaryHost)
	ca := parseConfirmation(t, mail)
	require.Equal(t, a.PrimaryHost, ca.LinkHost, "the link points at the city's primary host")

	cookieA, csrfA := h.Login(t, a.PrimaryHost, addr)
	require.Nil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookieA).EmailConfirmedAt)

	// The same person in a second city, whose code we make equal to the one
	// of city A: codes are per user and per city, so using it in A must not
	// touch B.
	ub := signUp(t, h, b.DefaultHost, addr, "")
	mb := m.Wait(t, addr, 1, subjectHas(nameB))
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
	p := webtest.RequireProblem(t, confirmCode(t, h, a.PrimaryHost, cookieA, csrfA, otherCode(ca.Code)), http.StatusUnprocessableEntity, "invalid")
	require.Contains(t, p.Detail, "code")
	require.Nil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookieA).EmailConfirmedAt)
	// Malformed bodies are 422 too, never 500.
	webtest.RequireProblem(t, h.Call(t, "POST", a.PrimaryHost, "/api/v1/me/confirmation", `{"code":123456}`,
		"Cookie", cookieA, "X-CSRF-Token", csrfA), http.StatusUnprocessableEntity, "invalid")
	// Without the CSRF token a cookie request is refused.
	webtest.RequireProblem(t, h.Call(t, "POST", a.PrimaryHost, "/api/v1/me/confirmation", `{"code":"`+ca.Code+`"}`,
		"Cookie", cookieA), http.StatusForbidden, "forbidden")
	// Anonymous: 401.
	webtest.RequireProblem(t, h.Call(t, "POST", a.PrimaryHost, "/api/v1/me/confirmation", `{"code":"`+ca.Code+`"}`),
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
	webtest.RequireProblem(t, confirmCode(t, h, a.PrimaryHost, cookieA, csrfA, ca.Code), http.StatusUnprocessableEntity, "invalid")

	// B's user, holding the very same code, is still unconfirmed, and the
	// code still works there.
	cookieB, csrfB := h.Login(t, b.DefaultHost, addr)
	require.Nil(t, getMe(t, h, b.DefaultHost, "Cookie", cookieB).EmailConfirmedAt)
	r = confirmCode(t, h, b.DefaultHost, cookieB, csrfB, ca.Code)
	require.Equal(t, http.StatusOK, r.Status, "the same code in city B, for B's user: %s", r.Body)
	require.NotNil(t, decodeUser(t, r).EmailConfirmedAt)

	// Exactly one email per registration: once all background work is done,
	// each city sent one confirmation to the address, recorded once.
	m.Settle(t, a, b)
	require.Len(t, m.To(addr, subjectHas(nameA)), 1, "city A sent one email")
	require.Len(t, m.To(addr, subjectHas(nameB)), 1, "city B sent one email")
	require.Len(t, m.SMTP.Messages(), 2)
	require.Equal(t, []webtest.Delivery{{Campaign: "confirm", Event: "register", State: "sent"}}, m.Ledger(t, a, ua.ID))
	require.Equal(t, []webtest.Delivery{{Campaign: "confirm", Event: "register", State: "sent"}}, m.Ledger(t, b, ub.ID))
}

// TestConfirmationByLink: the link in the email confirms the account once,
// on its own city's host only.
func TestConfirmationByLink(t *testing.T) {
	env := tenanttest.New(t)
	a := env.City(t, "linka", "participer.linka.example")
	b := env.City(t, "linkb")
	h := webtest.New(t, env, webtest.Options{})
	m := webtest.StartMailer(t, env, webtest.MailOptions{RedisDB: flowRedisDB})
	const addr = "lien@example.org"

	signUp(t, h, a.PrimaryHost, addr, "fr")
	ca := parseConfirmation(t, m.Wait(t, addr, 1, nil)[0])
	require.Equal(t, a.PrimaryHost, ca.LinkHost)
	cookie, _ := h.Login(t, a.PrimaryHost, addr)

	// Opened on another city's host, the link means nothing: the token is
	// unknown in that city's schema. It is still good in its own city.
	r := h.Get(t, b.DefaultHost, ca.LinkTarget, "Accept-Language", "fr-BE,fr;q=0.9")
	webtest.RequireHTML(t, r, http.StatusUnprocessableEntity)
	require.Nil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookie).EmailConfirmedAt)

	// The citizen's browser (French, like the account) opens the link.
	r = h.Get(t, ca.LinkHost, ca.LinkTarget, "Accept-Language", "fr-BE,fr;q=0.9,en;q=0.5")
	webtest.RequireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, `<html lang="fr">`)
	require.Contains(t, r.Body, "Votre adresse e-mail est confirmée")
	require.NotNil(t, getMe(t, h, a.PrimaryHost, "Cookie", cookie).EmailConfirmedAt)

	// The same link again: 422, explained.
	r = h.Get(t, ca.LinkHost, ca.LinkTarget, "Accept-Language", "fr")
	webtest.RequireHTML(t, r, http.StatusUnprocessableEntity)
	require.Contains(t, r.Body, "Ce code est erroné ou a expiré")
	// ... and on the other city too.
	webtest.RequireHTML(t, h.Get(t, b.DefaultHost, ca.LinkTarget), http.StatusUnprocessableEntity)
	// A link without a token, or with a wrong one, is 422 as well; one
	// that is not even text is a bad request (400): never a 500.
	webtest.RequireHTML(t, h.Get(t, a.PrimaryHost, "/confirm"), http.StatusUnprocessableEntity)
	webtest.RequireHTML(t, h.Get(t, a.PrimaryHost, "/confirm?token=nonsense"), http.StatusUnprocessableEntity)
	webtest.RequireHTML(t, h.Get(t, a.PrimaryHost, "/confirm?token=%00%ff"), http.StatusBadRequest)
	// The code of the same email was spent with its link.
	cookie, csrf := h.Login(t, a.PrimaryHost, addr)
	webtest.RequireProblem(t, confirmCode(t, h, a.PrimaryHost, cookie, csrf, ca.Code), http.StatusUnprocessableEntity, "invalid")

	t.Run("page in the account's language", func(t *testing.T) {
		const other = "deux@example.org"
		signUp(t, h, a.PrimaryHost, other, "fr")
		c := parseConfirmation(t, m.Wait(t, other, 1, nil)[0])
		r := h.Get(t, c.LinkHost, c.LinkTarget) // no Accept-Language, no locale cookie
		webtest.RequireHTML(t, r, http.StatusOK)
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
	h := webtest.New(t, env, webtest.Options{})
	m := webtest.StartMailer(t, env, webtest.MailOptions{RedisDB: flowRedisDB})
	host := c.PrimaryHost
	name := siteName(t, h, host)
	const addr, unknown = "known@example.org", "nobody@example.org"

	u := signUp(t, h, host, addr, "nl")
	m.Wait(t, addr, 1, nil) // the confirmation email
	oldCookie, oldCSRF := h.Login(t, host, addr)
	tok := h.Call(t, "POST", host, "/api/v1/tokens", `{"name":"script"}`, "Cookie", oldCookie, "X-CSRF-Token", oldCSRF)
	require.Equal(t, http.StatusCreated, tok.Status, tok.Body)
	var td struct {
		Token string `json:"token"`
	}
	require.NoError(t, json.Unmarshal([]byte(tok.Body), &td))
	bearer := "Bearer " + td.Token
	// A second session, from another device.
	otherCookie, _ := h.Login(t, host, addr)

	known := h.Call(t, "POST", host, "/api/v1/password-resets", `{"email":"`+addr+`"}`)
	missing := h.Call(t, "POST", host, "/api/v1/password-resets", `{"email":"`+unknown+`"}`)
	require.Equal(t, http.StatusAccepted, known.Status, known.Body)
	require.Equal(t, known.Status, missing.Status)
	require.Equal(t, known.Body, missing.Body, "the answer must not tell which addresses have accounts")
	require.Equal(t, known.Header.Get("Content-Type"), missing.Header.Get("Content-Type"))
	// A malformed address is the caller's mistake: 422 naming the field.
	var pf problemField
	r := h.Call(t, "POST", host, "/api/v1/password-resets", `{"email":"not an address"}`)
	webtest.RequireProblem(t, r, http.StatusUnprocessableEntity, "invalid")
	require.NoError(t, json.Unmarshal([]byte(r.Body), &pf))
	require.Equal(t, "email", pf.Field)

	isReset := subjectHas("wachtwoord") // the account is Dutch
	resets := m.Wait(t, addr, 1, isReset)
	m.Settle(t, c)
	require.Len(t, m.To(addr, isReset), 1, "one reset email")
	require.Empty(t, m.SMTP.To(unknown), "no email to an address without an account")
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
	webtest.RequireHTML(t, h.Get(t, host, link[3]), http.StatusOK)

	complete := func(token, pw string) webtest.Response {
		b, _ := json.Marshal(map[string]string{"token": token, "password": pw})
		return h.Call(t, "POST", host, "/api/v1/password-resets/complete", string(b))
	}
	// A password that breaks the city's rule: 422 naming the field, and the
	// token is not spent.
	r = complete(token, "short")
	webtest.RequireProblem(t, r, http.StatusUnprocessableEntity, "invalid")
	require.NoError(t, json.Unmarshal([]byte(r.Body), &pf))
	require.Equal(t, "password", pf.Field, r.Body)
	require.Contains(t, pf.Detail, "password")
	// A wrong token.
	webtest.RequireProblem(t, complete("not-the-token", "a brand new passphrase"), http.StatusUnprocessableEntity, "invalid")

	r = complete(token, "a brand new passphrase")
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)
	require.Empty(t, r.Body)

	// The old password is dead, the new one works.
	webtest.RequireProblem(t, h.Call(t, "POST", host, "/api/v1/session", `{"email":"`+addr+`","password":"correct horse battery"}`),
		http.StatusUnauthorized, "unauthenticated")
	r = h.Call(t, "POST", host, "/api/v1/session", `{"email":"`+addr+`","password":"a brand new passphrase"}`)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	newCookie := webtest.SessionCookie(t, r)
	require.Equal(t, u.ID, getMe(t, h, host, "Cookie", newCookie).ID)

	// Every session and token from before the reset is rejected.
	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/me", "", "Cookie", oldCookie), http.StatusUnauthorized, "unauthenticated")
	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/me", "", "Cookie", otherCookie), http.StatusUnauthorized, "unauthenticated")
	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/me", "", "Authorization", bearer), http.StatusUnauthorized, "unauthenticated")
	webtest.RequireProblem(t, h.Call(t, "POST", host, "/api/v1/tokens", `{"name":"again"}`, "Authorization", bearer),
		http.StatusUnauthorized, "unauthenticated")

	// The token works once.
	webtest.RequireProblem(t, complete(token, "yet another passphrase"), http.StatusUnprocessableEntity, "invalid")
	r = h.Call(t, "POST", host, "/api/v1/session", `{"email":"`+addr+`","password":"yet another passphrase"}`)
	webtest.RequireProblem(t, r, http.StatusUnauthorized, "unauthenticated")
}

// TestResendConfirmation: a new confirmation email replaces the old code;
// a confirmed user has nothing to resend.
func TestResendConfirmation(t *testing.T) {
	env := tenanttest.New(t)
	c := env.City(t, "resend")
	h := webtest.New(t, env, webtest.Options{})
	m := webtest.StartMailer(t, env, webtest.MailOptions{RedisDB: flowRedisDB})
	host := c.DefaultHost
	const addr = "again@example.org"

	u := signUp(t, h, host, addr, "")
	first := parseConfirmation(t, m.Wait(t, addr, 1, nil)[0])
	cookie, csrf := h.Login(t, host, addr)
	resend := func(headers ...string) webtest.Response {
		return h.Call(t, "POST", host, "/api/v1/me/confirmation/resend", "", headers...)
	}

	webtest.RequireProblem(t, resend(), http.StatusUnauthorized, "unauthenticated")
	webtest.RequireProblem(t, resend("Cookie", cookie), http.StatusForbidden, "forbidden")
	r := resend("Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	msgs := m.Wait(t, addr, 2, nil)
	require.Len(t, msgs, 2)
	second := parseConfirmation(t, msgs[1])
	require.NotEqual(t, first.Token, second.Token, "a new link")

	// Once the new email is out, the old code and link are void.
	if first.Code != second.Code { // one chance in a million they are equal
		webtest.RequireProblem(t, confirmCode(t, h, host, cookie, csrf, first.Code), http.StatusUnprocessableEntity, "invalid")
	}
	webtest.RequireHTML(t, h.Get(t, host, first.LinkTarget), http.StatusUnprocessableEntity)
	require.Nil(t, getMe(t, h, host, "Cookie", cookie).EmailConfirmedAt)

	r = confirmCode(t, h, host, cookie, csrf, second.Code)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.NotNil(t, decodeUser(t, r).EmailConfirmedAt)

	// Confirmed: nothing to resend.
	p := webtest.RequireProblem(t, resend("Cookie", cookie, "X-CSRF-Token", csrf), http.StatusConflict, "conflict")
	require.Contains(t, p.Detail, "already confirmed")

	m.Settle(t, c)
	require.Len(t, m.SMTP.To(addr), 2, "one email at registration, one on resend")
	ledger := m.Ledger(t, c, u.ID)
	require.Len(t, ledger, 2)
	require.Equal(t, webtest.Delivery{Campaign: "confirm", Event: "register", State: "sent"}, ledger[0])
	require.Equal(t, "confirm", ledger[1].Campaign)
	require.Equal(t, "sent", ledger[1].State)
	require.NotEqual(t, "register", ledger[1].Event)
}

// requireRetryAfter checks a 429 and its Retry-After, in seconds within the
// limit's window.
func requireRetryAfter(t *testing.T, r webtest.Response, window time.Duration) {
	t.Helper()
	webtest.RequireProblem(t, r, http.StatusTooManyRequests, "rate_limited")
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
	h := webtest.New(t, env, webtest.Options{})
	m := webtest.StartMailer(t, env, webtest.MailOptions{RedisDB: flowRedisDB})
	host := c.DefaultHost
	cityID := c.ID

	type account struct {
		addr, cookie, csrf, code string
	}
	newAccount := func(t *testing.T, addr string) account {
		t.Helper()
		signUp(t, h, host, addr, "")
		code := parseConfirmation(t, m.Wait(t, addr, 1, nil)[0]).Code
		cookie, csrf := h.Login(t, host, addr)
		return account{addr, cookie, csrf, code}
	}

	t.Run("confirmation code per user", func(t *testing.T) {
		webtest.FlushRateLimits(t, cityID)
		ac := newAccount(t, "guess@example.org")
		wrong := otherCode(ac.code)
		for i := 1; i <= 10; i++ {
			webtest.RequireProblem(t, confirmCode(t, h, host, ac.cookie, ac.csrf, wrong), http.StatusUnprocessableEntity, "invalid")
		}
		requireRetryAfter(t, confirmCode(t, h, host, ac.cookie, ac.csrf, wrong), 15*time.Minute)
		// Even the right code is refused while limited, and so is a resend
		// (the limit is shared).
		requireRetryAfter(t, confirmCode(t, h, host, ac.cookie, ac.csrf, ac.code), 15*time.Minute)
		requireRetryAfter(t, h.Call(t, "POST", host, "/api/v1/me/confirmation/resend", "", "Cookie", ac.cookie, "X-CSRF-Token", ac.csrf),
			15*time.Minute)
		require.Nil(t, getMe(t, h, host, "Cookie", ac.cookie).EmailConfirmedAt)

		// When the window ends, the code is still void: it died after five
		// wrong guesses. A new one works.
		webtest.FlushRateLimits(t, cityID)
		webtest.RequireProblem(t, confirmCode(t, h, host, ac.cookie, ac.csrf, ac.code), http.StatusUnprocessableEntity, "invalid")
		r := h.Call(t, "POST", host, "/api/v1/me/confirmation/resend", "", "Cookie", ac.cookie, "X-CSRF-Token", ac.csrf)
		require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		fresh := parseConfirmation(t, m.Wait(t, ac.addr, 2, nil)[1])
		r = confirmCode(t, h, host, ac.cookie, ac.csrf, fresh.Code)
		require.Equal(t, http.StatusOK, r.Status, r.Body)
	})

	t.Run("confirmation code per client IP", func(t *testing.T) {
		webtest.FlushRateLimits(t, cityID)
		var accounts []account
		for i := range 4 {
			accounts = append(accounts, newAccount(t, fmt.Sprintf("ip%d@example.org", i)))
		}
		// 30 wrong guesses from one IP, spread so no user reaches their own
		// limit, then the 31st is refused, whoever makes it.
		for _, ac := range accounts[:3] {
			for range 10 {
				webtest.RequireProblem(t, confirmCode(t, h, host, ac.cookie, ac.csrf, otherCode(ac.code)), http.StatusUnprocessableEntity, "invalid")
			}
		}
		last := accounts[3]
		requireRetryAfter(t, confirmCode(t, h, host, last.cookie, last.csrf, last.code), 15*time.Minute)
		require.Nil(t, getMe(t, h, host, "Cookie", last.cookie).EmailConfirmedAt)
	})

	t.Run("the confirmation page and the API share the per-user limit", func(t *testing.T) {
		webtest.FlushRateLimits(t, cityID)
		ac := newAccount(t, "shared@example.org")
		for range 10 {
			webtest.RequireProblem(t, confirmCode(t, h, host, ac.cookie, ac.csrf, otherCode(ac.code)), http.StatusUnprocessableEntity, "invalid")
		}
		form := url.Values{"code": {otherCode(ac.code)}, "csrf_token": {ac.csrf}}.Encode()
		req, err := http.NewRequest("POST", h.URL+"/confirm", strings.NewReader(form))
		require.NoError(t, err)
		req.Host = host
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", ac.cookie)
		res, err := h.Client.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "the 11th guess, made on the page")
	})

	t.Run("registration per client IP", func(t *testing.T) {
		webtest.FlushRateLimits(t, cityID)
		for i := 1; i <= 10; i++ {
			signUp(t, h, host, fmt.Sprintf("many%d@example.org", i), "")
		}
		r := h.Call(t, "POST", host, "/api/v1/users",
			`{"email":"many11@example.org","password":"correct horse battery","first_name":"A","last_name":"B"}`)
		requireRetryAfter(t, r, time.Hour)
		webtest.RequireProblem(t, h.Call(t, "POST", host, "/api/v1/session", `{"email":"many11@example.org","password":"correct horse battery"}`),
			http.StatusUnauthorized, "unauthenticated")
	})

	t.Run("password reset per address", func(t *testing.T) {
		webtest.FlushRateLimits(t, cityID)
		for range 5 {
			r := h.Call(t, "POST", host, "/api/v1/password-resets", `{"email":"guess@example.org"}`)
			require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		}
		requireRetryAfter(t, h.Call(t, "POST", host, "/api/v1/password-resets", `{"email":"Guess@Example.org"}`), time.Hour)
		// Another address from the same IP is still served.
		r := h.Call(t, "POST", host, "/api/v1/password-resets", `{"email":"ip0@example.org"}`)
		require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		m.Settle(t, c)
		require.Len(t, m.SMTP.To("guess@example.org"), 2+5, "two confirmations and five resets, not six")
	})

	t.Run("password reset per client IP", func(t *testing.T) {
		webtest.FlushRateLimits(t, cityID)
		for i := 1; i <= 10; i++ {
			r := h.Call(t, "POST", host, "/api/v1/password-resets", fmt.Sprintf(`{"email":"nobody%d@example.org"}`, i))
			require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		}
		requireRetryAfter(t, h.Call(t, "POST", host, "/api/v1/password-resets", `{"email":"nobody11@example.org"}`), time.Hour)
		// Completing a reset counts against the same limit.
		requireRetryAfter(t, h.Call(t, "POST", host, "/api/v1/password-resets/complete",
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
	h := webtest.New(t, env, webtest.Options{})
	m := webtest.StartMailer(t, env, webtest.MailOptions{RedisDB: flowRedisDB})
	const addr = "ann@example.org"
	owner := signUp(t, h, c.DefaultHost, addr, "")
	m.Wait(t, addr, 1, subjectHas("Confirm your email address"))

	for _, typed := range []string{addr, " ANN@example.org"} {
		r := h.Call(t, "POST", c.DefaultHost, "/api/v1/users",
			`{"email":"`+typed+`","password":"someone else's password","first_name":"Eve","last_name":"Doe"}`)
		require.Equal(t, http.StatusAccepted, r.Status, r.Body)
		require.JSONEq(t, `{"status":"confirmation_sent","email":"ann@example.org"}`, r.Body, "as for a new address")
	}
	page := h.Get(t, c.DefaultHost, "/register")
	form := url.Values{"csrf_token": {webtest.CSRFFromPage(t, page)}, "email": {addr}, "password": {"someone else's password"},
		"first_name": {"Eve"}, "last_name": {"Doe"}}
	r := h.CallForm(t, c.DefaultHost, "/register", form.Encode(), "Cookie", webtest.CookieFrom(page))
	webtest.RequireHTML(t, r, http.StatusOK)
	require.Contains(t, r.Body, "We sent an email to "+addr)
	require.NotContains(t, r.Header.Get("Set-Cookie"), "agora_session=", "nobody is logged in")

	m.Settle(t, c)
	notices := m.To(addr, subjectHas("You already have an account on City whoisthere"))
	require.Len(t, notices, 1, "one notice a day, however often someone tries")
	require.Contains(t, notices[0].Text, "Hello Ann,")
	require.Contains(t, notices[0].Text, "http://"+c.PrimaryHost+"/login")
	require.Contains(t, notices[0].Text, "http://"+c.PrimaryHost+"/forgot")
	require.Len(t, m.To(addr, subjectHas("Confirm your email address")), 1, "no second confirmation")

	// Nothing changed: the account keeps its owner's password and name.
	require.Equal(t, owner.ID, accountOf(t, h, c.DefaultHost, addr).ID)
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"ann@example.org","password":"someone else's password"}`),
		http.StatusUnauthorized, "unauthenticated")
	cookie, _ := h.Login(t, c.DefaultHost, addr)
	require.Equal(t, owner.ID, getMe(t, h, c.DefaultHost, "Cookie", cookie).ID)
}
