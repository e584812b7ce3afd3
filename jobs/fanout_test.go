package jobs_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/domain/activity"
	"agora/domain/email"
	"agora/domain/idea"
	"agora/domain/user"
	"agora/fixture"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// fanoutTasks returns the city's queued activity:fanout tasks.
func fanoutTasks(t *testing.T, env *tenanttest.Env, c *tenant.Tenant) []*asynq.Task {
	t.Helper()
	var rows []string
	require.NoError(t, env.DB.Platform().SelectContext(context.Background(), &rows,
		`SELECT payload::text FROM platform.outbox WHERE tenant_id = $1 AND task_type = $2 ORDER BY id`, c.ID, activity.TaskFanout))
	out := make([]*asynq.Task, len(rows))
	for i, r := range rows {
		out[i] = asynq.NewTask(activity.TaskFanout, []byte(r))
	}
	return out
}

// TestNotificationEmails: a comment, a status change and official feedback
// each queue one fan-out task in their own transaction; the task emails
// each notification once (re-runs send nothing more), in the recipient's
// language, with the city's links and a one-click unsubscribe; those who
// left the notifications campaign get none; a task without a city is
// refused.
func TestNotificationEmails(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "fanout")
	ctx := tenanttest.Ctx(c)
	mailSrv, smtp := startMail(t)
	log, _ := testLogger(t)
	fanout, err := jobs.NewFanout(env.DB, smtp, httpsPortal, "test-secret")
	require.NoError(t, err)
	h := jobs.TenantMiddleware(env.Registry, log)(asynq.HandlerFunc(fanout.Send))

	mk := func(addr, first, locale string, role user.Role) *user.User {
		return fixture.User(t, env, c, fixture.UserOpts{Email: addr, FirstName: first, LastName: "Test", Locale: locale, Role: role})
	}
	admin := mk("admin@fanout.example", "Ada", "en", user.RoleAdmin)
	author := mk("author@fanout.example", "Anna", "fr", user.RoleCitizen)
	follower := mk("follower@fanout.example", "Finn", "nl", user.RoleCitizen)
	quiet := mk("quiet@fanout.example", "Quinn", "en", user.RoleCitizen)
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		return email.SetConsents(ctx, tx, int64(quiet.ID), email.Consents{email.Notifications: false})
	}))

	p := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "fan", Title: "Fan",
		Phase: &fixture.PhaseOpts{Title: "Ideas", StartsAt: time.Now().Add(-time.Hour), NoDislikes: true}})
	it := fixture.Idea(t, env, c, fixture.IdeaOpts{Project: p.ID, Author: author, Title: "Benches in the park", Body: "<p>Please</p>"})
	for _, u := range []*user.User{follower, quiet} {
		fixture.Follow(t, env, c, u, "idea", int64(it.ID))
	}
	require.Empty(t, fanoutTasks(t, env, c), "posting an idea notifies no one")

	fixture.Comment(t, env, c, fixture.CommentOpts{Idea: it.ID, Author: follower, Body: "Good idea!"})
	_, err = idea.NewService(env.DB).SetStatus(ctx, fixture.Actor(t, env, c, admin), it.ID, "accepted", "We will do it in spring.")
	require.NoError(t, err)
	tasks := fanoutTasks(t, env, c)
	require.Len(t, tasks, 2, "one fan-out per notifying write")
	for _, task := range tasks {
		require.NoError(t, h.ProcessTask(context.Background(), task))
		require.NoError(t, h.ProcessTask(context.Background(), task), "a re-run sends nothing more")
	}

	// The author: their idea's comment and status change, in French.
	got := mailSrv.To("author@fanout.example")
	require.Len(t, got, 2)
	var texts []string
	for _, m := range got {
		texts = append(texts, m.Text)
		require.Equal(t, "<https://"+c.PrimaryHost+"/unsubscribe?token="+email.Unsubscribe{TenantID: c.ID, UserID: int64(author.ID), Campaign: email.Notifications}.Token("test-secret")+">",
			m.Header.Get("List-Unsubscribe"))
		require.Equal(t, "List-Unsubscribe=One-Click", m.Header.Get("List-Unsubscribe-Post"))
		require.Contains(t, m.Text, fmt.Sprintf("https://%s/ideas/%d", c.PrimaryHost, it.ID))
	}
	all := strings.Join(texts, "\n")
	require.Contains(t, all, "Finn T. a commenté votre idée « Benches in the park »")
	require.Contains(t, all, "We will do it in spring.", "the staff's note comes with the status change")
	// The follower hears of the status change only (not of their own comment), in Dutch.
	got = mailSrv.To("follower@fanout.example")
	require.Len(t, got, 1)
	require.Contains(t, got[0].Text, "wijzigde de status van “Benches in the park”")
	// Who left the campaign gets nothing, though the in-app notifications are there.
	require.Empty(t, mailSrv.To("quiet@fanout.example"))
	var inApp int
	require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &inApp, `SELECT count(*) FROM notifications WHERE user_id = $1`, quiet.ID)
	}))
	require.Equal(t, 2, inApp)
	require.Len(t, mailSrv.Messages(), 3)

	// Without a city, the task is refused and sends nothing.
	err = h.ProcessTask(context.Background(), asynq.NewTask(activity.TaskFanout, []byte(`{"activity_id":1}`)))
	require.ErrorIs(t, err, asynq.SkipRetry)
	require.Len(t, mailSrv.Messages(), 3)
}
