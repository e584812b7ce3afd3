package console

import (
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/tenant"
	"agora/web/kit"
)

// cityJSON is a city as the platform API shows it.
type cityJSON struct {
	ID          tenant.ID        `json:"id"`
	Slug        string           `json:"slug"`
	Name        string           `json:"name"`
	Plan        tenant.Plan      `json:"plan"`
	Lifecycle   tenant.Lifecycle `json:"lifecycle"`
	TrialEndsAt *time.Time       `json:"trial_ends_at"`
	Hosts       []string         `json:"hosts"`
	PrimaryHost string           `json:"primary_host"`
	Locales     []string         `json:"locales"`
	TimeZone    string           `json:"time_zone"`
	Granted     []string         `json:"granted"`
	Revoked     []string         `json:"revoked"`
	Features    []string         `json:"features"` // what the plan and overrides allow
	CreatedAt   time.Time        `json:"created_at"`
}

func toCityJSON(t *tenant.Tenant) cityJSON {
	out := cityJSON{ID: t.ID, Slug: t.Slug, Name: t.Name, Plan: t.Plan, Lifecycle: t.Lifecycle, TrialEndsAt: t.TrialEndsAt,
		Hosts: kit.NonNil(t.Hosts), PrimaryHost: t.PrimaryHost, Locales: t.Locales, TimeZone: t.TimeZone,
		Granted: kit.NonNil(t.Granted), Revoked: kit.NonNil(t.Revoked), Features: []string{}, CreatedAt: t.CreatedAt}
	for _, k := range feature.Keys() {
		if t.Allows(string(k)) {
			out.Features = append(out.Features, string(k))
		}
	}
	return out
}

func (s *Console) Cities(c *gin.Context) {
	ts, err := s.reg.List(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	out := make([]cityJSON, len(ts))
	for i, t := range ts {
		out[i] = toCityJSON(t)
	}
	c.JSON(http.StatusOK, kit.List[cityJSON]{Data: out, Total: len(out)})
}

func (s *Console) City(c *gin.Context) {
	t, err := s.reg.BySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		s.APIError(c, cityError(err))
		return
	}
	c.JSON(http.StatusOK, toCityJSON(t))
}

// cityPatch is what the operator may change through the API.
type cityPatch struct {
	Name        *string           `json:"name"`
	Plan        *tenant.Plan      `json:"plan"`
	Lifecycle   *tenant.Lifecycle `json:"lifecycle"`
	TrialEndsAt *string           `json:"trial_ends_at"` // RFC 3339 or YYYY-MM-DD; "" clears
	// Overrides maps a feature to true (grant), false (take away) or null
	// (back to the plan's rule).
	Overrides map[string]*bool `json:"overrides"`
}

func (p cityPatch) update() (tenant.Update, error) {
	u := tenant.Update{Name: p.Name, Plan: p.Plan, Lifecycle: p.Lifecycle, Overrides: p.Overrides}
	if p.TrialEndsAt != nil {
		if *p.TrialEndsAt == "" {
			u.ClearTrialEnd = true
		} else {
			d, err := parseDay(*p.TrialEndsAt)
			if err != nil {
				return u, errs.InvalidField("platform", "trial_ends_at", "%q is not a date (2027-01-31 or RFC 3339)", *p.TrialEndsAt)
			}
			u.TrialEndsAt = &d
		}
	}
	return u, nil
}

func parseDay(s string) (time.Time, error) {
	if d, err := time.Parse(time.RFC3339, s); err == nil {
		return d, nil
	}
	return time.Parse("2006-01-02", s)
}

// cityError turns the tenant package's errors into application errors.
func cityError(err error) error {
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return errs.E("platform", errs.NotFound, "no such city")
	case errors.Is(err, tenant.ErrInvalid):
		msg := strings.TrimPrefix(err.Error(), tenant.ErrInvalid.Error()+": ")
		field, detail, _ := strings.Cut(msg, ": ")
		return errs.InvalidField("platform", field, "%s", detail)
	}
	return err
}

func (s *Console) UpdateCity(c *gin.Context) {
	var p cityPatch
	if !s.BindJSON(c, &p) {
		return
	}
	u, err := p.update()
	if err == nil {
		var t *tenant.Tenant
		if t, err = s.ops.Update(c.Request.Context(), c.Param("slug"), u); err == nil {
			c.JSON(http.StatusOK, toCityJSON(t))
			return
		}
		err = cityError(err)
	}
	s.APIError(c, err)
}

// cityView is the console's city page.
type cityView struct {
	City  *tenant.Tenant
	Flags []consoleFlag
}

// consoleFlag is one feature as the operator sees it: the plan's rule and
// the override.
type consoleFlag struct {
	Key      feature.Key
	Plan     tenant.Plan // lowest plan that has it
	InPlan   bool        // the city's plan has it
	Override string      // "", "grant" or "revoke"
	Allowed  bool
}

func (s *Console) CityPage(c *gin.Context) {
	s.renderConsoleCity(c, http.StatusOK, nil)
}

func (s *Console) renderConsoleCity(c *gin.Context, status int, f *kit.Form) {
	t, err := s.reg.BySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		s.PageError(c, cityError(err))
		return
	}
	cv := &cityView{City: t}
	for _, k := range feature.Keys() {
		fl := consoleFlag{Key: k, Plan: feature.MinPlan(k), InPlan: feature.Allowed(t.Plan, k), Allowed: t.Allows(string(k))}
		switch {
		case sortedHas(t.Granted, string(k)):
			fl.Override = "grant"
		case sortedHas(t.Revoked, string(k)):
			fl.Override = "revoke"
		}
		cv.Flags = append(cv.Flags, fl)
	}
	if f == nil {
		f = kit.EmptyForm()
	}
	sess, _ := kit.CurrentOperator(c)
	v := &page{Chrome: kit.Chrome{Platform: true, Operator: sess.Operator, Form: f, Title: t.Name}, ConsoleCity: cv}
	switch {
	case c.Query("created") != "":
		v.Notice = s.I18n.T(kit.Locale(c), "platform.new.created", t.Name, t.PrimaryHost)
	case c.Query("saved") != "":
		v.Notice = s.I18n.T(kit.Locale(c), "admin.msg.saved")
	}
	s.pages.Render(c, status, "platform_city", v)
}

func sortedHas(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

// CitySubmit saves the plan, trial end and overrides from the page.
func (s *Console) CitySubmit(c *gin.Context) {
	f := kit.NewForm(c, "plan", "lifecycle", "trial_ends_at")
	plan, lifecycle := tenant.Plan(f.Values["plan"]), tenant.Lifecycle(f.Values["lifecycle"])
	trial := f.Values["trial_ends_at"]
	p := cityPatch{Plan: &plan, Lifecycle: &lifecycle, TrialEndsAt: &trial, Overrides: map[string]*bool{}}
	grant, revoke := true, false
	for _, k := range feature.Keys() {
		switch c.PostForm("o_" + string(k)) {
		case "grant":
			p.Overrides[string(k)] = &grant
		case "revoke":
			p.Overrides[string(k)] = &revoke
		default:
			p.Overrides[string(k)] = nil
		}
	}
	u, err := p.update()
	if err == nil {
		_, err = s.ops.Update(c.Request.Context(), c.Param("slug"), u)
		err = cityError(err)
	}
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderConsoleCity(c, status, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/cities/"+c.Param("slug")+"?saved=1")
}
