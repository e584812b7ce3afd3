package account_test

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"agora/domain/email/devsmtp"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// workerRedisDB is the Redis database of the worker TestAccountInBrowser
// runs; nothing else in this package uses it (account_flow_test.go has 8,
// the jobs tests 9).
const workerRedisDB = 7

var browserConfirmLink = regexp.MustCompile(`http://\S+/confirm\?token=[A-Za-z0-9_\-]+`)

// TestAccountInBrowser walks a citizen's account through headless Chromium
// with only forms and links, the way someone without JavaScript would: sign
// up, receive the confirmation email from the real worker over SMTP, confirm
// with its link, log out and in, edit the profile into French, log out; then
// a wrong password and a too-short password show their errors where the
// visitor looks for them.
func TestAccountInBrowser(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	h := webtest.New(t, env, webtest.Options{})
	c := env.City(t, "leuven")
	base := "http://" + c.DefaultHost + ":" + h.Port

	// The real worker sends through SMTP, with portal links on the test
	// listener's port.
	mailSrv := webtest.StartMailer(t, env, webtest.MailOptions{RedisDB: workerRedisDB, Port: h.Port}).SMTP

	br := webtest.StartBrowser(t, 3*time.Minute, chromedp.Flag("lang", "en-US"))
	bctx := br.Ctx

	// open loads a page by URL (a path on the city, or a full URL) and
	// returns its final status.
	open := func(target string) int64 {
		t.Helper()
		if strings.HasPrefix(target, "/") {
			target = base + target
		}
		res, err := chromedp.RunResponse(bctx, chromedp.Navigate(target))
		require.NoError(t, err, "open %s", target)
		return res.Status
	}
	// press clicks a button or link that leads to a new page and returns its
	// status (after redirects).
	press := func(sel string) int64 {
		t.Helper()
		res, err := chromedp.RunResponse(bctx, chromedp.Click(chromedp.CSS(sel)))
		require.NoError(t, err, "click %s", sel)
		require.NotNil(t, res, "click %s led nowhere", sel)
		return res.Status
	}
	typeInto := func(sel, text string) {
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, chromedp.SendKeys(chromedp.CSS(sel), text)), "type into %s", sel)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, "text of %s", sel)
		return strings.TrimSpace(s)
	}
	value := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Value(chromedp.CSS(sel)))
		require.NoError(t, err, "value of %s", sel)
		return s
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](js))
		require.NoError(t, err, "evaluate %s", js)
		return s
	}
	present := func(sel string) bool {
		t.Helper()
		ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, sel)))
		require.NoError(t, err)
		return ok
	}
	path := func() string { return eval(`location.pathname + location.search`) }

	const (
		addr       = "ann.peeters@example.net"
		pw         = "correct horse battery"
		logoutBtn  = `header.site-header form[action="/logout"] button[type=submit]`
		loginLink  = `header.site-header a[href="/login"]`
		profileNav = `header.site-header a[href="/profile"]`
	)

	// Sign up.
	require.EqualValues(t, http.StatusOK, open("/register"))
	require.Equal(t, "Create your account", text(`main h1`))
	typeInto(`#first_name`, "Ann")
	typeInto(`#last_name`, "Peeters")
	typeInto(`#email`, addr)
	typeInto(`#password`, pw)
	require.EqualValues(t, http.StatusOK, press(`form[action="/register"] button[type=submit]`))
	// The same answer as for an address that has an account: check your
	// email (registration tells no one who is registered).
	require.Equal(t, "/register", path())
	require.Equal(t, "Check your email", text(`main h1`))
	require.Equal(t, "We sent an email to "+addr+". Follow the link in it to confirm your address, then log in. "+
		"Nothing arrived after a few minutes? Look in your spam folder.", text(`.notice`))
	require.True(t, present(loginLink), "registering does not log in")

	// The confirmation email, sent by the worker through SMTP.
	wctx, wcancel := context.WithTimeout(bctx, 15*time.Second)
	defer wcancel()
	_, err := mailSrv.Wait(wctx, func([]devsmtp.Message) bool { return len(mailSrv.To(addr)) > 0 })
	require.NoError(t, err, "the confirmation email never arrived")
	msgs := mailSrv.To(addr)
	require.Equal(t, 1, len(msgs), "confirmation emails")
	m := msgs[0]
	require.Equal(t, "Confirm your email address for City leuven", m.Subject)
	from, err := mail.ParseAddress(m.Header.Get("From"))
	require.NoError(t, err)
	require.Equal(t, "City leuven", from.Name)
	require.Equal(t, "noreply@"+c.PrimaryHost, from.Address)
	require.Contains(t, m.Text, "Hello Ann,")
	require.Regexp(t, `(?m)^\s+\d{6}\s*$`, m.Text, "the six-digit code")
	link := browserConfirmLink.FindString(m.Text)
	require.True(t, strings.HasPrefix(link, base+"/confirm?token="), "link %q is not on the city's portal %s", link, base)

	// Follow the link: confirmed. It works once.
	require.EqualValues(t, http.StatusOK, open(link))
	require.Equal(t, "Email confirmation", text(`main h1`))
	require.Equal(t, "Your email address is confirmed. Thank you!", text(`.notice`))
	require.False(t, present(`.form-error`))
	require.GreaterOrEqual(t, open(link), int64(400), "a confirmation link works once")
	require.Equal(t, "This code is wrong or has expired.", text(`.form-error`))

	// Log in: the profile no longer asks for confirmation.
	require.EqualValues(t, http.StatusOK, open("/login"))
	typeInto(`#email`, addr)
	typeInto(`#password`, pw)
	require.EqualValues(t, http.StatusOK, press(`form[action="/login"] button[type=submit]`))
	require.Equal(t, "Ann", text(profileNav), "the header shows who is logged in")
	require.EqualValues(t, http.StatusOK, open("/profile"))
	require.Equal(t, "Your profile", text(`main h1`))
	require.Equal(t, addr, text(`main .muted`))
	require.False(t, present(`.callout`), "the confirm box is still shown after confirmation")

	// Log out with the header button.
	require.EqualValues(t, http.StatusOK, press(logoutBtn))
	require.Equal(t, "/", path())
	require.Equal(t, "Log in", text(loginLink))
	require.False(t, present(profileNav), "still shown as logged in")

	// The profile asks to log in first, then comes back.
	require.EqualValues(t, http.StatusOK, open("/profile"))
	require.Equal(t, "/login?next=%2Fprofile", path())
	typeInto(`#email`, addr)
	typeInto(`#password`, pw)
	require.EqualValues(t, http.StatusOK, press(`form[action="/login"] button[type=submit]`))
	require.Equal(t, "/profile", path())
	require.Equal(t, "Ann", text(profileNav))
	require.False(t, present(`.callout`))

	// Edit the profile: a bio, and French.
	const bio = "I cycle to work along the Dijle every day."
	typeInto(`#bio`, bio)
	require.Equal(t, "en", value(`#locale`))
	typeInto(`#locale`, "Fr") // type-ahead on the focused list, as a keyboard user does
	require.Equal(t, "fr", value(`#locale`))
	require.EqualValues(t, http.StatusOK, press(`form[action="/profile"] button[type=submit]`))
	require.Equal(t, "/profile?saved=1", path())
	require.Equal(t, "fr", eval(`document.documentElement.lang`), "the page follows the language just chosen")
	require.Equal(t, "Votre profil a été enregistré.", text(`.notice`))
	require.Equal(t, "Votre profil", text(`main h1`))
	require.Equal(t, bio, value(`#bio`))
	require.Equal(t, "fr", value(`#locale`))
	require.Equal(t, "Ann", value(`#first_name`))

	png, err := chromedp.Run(bctx, chromedp.FullScreenshot(100))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(png), "\x89PNG"), "a PNG screenshot")
	f, err := os.CreateTemp(t.TempDir(), "agora-profile-*.png")
	require.NoError(t, err)
	_, err = f.Write(png)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	t.Logf("screenshot of the profile page: %s", f.Name())

	// Log out: the home page, still in French.
	require.EqualValues(t, http.StatusOK, press(logoutBtn))
	require.Equal(t, "/", path())
	require.Equal(t, "Se connecter", text(loginLink))
	require.False(t, present(profileNav))

	// A wrong password: the translated error, the email kept, the password not.
	require.EqualValues(t, http.StatusOK, press(loginLink))
	require.Equal(t, "/login", path())
	typeInto(`#email`, addr)
	typeInto(`#password`, "not my password")
	require.EqualValues(t, http.StatusUnauthorized, press(`form[action="/login"] button[type=submit]`))
	require.Equal(t, "/login", path())
	require.Equal(t, "Adresse e-mail ou mot de passe incorrect.", text(`.form-error`))
	require.Equal(t, "alert", eval(`document.querySelector('.form-error').getAttribute('role')`))
	require.Equal(t, addr, value(`#email`))
	require.Empty(t, value(`#password`))
	require.False(t, present(profileNav), "a wrong password logged in")

	// Sign up with a too-short password: the error sits by the password
	// field, which is marked invalid; what was typed elsewhere is kept.
	require.EqualValues(t, http.StatusOK, open("/register"))
	typeInto(`#first_name`, "Bert")
	typeInto(`#last_name`, "Claes")
	typeInto(`#email`, "bert@example.net")
	typeInto(`#password`, "short")
	require.EqualValues(t, http.StatusUnprocessableEntity, press(`form[action="/register"] button[type=submit]`))
	require.Equal(t, "/register", path())
	require.Equal(t, "true", eval(`document.getElementById('password').getAttribute('aria-invalid') || ''`))
	require.Equal(t, "password-error", eval(`document.getElementById('password').getAttribute('aria-describedby') || ''`))
	require.Equal(t, "password-error", eval(`document.getElementById('password').nextElementSibling.id`),
		"the error follows the password field")
	require.Equal(t, "Utilisez au moins 10 caractères.", text(`#password-error`))
	for _, id := range []string{"first_name", "last_name", "email"} {
		require.Empty(t, eval(fmt.Sprintf(`document.getElementById(%q).getAttribute('aria-invalid') || ''`, id)), "%s marked invalid", id)
	}
	require.Equal(t, "Bert", value(`#first_name`))
	require.Equal(t, "bert@example.net", value(`#email`))
	require.Empty(t, value(`#password`))
	require.False(t, present(profileNav), "a refused sign-up logged in")

	br.RequireCleanConsole(t)
}
