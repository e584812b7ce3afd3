package backoffice

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"agora/domain/feature"
	"agora/domain/idea"
	"agora/domain/user"
	"agora/web/kit"
)

// homeView is the data of the back office's home: what needs attention, the
// staff pages the city may use, and its plan with its seats.
type homeView struct {
	UnreadReports int
	Unanswered    int               // ideas with no answer yet
	ByProject     []idea.Unanswered // the projects with most of them
	Pending       int               // pending invitations
	Links         []homeLink
	Plan          string
	Staff         user.Staff
	AdminSeats    int // feature.Unlimited for no limit
	ModSeats      int
}

// homeLink is one staff page on the home.
type homeLink struct {
	Href, Title, Lead string // Title and Lead are catalog keys
}

// homePages are the staff pages the home links to, with the feature each
// page's route needs (routes.go): "" when none. A page whose feature the
// city may not use now is left out.
var homePages = []struct {
	href, key string
	needs     feature.Key
}{
	{"/admin/projects", "admin.projects", ""},
	{"/admin/users", "admin.users", ""},
	{"/admin/moderation", "moderation", ""},
	{"/admin/statuses", "admin.statuses", feature.CustomIdeaStatuses},
	{"/admin/exports", "exports", feature.Exports},
	{"/admin/features", "admin.features", ""},
	{"/admin/digests", "admin.digests", ""},
	{"/admin/campaigns", "campaigns", feature.ManualEmailCampaigns},
}

// HomePage is the back office's home for city admins. Its counts are read
// in the request's one read transaction (readScope), a fixed number of
// queries whatever the city's size.
func (s *Backoffice) HomePage(c *gin.Context) {
	ctx := c.Request.Context()
	t := kit.City(c)
	v := &homeView{Plan: string(t.Plan)}
	v.AdminSeats, v.ModSeats = feature.Seats(t.Plan)
	var err error
	if v.UnreadReports, err = s.moderation.UnreadCount(ctx); err != nil {
		s.PageError(c, err)
		return
	}
	if v.Unanswered, v.ByProject, err = s.ideas.Unanswered(ctx); err != nil {
		s.PageError(c, err)
		return
	}
	if v.Staff, err = s.users.StaffCounts(ctx); err != nil {
		s.PageError(c, err)
		return
	}
	v.Pending = v.Staff.Pending
	for _, p := range homePages {
		if p.needs != "" && !s.Enabled(c, p.needs) {
			continue
		}
		v.Links = append(v.Links, homeLink{Href: p.href, Title: p.key + ".title", Lead: "admin.home.lead." + p.href[len("/admin/"):]})
	}
	s.pages.Render(c, http.StatusOK, "admin_home", &page{Chrome: kit.Chrome{Title: s.I18n.T(kit.Locale(c), "admin.home.title")}, BackOffice: v})
}
