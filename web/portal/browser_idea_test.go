package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"agora/domain/permission"
	"agora/domain/project"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestIdeaFlowInBrowser walks an idea through headless Chromium with only
// forms and links: a citizen with a confirmed email logs in, posts an idea
// from the project page, comments on it and likes it; a project moderator
// (a citizen listed in project_moderators, not an admin) moves it to "Under
// consideration" with a note and publishes official feedback from the idea
// page; the citizen then sees the new status, the feedback and the two
// notifications about them.
func TestIdeaFlowInBrowser(t *testing.T) {
	t.Parallel()
	confirmed := project.Rule{Level: permission.Confirmed}
	s := webtest.NewIdeaCity(t, "ideaflow",
		project.Permissions{permission.Post: confirmed, permission.Comment: confirmed, permission.React: confirmed})
	h, c, project, env := s.H, s.City, s.Project, s.Env
	base := "http://" + c.DefaultHost + ":" + h.Port

	const (
		citizenAddr = "cit@example.org"
		modAddr     = "mod@example.org"
		pw          = fixture.Password // what Register and fixture.User give every test user
	)
	h.Register(t, c.DefaultHost, citizenAddr) // Ann Peeters
	modID := fixture.User(t, env, c, fixture.UserOpts{Email: modAddr, FirstName: "Staff", LastName: "citizen"}).ID
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		if _, err := tx.ExecContext(context.Background(), `UPDATE users SET email_confirmed_at = now() WHERE email = $1`, citizenAddr); err != nil {
			return err
		}
		_, err := tx.ExecContext(context.Background(), `INSERT INTO project_moderators (project_id, user_id) VALUES ($1, $2)`, project, modID)
		return err
	}))

	br := webtest.StartBrowser(t, 3*time.Minute, chromedp.Flag("lang", "en-US"))
	bctx := br.Ctx

	// open loads a path on the city and returns its final status.
	open := func(target string) int64 {
		t.Helper()
		res, err := chromedp.RunResponse(bctx, chromedp.Navigate(base+target))
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
	click := func(sel string) { // on the page, without leaving it
		t.Helper()
		require.NoError(t, chromedp.Do(bctx, chromedp.Click(chromedp.CSS(sel))), "click %s", sel)
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
	texts := func(sel string) []string {
		t.Helper()
		ts, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](fmt.Sprintf(
			`Array.from(document.querySelectorAll(%q)).map(e => e.textContent.replace(/\s+/g, ' ').trim())`, sel)))
		require.NoError(t, err, "texts of %s", sel)
		return ts
	}
	value := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Value(chromedp.CSS(sel)))
		require.NoError(t, err, "value of %s", sel)
		return s
	}
	attr := func(sel, name string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](fmt.Sprintf(
			`document.querySelector(%q).getAttribute(%q) || ''`, sel, name)))
		require.NoError(t, err, "attribute %s of %s", name, sel)
		return s
	}
	present := func(sel string) bool {
		t.Helper()
		ok, err := chromedp.Run(bctx, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q) !== null`, sel)))
		require.NoError(t, err)
		return ok
	}
	path := func() string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](`location.pathname + location.search`))
		require.NoError(t, err)
		return s
	}

	const (
		profileNav = `header.site-header a[href="/profile"]`
		logoutBtn  = `header.site-header form[action="/logout"] button[type=submit]`
		loginBtn   = `form[action="/login"] button[type=submit]`
	)
	// logIn logs in through the /login page and comes back to next.
	logIn := func(addr, next, firstName string) {
		t.Helper()
		require.EqualValues(t, http.StatusOK, open("/login?next="+url.QueryEscape(next)))
		typeInto(`#email`, addr)
		typeInto(`#password`, pw)
		require.EqualValues(t, http.StatusOK, press(loginBtn))
		require.Equal(t, next, path())
		require.Equal(t, firstName, text(profileNav), "the header shows who is logged in")
	}
	logOut := func() {
		t.Helper()
		require.EqualValues(t, http.StatusOK, press(logoutBtn))
		require.Equal(t, "/", path())
		require.False(t, present(profileNav), "still shown as logged in")
	}

	// 1. The citizen posts an idea from the project page. The form sits in a
	// closed <details>: it has to be opened before it can be typed into.
	const (
		ideaTitle = "A bench by the river"
		ideaBody  = "Somewhere to sit and watch the boats go by."
	)
	logIn(citizenAddr, "/projects/ideas", "Ann")
	require.Equal(t, "Ideas", text(`article.project .hero h1`))
	require.Equal(t, "No idea yet. Be the first!", text(`ul.ideas li`))
	require.Equal(t, "Post an idea", text(`details.post-idea summary`))
	click(`details.post-idea summary`)
	typeInto(`details.post-idea #title`, ideaTitle)
	typeInto(`details.post-idea #body`, ideaBody)
	require.EqualValues(t, http.StatusOK, press(`form[action="/projects/ideas/ideas"] button[type=submit]`))
	ideaPath := path()
	require.Regexp(t, `^/ideas/\d+$`, ideaPath, "posting lands on the new idea's page")
	require.Equal(t, ideaTitle, text(`article.idea h1`))
	require.Equal(t, ideaBody, text(`article.idea .rich`))
	require.Equal(t, "Proposed", text(`article.idea span.status-label`), "a new idea's status")
	require.Contains(t, text(`article.idea > p.small`), "Ann P.", "the author is shown")
	require.Equal(t, "(0)", text(`#comments-h .muted`))
	require.False(t, present(`section.staff`), "a citizen sees no staff forms")
	require.False(t, present(`section.feedback`), "no feedback yet")

	// 2. A comment through the comment form.
	const comment = "I would use it every Sunday."
	typeInto(`#comment-body`, comment)
	require.EqualValues(t, http.StatusOK, press(`form[action="`+ideaPath+`/comments"]:not(:has(input[name=parent_id])) button[type=submit]`))
	require.Equal(t, ideaPath, path())
	require.Equal(t, []string{comment}, texts(`ol.comments > li.comment > .rich`))
	require.Contains(t, text(`ol.comments > li.comment > p.small`), "Ann P.")
	require.Equal(t, "(1)", text(`#comments-h .muted`), "the comment count")
	require.False(t, present(`#comment-error`))

	// 3. Like: the count goes to 1 and the button shows as pressed.
	like := `form[action="` + ideaPath + `/reaction"] button[value=like]`
	require.Equal(t, "👍 Like (0)", text(like))
	require.Equal(t, "false", attr(like, "aria-pressed"))
	require.Contains(t, attr(like, "class"), "secondary", "an unpressed button is secondary")
	require.EqualValues(t, http.StatusOK, press(like))
	require.Equal(t, ideaPath, path())
	require.Equal(t, "👍 Like (1)", text(like))
	require.Equal(t, "true", attr(like, "aria-pressed"), "the like button shows as pressed")
	require.NotContains(t, attr(like, "class"), "secondary", "a pressed button is primary")
	require.Equal(t, "👎 Dislike (0)", text(`form[action="`+ideaPath+`/reaction"] button[value=dislike]`))
	logOut()

	// 4. The project moderator (a citizen by role) answers from the idea page.
	logIn(modAddr, ideaPath, "Staff")
	require.False(t, present(`header.site-header a[href="/admin/projects"]`), "the moderator is no admin")
	require.True(t, present(`header.site-header a[href="/admin/moderation"]`), "a project moderator finds the moderation inbox")
	require.Equal(t, "Answer this idea", text(`section.staff h2`), "a project moderator is offered the staff forms")
	require.Equal(t, "proposed", value(`#status`))
	const note = "Our mobility team will look at the spot."
	require.NoError(t, chromedp.Do(bctx, chromedp.SetValue(chromedp.CSS(`#status`), "under_consideration")))
	require.Equal(t, "under_consideration", value(`#status`))
	typeInto(`#note`, note)
	require.EqualValues(t, http.StatusOK, press(`form[action="`+ideaPath+`/status"] button[type=submit]`))
	require.Equal(t, ideaPath, path())
	require.Equal(t, "Under consideration", text(`article.idea span.status-label`))
	require.Equal(t, "under_consideration", value(`#status`), "the form shows the new status")
	require.Equal(t, "— "+note, text(`article.idea .status-note`), "the note is shown with the status")
	var kept string
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &kept, `SELECT note FROM idea_status_changes WHERE actor_id = $1`, modID)
	}))
	require.Equal(t, note, kept)

	const feedback = "Thank you! We will place a bench there in spring."
	typeInto(`#feedback-body`, feedback)
	require.EqualValues(t, http.StatusOK, press(`form[action="`+ideaPath+`/feedback"] button[type=submit]`))
	require.Equal(t, ideaPath, path())
	require.Equal(t, "Official feedback", text(`#feedback-h`))
	require.Equal(t, []string{feedback}, texts(`section.feedback article.official .rich`))
	logOut()

	// 5. The citizen sees the answer, and is told about it.
	logIn(citizenAddr, ideaPath, "Ann")
	require.Equal(t, "Under consideration", text(`article.idea span.status-label`))
	require.Equal(t, "— "+note, text(`article.idea .status-note`), "the citizen reads why")
	require.Equal(t, "Official feedback", text(`#feedback-h`))
	require.Equal(t, []string{feedback}, texts(`section.feedback article.official .rich`))
	// Official feedback is signed with the staff member's first and last
	// name (comments and notifications shorten the last name to an initial).
	require.True(t, strings.HasPrefix(text(`section.feedback article.official p.small`), "Staff "), "the feedback names its author")
	require.Equal(t, "👍 Like (1)", text(like), "the like is remembered")
	require.Equal(t, "true", attr(like, "aria-pressed"))
	require.Equal(t, []string{comment}, texts(`ol.comments > li.comment > .rich`))
	require.False(t, present(`section.staff`), "a citizen sees no staff forms")

	notes := `header.site-header a[href="/notifications"]`
	require.Equal(t, "2", text(notes+` .count`), "two unread notifications in the header")
	require.Equal(t, "2 unread", attr(notes+` .count`, "aria-label"))
	require.EqualValues(t, http.StatusOK, press(notes))
	require.Equal(t, "/notifications", path())
	require.Equal(t, "Notifications", text(`main h1`))
	require.Equal(t, []string{
		"The city answered an idea you follow (Staff c.) — " + ideaTitle,
		"The status of an idea you follow changed (by Staff c.) — " + ideaTitle,
	}, texts(`ul.notifications > li > p:first-child`), "newest first; nothing for the citizen's own comment")
	require.Len(t, texts(`ul.notifications > li.unread`), 2, "shown as unread on this visit")
	hrefs, err := chromedp.Run(bctx, chromedp.Evaluate[[]string](
		`Array.from(document.querySelectorAll('ul.notifications > li a')).map(a => a.getAttribute('href'))`))
	require.NoError(t, err)
	require.Equal(t, []string{ideaPath, ideaPath}, hrefs, "each notification links to the idea")
	require.False(t, present(notes+` .count`), "opening the page marks them read")
	require.EqualValues(t, http.StatusOK, press(`ul.notifications > li:first-child a[href="`+ideaPath+`"]`))
	require.Equal(t, ideaPath, path())

	br.RequireCleanConsole(t)
}
