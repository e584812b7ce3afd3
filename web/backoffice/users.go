package backoffice

import (
	"encoding/csv"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"agora/domain/errs"
	"agora/domain/feature"
	"agora/domain/group"
	"agora/domain/user"
	"agora/tenant"
	"agora/web/kit"
)

func filterOf(c *gin.Context) user.Filter {
	page, _ := strconv.Atoi(c.Query("page"))
	gid, _ := strconv.ParseInt(c.Query("group"), 10, 64)
	return user.Filter{Query: c.Query("q"), Role: user.Role(c.Query("role")), GroupID: gid, Page: page}
}

// UsersPage is the back office's user list: search, filters, role and block
// forms, invitations.
func (s *Backoffice) UsersPage(c *gin.Context) {
	ctx := c.Request.Context()
	f := filterOf(c)
	users, total, err := s.users.Search(ctx, f)
	if err != nil {
		s.PageError(c, err)
		return
	}
	groups, err := s.groups.List(ctx)
	if err != nil {
		s.PageError(c, err)
		return
	}
	invitations, err := s.users.Invitations(ctx)
	if err != nil {
		s.PageError(c, err)
		return
	}
	t, _ := tenant.FromContext(ctx)
	loc := kit.Locale(c)
	v := &page{Chrome: kit.Chrome{Title: s.I18n.T(loc, "admin.users.title")}, Admin: &adminView{
		Users: users, Total: total, Filter: f, Groups: groups, Invitations: invitations,
		ExportsAllowed: s.features.Enabled(ctx, feature.Exports) == nil, Seats: seatsOf(t.Plan),
		Pages: (total + user.PageSize - 1) / user.PageSize,
	}}
	if c.Query("err") != "" {
		v.Form = kit.EmptyForm()
	}
	s.adminNotice(c, v)
	s.pages.Render(c, http.StatusOK, "admin_users", v)
}

// adminView is the data of the back office pages.
type adminView struct {
	Users          []user.User
	Total, Pages   int
	Filter         user.Filter
	Groups         []group.Group
	Invitations    []user.Invitation
	ExportsAllowed bool
	Seats          map[string]int
}

func seatsOf(p tenant.Plan) map[string]int {
	return map[string]int{"admin": user.SeatsFor(p, user.RoleAdmin), "moderator": user.SeatsFor(p, user.RoleModerator)}
}

// back returns to the user list with a message or a translated error.
func (s *Backoffice) back(c *gin.Context, msg string, n int, err error) {
	s.backTo(c, "/admin/users", msg, n, err)
}

// backTo redirects to a back-office page after a form: with the outcome
// message key and count, or with the error in the admin's language.
func (s *Backoffice) backTo(c *gin.Context, path, msg string, n int, err error) {
	q := url.Values{}
	if err != nil {
		f := kit.EmptyForm()
		if _, internal := s.Explain(c, f, err); internal != nil {
			s.PageError(c, internal)
			return
		}
		text := f.Error
		for _, e := range f.Errors {
			text = e
		}
		q.Set("err", text)
	} else {
		q.Set("msg", msg)
		q.Set("n", strconv.Itoa(n))
	}
	c.Redirect(http.StatusSeeOther, path+"?"+q.Encode())
}

func (s *Backoffice) SetRoleSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, ok := userParam(c)
	if !ok {
		s.NotFound(c)
		return
	}
	_, err := s.users.SetRole(c.Request.Context(), me.ID, id, user.Role(c.PostForm("role")))
	s.back(c, "role", 1, err)
}

func (s *Backoffice) BlockSubmit(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, ok := userParam(c)
	if !ok {
		s.NotFound(c)
		return
	}
	days, err := strconv.Atoi(c.PostForm("days"))
	if err != nil {
		s.back(c, "", 0, errs.InvalidField("admin.block", "days", "must be a number").WithRule("range", 0, 3650))
		return
	}
	_, err = s.users.Block(c.Request.Context(), me.ID, id, days)
	s.back(c, "block", days, err)
}

// InviteSubmit invites the addresses typed in the form and/or listed in an
// uploaded CSV file (one address per line, first column; a header is skipped).
func (s *Backoffice) InviteSubmit(c *gin.Context) {
	addrs := splitAddresses(c.PostForm("emails"))
	if fh, err := c.FormFile("csv"); err == nil {
		if fh.Size > 1<<20 {
			s.back(c, "", 0, errs.InvalidField("admin.invite", "csv", "the file is larger than 1 MB").WithRule("file_size", 1))
			return
		}
		f, err := fh.Open()
		if err != nil {
			s.PageError(c, err)
			return
		}
		defer f.Close()
		fromCSV, err := csvAddresses(f)
		if err != nil {
			s.back(c, "", 0, errs.InvalidField("admin.invite", "csv", "cannot read the file as CSV: %v", err).WithRule("csv"))
			return
		}
		addrs = append(addrs, fromCSV...)
	}
	invited, _, err := s.users.Invite(c.Request.Context(), addrs, user.Role(c.PostForm("role")))
	s.back(c, "invited", len(invited), err)
}

func splitAddresses(s string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '\r' || r == ' ' || r == '\t' }) {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

func csvAddresses(r io.Reader) ([]string, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	var out []string
	for i := 0; ; i++ {
		rec, err := cr.Read()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if len(rec) == 0 {
			continue
		}
		v := strings.TrimSpace(rec[0])
		if i == 0 && !strings.Contains(v, "@") {
			continue // a header row
		}
		if v != "" {
			out = append(out, v)
		}
	}
}

// ExportUsersPage streams the user list as CSV, with personal fields, to
// admins of cities whose plan includes exports, under headers in the
// city's default language.
func (s *Backoffice) ExportUsersPage(c *gin.Context) {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="users.csv"`)
	c.Header("Cache-Control", "no-store")
	w := csv.NewWriter(c.Writer)
	// Headers in the city's default language, as in the exports.
	heads := []string{"id", "email", "first_name", "last_name", "role", "locale", "email_confirmed", "blocked_until", "created_at"}
	for i, k := range heads {
		heads[i] = s.I18n.T(kit.City(c).DefaultLocale(), "exports.column."+k)
	}
	_ = w.Write(heads)
	f := filterOf(c)
	for page := 1; ; page++ {
		f.Page = page
		users, total, err := s.users.Search(c.Request.Context(), f)
		if err != nil {
			_ = c.Error(err)
			return
		}
		for _, u := range users {
			blocked := ""
			if u.BlockedUntil != nil {
				blocked = u.BlockedUntil.UTC().Format("2006-01-02T15:04:05Z")
			}
			_ = w.Write([]string{strconv.FormatInt(int64(u.ID), 10), u.Email, csvSafe(u.FirstName), csvSafe(u.LastName), string(u.Role), u.Locale,
				strconv.FormatBool(u.Confirmed()), blocked, u.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")})
		}
		if page*user.PageSize >= total {
			break
		}
	}
	w.Flush()
}

// csvSafe defuses values a spreadsheet would run as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Users lists users for admins, page by page.
func (s *Backoffice) Users(c *gin.Context) {
	f := filterOf(c)
	users, total, err := s.users.Search(c.Request.Context(), f)
	if err != nil {
		s.APIError(c, err)
		return
	}
	page := max(f.Page, 1)
	out := kit.PagedList[user.User]{Data: kit.NonNil(users), Total: total, Page: page}
	if page*user.PageSize < total {
		q := c.Request.URL.Query()
		q.Set("page", strconv.Itoa(page+1))
		out.Next = "/api/v1/users?" + q.Encode()
	}
	c.JSON(http.StatusOK, out)
}

// UpdateUser changes a user's role and/or block (admins).
func (s *Backoffice) UpdateUser(c *gin.Context) {
	me, _ := kit.CurrentUser(c)
	id, ok := userParam(c)
	if !ok {
		s.APIError(c, errs.InvalidField("users", "id", "must be a positive number"))
		return
	}
	var r struct {
		Role        *user.Role `json:"role"`
		BlockedDays *int       `json:"blocked_days"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	if r.Role == nil && r.BlockedDays == nil {
		s.APIError(c, errs.E("users", errs.Invalid, "give role and/or blocked_days"))
		return
	}
	// Check both changes before making either, so none is half-applied.
	if r.Role != nil && !r.Role.Valid() {
		s.APIError(c, errs.InvalidField("users", "role", "%q is not one of admin, moderator, citizen", *r.Role))
		return
	}
	if r.BlockedDays != nil && (*r.BlockedDays < 0 || *r.BlockedDays > 3650) {
		s.APIError(c, errs.InvalidField("users", "blocked_days", "must be between 0 and 3650").WithRule("range", 0, 3650))
		return
	}
	if r.BlockedDays != nil && me.ID == id {
		s.APIError(c, errs.E("users", errs.Forbidden, "you cannot block yourself"))
		return
	}
	var u *user.User
	var err error
	if r.Role != nil {
		if u, err = s.users.SetRole(c.Request.Context(), me.ID, id, *r.Role); err != nil {
			s.APIError(c, err)
			return
		}
	}
	if r.BlockedDays != nil {
		if u, err = s.users.Block(c.Request.Context(), me.ID, id, *r.BlockedDays); err != nil {
			s.APIError(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, u)
}

// Invite invites addresses with a role (admins).
func (s *Backoffice) Invite(c *gin.Context) {
	var r struct {
		Emails []string  `json:"emails"`
		Role   user.Role `json:"role"`
	}
	if !s.BindJSON(c, &r) {
		return
	}
	invited, skipped, err := s.users.Invite(c.Request.Context(), r.Emails, r.Role)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, gin.H{"invited": kit.NonNil(invited), "skipped": kit.NonNil(skipped)})
}

func (s *Backoffice) Invitations(c *gin.Context) {
	invs, err := s.users.Invitations(c.Request.Context())
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusOK, kit.List[user.Invitation]{Data: kit.NonNil(invs), Total: len(invs)})
}

// CreateField adds a registration question (admins).
func (s *Backoffice) CreateField(c *gin.Context) {
	var f user.Field
	if !s.BindJSON(c, &f) {
		return
	}
	out, err := s.users.CreateField(c.Request.Context(), f)
	if err != nil {
		s.APIError(c, err)
		return
	}
	c.JSON(http.StatusCreated, out)
}

// DeleteField removes a registration question (admins).
func (s *Backoffice) DeleteField(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		s.APIError(c, errs.InvalidField("fields", "id", "must be a number"))
		return
	}
	if err := s.users.DeleteField(c.Request.Context(), id); err != nil {
		s.APIError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// userParam is the :id of a user route.
func userParam(c *gin.Context) (user.ID, bool) {
	id, ok := kit.IDParam(c, "id")
	return user.ID(id), ok
}
