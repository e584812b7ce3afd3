package backoffice

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/gin-gonic/gin"

	"agora/domain/campaign"
	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/group"
	"agora/domain/locale"
	"agora/web/kit"
)

// campaignDoc is a campaign as the API shows it; a draft also says who its
// audience holds now.
type campaignDoc struct {
	campaign.Campaign
	Reach *campaign.Reach `json:"reach,omitempty"`
}

func (s *Backoffice) campaignID(c *gin.Context) int64 {
	id, _ := strconv.ParseInt(c.Param("id"), 10, 64)
	return id
}

func (s *Backoffice) Campaigns(c *gin.Context) {
	list, err := s.campaigns.List(c.Request.Context(), 100)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"data": list})
}

// CreateCampaign records a draft: {"subject": {"fr": ...}, "body":
// {...}, "audience": "groups", "group_ids": [3]}.
func (s *Backoffice) CreateCampaign(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var in campaign.Message
	if !s.BindJSON(c, &in) {
		return
	}
	out, err := s.campaigns.Create(c.Request.Context(), int64(me.ID), in)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, campaignDoc{Campaign: *out})
}

func (s *Backoffice) Campaign(c *gin.Context) {
	ctx := c.Request.Context()
	out, err := s.campaigns.Get(ctx, s.campaignID(c))
	if err != nil {
		s.APIError(c, err)
		return
	}
	d := campaignDoc{Campaign: *out}
	if out.Status == campaign.Draft {
		r, err := s.campaigns.Reach(ctx, out.ID)
		if err != nil {
			s.APIError(c, err)
			return
		}
		d.Reach = &r
	}
	c.JSON(http.StatusOK, d)
}

// UpdateCampaign changes a draft; fields left out keep their value.
func (s *Backoffice) UpdateCampaign(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var in campaign.Patch
	if !s.BindJSON(c, &in) {
		return
	}
	out, err := s.campaigns.Update(c.Request.Context(), int64(me.ID), s.campaignID(c), in)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, campaignDoc{Campaign: *out})
}

// TestCampaign queues a test email to the caller: {"locale": "fr"}
// (optional; the body may be empty).
func (s *Backoffice) TestCampaign(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var in struct {
		Locale string `json:"locale"`
	}
	if c.Request.ContentLength != 0 && !s.BindJSON(c, &in) {
		return
	}
	out, err := s.campaigns.Test(c.Request.Context(), int64(me.ID), s.campaignID(c), in.Locale)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, out)
}

// SendCampaign starts sending a draft: 202 with the campaign, whose
// statistics then show the progress.
func (s *Backoffice) SendCampaign(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	out, err := s.campaigns.Send(c.Request.Context(), int64(me.ID), s.campaignID(c))
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusAccepted, campaignDoc{Campaign: *out})
}

func (s *Backoffice) CampaignSettings(c *gin.Context) {
	out, err := s.campaigns.Settings(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, out)
}

func (s *Backoffice) SetCampaignSettings(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var in struct {
		PerSecond *int `json:"per_second"`
	}
	if !s.BindJSON(c, &in) {
		return
	}
	ctx := c.Request.Context()
	set, err := s.campaigns.Settings(ctx)
	if err == nil && in.PerSecond != nil {
		set, err = s.campaigns.SetSettings(ctx, int64(me.ID), campaign.Settings{PerSecond: *in.PerSecond})
	}
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, set)
}

// --- the back office ---

// campaignsView is the data of the campaign pages.
type campaignsView struct {
	Locked   string // the plan that has campaigns, when this city's lacks them
	List     []campaign.Campaign
	Campaign *campaign.Campaign // the campaign shown or edited
	Draft    *campaign.Message  // the form's values, shown again with its errors
	Groups   []group.Group
	Settings campaign.Settings
	Reach    *campaign.Reach
	Confirm  bool // the send confirmation step
}

// message is what the form shows: the submitted values, else the campaign's.
func (v *campaignsView) message() campaign.Message {
	switch {
	case v.Draft != nil:
		return *v.Draft
	case v.Campaign != nil:
		return campaign.Message{Subject: v.Campaign.Subject, Body: v.Campaign.Body, Audience: v.Campaign.Audience, GroupIDs: v.Campaign.GroupIDs}
	}
	return campaign.Message{Audience: campaign.Groups}
}

// Subject and Body are the form's text in locale l.
func (v *campaignsView) Subject(l string) string { return v.message().Subject[l] }

func (v *campaignsView) Body(l string) string { return v.message().Body[l] }

// Everyone reports whether the form's audience is everyone.
func (v *campaignsView) Everyone() bool { return v.message().Audience == campaign.Everyone }

// GroupChecked reports whether group id is in the form's audience.
func (v *campaignsView) GroupChecked(id int64) bool { return slices.Contains(v.message().GroupIDs, id) }

// GroupName is the title of group id in the page's language.
func (v *page) GroupName(id int64) string {
	if v.Campaigns != nil {
		for _, g := range v.Campaigns.Groups {
			if g.ID == id {
				return v.L(g.Title)
			}
		}
	}
	return "#" + strconv.FormatInt(id, 10)
}

// campaignForm reads the campaign form: subject_<l> and body_<l> for each
// of the city's languages side by side, the audience and the groups.
func campaignForm(c *gin.Context) campaign.Message {
	return campaign.Message{Subject: kit.TextFromForm(c, "subject"), Body: rawTextFromForm(c, "body"),
		Audience: campaign.Audience(c.PostForm("audience")), GroupIDs: kit.CheckedIDs(c, "group_ids")}
}

// rawTextFromForm is textFromForm keeping the text's line breaks.
func rawTextFromForm(c *gin.Context, name string) locale.Text {
	out := locale.Text{}
	for _, l := range kit.City(c).Locales {
		if v := c.PostForm(name + "_" + l); v != "" {
			out[l] = v
		}
	}
	return out
}

// renderCampaigns shows the campaign page: the list (no campaign), a
// campaign, or its send confirmation. A city without the feature gets the
// locked note instead of the forms, with 403.
func (s *Backoffice) renderCampaigns(c *gin.Context, status int, cv *campaignsView, f *kit.Form) {
	ctx := c.Request.Context()
	if f == nil {
		f = kit.EmptyForm()
	}
	title := s.I18n.T(kit.Locale(c), "campaigns.title")
	v := &page{Chrome: kit.Chrome{Title: title, Form: f}, Campaigns: cv}
	if cv.Locked = kit.Locked(c); cv.Locked != "" {
		s.pages.Render(c, http.StatusForbidden, "admin_campaigns", v)
		return
	}
	var err error
	if cv.Groups, err = s.groups.List(ctx); err != nil {
		s.PageError(c, err)
		return
	}
	if cv.Settings, err = s.campaigns.Settings(ctx); err != nil {
		s.PageError(c, err)
		return
	}
	if cv.Campaign == nil {
		if cv.List, err = s.campaigns.List(ctx, 100); err != nil {
			s.PageError(c, err)
			return
		}
	}
	if cv.Campaign != nil && cv.Campaign.Status == campaign.Draft && cv.Reach == nil {
		r, err := s.campaigns.Reach(ctx, cv.Campaign.ID)
		if err != nil {
			s.PageError(c, err)
			return
		}
		cv.Reach = &r
	}
	s.adminNotice(c, v)
	s.pages.Render(c, status, "admin_campaigns", v)
}

// CampaignsPage lists the campaigns with their statistics, with the form
// of a new one and the sending speed.
func (s *Backoffice) CampaignsPage(c *gin.Context) {
	s.renderCampaigns(c, http.StatusOK, &campaignsView{}, nil)
}

// CampaignPage shows one campaign: its form while a draft, its statistics
// once sent; its previews and the test form either way.
func (s *Backoffice) CampaignPage(c *gin.Context) {
	got, err := s.campaigns.Get(c.Request.Context(), s.campaignID(c))
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.renderCampaigns(c, http.StatusOK, &campaignsView{Campaign: got}, nil)
}

// campaignFormError shows the form again with its errors, or fails.
func (s *Backoffice) campaignFormError(c *gin.Context, cv *campaignsView, err error) {
	f := kit.EmptyForm()
	status, internal := s.Explain(c, f, err)
	if internal != nil {
		s.PageError(c, internal)
		return
	}
	s.renderCampaigns(c, status, cv, f)
}

func (s *Backoffice) CreateCampaignSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	m := campaignForm(c)
	out, err := s.campaigns.Create(c.Request.Context(), int64(me.ID), m)
	if err != nil {
		s.campaignFormError(c, &campaignsView{Draft: &m}, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/campaigns/"+strconv.FormatInt(out.ID, 10)+"?msg=campaign_created&n=1")
}

func (s *Backoffice) UpdateCampaignSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	ctx := c.Request.Context()
	id := s.campaignID(c)
	m := campaignForm(c)
	_, err := s.campaigns.Update(ctx, int64(me.ID), id, campaign.Patch{Subject: &m.Subject, Body: &m.Body, Audience: &m.Audience, GroupIDs: &m.GroupIDs})
	if err != nil {
		got, gerr := s.campaigns.Get(ctx, id)
		if gerr != nil {
			s.PageError(c, gerr)
			return
		}
		s.campaignFormError(c, &campaignsView{Campaign: got, Draft: &m}, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/campaigns/"+strconv.FormatInt(id, 10)+"?msg=campaign_saved&n=1")
}

// CampaignPreviewPage shows the campaign as its recipients get it in one
// language: the email's own HTML, with the admin's unsubscribe link.
func (s *Backoffice) CampaignPreviewPage(c *gin.Context) {
	ctx := c.Request.Context()
	got, err := s.campaigns.Get(ctx, s.campaignID(c))
	if err != nil {
		s.PageError(c, err)
		return
	}
	t := kit.City(c)
	loc := got.LocaleFor(append([]string{c.Query("locale"), kit.Locale(c)}, t.Locales...)...)
	if loc == "" {
		s.PageError(c, got.Ready("campaign.Preview"))
		return
	}
	s.emailPreview(c, email.Manual, func(m *email.Composer, b email.Branding, unsubscribe, preferences string) (string, error) {
		_, _, html, err := got.Compose(m, b, loc, unsubscribe, preferences, false)
		return html, err
	})
}

func (s *Backoffice) TestCampaignSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id := s.campaignID(c)
	_, err := s.campaigns.Test(c.Request.Context(), int64(me.ID), id, c.PostForm("locale"))
	if errs.CodeOf(err) == errs.NotFound {
		s.PageError(c, err)
		return
	}
	s.backTo(c, "/admin/campaigns/"+strconv.FormatInt(id, 10), "campaign_test", 1, err)
}

// ConfirmSendPage is the step before sending: who the campaign reaches,
// and one button.
func (s *Backoffice) ConfirmSendPage(c *gin.Context) {
	got, err := s.campaigns.Get(c.Request.Context(), s.campaignID(c))
	if err != nil {
		s.PageError(c, err)
		return
	}
	s.renderCampaigns(c, http.StatusOK, &campaignsView{Campaign: got, Confirm: got.Status == campaign.Draft}, nil)
}

// SendCampaignSubmit sends once the confirmation step's button was pressed
// (confirm=yes); without it, it shows that step.
func (s *Backoffice) SendCampaignSubmit(c *gin.Context) {
	id := s.campaignID(c)
	path := "/admin/campaigns/" + strconv.FormatInt(id, 10)
	if c.PostForm("confirm") != "yes" {
		c.Redirect(http.StatusSeeOther, path+"/send")
		return
	}
	me, _ := kit.CurrentUser(c)
	_, err := s.campaigns.Send(c.Request.Context(), int64(me.ID), id)
	if errs.CodeOf(err) == errs.NotFound {
		s.PageError(c, err)
		return
	}
	s.backTo(c, path, "campaign_sending", 1, err)
}

func (s *Backoffice) CampaignSettingsSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	n, err := strconv.Atoi(c.PostForm("per_second"))
	if err != nil {
		n = 0 // refused by the range below
	}
	_, err = s.campaigns.SetSettings(c.Request.Context(), int64(me.ID), campaign.Settings{PerSecond: n})
	s.backTo(c, "/admin/campaigns", "campaign_rate", 1, err)
}
