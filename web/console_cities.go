package web

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
)

// The operator's view of one city and its license: the console page
// /cities/:slug and the platform API /api/v1/cities. Both change a city
// through tenant.Operations, which queues tenant:apply_plan when the plan or
// the overrides change.

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
		Hosts: nonNil(t.Hosts), PrimaryHost: t.PrimaryHost, Locales: t.Locales, TimeZone: t.TimeZone,
		Granted: nonNil(t.Granted), Revoked: nonNil(t.Revoked), Features: []string{}, CreatedAt: t.CreatedAt}
	for _, k := range feature.Keys() {
		if t.Allows(string(k)) {
			out.Features = append(out.Features, string(k))
		}
	}
	return out
}

// requireOperatorAPI answers 401 to an API call without an operator.
func (s *Server) requireOperatorAPI(c *gin.Context) {
	if _, ok := currentOperator(c); !ok {
		s.apiError(c, errs.E("platform", errs.Unauthenticated, "log in to the console or send an operator token"))
		return
	}
	c.Next()
}

func (s *Server) apiCities(c *gin.Context) {
	ts, err := s.reg.List(c.Request.Context())
	if err != nil {
		s.apiError(c, err)
		return
	}
	out := make([]cityJSON, len(ts))
	for i, t := range ts {
		out[i] = toCityJSON(t)
	}
	c.JSON(http.StatusOK, list[cityJSON]{Data: out, Total: len(out)})
}

func (s *Server) apiCity(c *gin.Context) {
	t, err := s.reg.BySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		s.apiError(c, cityError(err))
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

func (s *Server) apiUpdateCity(c *gin.Context) {
	var p cityPatch
	if !s.bindJSON(c, &p) {
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
	s.apiError(c, err)
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

func (s *Server) consoleCity(c *gin.Context) {
	s.renderConsoleCity(c, http.StatusOK, nil)
}

func (s *Server) renderConsoleCity(c *gin.Context, status int, f *form) {
	t, err := s.reg.BySlug(c.Request.Context(), c.Param("slug"))
	if err != nil {
		s.pageError(c, cityError(err))
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
		f = &form{Values: map[string]string{}, Errors: map[string]string{}}
	}
	sess, _ := currentOperator(c)
	v := view{Platform: true, Operator: sess.Operator, ConsoleCity: cv, Form: f, Title: t.Name}
	if c.Query("saved") != "" {
		v.Notice = s.i18n.T(c.GetString(keyLocale), "admin.msg.saved")
	}
	s.html(c, status, "platform_city", v)
}

func sortedHas(list []string, s string) bool {
	i := sort.SearchStrings(list, s)
	return i < len(list) && list[i] == s
}

// consoleCitySubmit saves the plan, trial end and overrides from the page.
func (s *Server) consoleCitySubmit(c *gin.Context) {
	f := newForm(c, "plan", "lifecycle", "trial_ends_at")
	plan, lifecycle := tenant.Plan(f.Values["plan"]), tenant.Lifecycle(f.Values["lifecycle"])
	trial := f.Values["trial_ends_at"]
	p := cityPatch{Plan: &plan, Lifecycle: &lifecycle, TrialEndsAt: &trial, Overrides: map[string]*bool{}}
	for _, k := range feature.Keys() {
		switch c.PostForm("o_" + string(k)) {
		case "grant":
			p.Overrides[string(k)] = ptr(true)
		case "revoke":
			p.Overrides[string(k)] = ptr(false)
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
		status, internal := s.explain(c, f, err)
		if internal != nil {
			s.pageError(c, internal)
			return
		}
		s.renderConsoleCity(c, status, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/cities/"+c.Param("slug")+"?saved=1")
}
