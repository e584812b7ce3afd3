package backoffice

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/feature"
	"agora/tenant"
	"agora/web/kit"
)

// digestSettingsDoc is the city's digest schedule as the API shows it.
type digestSettingsDoc struct {
	digest.Schedule
	TimeZone string    `json:"time_zone"`
	NextAt   time.Time `json:"next_at"` // the next time digests leave
}

func (s *Backoffice) digestSettingsDoc(c *gin.Context, sch digest.Schedule) digestSettingsDoc {
	t := kit.City(c)
	return digestSettingsDoc{Schedule: sch, TimeZone: t.TimeZone, NextAt: digest.Next(time.Now(), cityLocation(t), sch)}
}

// cityLocation is the city's time zone (UTC if unknown).
func cityLocation(t *tenant.Tenant) *time.Location {
	if l, err := time.LoadLocation(t.TimeZone); err == nil {
		return l
	}
	return time.UTC
}

func (s *Backoffice) DigestSettings(c *gin.Context) {
	sch, err := s.digests.Schedule(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.digestSettingsDoc(c, sch))
}

func (s *Backoffice) SetDigestSettings(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	var in struct {
		Weekday *int `json:"weekday"`
		Hour    *int `json:"hour"`
	}
	if !s.BindJSON(c, &in) {
		return
	}
	svc := s.digests
	sch, err := svc.Schedule(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	if in.Weekday != nil {
		sch.Weekday = *in.Weekday
	}
	if in.Hour != nil {
		sch.Hour = *in.Hour
	}
	if sch, err = svc.SetSchedule(c.Request.Context(), int64(me.ID), sch); err != nil {
		s.APIError(c, err)
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
func (v *page) Weekdays() []int { return []int{1, 2, 3, 4, 5, 6, 7} }

// Hours lists the hours of a day, for the schedule's select.
func (v *page) Hours() []int {
	out := make([]int, 24)
	for i := range out {
		out[i] = i
	}
	return out
}

func (s *Backoffice) DigestsPage(c *gin.Context) {
	s.renderDigests(c, http.StatusOK, nil)
}

func (s *Backoffice) renderDigests(c *gin.Context, status int, f *kit.Form) {
	ctx := c.Request.Context()
	sch, err := s.digests.Schedule(ctx)
	if err != nil {
		s.PageError(c, err)
		return
	}
	if f == nil {
		f = &kit.Form{Values: map[string]string{"weekday": strconv.Itoa(sch.Weekday), "hour": strconv.Itoa(sch.Hour)}, Errors: map[string]string{}}
	}
	dv := &digestsView{Settings: s.digestSettingsDoc(c, sch)}
	for _, k := range digest.Kinds() {
		kv := digestKindView{Kind: k}
		if err := s.features.Enabled(ctx, k.Feature()); err != nil {
			kv.Off = "admins"
			if !kit.City(c).Allows(string(k.Feature())) {
				kv.Off, kv.Plan = "plan", string(feature.MinPlan(k.Feature()))
			}
		}
		dv.Kinds = append(dv.Kinds, kv)
	}
	v := &page{Chrome: kit.Chrome{Form: f, Title: s.I18n.T(kit.Locale(c), "admin.digests.title")}, Digests: dv}
	s.adminNotice(c, v)
	s.pages.Render(c, status, "admin_digests", v)
}

// DigestsSubmit saves the schedule from the page's form.
func (s *Backoffice) DigestsSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	f := kit.NewForm(c, "weekday", "hour")
	weekday, err1 := strconv.Atoi(f.Values["weekday"])
	hour, err2 := strconv.Atoi(f.Values["hour"])
	var err error
	switch {
	case err1 != nil:
		err = errs.InvalidField("digest.Schedule", "weekday", "choose a day").WithRule("required")
	case err2 != nil:
		err = errs.InvalidField("digest.Schedule", "hour", "choose an hour").WithRule("required")
	default:
		_, err = s.digests.SetSchedule(c.Request.Context(), int64(me.ID), digest.Schedule{Weekday: weekday, Hour: hour})
	}
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderDigests(c, status, f)
		return
	}
	s.backTo(c, "/admin/digests", "digests_saved", 1, nil)
}

// DigestPreviewPage shows the admin the digest of the last seven days as
// they would get it: the email's own HTML. An empty digest, which would not
// be sent, is said so instead.
func (s *Backoffice) DigestPreviewPage(c *gin.Context) {
	kind := digest.Kind(c.Query("kind"))
	if !kind.Valid() {
		s.PageError(c, errs.InvalidField("digest.Preview", "kind", "%q is not user, admin or moderator", c.Query("kind")).WithRule("choice"))
		return
	}
	if !s.Require(c, kind.Feature()) {
		return
	}
	ctx := c.Request.Context()
	me, _ := kit.CurrentUser(c)
	data, empty, err := s.digests.Preview(ctx, kind, int64(me.ID), time.Now())
	if err != nil {
		s.PageError(c, err)
		return
	}
	loc := kit.Locale(c)
	if empty {
		s.Message(c, http.StatusOK, s.I18n.T(loc, "admin.digests.title"), s.I18n.T(loc, "admin.digests.empty"), nil)
		return
	}
	s.emailPreview(c, email.Campaign(kind.Campaign()), func(m *email.Composer, b email.Branding, unsubscribe, preferences string) (string, error) {
		_, _, html, err := m.Compose(b, email.Content{Kind: kind.Campaign(), Locale: loc, FirstName: me.FirstName, Data: data,
			Unsubscribe: unsubscribe, Preferences: preferences})
		return html, err
	})
}
