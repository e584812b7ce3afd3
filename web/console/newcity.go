package console

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/tenant"
	"agora/web/kit"
)

// timeZones are the zones the new-city form offers: the European zones of
// Agora's cities first, then one per region. The API takes any IANA zone.
var timeZones = []string{
	"Europe/Brussels", "Europe/Amsterdam", "Europe/Luxembourg", "Europe/Paris", "Europe/Berlin",
	"Europe/Zurich", "Europe/Vienna", "Europe/Rome", "Europe/Madrid", "Europe/Lisbon",
	"Europe/Dublin", "Europe/London", "Europe/Copenhagen", "Europe/Stockholm", "Europe/Oslo",
	"Europe/Helsinki", "Europe/Warsaw", "Europe/Prague", "Europe/Athens", "Europe/Bucharest",
	"Africa/Casablanca", "Africa/Dakar", "Africa/Kinshasa", "Africa/Johannesburg",
	"America/Montreal", "America/Toronto", "America/New_York", "America/Chicago", "America/Denver",
	"America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo", "Australia/Sydney", "UTC",
}

// newCity is a city to create, from the form or the platform API. The
// first of Locales is the city's default language.
type newCity struct {
	Slug       string      `json:"slug"`
	Name       string      `json:"name"`
	Plan       tenant.Plan `json:"plan"`
	Locales    []string    `json:"locales"`
	TimeZone   string      `json:"time_zone"`
	AdminEmail string      `json:"admin_email"`
}

// create provisions n through the provisioner `agora tenant create` uses:
// schema, seed data, registry rows and the first admin's queued invitation
// in one transaction. Refusals are application errors naming the field of
// the form and the API and carrying a rule the console translates.
func (s *Console) create(c *gin.Context, n newCity) (*tenant.Tenant, error) {
	var bad []error
	offered := s.I18n.Locales()
	if len(n.Locales) == 0 {
		bad = append(bad, errs.InvalidField("platform", "locales", "choose at least one language").WithRule("city_locales"))
	}
	for _, l := range n.Locales {
		if !slices.Contains(offered, l) {
			bad = append(bad, errs.InvalidField("platform", "locales", "%q is not one of %s", l, strings.Join(offered, ", ")).WithRule("city_locales"))
			break
		}
	}
	if strings.TrimSpace(n.AdminEmail) == "" {
		bad = append(bad, errs.InvalidField("platform", "admin_email", "the first admin's email is required").WithRule("format"))
	}
	if len(bad) > 0 {
		return nil, errors.Join(bad...)
	}
	created, err := s.prov.Create(c.Request.Context(), tenant.Spec{Slug: n.Slug, Name: n.Name, Plan: n.Plan,
		Locales: n.Locales, TimeZone: n.TimeZone, AdminEmail: n.AdminEmail})
	if err != nil {
		return nil, createError(err)
	}
	return created.Tenant, nil
}

// createFields maps the provisioner's field names to the form's and the
// API's, with the rule that explains each.
var createFields = map[string]struct{ field, rule string }{
	"slug":        {"slug", "city_slug"},
	"name":        {"name", "required_max"},
	"plan":        {"plan", "city_plan"},
	"locales":     {"locales", "city_locales"},
	"timezone":    {"time_zone", "city_time_zone"},
	"admin-email": {"admin_email", "format"},
}

// createError turns the provisioner's refusals into application errors.
func createError(err error) error {
	switch {
	case errors.Is(err, tenant.ErrSlugTaken), errors.Is(err, tenant.ErrHostTaken):
		return errs.InvalidField("platform", "slug", "%v", err).WithRule("city_slug_taken")
	case errors.Is(err, tenant.ErrInvalid):
		msg := strings.TrimPrefix(err.Error(), tenant.ErrInvalid.Error()+": ")
		field, detail, _ := strings.Cut(msg, ": ")
		f, ok := createFields[field]
		if !ok {
			return errs.InvalidField("platform", field, "%s", detail)
		}
		e := errs.InvalidField("platform", f.field, "%s", detail)
		if f.rule == "required_max" {
			return e.WithRule(f.rule, 200)
		}
		return e.WithRule(f.rule)
	}
	return err
}

// CreateCity is POST /api/v1/cities: 201 with the city.
func (s *Console) CreateCity(c *gin.Context) {
	var n newCity
	if !s.BindJSON(c, &n) {
		return
	}
	t, err := s.create(c, n)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, toCityJSON(t))
}

// newCityView is the new-city form's choices.
type newCityView struct {
	Plans     []string
	Locales   []string
	TimeZones []string
}

// NewCityPage is the form that creates a city and invites its first admin.
func (s *Console) NewCityPage(c *gin.Context) {
	f := kit.EmptyForm()
	f.Values["plan"], f.Values["default_locale"], f.Values["time_zone"] = string(tenant.PlanEssential), "en", "Europe/Brussels"
	f.Multi["locales"] = []string{"en"}
	s.renderNewCity(c, http.StatusOK, f)
}

func (s *Console) renderNewCity(c *gin.Context, status int, f *kit.Form) {
	sess, _ := kit.CurrentOperator(c)
	v := &page{Chrome: kit.Chrome{Platform: true, Operator: sess.Operator, Form: f, Title: s.I18n.T(kit.Locale(c), "platform.new.title")},
		NewCity: &newCityView{Plans: (&page{}).PlanNames(), Locales: s.I18n.Locales(), TimeZones: timeZones}}
	s.pages.Render(c, status, "platform_new_city", v)
}

// NewCitySubmit creates the city of the form, then shows its console page.
// The default language comes first among the city's languages, whether or
// not its box was ticked.
func (s *Console) NewCitySubmit(c *gin.Context) {
	f := kit.NewForm(c, "slug", "name", "plan", "default_locale", "time_zone", "admin_email")
	f.Multi["locales"] = c.PostFormArray("locales")
	n := newCity{Slug: f.Values["slug"], Name: f.Values["name"], Plan: tenant.Plan(f.Values["plan"]),
		TimeZone: f.Values["time_zone"], AdminEmail: f.Values["admin_email"]}
	if d := f.Values["default_locale"]; d != "" {
		n.Locales = append(n.Locales, d)
	}
	for _, l := range f.Multi["locales"] {
		if !slices.Contains(n.Locales, l) {
			n.Locales = append(n.Locales, l)
		}
	}
	t, err := s.create(c, n)
	if err != nil {
		status, internal := s.Explain(c, f, err)
		if internal != nil {
			s.PageError(c, internal)
			return
		}
		s.renderNewCity(c, status, f)
		return
	}
	c.Redirect(http.StatusSeeOther, "/cities/"+url.PathEscape(t.Slug)+"?created=1")
}
