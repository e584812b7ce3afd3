package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/domain/operator"
	"agora/jobs/jobstest"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// jobsPageRedisDB is the Redis database of the /jobs page tests (7, 8, 9 and
// 12 belong to other tests).
const jobsPageRedisDB = 13

// operatorLogin creates an operator and logs in through the console's
// form; it returns the operator's cookie.
func operatorLogin(t *testing.T, h *webtest.Harness, email string) string {
	t.Helper()
	_, err := operator.NewService(h.Env.DB.Platform()).Create(context.Background(), email, "Ops", "operator-password-1")
	require.NoError(t, err)
	webtest.FlushPlatformRateLimits(t)
	page := h.Get(t, tenanttest.PlatformHost, "/login")
	webtest.RequireHTML(t, page, 200)
	r := h.CallForm(t, tenanttest.PlatformHost, "/login",
		"csrf_token="+webtest.CSRFFromPage(t, page)+"&email="+url.QueryEscape(email)+"&password=operator-password-1", "Cookie", webtest.CookieFrom(page))
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	for _, ck := range (&http.Response{Header: r.Header}).Cookies() {
		if ck.Name == "agora_operator" {
			return ck.Name + "=" + ck.Value
		}
	}
	t.Fatal("no operator cookie after logging in")
	return ""
}

// TestJobsPage: the operator sees the queues and the failed tasks of two
// cities and of the platform, retries and deletes them with the page's forms;
// nobody else gets in.
func TestJobsPage(t *testing.T) {
	env := tenanttest.New(t)
	gent, lyon := env.City(t, "jobsgent"), env.City(t, "jobslyon")
	opt := jobstest.RedisDB(t, jobsPageRedisDB)
	ids := jobstest.Fail(t, opt,
		jobstest.Task{Type: "email:send", TenantID: gent.ID, Error: "smtp: 550 <ada@gent.example> unavailable"},
		jobstest.Task{Type: "email:send", TenantID: gent.ID, Error: "smtp: 550 <bob@gent.example> unavailable"},
		jobstest.Task{Type: "digest:user", TenantID: lyon.ID, Error: "digest: template missing", Retry: true},
		jobstest.Task{Type: "tenant:usage_tick", Queue: "low", Error: "usage: database busy"},
	)
	gentA, gentB, lyonDigest, tick := ids[0], ids[1], ids[2], ids[3]
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = insp.Close() })
	state := func(queue, id string) asynq.TaskState {
		t.Helper()
		ti, err := insp.GetTaskInfo(queue, id)
		require.NoError(t, err)
		return ti.State
	}
	h := webtest.New(t, env, webtest.Options{Inspector: insp})
	const host = tenanttest.PlatformHost

	t.Run("visitors are sent to the login, and the login brings them back", func(t *testing.T) {
		r := h.Get(t, host, "/jobs")
		require.Equal(t, http.StatusSeeOther, r.Status)
		require.Equal(t, "/login?next=%2Fjobs", r.Header.Get("Location"))
		login := h.Get(t, host, "/login?next=%2Fjobs")
		require.Contains(t, login.Body, `name="next" value="/jobs"`)

		// A form without the token is refused; with a visitor's token, the
		// visitor is sent to the login. Either way nothing happens.
		r = h.CallForm(t, host, "/jobs/delete", "queue=default&id="+gentA)
		webtest.RequireHTML(t, r, http.StatusForbidden)
		r = h.CallForm(t, host, "/jobs/delete", "csrf_token="+webtest.CSRFFromPage(t, login)+"&queue=default&id="+gentA, "Cookie", webtest.CookieFrom(login))
		require.Equal(t, http.StatusSeeOther, r.Status)
		require.True(t, strings.HasPrefix(r.Header.Get("Location"), "/login"), r.Header.Get("Location"))
		require.Equal(t, asynq.TaskStateArchived, state("default", gentA))
	})

	op := operatorLogin(t, h, "jobs-ops@example.org")

	t.Run("the console home links to the page", func(t *testing.T) {
		home := h.Get(t, host, "/", "Cookie", op)
		webtest.RequireHTML(t, home, 200)
		require.Contains(t, home.Body, `href="/jobs"`)
	})

	t.Run("figures, failures by type and city, latest failures", func(t *testing.T) {
		page := h.Get(t, host, "/jobs", "Cookie", op)
		webtest.RequireHTML(t, page, 200)
		// size, pending, active, scheduled, retry, archived, processed and failed today
		cells := `<td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td><td>(\d+)</td>`
		row := func(queue string) []string {
			m := regexp.MustCompile(`<tr class="queue-` + queue + `"><th scope="row">` + queue + `</th>` + cells).FindStringSubmatch(page.Body)
			require.NotNil(t, m, "no row for queue %s", queue)
			return m[1:]
		}
		require.Equal(t, []string{"3", "0", "0", "0", "1", "2", "3", "3"}, row("default"))
		require.Equal(t, []string{"1", "0", "0", "0", "0", "1", "1", "1"}, row("low"))
		require.Equal(t, []string{"0", "0", "0", "0", "0", "0", "0", "0"}, row("critical"))

		byCity := jobsSection(t, page.Body, `class="data failed-by-city"`)
		require.Regexp(t, `<th scope="row">jobsgent</th><td>0</td><td>2</td><td>2</td>`, byCity)
		require.Regexp(t, `<th scope="row">jobslyon</th><td>1</td><td>0</td><td>1</td>`, byCity)
		require.Regexp(t, `<th scope="row">platform</th><td>0</td><td>1</td><td>1</td>`, byCity)
		byType := jobsSection(t, page.Body, `class="data failed-by-type"`)
		require.Regexp(t, `<code>email:send</code></th><td>0</td><td>2</td><td>2</td>`, byType)

		latest := jobsSection(t, page.Body, `class="data failed-tasks"`)
		for _, id := range ids {
			require.Contains(t, latest, `id="task-`+id+`"`)
		}
		require.Contains(t, latest, "smtp: 550 &lt;ada@gent.example&gt; unavailable", "the error text, escaped")
		require.Contains(t, latest, "digest: template missing")
		require.Regexp(t, `action="/jobs/retry"[^>]*>\s*<input type="hidden" name="csrf_token"`, latest, "every form carries its token")
		require.NotContains(t, page.Body, "<script", "the page needs no JavaScript")
	})

	t.Run("in French and Dutch", func(t *testing.T) {
		fr := h.Get(t, host, "/jobs", "Cookie", op, "Accept-Language", "fr")
		webtest.RequireHTML(t, fr, 200)
		require.Contains(t, fr.Body, "Tâches en échec")
		require.Contains(t, fr.Body, "Réessayer maintenant")
		nl := h.Get(t, host, "/jobs", "Cookie", op, "Accept-Language", "nl")
		require.Contains(t, nl.Body, "Mislukte taken")
	})

	t.Run("a city's failures only", func(t *testing.T) {
		page := h.Get(t, host, "/jobs?city=jobslyon", "Cookie", op)
		webtest.RequireHTML(t, page, 200)
		latest := jobsSection(t, page.Body, `class="data failed-tasks"`)
		require.Contains(t, latest, lyonDigest)
		require.NotContains(t, latest, gentA)
		require.NotContains(t, latest, tick)
		webtest.RequireHTML(t, h.Get(t, host, "/jobs?city=atlantis", "Cookie", op), 404)
	})

	post := func(t *testing.T, path, body string) webtest.Response {
		t.Helper()
		page := h.Get(t, host, "/jobs", "Cookie", op)
		return h.CallForm(t, host, path, "csrf_token="+webtest.CSRFFromPage(t, page)+"&"+body, "Cookie", op)
	}

	t.Run("retry", func(t *testing.T) {
		r := post(t, "/jobs/retry", "queue=default&id="+gentA+"&filter_city=jobsgent")
		require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
		require.Equal(t, "/jobs?city=jobsgent&msg=retried", r.Header.Get("Location"), "back to the same filter")
		require.Equal(t, asynq.TaskStatePending, state("default", gentA))
		page := h.Get(t, host, r.Header.Get("Location"), "Cookie", op)
		require.Contains(t, page.Body, "The task is pending again")

		r = post(t, "/jobs/retry", "queue=default&id="+gentA)
		require.Equal(t, "/jobs?msg=conflict", r.Header.Get("Location"), "a pending task has not failed")

		r = h.CallForm(t, host, "/jobs/retry", "queue=default&id="+gentB, "Cookie", op)
		webtest.RequireHTML(t, r, http.StatusForbidden)
		require.Equal(t, asynq.TaskStateArchived, state("default", gentB), "no token, no retry")
	})

	t.Run("delete", func(t *testing.T) {
		r := post(t, "/jobs/delete", "queue=default&id="+gentB)
		require.Equal(t, "/jobs?msg=deleted", r.Header.Get("Location"))
		_, err := insp.GetTaskInfo("default", gentB)
		require.ErrorIs(t, err, asynq.ErrTaskNotFound)
		r = post(t, "/jobs/delete", "queue=default&id="+gentB)
		require.Equal(t, "/jobs?msg=not_found", r.Header.Get("Location"))
		page := h.Get(t, host, "/jobs", "Cookie", op)
		require.NotContains(t, page.Body, gentB)
	})

	t.Run("retry every archived task", func(t *testing.T) {
		r := post(t, "/jobs/retry-archived", "queue=")
		require.Equal(t, "/jobs?msg=retried_all&n=1", r.Header.Get("Location"))
		require.Equal(t, asynq.TaskStatePending, state("low", tick))
		require.Equal(t, asynq.TaskStateRetry, state("default", lyonDigest), "a task waiting to retry keeps waiting")
		page := h.Get(t, host, r.Header.Get("Location"), "Cookie", op, "Accept-Language", "nl")
		require.Contains(t, page.Body, "1 gearchiveerde taken wachten opnieuw.")
	})
}

// jobsSection is the HTML from the element whose opening tag contains marker to
// the end of that table.
func jobsSection(t *testing.T, body, marker string) string {
	t.Helper()
	i := strings.Index(body, marker)
	require.GreaterOrEqual(t, i, 0, "no %s in the page", marker)
	rest := body[i:]
	if j := strings.Index(rest, "</table>"); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// TestJobsPageWithoutQueue: a server without a queue inspector, or whose
// Redis does not answer, says so in words.
func TestJobsPageWithoutQueue(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)

	h := webtest.New(t, env, webtest.Options{})
	op := operatorLogin(t, h, "jobs-noqueue@example.org")
	page := h.Get(t, tenanttest.PlatformHost, "/jobs", "Cookie", op)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "The job queue is not configured on this server")
	r := h.CallForm(t, tenanttest.PlatformHost, "/jobs/retry", "csrf_token="+webtest.CSRFFromPage(t, page)+"&queue=default&id=x", "Cookie", op)
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Equal(t, "/jobs", r.Header.Get("Location"))

	down := asynq.NewInspector(asynq.RedisClientOpt{Addr: "127.0.0.1:1"})
	t.Cleanup(func() { _ = down.Close() })
	h = webtest.New(t, env, webtest.Options{Inspector: down})
	page = h.Get(t, tenanttest.PlatformHost, "/jobs", "Cookie", op)
	webtest.RequireHTML(t, page, http.StatusServiceUnavailable)
	require.Contains(t, page.Body, "The job queue (Redis) does not answer right now")
}
