package user

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/domain/errs"
	"agora/tenant"
)

// wantErr is the errs.Error a rule must return: its code, the field at
// fault, the broken rule and the rule's parameters.
type wantErr struct {
	code  errs.Code
	field string
	rule  string
	args  []any
}

// invalid is the wantErr of bad input in field breaking rule.
func invalid(field, rule string, args ...any) *wantErr {
	return &wantErr{code: errs.Invalid, field: field, rule: rule, args: args}
}

// requireErr asserts that err is want (no error when want is nil).
func requireErr(t *testing.T, err error, want *wantErr) {
	t.Helper()
	if want == nil {
		require.NoError(t, err)
		return
	}
	require.Error(t, err)
	e, ok := errs.As(err)
	require.True(t, ok, "not an errs.Error: %v", err)
	require.Equal(t, want.code, e.Code, "code of %v", err)
	require.Equal(t, want.field, e.Field, "field of %v", err)
	require.Equal(t, want.rule, e.Rule, "rule of %v", err)
	require.Equal(t, want.args, e.Args, "rule parameters of %v", err)
}

func TestRoleValid(t *testing.T) {
	for _, tc := range []struct {
		role Role
		want bool
	}{
		{RoleAdmin, true},
		{RoleModerator, true},
		{RoleCitizen, true},
		{"", false},
		{"Admin", false},
		{"operator", false},
		{"owner", false},
		{" admin", false},
	} {
		require.Equal(t, tc.want, tc.role.Valid(), "Role(%q).Valid()", tc.role)
	}
}

func TestUserConfirmed(t *testing.T) {
	at := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	require.False(t, (&User{}).Confirmed(), "no confirmation time")
	require.True(t, (&User{EmailConfirmedAt: &at}).Confirmed(), "confirmed at a time")
}

func TestUserBlocked(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	for _, tc := range []struct {
		name  string
		until *time.Time
		want  bool
	}{
		{"never blocked", nil, false},
		{"block ended", at(-time.Second), false},
		{"block ends now", at(0), false},
		{"blocked a second more", at(time.Second), true},
		{"blocked for a year", at(365 * 24 * time.Hour), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := &User{BlockedUntil: tc.until}
			require.Equal(t, tc.want, u.Blocked(now))
		})
	}
}

func TestRegistrationValidate(t *testing.T) {
	locales := []string{"nl", "fr"}
	const minPassword = 10
	valid := func(edit func(r *Registration)) Registration {
		r := Registration{Email: "ann@gent.be", Password: "long enough pw", FirstName: "Ann", LastName: "Peeters", Locale: "nl"}
		if edit != nil {
			edit(&r)
		}
		return r
	}
	for _, tc := range []struct {
		name    string
		in      Registration
		want    Registration // after normalisation, when valid
		wantErr *wantErr
	}{
		{
			name: "normalises address, trims names, defaults to the city's first language",
			in: valid(func(r *Registration) {
				r.Email, r.FirstName, r.LastName, r.Locale = "  Ann.Peeters@Gent.BE ", "  Ann ", "\tPeeters\n", ""
			}),
			want: valid(func(r *Registration) { r.Email = "ann.peeters@gent.be" }),
		},
		{
			name: "keeps an offered language",
			in:   valid(func(r *Registration) { r.Locale = "fr" }),
			want: valid(func(r *Registration) { r.Locale = "fr" }),
		},
		{name: "empty address", in: valid(func(r *Registration) { r.Email = "" }), wantErr: invalid("email", "format")},
		{name: "address with a display name", in: valid(func(r *Registration) { r.Email = "Ann <ann@gent.be>" }), wantErr: invalid("email", "format")},
		{name: "address without a dot in the domain", in: valid(func(r *Registration) { r.Email = "ann@localhost" }), wantErr: invalid("email", "format")},
		{
			name:    "address checked before everything else",
			in:      valid(func(r *Registration) { r.Email, r.Password, r.FirstName = "nope", "", "" }),
			wantErr: invalid("email", "format"),
		},
		{
			name: "password of exactly the minimum",
			in:   valid(func(r *Registration) { r.Password = "0123456789" }),
			want: valid(func(r *Registration) { r.Password = "0123456789" }),
		},
		{
			name:    "password one short of the minimum",
			in:      valid(func(r *Registration) { r.Password = "012345678" }),
			wantErr: invalid("password", "too_short", minPassword),
		},
		{
			name: "password minimum counts characters, not bytes",
			in:   valid(func(r *Registration) { r.Password = strings.Repeat("é", minPassword) }),
			want: valid(func(r *Registration) { r.Password = strings.Repeat("é", minPassword) }),
		},
		{
			name:    "nine two-byte characters are too short",
			in:      valid(func(r *Registration) { r.Password = strings.Repeat("é", minPassword-1) }),
			wantErr: invalid("password", "too_short", minPassword),
		},
		{
			name: "password of 256 bytes",
			in:   valid(func(r *Registration) { r.Password = strings.Repeat("a", 256) }),
			want: valid(func(r *Registration) { r.Password = strings.Repeat("a", 256) }),
		},
		{
			name:    "password over 256 bytes",
			in:      valid(func(r *Registration) { r.Password = strings.Repeat("a", 257) }),
			wantErr: invalid("password", "too_long", 256),
		},
		{name: "no first name", in: valid(func(r *Registration) { r.FirstName = "" }), wantErr: invalid("first_name", "required_max", 100)},
		{name: "blank first name", in: valid(func(r *Registration) { r.FirstName = " \t " }), wantErr: invalid("first_name", "required_max", 100)},
		{
			name: "first name of 100 characters",
			in:   valid(func(r *Registration) { r.FirstName = strings.Repeat("é", 100) }),
			want: valid(func(r *Registration) { r.FirstName = strings.Repeat("é", 100) }),
		},
		{
			name:    "first name of 101 characters",
			in:      valid(func(r *Registration) { r.FirstName = strings.Repeat("a", 101) }),
			wantErr: invalid("first_name", "required_max", 100),
		},
		{
			name: "first name length counted after trimming",
			in:   valid(func(r *Registration) { r.FirstName = "  " + strings.Repeat("a", 100) + "  " }),
			want: valid(func(r *Registration) { r.FirstName = strings.Repeat("a", 100) }),
		},
		{name: "blank last name", in: valid(func(r *Registration) { r.LastName = "   " }), wantErr: invalid("last_name", "required_max", 100)},
		{
			name:    "last name of 101 characters",
			in:      valid(func(r *Registration) { r.LastName = strings.Repeat("é", 101) }),
			wantErr: invalid("last_name", "required_max", 100),
		},
		{name: "language the city does not offer", in: valid(func(r *Registration) { r.Locale = "de" }), wantErr: invalid("locale", "not_offered")},
		{name: "language codes are exact", in: valid(func(r *Registration) { r.Locale = "NL" }), wantErr: invalid("locale", "not_offered")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.in
			err := r.validate(locales, minPassword)
			requireErr(t, err, tc.wantErr)
			if tc.wantErr != nil {
				e, _ := errs.As(err)
				require.Equal(t, "user.Register", e.Op)
				return
			}
			require.Equal(t, tc.want, r)
		})
	}
}

func TestRegistrationValidateDefaultsToFirstLocale(t *testing.T) {
	// The default is the city's first language, whichever it is.
	r := Registration{Email: "ann@gent.be", Password: "long enough pw", FirstName: "Ann", LastName: "Peeters"}
	require.NoError(t, r.validate([]string{"fr", "nl"}, 8))
	require.Equal(t, "fr", r.Locale)
}

func TestProfileValidate(t *testing.T) {
	locales := []string{"nl", "en"}
	valid := func(edit func(p *Profile)) Profile {
		p := Profile{FirstName: "Ann", LastName: "Peeters", Bio: "Cyclist.", Locale: "nl"}
		if edit != nil {
			edit(&p)
		}
		return p
	}
	for _, tc := range []struct {
		name    string
		in      Profile
		want    Profile
		wantErr *wantErr
	}{
		{
			name: "trims names and bio",
			in:   valid(func(p *Profile) { p.FirstName, p.LastName, p.Bio = " Ann ", "Peeters\t", "\n Cyclist. \n" }),
			want: valid(nil),
		},
		{name: "empty bio", in: valid(func(p *Profile) { p.Bio = "" }), want: valid(func(p *Profile) { p.Bio = "" })},
		{
			name: "bio of 2000 characters",
			in:   valid(func(p *Profile) { p.Bio = strings.Repeat("é", 2000) }),
			want: valid(func(p *Profile) { p.Bio = strings.Repeat("é", 2000) }),
		},
		{
			name: "bio length counted after trimming",
			in:   valid(func(p *Profile) { p.Bio = " " + strings.Repeat("a", 2000) + "\n" }),
			want: valid(func(p *Profile) { p.Bio = strings.Repeat("a", 2000) }),
		},
		{
			name:    "bio of 2001 characters",
			in:      valid(func(p *Profile) { p.Bio = strings.Repeat("é", 2001) }),
			wantErr: invalid("bio", "too_long", 2000),
		},
		{name: "blank first name", in: valid(func(p *Profile) { p.FirstName = "  " }), wantErr: invalid("first_name", "required_max", 100)},
		{
			name:    "first name of 101 characters",
			in:      valid(func(p *Profile) { p.FirstName = strings.Repeat("é", 101) }),
			wantErr: invalid("first_name", "required_max", 100),
		},
		{name: "no last name", in: valid(func(p *Profile) { p.LastName = "" }), wantErr: invalid("last_name", "required_max", 100)},
		{
			name: "last name of 100 characters",
			in:   valid(func(p *Profile) { p.LastName = strings.Repeat("é", 100) }),
			want: valid(func(p *Profile) { p.LastName = strings.Repeat("é", 100) }),
		},
		{name: "another offered language", in: valid(func(p *Profile) { p.Locale = "en" }), want: valid(func(p *Profile) { p.Locale = "en" })},
		// Unlike registration, a profile always names its language.
		{name: "no language", in: valid(func(p *Profile) { p.Locale = "" }), wantErr: invalid("locale", "not_offered")},
		{name: "language the city does not offer", in: valid(func(p *Profile) { p.Locale = "fr" }), wantErr: invalid("locale", "not_offered")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.in
			err := p.validate(locales)
			requireErr(t, err, tc.wantErr)
			if tc.wantErr != nil {
				e, _ := errs.As(err)
				require.Equal(t, "user.UpdateProfile", e.Op)
				return
			}
			require.Equal(t, tc.want, p)
		})
	}
}

// The service refuses before it writes; a Service without a database shows
// that these answers come from the rules alone.
func TestUpdateProfileChecksBeforeWriting(t *testing.T) {
	s := &Service{}
	_, err := s.UpdateProfile(context.Background(), 1, Profile{FirstName: "Ann", LastName: "Peeters", Locale: "nl"})
	require.True(t, errors.Is(err, tenant.ErrNoTenant), "without a city: %v", err)

	ctx := tenant.WithTenant(context.Background(), &tenant.Tenant{Locales: []string{"fr"}})
	_, err = s.UpdateProfile(ctx, 1, Profile{FirstName: "Ann", LastName: "Peeters", Locale: "nl"})
	requireErr(t, err, invalid("locale", "not_offered"))
	_, err = s.UpdateProfile(ctx, 1, Profile{FirstName: " ", LastName: "Peeters", Locale: "fr"})
	requireErr(t, err, invalid("first_name", "required_max", 100))
}

func TestCreateRefusesUnknownRoles(t *testing.T) {
	s := &Service{}
	for _, role := range []Role{"", "Admin", "operator"} {
		_, err := s.Create(context.Background(), Registration{}, role)
		requireErr(t, err, invalid("role", "choice"))
	}
}

func TestCreateTokenNameLength(t *testing.T) {
	_, err := (&Service{}).CreateToken(context.Background(), 1, strings.Repeat("a", 101))
	requireErr(t, err, invalid("name", "too_long", 100))
}

// Session lifetimes as the README states them: 7 days idle, 30 days in all.
func TestSessionLifetimes(t *testing.T) {
	require.Equal(t, 7*24*time.Hour, IdleTimeout)
	require.Equal(t, 30*24*time.Hour, AbsoluteTimeout)
	// last_seen_at is written at most every touchEvery, so a session in use
	// must be touched well within the idle timeout or it would lapse.
	require.Less(t, touchEvery, IdleTimeout/100)
	require.Less(t, IdleTimeout, AbsoluteTimeout)
}

// A registration wrong in several fields names each of them, in the
// order of the form.
func TestRegistrationValidateNamesEveryField(t *testing.T) {
	r := Registration{Email: "nope", Password: "short", FirstName: " ", LastName: "Peeters", Locale: "de"}
	var got []string
	for _, e := range errs.All(r.validate([]string{"nl", "fr"}, 8)) {
		got = append(got, e.Field+"/"+e.Rule)
	}
	require.Equal(t, []string{"email/format", "password/too_short", "first_name/required_max", "locale/not_offered"}, got)

	answers := Answers{"district": "east", "shoe_size": "42"}
	_, err := validateAnswers([]Field{required(textField), selectField}, answers)
	got = nil
	for _, e := range errs.All(err) {
		got = append(got, e.Field+"/"+e.Rule)
	}
	require.Equal(t, []string{"fields.nickname/required", "fields.district/choice", "fields.shoe_size/unknown_question"}, got)
}

// TestNamesFromEmail: an account made without a name is named after its
// address, so it is greeted by something that reads as a first name.
func TestNamesFromEmail(t *testing.T) {
	for addr, want := range map[string][2]string{
		"admin@gent.localhost":     {"Admin", "Gent"},
		"Jan.Peeters@gent.be":      {"Jan", "Peeters"},
		"marie-claire_dupont@x.fr": {"Marie", "Claire Dupont"},
		"élodie@lyon.fr":           {"Élodie", "Lyon"},
		"42@example.org":           {"Admin", "Example"},
	} {
		first, last := NamesFromEmail(addr)
		require.Equal(t, want, [2]string{first, last}, addr)
	}
}
