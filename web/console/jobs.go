package console

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/jobs"
	"agora/tenant"
	"agora/web/kit"
)

// jobsView is what the console's /jobs page shows.
type jobsView struct {
	Overview *jobs.Overview
	Filter   jobs.Filter
	Cities   []*tenant.Tenant // for the city filter
	// Unavailable is the i18n key of why there are no figures: no queue
	// configured, or Redis not answering.
	Unavailable string
}

// jobsMessages are the outcomes an action may report back to the page.
var jobsMessages = map[string]bool{"retried": true, "retried_all": true, "deleted": true, "not_found": true, "conflict": true}

// JobsPage shows the queues' figures, the failed tasks by type and by city,
// and the latest failures with Retry and Delete buttons. ?queue= and ?city=
// narrow the failed tasks.
func (s *Console) JobsPage(c *gin.Context) {
	loc := kit.Locale(c)
	f := jobs.Filter{Queue: c.Query("queue"), City: c.Query("city")}
	v := &page{Chrome: kit.Chrome{Platform: true, Title: s.I18n.T(loc, "jobs.title")}, Jobs: &jobsView{Filter: f}}
	if msg := c.Query("msg"); jobsMessages[msg] {
		var args []any
		if msg == "retried_all" {
			n, _ := strconv.Atoi(c.Query("n"))
			args = append(args, n)
		}
		v.Notice = s.I18n.T(loc, "jobs.msg."+msg, args...)
	}
	if s.jobs == nil {
		v.Jobs.Unavailable = "jobs.not_configured"
		s.pages.Render(c, http.StatusOK, "platform_jobs", v)
		return
	}
	ctx := c.Request.Context()
	cities, err := s.reg.List(ctx)
	if err != nil {
		s.PageError(c, err)
		return
	}
	v.Jobs.Cities = cities
	o, err := s.overview(ctx, f)
	switch {
	case errs.CodeOf(err) == errs.NotFound:
		s.PageError(c, err) // a filter naming no queue or city
		return
	case err != nil:
		_ = c.Error(err)
		v.Jobs.Unavailable = "jobs.unreachable"
		s.pages.Render(c, http.StatusServiceUnavailable, "platform_jobs", v)
		return
	}
	v.Jobs.Overview = o
	s.pages.Render(c, http.StatusOK, "platform_jobs", v)
}

// overview bounds the time Redis may take: the asynq inspector does not
// follow the request's context.
func (s *Console) overview(ctx context.Context, f jobs.Filter) (*jobs.Overview, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return s.jobs.Overview(ctx, f)
}

// JobsRetry runs the failed task named by the form's queue and id again.
func (s *Console) JobsRetry(c *gin.Context) {
	s.jobsAction(c, "retried", func(ctx context.Context) (int, error) {
		return 0, s.jobs.Retry(ctx, c.PostForm("queue"), c.PostForm("id"))
	})
}

// JobsDelete deletes the task named by the form's queue and id.
func (s *Console) JobsDelete(c *gin.Context) {
	s.jobsAction(c, "deleted", func(ctx context.Context) (int, error) {
		return 0, s.jobs.Delete(ctx, c.PostForm("queue"), c.PostForm("id"))
	})
}

// JobsRetryArchived runs every archived task again, of the form's queue or
// of every queue.
func (s *Console) JobsRetryArchived(c *gin.Context) {
	s.jobsAction(c, "retried_all", func(ctx context.Context) (int, error) {
		byQueue, err := s.jobs.RetryAllArchived(ctx, c.PostForm("queue"))
		total := 0
		for _, n := range byQueue {
			total += n
		}
		return total, err
	})
}

// jobsAction runs one repair and goes back to the page (with the filter the
// form carried) saying how it went.
func (s *Console) jobsAction(c *gin.Context, done string, do func(ctx context.Context) (int, error)) {
	if s.jobs == nil {
		c.Redirect(http.StatusSeeOther, "/jobs")
		return
	}
	n, err := do(c.Request.Context())
	msg := done
	switch code := errs.CodeOf(err); {
	case err == nil:
	case code == errs.NotFound || code == errs.Invalid:
		msg = "not_found"
	case code == errs.Conflict:
		msg = "conflict"
	default:
		_ = c.Error(err)
		loc := kit.Locale(c)
		v := &page{Chrome: kit.Chrome{Platform: true, Title: s.I18n.T(loc, "jobs.title")}, Jobs: &jobsView{Unavailable: "jobs.unreachable"}}
		s.pages.Render(c, http.StatusServiceUnavailable, "platform_jobs", v)
		return
	}
	q := url.Values{"msg": {msg}}
	if msg == "retried_all" {
		q.Set("n", strconv.Itoa(n))
	}
	if v := c.PostForm("filter_queue"); v != "" {
		q.Set("queue", v)
	}
	if v := c.PostForm("filter_city"); v != "" {
		q.Set("city", v)
	}
	c.Redirect(http.StatusSeeOther, "/jobs?"+q.Encode())
}

// JobCity names the city of a failed task (or tally) on the jobs page.
func (v *page) JobCity(slug string, id tenant.ID) string {
	switch {
	case slug != "":
		return slug
	case id != 0:
		return v.T("jobs.deleted_city", int64(id))
	}
	return v.T("jobs.platform")
}

// UTC formats a moment for the operator, who may be anywhere.
func (v *page) UTC(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }
