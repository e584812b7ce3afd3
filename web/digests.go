package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/user"
	"agora/tenant"
)

// Email consents (profile and API), one-click unsubscribe (RFC 8058) and
// the back office's digest schedule and previews.

// --- consents ---

// consentView is one campaign type on the profile page.
type consentView struct {
	Campaign   email.Campaign
	Subscribed bool
}

// consentViews lists the campaigns u may receive with u's choices.
func (s *Server) consentViews(c *gin.Context, u *user.User) ([]consentView, error) {
	cs, err := email.NewConsentService(s.db).Get(c.Request.Context(), int64(u.ID))
	if err != nil {
		return nil, err
	}
	var out []consentView
	for _, k := range email.CampaignsFor(string(u.Role)) {
		out = append(out, consentView{Campaign: k, Subscribed: cs[k]})
	}
	return out, nil
}

// consentDoc is the caller's choices as the API shows them: the campaigns
// their role may receive.
func consentDoc(u *user.User, cs email.Consents) map[email.Campaign]bool {
	out := map[email.Campaign]bool{}
	for _, k := range email.CampaignsFor(string(u.Role)) {
		out[k] = cs[k]
	}
	return out
}

// apiEmailConsents returns the caller's choice per campaign type.
func (s *Server) apiEmailConsents(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	cs, err := email.NewConsentService(s.db).Get(c.Request.Context(), int64(u.ID))
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, consentDoc(u, cs))
}

// apiSetEmailConsents records the choices in the body ({"user_digest":
// false, ...}); campaigns not named keep theirs.
func (s *Server) apiSetEmailConsents(c *gin.Context) {
	u, ok := s.requireUser(c)
	if !ok {
		return
	}
	var in email.Consents
	if !s.bindJSON(c, &in) {
		return
	}
	cs, err := email.NewConsentService(s.db).Set(c.Request.Context(), int64(u.ID), in)
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, consentDoc(u, cs))
}

// profileConsentsSubmit saves the profile's checkboxes: a checked box
// subscribes, an unchecked one of the campaigns shown unsubscribes.
func (s *Server) profileConsentsSubmit(c *gin.Context) {
	u, ok := s.requirePageUser(c)
	if !ok {
		return
	}
	in := email.Consents{}
	for _, k := range email.CampaignsFor(string(u.Role)) {
		in[k] = c.PostForm("consent_"+string(k)) == "on"
	}
	if _, err := email.NewConsentService(s.db).Set(c.Request.Context(), int64(u.ID), in); err != nil {
		s.pageError(c, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/profile?consents=1#email-consents")
}

// --- one-click unsubscribe ---

// unsubscribeView is the data of the unsubscribe page.
type unsubscribeView struct {
	Token    string
	Campaign email.Campaign
	Done     bool
}

// unsubscribeToken checks the token of an unsubscribe link against the
// secret and the request's city. A token of another city is not found here.
func (s *Server) unsubscribeToken(c *gin.Context) (email.Unsubscribe, error) {
	u, err := email.ParseUnsubscribe(s.cfg.SecretKey, c.Query("token"))
	if err != nil {
		return u, err
	}
	if t, ok := tenant.FromContext(c.Request.Context()); !ok || t.ID != u.TenantID {
		return u, errs.E("unsubscribe", errs.NotFound, "this unsubscribe link belongs to another platform")
	}
	return u, nil
}

// unsubscribePage confirms, with a button, before unsubscribing: mail
// scanners open links, and opening one must change nothing.
func (s *Server) unsubscribePage(c *gin.Context) {
	u, err := s.unsubscribeToken(c)
	if err != nil {
		s.pageError(c, err)
		return
	}
	loc := c.GetString(keyLocale)
	s.html(c, http.StatusOK, "unsubscribe", view{Title: s.i18n.T(loc, "unsubscribe.title"),
		Unsubscribe: &unsubscribeView{Token: c.Query("token"), Campaign: u.Campaign}})
}

// unsubscribeSubmit is the one-click unsubscribe of RFC 8058: a mail client
// POSTs "List-Unsubscribe=One-Click" to the link, or the visitor presses the
// page's button. The signed token is the credential (no session, no CSRF
// token: see csrf). It answers 200 once the choice is recorded.
func (s *Server) unsubscribeSubmit(c *gin.Context) {
	u, err := s.unsubscribeToken(c)
	if err == nil {
		err = email.NewConsentService(s.db).Unsubscribe(c.Request.Context(), u)
	}
	if err != nil {
		s.pageError(c, err)
		return
	}
	loc := c.GetString(keyLocale)
	s.html(c, http.StatusOK, "unsubscribe", view{Title: s.i18n.T(loc, "unsubscribe.title"),
		Unsubscribe: &unsubscribeView{Campaign: u.Campaign, Done: true}})
}

// --- digest schedule and previews (admins) ---

// digestSettingsDoc is the city's digest schedule as the API shows it.
type digestSettingsDoc struct {
	digest.Schedule
	TimeZone string    `json:"time_zone"`
	NextAt   time.Time `json:"next_at"` // the next time digests leave
}

func (s *Server) digestSettingsDoc(c *gin.Context, sch digest.Schedule) digestSettingsDoc {
	t := city(c)
	return digestSettingsDoc{Schedule: sch, TimeZone: t.TimeZone, NextAt: digest.Next(time.Now(), cityLocation(t), sch)}
}

// cityLocation is the city's time zone (UTC if unknown).
func cityLocation(t *tenant.Tenant) *time.Location {
	if l, err := time.LoadLocation(t.TimeZone); err == nil {
		return l
	}
	return time.UTC
}

func (s *Server) apiDigestSettings(c *gin.Context) {
	sch, err := digest.NewService(s.db).Schedule(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.digestSettingsDoc(c, sch))
}

func (s *Server) apiSetDigestSettings(c *gin.Context) {
	me, _ := currentUser(c)
	var in struct {
		Weekday *int `json:"weekday"`
		Hour    *int `json:"hour"`
	}
	if !s.bindJSON(c, &in) {
		return
	}
	svc := digest.NewService(s.db)
	sch, err := svc.Schedule(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	if in.Weekday != nil {
		sch.Weekday = *in.Weekday
	}
	if in.Hour != nil {
		sch.Hour = *in.Hour
	}
	if sch, err = svc.SetSchedule(c.Request.Context(), int64(me.ID), sch); err != nil {
		s.apiError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.digestSettingsDoc(c, sch))
}

// digestsView is the data of /admin/digests.
type digestsView struct {
	Settings digestSettingsDoc
	Kinds    []digestKindView
}

// digestKindView is one digest on the page: whether the city may send it.
type digestKindView struct {
	Kind digest.Kind
	// Off names why it is not sent: "" when it is, "plan" (with Plan) or
	// "admins" (turned off in the features).
	Off  string
	Plan string
}

// Weekdays lists the ISO weekdays, for the schedule's select.
func (v view) Weekdays() []int { return []int{1, 2, 3, 4, 5, 6, 7} }

// Hours lists the hours of a day, for the schedule's select.
func (v view) Hours() []int {
	out := make([]int, 24)
	for i := range out {
		out[i] = i
	}
	return out
}

// DateTime formats a time in the city's time zone.
func (v view) DateTime(t time.Time) string {
	if v.City != nil {
		t = t.In(cityLocation(v.City))
	}
	return t.Format("2006-01-02 15:04")
}

func (s *Server) adminDigests(c *gin.Context) {
	s.renderDigests(c, http.StatusOK, nil)
}

func (s *Server) renderDigests(c *gin.Context, status int, f *form) {
	ctx := c.Request.Context()
	sch, err := digest.NewService(s.db).Schedule(ctx)
	if err != nil {
		s.pageError(c, err)
		return
	}
	if f == nil {
		f = &form{Values: map[string]string{"weekday": strconv.Itoa(sch.Weekday), "hour": strconv.Itoa(sch.Hour)}, Errors: map[string]string{}}
	}
	dv := &digestsView{Settings: s.digestSettingsDoc(c, sch)}
	for _, k := range digest.Kinds() {
		kv := digestKindView{Kind: k}
		if err := s.features.Enabled(ctx, k.Feature()); err != nil {
			kv.Off = "admins"
			if !city(c).Allows(string(k.Feature())) {
				kv.Off, kv.Plan = "plan", string(feature.MinPlan(k.Feature()))
			}
		}
		dv.Kinds = append(dv.Kinds, kv)
	}
	v := view{Form: f, Digests: dv, Title: s.i18n.T(c.GetString(keyLocale), "admin.digests.title")}
	s.adminNotice(c, &v)
	s.html(c, status, "admin_digests", v)
}

// adminDigestsSubmit saves the schedule from the page's form.
func (s *Server) adminDigestsSubmit(c *gin.Context) {
	me, _ := currentUser(c)
	f := newForm(c, "weekday", "hour")
	weekday, err1 := strconv.Atoi(f.Values["weekday"])
	hour, err2 := strconv.Atoi(f.Values["hour"])
	var err error
	switch {
	case err1 != nil:
		err = errs.InvalidField("digest.Schedule", "weekday", "choose a day").WithRule("required")
	case err2 != nil:
		err = errs.InvalidField("digest.Schedule", "hour", "choose an hour").WithRule("required")
	default:
		_, err = digest.NewService(s.db).SetSchedule(c.Request.Context(), int64(me.ID), digest.Schedule{Weekday: weekday, Hour: hour})
	}
	if err != nil {
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderDigests(c, status, f)
		return
	}
	s.backTo(c, "/admin/digests", "digests_saved", 1, nil)
}

// adminDigestPreview shows the admin the digest of the last seven days as
// they would get it: the email's own HTML. An empty digest, which would not
// be sent, is said so instead.
func (s *Server) adminDigestPreview(c *gin.Context) {
	kind := digest.Kind(c.Query("kind"))
	if !kind.Valid() {
		s.pageError(c, errs.InvalidField("digest.Preview", "kind", "%q is not user, admin or moderator", c.Query("kind")).WithRule("choice"))
		return
	}
	if !s.gate(c, kind.Feature()) {
		return
	}
	ctx := c.Request.Context()
	me, _ := currentUser(c)
	data, empty, err := digest.NewService(s.db).Preview(ctx, kind, int64(me.ID), time.Now())
	if err != nil {
		s.pageError(c, err)
		return
	}
	loc := c.GetString(keyLocale)
	if empty {
		s.html(c, http.StatusOK, "message", view{Title: s.i18n.T(loc, "admin.digests.title"), Notice: s.i18n.T(loc, "admin.digests.empty")})
		return
	}
	s.emailPreview(c, email.Campaign(kind.Campaign()), func(m *email.Composer, b email.Branding, unsubscribe, preferences string) (string, error) {
		_, _, html, err := m.Compose(b, email.Content{Kind: kind.Campaign(), Locale: loc, FirstName: me.FirstName, Data: data,
			Unsubscribe: unsubscribe, Preferences: preferences})
		return html, err
	})
}
