package idea

import (
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/errs"
	"agora/domain/permission"
)

func TestNewCheck(t *testing.T) {
	valid := func() New { return New{ProjectID: 3, Title: "More trees on the square", Body: "<p>Shade</p>"} }
	type broken struct {
		field, rule string
		args        []any
	}
	cases := []struct {
		name   string
		change func(*New)
		want   *broken // nil: accepted
	}{
		{"valid", func(*New) {}, nil},
		{"title of 3 characters", func(n *New) { n.Title = "abc" }, nil},
		{"title of 2 characters", func(n *New) { n.Title = "ab" }, &broken{"title", "length", []any{3, 200}}},
		{"empty title", func(n *New) { n.Title = "" }, &broken{"title", "length", []any{3, 200}}},
		{"title of 2 characters in spaces", func(n *New) { n.Title = "  a  b " }, nil}, // "a b"
		{"title of 2 characters in markup", func(n *New) { n.Title = "<b>ab</b>" }, &broken{"title", "length", []any{3, 200}}},
		{"title of a script only", func(n *New) { n.Title = "<script>alert(1)</script>" }, &broken{"title", "length", []any{3, 200}}},
		{"title of 200 characters", func(n *New) { n.Title = strings.Repeat("a", 200) }, nil},
		{"title of 201 characters", func(n *New) { n.Title = strings.Repeat("a", 201) }, &broken{"title", "length", []any{3, 200}}},
		{"title of 200 two-byte characters", func(n *New) { n.Title = strings.Repeat("é", 200) }, nil},
		{"title of 201 two-byte characters", func(n *New) { n.Title = strings.Repeat("é", 201) }, &broken{"title", "length", []any{3, 200}}},
		{"title of 3 four-byte characters", func(n *New) { n.Title = "🌳🌳🌳" }, nil},
		{"body of 20000 bytes", func(n *New) { n.Body = strings.Repeat("a", 20000) }, nil},
		{"body of 20001 bytes", func(n *New) { n.Body = strings.Repeat("a", 20001) }, &broken{"body", "too_long", []any{20000}}},
		{"empty body", func(n *New) { n.Body = "" }, nil},
		{"no project", func(n *New) { n.ProjectID = 0 }, &broken{"project_id", "required", nil}},
		{"negative project", func(n *New) { n.ProjectID = -1 }, &broken{"project_id", "required", nil}},
		{"a place", func(n *New) { n.LocationLat, n.LocationLng, n.LocationName = ptr(51.05), ptr(3.72), "Korenmarkt" }, nil},
		{"the map's corners", func(n *New) { n.LocationLat, n.LocationLng = ptr(-90.0), ptr(180.0) }, nil},
		{"the map's other corners", func(n *New) { n.LocationLat, n.LocationLng = ptr(90.0), ptr(-180.0) }, nil},
		{"latitude only", func(n *New) { n.LocationLat = ptr(51.05) }, &broken{"location_lat", "location_pair", nil}},
		{"longitude only", func(n *New) { n.LocationLng = ptr(3.72) }, &broken{"location_lat", "location_pair", nil}},
		{"latitude above", func(n *New) { n.LocationLat, n.LocationLng = ptr(90.01), ptr(3.72) }, &broken{"location_lat", "location_range", nil}},
		{"latitude below", func(n *New) { n.LocationLat, n.LocationLng = ptr(-90.01), ptr(3.72) }, &broken{"location_lat", "location_range", nil}},
		{"longitude above", func(n *New) { n.LocationLat, n.LocationLng = ptr(51.05), ptr(180.01) }, &broken{"location_lat", "location_range", nil}},
		{"longitude below", func(n *New) { n.LocationLat, n.LocationLng = ptr(51.05), ptr(-180.01) }, &broken{"location_lat", "location_range", nil}},
		{"a name without coordinates", func(n *New) { n.LocationName = "Korenmarkt" }, nil},
		{"place name of 200 characters", func(n *New) { n.LocationName = strings.Repeat("ü", 200) }, nil},
		{"place name of 201 characters", func(n *New) { n.LocationName = strings.Repeat("ü", 201) }, &broken{"location_name", "too_long", []any{200}}},
		{"place name long only in markup", func(n *New) { n.LocationName = "<i>" + strings.Repeat("a", 200) + "</i>" }, nil},
		// The first broken rule is the one reported.
		{"short title and long body", func(n *New) { n.Title, n.Body = "ab", strings.Repeat("a", 20001) }, &broken{"title", "length", []any{3, 200}}},
		{"no project and one coordinate", func(n *New) { n.ProjectID, n.LocationLat = 0, ptr(1.0) }, &broken{"project_id", "required", nil}},
	}
	for _, c := range cases {
		n := valid()
		c.change(&n)
		err := n.Check("idea.Post")
		if c.want == nil {
			require.NoError(t, err, c.name)
			continue
		}
		e, ok := errs.As(err)
		require.True(t, ok, "%s: %v", c.name, err)
		require.Equal(t, errs.Invalid, e.Code, c.name)
		require.Equal(t, "idea.Post", e.Op, c.name)
		require.Equal(t, c.want.field, e.Field, c.name)
		require.Equal(t, c.want.rule, e.Rule, c.name)
		require.Equal(t, c.want.args, e.Args, c.name)
	}
}

func TestNewCheckCleansTitleAndPlace(t *testing.T) {
	n := New{ProjectID: 1, Title: "  <b>Bike</b>\n\tlanes <script>alert(1)</script> ", LocationName: "  <i>Korenmarkt</i>  9000 "}
	require.NoError(t, n.Check("idea.Post"))
	require.Equal(t, "Bike lanes", n.Title)
	require.Equal(t, "Korenmarkt 9000", n.LocationName)
}

func TestPlainTitle(t *testing.T) {
	cases := map[string]string{
		"Bike lanes":                           "Bike lanes",
		"  Bike \n\t lanes  ":                  "Bike lanes",
		"<b>Bike</b> <i>lanes</i>":             "Bike lanes",
		"<script>alert(1)</script>Trees":       "Trees",
		`<img src=x onerror="alert(1)">Trees`:  "Trees",
		`<a href="javascript:alert(1)">go</a>`: "go",
		"<style>h1{}</style>Trees":             "Trees",
		"":                                     "",
	}
	for in, want := range cases {
		require.Equal(t, want, PlainTitle(in), "%q", in)
	}
}

func TestDenied(t *testing.T) {
	cases := []struct {
		reason permission.Reason
		code   errs.Code
		rule   string
		says   string
	}{
		{permission.LogIn, errs.Unauthenticated, "denied_log_in", "log in or sign up to comment"},
		{permission.ConfirmEmail, errs.Forbidden, "denied_confirm_email", "confirm your email address to comment"},
		{permission.JoinGroup, errs.Forbidden, "denied_join_group", "only members of certain groups can comment here"},
		{permission.Blocked, errs.Forbidden, "denied_blocked", "you can read but not comment"},
		{permission.Disabled, errs.Forbidden, "denied_disabled", "this phase does not allow to comment"},
		{permission.StaffOnly, errs.Forbidden, "denied_staff_only", "only admins and moderators can comment here"},
		{permission.NotVisible, errs.NotFound, "", "no such project"},
		{"a reason added later", errs.Forbidden, "denied_staff_only", "only admins and moderators"}, // fails closed
	}
	for _, c := range cases {
		err := Denied("idea.AddComment", permission.Comment, permission.Decision{Reason: c.reason, Groups: []int64{panel}})
		e, ok := errs.As(err)
		require.True(t, ok, c.reason)
		require.Equal(t, c.code, e.Code, c.reason)
		require.Equal(t, c.rule, e.Rule, c.reason)
		require.Equal(t, "idea.AddComment", e.Op, c.reason)
		require.Contains(t, e.Message, c.says, c.reason)
	}
	// Every reason permission.Can gives has its own rule.
	seen := map[string]permission.Reason{}
	for _, r := range []permission.Reason{permission.LogIn, permission.ConfirmEmail, permission.JoinGroup, permission.StaffOnly,
		permission.Blocked, permission.Disabled} {
		e, _ := errs.As(Denied("op", permission.Post, permission.Decision{Reason: r}))
		require.NotContains(t, seen, e.Rule, "%s and %s share a rule", r, seen[e.Rule])
		seen[e.Rule] = r
	}
}

func TestVerb(t *testing.T) {
	cases := map[permission.Action]string{
		permission.Post:        "post an idea",
		permission.Comment:     "comment",
		permission.React:       "react",
		permission.Vote:        "vote",
		permission.TakePoll:    "take poll",
		permission.TakeSurvey:  "take survey",
		permission.AttendEvent: "attend event",
		permission.Volunteer:   "volunteer",
	}
	for a, want := range cases {
		require.Equal(t, want, verb(a), a)
	}
	err := Denied("idea.Post", permission.Post, permission.Decision{Reason: permission.LogIn})
	require.Equal(t, "idea.Post: log in or sign up to post an idea", err.Error())
}

func TestSearchConfig(t *testing.T) {
	cases := map[string]string{
		"en": "english", "en-GB": "english", "fr": "french", "fr-BE": "french", "nl": "dutch", "nl-BE": "dutch",
		"de": "german", "es": "spanish", "it": "italian", "pt": "portuguese", "pt-BR": "portuguese",
		"da": "danish", "sv": "swedish",
		// Languages PostgreSQL has no stemmer configured for here: words as they are.
		"pl": "simple", "ar": "simple", "xx": "simple",
	}
	for l, want := range cases {
		require.Equal(t, want, searchConfig(l), l)
	}
}

func TestSorts(t *testing.T) {
	// Every sort List offers has an order, and every order is offered.
	require.Len(t, sorts, len(Sorts))
	for _, s := range Sorts {
		require.Contains(t, sorts, s)
	}
	require.True(t, slices.Contains(Sorts, "new"), "the default sort is offered")
	// Each order ends on the idea's id, so a page never shuffles ties.
	for name, order := range sorts {
		require.True(t, strings.HasSuffix(order, "i.id DESC") || strings.HasSuffix(order, "i.id"), "%s: %s", name, order)
	}
	require.Contains(t, sorts["random"], "$seed", "the random order is placed by the viewer's seed")
}
