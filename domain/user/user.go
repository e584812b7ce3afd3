// Package user is a city's accounts: registration, passwords, sessions, API
// tokens and one-time email codes, all stored in the city's schema.
package user

import (
	"errors"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/password"
)

// ID identifies a user within one city.
type ID int64

// Role is what a user may do in the city.
type Role string

const (
	RoleAdmin     Role = "admin"
	RoleModerator Role = "moderator"
	RoleCitizen   Role = "citizen"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleAdmin || r == RoleModerator || r == RoleCitizen }

// User is one account of a city.
type User struct {
	ID        ID     `db:"id" json:"id"`
	Email     string `db:"email" json:"email"`
	FirstName string `db:"first_name" json:"first_name"`
	LastName  string `db:"last_name" json:"last_name"`
	// Handle is how others mention the user in comments (@jane-doe).
	Handle           string     `db:"handle" json:"handle"`
	Bio              string     `db:"bio" json:"bio"`
	Locale           string     `db:"locale" json:"locale"`
	Role             Role       `db:"role" json:"role"`
	EmailConfirmedAt *time.Time `db:"email_confirmed_at" json:"email_confirmed_at"`
	BlockedUntil     *time.Time `db:"blocked_until" json:"blocked_until,omitempty"`
	CreatedAt        time.Time  `db:"created_at" json:"created_at"`
	// Avatar is the avatar's file name, served at /avatars/<name>; "" if none.
	Avatar string `db:"avatar_path" json:"avatar,omitempty"`
}

// Confirmed reports whether the user confirmed their email address.
func (u *User) Confirmed() bool { return u.EmailConfirmedAt != nil }

// Blocked reports whether the user is blocked at now (they can read, not act).
func (u *User) Blocked(now time.Time) bool { return u.BlockedUntil != nil && u.BlockedUntil.After(now) }

// Registration is what a visitor submits to create an account.
type Registration struct {
	Email     string `json:"email"`
	Password  string `json:"password"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Locale    string `json:"locale"`
	// Fields answers the city's registration questions, by key.
	Fields Answers `json:"fields,omitempty"`
}

// NamesFromEmail is the name Agora gives an account made without one (the
// operator's `agora user create`): the words of the address's local part,
// capitalised, so jan.peeters@gent.be is Jan Peeters and pages and emails
// greet "Jan". A one-word local part takes the first label of the domain
// as its last name: admin@gent.be is Admin Gent, greeted "Admin".
func NamesFromEmail(addr string) (first, last string) {
	local, domain, _ := strings.Cut(strings.ToLower(strings.TrimSpace(addr)), "@")
	words := strings.FieldsFunc(local, func(r rune) bool { return r == '.' || r == '_' || r == '-' || r == '+' || unicode.IsDigit(r) })
	if len(words) == 0 {
		words = []string{"admin"}
	}
	title := func(w string) string {
		r, n := utf8.DecodeRuneInString(w)
		return string(unicode.ToUpper(r)) + w[n:]
	}
	for i, w := range words {
		words[i] = title(w)
	}
	first, last = words[0], strings.Join(words[1:], " ")
	if last == "" {
		label, _, _ := strings.Cut(domain, ".")
		if label == "" {
			label = "agora"
		}
		last = title(label)
	}
	return first, last
}

// validate normalises r for a city offering locales, with its minimum
// password length. A refusal names every field at fault at once (joined).
func (r *Registration) validate(locales []string, minPassword int) error {
	const op = "user.Register"
	var all []error
	if addr, err := email.Normalize(op, "email", r.Email); err != nil {
		all = append(all, err)
	} else {
		r.Email = addr
	}
	if err := password.Check(op, r.Password, minPassword); err != nil {
		all = append(all, err)
	}
	r.FirstName, r.LastName = strings.TrimSpace(r.FirstName), strings.TrimSpace(r.LastName)
	if r.FirstName == "" || utf8.RuneCountInString(r.FirstName) > 100 {
		all = append(all, errs.InvalidField(op, "first_name", "is required (at most 100 characters)").WithRule("required_max", 100))
	}
	if r.LastName == "" || utf8.RuneCountInString(r.LastName) > 100 {
		all = append(all, errs.InvalidField(op, "last_name", "is required (at most 100 characters)").WithRule("required_max", 100))
	}
	if r.Locale == "" {
		r.Locale = locales[0]
	}
	if !slices.Contains(locales, r.Locale) {
		all = append(all, errs.InvalidField(op, "locale", "%q is not one of this city's languages (%s)", r.Locale, strings.Join(locales, ", ")).
			WithRule("not_offered"))
	}
	return errors.Join(all...)
}
