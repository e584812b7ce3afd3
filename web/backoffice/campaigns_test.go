package backoffice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/config"
	"agora/domain/campaign"
	"agora/domain/email"
	"agora/domain/email/devsmtp"
	"agora/domain/group"
	"agora/domain/locale"
	"agora/domain/user"
	"agora/fixture"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// campaignDoc is the part of a campaign the tests read.
type campaignDoc struct {
	ID       int64             `json:"id"`
	Subject  map[string]string `json:"subject"`
	Body     map[string]string `json:"body"`
	Audience string            `json:"audience"`
	GroupIDs []int64           `json:"group_ids"`
	Status   string            `json:"status"`
	Stats    struct {
		Recipients, Sent, Pending, Failed, Skipped int
	} `json:"stats"`
	Reach *struct {
		People, Unsubscribed int
	} `json:"reach"`
}

func decodeCampaign(t *testing.T, r webtest.Response, status int) campaignDoc {
	t.Helper()
	require.Equal(t, status, r.Status, r.Body)
	var d campaignDoc
	require.NoError(t, json.Unmarshal([]byte(r.Body), &d), r.Body)
	return d
}

// runCampaignTask runs the queued campaign task id (e.g. "campaign:3") of
// city c through the worker's handler, sending through smtp.
func runCampaignTask(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, smtp email.Sender, typ, id string) {
	t.Helper()
	cfg, err := config.Load(func(string) string { return "" }) // the harness's secret: the development key
	require.NoError(t, err)
	h, err := jobs.NewCampaigns(jobs.WorkerDeps{DB: env.DB, Registry: env.Registry, Sender: smtp,
		PortalURL: func(host string) string { return "http://" + host }, SecretKey: cfg.SecretKey, Log: webtest.DiscardLogger()})
	require.NoError(t, err)
	var payload string
	require.NoError(t, env.DB.Platform().GetContext(context.Background(), &payload,
		`SELECT payload::text FROM platform.outbox WHERE task_id = $1`, fmt.Sprintf("t%d:%s", c.ID, id)))
	handler := asynq.HandlerFunc(h.Send)
	if typ == campaign.TaskTest {
		handler = h.Test
	}
	require.NoError(t, jobs.TenantMiddleware(env.Registry, webtest.DiscardLogger())(handler).ProcessTask(context.Background(), asynq.NewTask(typ, []byte(payload))))
}

var campaignLink = regexp.MustCompile(`/admin/campaigns/(\d+)`)

// TestCampaignsAPI: admins of a premium city write, change, try and send
// campaigns through the API; visitors get 401 and citizens 403; a sent
// campaign cannot be changed or sent again; the test email reaches its
// sender only and the campaign its group only.
func TestCampaignsAPI(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "camp_api", tenant.PlanPremium)
	h := webtest.New(t, env, webtest.Options{})
	host := c.DefaultHost
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "adm@camp.example", Role: user.RoleAdmin}))
	annUser := fixture.User(t, env, c, fixture.UserOpts{Email: "ann@camp.example"})
	annID := int64(annUser.ID)
	citizen := fixture.Token(t, env, c, annUser)
	fixture.User(t, env, c, fixture.UserOpts{Email: "bob@camp.example"})
	ctx := tenanttest.Ctx(c)
	panel, err := group.NewService(env.DB).Create(ctx, locale.Text{"en": "Panel"}, group.Manual, nil)
	require.NoError(t, err)
	require.NoError(t, group.NewService(env.DB).AddMember(ctx, panel.ID, annID))

	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/campaigns", ""), 401, "unauthenticated")
	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/campaigns", "", "Authorization", citizen), 403, "forbidden")
	webtest.RequireProblem(t, h.Call(t, "POST", host, "/api/v1/campaigns", `{"subject":{"en":"x"}}`, "Authorization", citizen), 403, "forbidden")
	r := h.Call(t, "GET", host, "/api/v1/campaigns", "", "Authorization", admin)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.JSONEq(t, `{"data":[]}`, r.Body)

	p := webtest.RequireProblem(t, h.Call(t, "POST", host, "/api/v1/campaigns", `{"subject":{"de":"Hallo"}}`, "Authorization", admin), 422, "invalid")
	require.Equal(t, "subject", p.Field)
	d := decodeCampaign(t, h.Call(t, "POST", host, "/api/v1/campaigns",
		fmt.Sprintf(`{"subject":{"en":"Park day","fr":"Fête du parc"},"body":{"en":"Come!","fr":"<p>Venez<script>x</script></p>"},"group_ids":[%d]}`, panel.ID),
		"Authorization", admin), http.StatusCreated)
	require.Equal(t, "draft", d.Status)
	require.Equal(t, map[string]string{"en": "<p>Come!</p>", "fr": "<p>Venez</p>"}, d.Body, "sanitised")
	id := fmt.Sprint(d.ID)

	d = decodeCampaign(t, h.Call(t, "GET", host, "/api/v1/campaigns/"+id, "", "Authorization", admin), http.StatusOK)
	require.NotNil(t, d.Reach)
	require.Equal(t, 1, d.Reach.People)
	d = decodeCampaign(t, h.Call(t, "PATCH", host, "/api/v1/campaigns/"+id, `{"subject":{"en":"Park day!","fr":"Fête du parc !"}}`, "Authorization", admin), http.StatusOK)
	require.Equal(t, "Park day!", d.Subject["en"])
	require.Equal(t, []int64{panel.ID}, d.GroupIDs, "fields left out keep their value")
	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/campaigns/99999", "", "Authorization", admin), 404, "not_found")

	// The test email: to the caller, and nobody else.
	r = h.Call(t, "POST", host, "/api/v1/campaigns/"+id+"/test", `{"locale":"fr"}`, "Authorization", admin)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	var ts struct {
		ID     int64  `json:"id"`
		To     string `json:"to"`
		Locale string `json:"locale"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &ts))
	require.Equal(t, "adm@camp.example", ts.To)
	require.Equal(t, "fr", ts.Locale)
	webtest.RequireProblem(t, h.Call(t, "POST", host, "/api/v1/campaigns/"+id+"/test", `{"locale":"de"}`, "Authorization", admin), 422, "invalid")
	mailSrv, err := devsmtp.Start("127.0.0.1:0", 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = mailSrv.Close() })
	smtp, err := email.NewSMTP(mailSrv.URL())
	require.NoError(t, err)
	runCampaignTask(t, env, c, smtp, campaign.TaskTest, fmt.Sprintf("campaign_test:%d", ts.ID))
	msgs := mailSrv.Messages()
	require.Len(t, msgs, 1)
	require.Equal(t, []string{"adm@camp.example"}, msgs[0].To)
	require.Equal(t, "[Test] Fête du parc !", msgs[0].Subject)

	// Send: 202, once.
	d = decodeCampaign(t, h.Call(t, "POST", host, "/api/v1/campaigns/"+id+"/send", "", "Authorization", admin), http.StatusAccepted)
	require.Equal(t, "sending", d.Status)
	webtest.RequireProblem(t, h.Call(t, "POST", host, "/api/v1/campaigns/"+id+"/send", "", "Authorization", admin), 409, "conflict")
	webtest.RequireProblem(t, h.Call(t, "PATCH", host, "/api/v1/campaigns/"+id, `{"subject":{"en":"Too late"}}`, "Authorization", admin), 409, "conflict")
	runCampaignTask(t, env, c, smtp, campaign.TaskSend, "campaign:"+id)
	require.Len(t, mailSrv.To("ann@camp.example"), 1, "the group's member")
	require.Empty(t, mailSrv.To("bob@camp.example"), "not in the group")
	require.Len(t, mailSrv.Messages(), 2)
	d = decodeCampaign(t, h.Call(t, "GET", host, "/api/v1/campaigns/"+id, "", "Authorization", admin), http.StatusOK)
	require.Equal(t, "sent", d.Status)
	require.Equal(t, 1, d.Stats.Recipients)
	require.Equal(t, 1, d.Stats.Sent)
	require.Nil(t, d.Reach, "a sent campaign's audience is frozen")

	// The sending speed.
	r = h.Call(t, "GET", host, "/api/v1/campaign-settings", "", "Authorization", admin)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.JSONEq(t, `{"per_second":10}`, r.Body)
	webtest.RequireProblem(t, h.Call(t, "PATCH", host, "/api/v1/campaign-settings", `{"per_second":0}`, "Authorization", admin), 422, "invalid")
	r = h.Call(t, "PATCH", host, "/api/v1/campaign-settings", `{"per_second":20}`, "Authorization", admin)
	require.Equal(t, http.StatusOK, r.Status, r.Body)
	require.JSONEq(t, `{"per_second":20}`, r.Body)
	webtest.RequireProblem(t, h.Call(t, "GET", host, "/api/v1/campaign-settings", "", "Authorization", citizen), 403, "forbidden")
}

// TestCampaignPages walks the back office without JavaScript: the list and
// the new form with one field per language side by side, saving a draft,
// its preview, a test, the confirmation step and the sending.
func TestCampaignPages(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.CityOnPlan(t, "camp_pages", tenant.PlanPremium)
	h := webtest.New(t, env, webtest.Options{})
	host := c.DefaultHost
	cookie, csrf := fixture.Session(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "adm@pages.example", Role: user.RoleAdmin}))
	citizenCookie, _ := fixture.Session(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "cit@pages.example"}))
	ctx := tenanttest.Ctx(c)
	panel, err := group.NewService(env.DB).Create(ctx, locale.Text{"en": "Citizen panel"}, group.Manual, nil)
	require.NoError(t, err)

	webtest.RequireHTML(t, h.Call(t, "GET", host, "/admin/campaigns", "", "Cookie", citizenCookie), 403)
	r := h.Call(t, "GET", host, "/admin/campaigns", "")
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Contains(t, r.Header.Get("Location"), "/login?next=")

	page := h.Call(t, "GET", host, "/admin/campaigns", "", "Cookie", cookie)
	webtest.RequireHTML(t, page, 200)
	for _, l := range []string{"en", "fr", "nl"} {
		require.Contains(t, page.Body, `name="subject_`+l+`"`)
		require.Contains(t, page.Body, `name="body_`+l+`"`)
	}
	require.Contains(t, page.Body, fmt.Sprintf(`name="group_ids" value="%d"`, panel.ID))
	require.Contains(t, page.Body, "Citizen panel")
	require.Contains(t, page.Body, `name="per_second"`)
	require.NotContains(t, page.Body, "<script", "no JavaScript needed")

	// A form without a subject comes back with its error and its values.
	r = h.CallForm(t, host, "/admin/campaigns", url.Values{"csrf_token": {csrf}, "body_en": {"Hello"}}.Encode(), "Cookie", cookie)
	webtest.RequireHTML(t, r, http.StatusUnprocessableEntity)
	require.Contains(t, r.Body, "Hello")
	require.Contains(t, r.Body, `class="field-error"`)

	r = h.CallForm(t, host, "/admin/campaigns", url.Values{"csrf_token": {csrf}, "subject_en": {"Park day"}, "body_en": {"Come to the park"},
		"subject_nl": {"Parkdag"}, "body_nl": {"Kom naar het park"}, "audience": {"groups"}, "group_ids": {fmt.Sprint(panel.ID)}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	m := campaignLink.FindStringSubmatch(r.Header.Get("Location"))
	require.NotNil(t, m, r.Header.Get("Location"))
	base := "/admin/campaigns/" + m[1]

	page = h.Call(t, "GET", host, base+"?msg=campaign_created&n=1", "", "Cookie", cookie)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "The campaign was saved as a draft.")
	require.Contains(t, page.Body, `value="Parkdag"`)
	require.Contains(t, page.Body, base+"/preview?locale=nl")
	require.Contains(t, page.Body, `action="`+base+`/test"`)

	preview := h.Call(t, "GET", host, base+"/preview?locale=nl", "", "Cookie", cookie)
	require.Equal(t, http.StatusOK, preview.Status)
	require.Contains(t, preview.Body, "<p>Kom naar het park</p>")
	require.Contains(t, preview.Body, "/unsubscribe?token=")

	r = h.CallForm(t, host, base+"/test", url.Values{"csrf_token": {csrf}, "locale": {"en"}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Contains(t, r.Header.Get("Location"), "msg=campaign_test")

	// Sending the panel's campaign: nobody with a confirmed address is in it yet.
	confirm := h.Call(t, "GET", host, base+"/send", "", "Cookie", cookie)
	webtest.RequireHTML(t, confirm, 200)
	require.Contains(t, confirm.Body, "Send this campaign?")
	require.Contains(t, confirm.Body, "Nobody with a confirmed email address is in this audience.")
	require.NotContains(t, confirm.Body, `name="confirm"`, "nothing to confirm")
	r = h.CallForm(t, host, base+"/send", url.Values{"csrf_token": {csrf}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Equal(t, base+"/send", r.Header.Get("Location"), "without the confirmation, back to the confirmation step")
	r = h.CallForm(t, host, base+"/send", url.Values{"csrf_token": {csrf}, "confirm": {"yes"}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Contains(t, r.Header.Get("Location"), "err=", "an empty audience is refused")

	// Everyone, then.
	r = h.CallForm(t, host, base, url.Values{"csrf_token": {csrf}, "subject_en": {"Park day"}, "body_en": {"Come to the park"},
		"subject_nl": {"Parkdag"}, "body_nl": {"Kom naar het park"}, "audience": {"all"}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	confirm = h.Call(t, "GET", host, base+"/send", "", "Cookie", cookie)
	require.Contains(t, confirm.Body, "It goes to 2 people")
	require.Contains(t, confirm.Body, `name="confirm" value="yes"`)
	r = h.CallForm(t, host, base+"/send", url.Values{"csrf_token": {csrf}, "confirm": {"yes"}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Contains(t, r.Header.Get("Location"), "msg=campaign_sending")
	page = h.Call(t, "GET", host, base, "", "Cookie", cookie)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, `http-equiv="refresh"`, "a campaign being sent shows its progress")
	require.NotContains(t, page.Body, `name="subject_en"`, "and is no longer edited")
	list := h.Call(t, "GET", host, "/admin/campaigns", "", "Cookie", cookie)
	require.Contains(t, list.Body, "Park day")

	// Forms keep their CSRF protection.
	r = h.CallForm(t, host, "/admin/campaign-settings", url.Values{"per_second": {"5"}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusForbidden, r.Status)
	r = h.CallForm(t, host, "/admin/campaign-settings", url.Values{"csrf_token": {csrf}, "per_second": {"5"}}.Encode(), "Cookie", cookie)
	require.Equal(t, http.StatusSeeOther, r.Status)
	require.Contains(t, r.Header.Get("Location"), "msg=campaign_rate")
}

// TestCampaignsNeedPremium: on a standard city the API answers
// feature_unavailable and the page shows the locked note instead of the
// forms; a citizen of a premium city is refused.
func TestCampaignsNeedPremium(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "camp_std") // standard
	h := webtest.New(t, env, webtest.Options{})
	host := c.DefaultHost
	admUser := fixture.User(t, env, c, fixture.UserOpts{Email: "adm@std.example", Role: user.RoleAdmin})
	admin := fixture.Token(t, env, c, admUser)
	cookie, csrf := fixture.Session(t, env, c, admUser)

	for _, call := range []struct{ method, path, body string }{
		{"GET", "/api/v1/campaigns", ""},
		{"POST", "/api/v1/campaigns", `{"subject":{"en":"x"}}`},
		{"GET", "/api/v1/campaigns/1", ""},
		{"PATCH", "/api/v1/campaigns/1", `{}`},
		{"POST", "/api/v1/campaigns/1/test", ""},
		{"POST", "/api/v1/campaigns/1/send", ""},
		{"GET", "/api/v1/campaign-settings", ""},
		{"PATCH", "/api/v1/campaign-settings", `{"per_second":5}`},
	} {
		p := webtest.RequireProblem(t, h.Call(t, call.method, host, call.path, call.body, "Authorization", admin), 403, "feature_unavailable")
		require.Contains(t, p.Detail, "premium", "%s %s", call.method, call.path)
	}
	page := h.Call(t, "GET", host, "/admin/campaigns", "", "Cookie", cookie)
	webtest.RequireHTML(t, page, http.StatusForbidden)
	require.Contains(t, page.Body, "Available on the premium plan")
	require.NotContains(t, page.Body, `name="subject_en"`, "the locked note instead of the forms")
	r := h.CallForm(t, host, "/admin/campaigns", url.Values{"csrf_token": {csrf}, "subject_en": {"x"}}.Encode(), "Cookie", cookie)
	webtest.RequireHTML(t, r, http.StatusForbidden)
	var n int
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &n, `SELECT count(*) FROM campaigns`)
	}))
	require.Zero(t, n, "nothing was written")
}
