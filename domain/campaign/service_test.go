package campaign_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/campaign"
	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/group"
	"agora/domain/locale"
	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// outbox returns the payloads of c's queued tasks of type typ, by task id.
func outbox(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, typ string) map[string]map[string]any {
	t.Helper()
	var rows []struct {
		ID      string `db:"task_id"`
		Payload string `db:"payload"`
	}
	require.NoError(t, env.DB.Platform().SelectContext(context.Background(), &rows,
		`SELECT task_id, payload::text AS payload FROM platform.outbox WHERE tenant_id = $1 AND task_type = $2`, c.ID, typ))
	out := map[string]map[string]any{}
	for _, r := range rows {
		var p map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.Payload), &p))
		out[r.ID] = p
	}
	return out
}

func code(err error) errs.Code {
	if err == nil {
		return ""
	}
	return errs.CodeOf(err)
}

// TestCampaignLifecycle: a draft is written and changed; its reach counts
// the live, confirmed members of its groups (manual and smart); Send marks
// it and queues its task in one transaction, once; a sent campaign cannot be
// changed or sent again; the worker's Begin freezes the audience once; test
// emails are queued for their sender only.
func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "camp_life", tenant.PlanPremium)
	ctx := tenanttest.Ctx(c)
	svc := campaign.NewService(env.DB)
	admin := int64(fixture.User(t, env, c, fixture.UserOpts{Email: "admin@city.example", Role: user.RoleAdmin}).ID)
	var ids []int64
	for _, addr := range []string{"ann@panel.example", "bob@gent.be", "cas@elsewhere.example", "dee@panel.example", "eve@panel.example", "fay@gent.be"} {
		ids = append(ids, int64(fixture.User(t, env, c, fixture.UserOpts{Email: addr}).ID))
	}
	ann, bob, cas, dee, eve, fay := ids[0], ids[1], ids[2], ids[3], ids[4], ids[5]
	fixture.Exec(t, env, c, `UPDATE users SET email_confirmed_at = NULL WHERE id = $1`, []any{dee})
	fixture.Exec(t, env, c, `UPDATE users SET deleted_at = now() WHERE id = $1`, []any{eve})
	groups := group.NewService(env.DB)
	panel, err := groups.Create(ctx, locale.Text{"en": "Panel"}, group.Manual, nil)
	require.NoError(t, err)
	for _, id := range []int64{ann, dee, eve} {
		require.NoError(t, groups.AddMember(ctx, panel.ID, id))
	}
	gent, err := groups.Create(ctx, locale.Text{"en": "Gent"}, group.Smart, []group.Rule{{Field: "email_domain", Value: "gent.be"}})
	require.NoError(t, err)
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		return email.SetConsents(ctx, tx, fay, email.Consents{email.Manual: false})
	}))

	_, err = svc.Create(ctx, admin, campaign.Message{Subject: locale.Text{"en": "Hi"}, GroupIDs: []int64{panel.ID, 9999}})
	require.Equal(t, errs.Invalid, code(err), "an unknown group")
	d, err := svc.Create(ctx, admin, campaign.Message{Subject: locale.Text{"en": "The park"}, GroupIDs: []int64{panel.ID}})
	require.NoError(t, err)
	require.Equal(t, campaign.Draft, d.Status)
	require.Equal(t, []int64{panel.ID}, []int64(d.GroupIDs))
	require.Equal(t, admin, *d.CreatedBy)

	_, err = svc.Send(ctx, admin, d.ID)
	require.Equal(t, errs.Invalid, code(err), "no text yet")
	require.Empty(t, outbox(t, env, c, campaign.TaskSend), "a refused send queues nothing")

	body := locale.Text{"en": "<p>Come</p>", "fr": "<p>Venez</p>"}
	subject := locale.Text{"en": "The park", "fr": "Le parc"}
	ids2 := []int64{panel.ID, gent.ID}
	d, err = svc.Update(ctx, admin, d.ID, campaign.Patch{Subject: &subject, Body: &body, GroupIDs: &ids2})
	require.NoError(t, err)
	require.Equal(t, body, d.Body)
	reach, err := svc.Reach(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Reach{People: 3, Unsubscribed: 1}, reach, "ann (panel), bob and fay (gent.be; fay left campaigns); not the unconfirmed or deleted")

	// Test emails: queued for their sender, in the language asked for.
	_, err = svc.Test(ctx, admin, d.ID, "de")
	require.Equal(t, errs.Invalid, code(err))
	ts, err := svc.Test(ctx, admin, d.ID, "fr")
	require.NoError(t, err)
	require.Equal(t, campaign.TestSend{ID: ts.ID, To: "admin@city.example", Locale: "fr"}, *ts)
	tasks := outbox(t, env, c, campaign.TaskTest)
	require.Contains(t, tasks, fmt.Sprintf("t%d:campaign_test:%d", c.ID, ts.ID))

	sent, err := svc.Send(ctx, admin, d.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Sending, sent.Status)
	require.NotNil(t, sent.SendingAt)
	tasks = outbox(t, env, c, campaign.TaskSend)
	require.Len(t, tasks, 1)
	p := tasks[fmt.Sprintf("t%d:campaign:%d", c.ID, d.ID)]
	require.NotNil(t, p, "the deterministic task id names the city and the campaign: %v", tasks)
	require.EqualValues(t, d.ID, p["campaign_id"])
	require.EqualValues(t, c.ID, p["tenant_id"])

	_, err = svc.Send(ctx, admin, d.ID)
	require.Equal(t, errs.Conflict, code(err), "sent once")
	_, err = svc.Update(ctx, admin, d.ID, campaign.Patch{Subject: &subject})
	require.Equal(t, errs.Conflict, code(err), "a sent campaign is not edited")

	// The worker freezes the audience once: who joins later does not get it.
	var frozen campaign.Campaign
	begin := func() {
		require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
			var err error
			frozen, err = campaign.Begin(ctx, tx, d.ID)
			return err
		}))
	}
	begin()
	require.Equal(t, 3, frozen.Stats.Recipients)
	require.Equal(t, 3, frozen.Stats.Pending)
	require.NoError(t, groups.AddMember(ctx, panel.ID, cas))
	begin()
	require.Equal(t, 3, frozen.Stats.Recipients)
	var page []campaign.Recipient
	require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
		var err error
		page, err = campaign.Recipients(ctx, tx, d.ID, 0, 10)
		return err
	}))
	require.Len(t, page, 3)
	require.Equal(t, []int64{ann, bob, fay}, []int64{page[0].UserID, page[1].UserID, page[2].UserID})
	require.True(t, page[2].Unsubscribed)
	require.False(t, page[0].Unsubscribed)

	// Outcomes become the statistics; the campaign is sent once none is pending.
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		if err := campaign.Record(ctx, tx, d.ID, []campaign.Outcome{{UserID: ann, State: campaign.StateSent},
			{UserID: fay, State: campaign.StateSkipped, Detail: "unsubscribed"}}); err != nil {
			return err
		}
		done, err := campaign.Finish(ctx, tx, d.ID)
		require.False(t, done, "bob is pending")
		return err
	}))
	got, err := svc.Get(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, campaign.Stats{Recipients: 3, Sent: 1, Skipped: 1, Pending: 1}, got.Stats)
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		if err := campaign.Record(ctx, tx, d.ID, []campaign.Outcome{{UserID: bob, State: campaign.StateFailed, Detail: "550"},
			{UserID: ann, State: campaign.StateFailed}}); err != nil {
			return err
		}
		done, err := campaign.Finish(ctx, tx, d.ID)
		require.True(t, done, "failures are retried, but nothing is pending")
		return err
	}))
	list, err := svc.List(ctx, 10)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, campaign.Sent, list[0].Status)
	require.NotNil(t, list[0].SentAt)
	require.Equal(t, campaign.Stats{Recipients: 3, Sent: 1, Failed: 1, Skipped: 1}, list[0].Stats, "a sent email stays sent")

	// The pace of the city's campaigns.
	st, err := svc.Settings(ctx)
	require.NoError(t, err)
	require.Equal(t, campaign.DefaultPerSecond, st.PerSecond)
	_, err = svc.SetSettings(ctx, admin, campaign.Settings{PerSecond: 51})
	require.Equal(t, errs.Invalid, code(err))
	_, err = svc.SetSettings(ctx, admin, campaign.Settings{PerSecond: 25})
	require.NoError(t, err)
	st, err = svc.Settings(ctx)
	require.NoError(t, err)
	require.Equal(t, 25, st.PerSecond)

	// Tests are bounded per campaign and person.
	for i := 1; i < campaign.MaxTestsPerHour; i++ {
		_, err = svc.Test(ctx, admin, d.ID, "")
		require.NoError(t, err)
	}
	_, err = svc.Test(ctx, admin, d.ID, "")
	require.Equal(t, errs.RateLimited, code(err))
}

// TestEveryoneMeansConfirmedAccounts: an audience of everyone is every live
// account with a confirmed address, staff included.
func TestEveryoneMeansConfirmedAccounts(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "camp_all", tenant.PlanPremium)
	ctx := tenanttest.Ctx(c)
	admin := int64(fixture.User(t, env, c, fixture.UserOpts{Email: "admin@all.example", Role: user.RoleAdmin}).ID)
	var ids []int64
	for _, addr := range []string{"a@all.example", "b@all.example", "c@all.example"} {
		ids = append(ids, int64(fixture.User(t, env, c, fixture.UserOpts{Email: addr}).ID))
	}
	fixture.Exec(t, env, c, `UPDATE users SET email_confirmed_at = NULL WHERE id = $1`, []any{ids[2]})
	svc := campaign.NewService(env.DB)
	d, err := svc.Create(ctx, admin, campaign.Message{Subject: locale.Text{"en": "All"}, Body: locale.Text{"en": "Hello"}, Audience: campaign.Everyone})
	require.NoError(t, err)
	r, err := svc.Reach(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, 3, r.People)
}
