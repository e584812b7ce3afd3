package user

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/domain/activity"
	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/password"
	"agora/domain/token"
	"agora/tenant"
)

// Session lifetimes: a session ends after IdleTimeout without use, and in any
// case AbsoluteTimeout after login.
const (
	IdleTimeout     = 7 * 24 * time.Hour
	AbsoluteTimeout = 30 * 24 * time.Hour
	// touchEvery bounds how often a session's last_seen_at is written.
	touchEvery = 5 * time.Minute
)

// Service manages a city's accounts through the scoped transaction.
type Service struct {
	db  *tenant.DB
	now func() time.Time
}

// NewService returns the accounts service.
func NewService(db *tenant.DB) *Service { return &Service{db: db, now: time.Now} }

const userColumns = `id, email, first_name, last_name, handle, bio, locale, role, email_confirmed_at, blocked_until, created_at, avatar_path`

// Register creates a citizen account from r and queues its confirmation
// email. It answers the same whether or not the address already has an
// account, so registration never tells who is registered: for a taken
// address nothing is created and the account's owner is emailed instead
// (at most once a day), with a way to log in or reset the password.
// Errors: errs.Invalid (naming the field), errs.Forbidden (registration
// closed or by invitation).
func (s *Service) Register(ctx context.Context, r Registration) error {
	const op = "user.Register"
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var mode string
		if err := tx.GetContext(ctx, &mode, `SELECT registration_mode FROM settings`); err != nil {
			return err
		}
		switch mode {
		case "closed":
			return errs.E(op, errs.Forbidden, "registration is closed in this city").WithRule("registration_closed")
		case "invite_only":
			return errs.E(op, errs.Forbidden, "registration is by invitation only in this city").WithRule("registration_invite_only")
		}
		fields, err := loadFields(ctx, tx)
		if err != nil {
			return err
		}
		var minLen int
		if err := tx.GetContext(ctx, &minLen, `SELECT password_min_length FROM settings`); err != nil {
			return err
		}
		// Every field at fault is named at once, the account's and the
		// questions'.
		invalid := r.validate(tx.Tenant.Locales, minLen)
		answers, err := validateAnswers(fields, r.Fields)
		if err := errors.Join(invalid, err); err != nil {
			return err
		}
		u, err := insertUser(ctx, tx, op, r, RoleCitizen, false, answers)
		if err != nil {
			return err
		}
		return tx.Enqueue(ctx, emailTask(PurposeConfirm, u.ID, "register"))
	})
	if e, ok := errs.As(err); !ok || e.Rule != "taken" {
		return err
	}
	// The address has an account (insertUser normalised and checked it):
	// tell its owner, at most once a day.
	addr, _ := email.Normalize(op, "email", r.Email)
	return s.emailOwner(ctx, addr, PurposeAccountExists, "exists:"+time.Now().UTC().Format("2006-01-02"))
}

// ByEmail returns the live account with address addr. Errors:
// errs.NotFound.
func (s *Service) ByEmail(ctx context.Context, addr string) (*User, error) {
	addr = email.Key(addr)
	var u User
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &u, `SELECT `+userColumns+` FROM users WHERE email = $1 AND deleted_at IS NULL`, addr)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("user.ByEmail", errs.NotFound, "no account %q", addr)
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// Create makes a confirmed account with a role directly (operators
// bootstrapping a city, tests). Errors as Register.
func (s *Service) Create(ctx context.Context, r Registration, role Role) (*User, error) {
	const op = "user.Create"
	if !role.Valid() {
		return nil, errs.InvalidField(op, "role", "%q is not one of admin, moderator, citizen", role).WithRule("choice")
	}
	var u User
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var err error
		u, err = insertUser(ctx, tx, op, r, role, true, nil)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// insertUser validates r with the city's rules, hashes the password and
// inserts the account with role, confirmed or not, and its answers to the
// registration questions, recording the registration in the activity log.
// Every way of creating an account goes through it.
func insertUser(ctx context.Context, tx *tenant.Tx, op string, r Registration, role Role, confirmed bool,
	answers map[string]any) (User, error) {
	var u User
	var minLen int
	if err := tx.GetContext(ctx, &minLen, `SELECT password_min_length FROM settings`); err != nil {
		return u, err
	}
	if err := r.validate(tx.Tenant.Locales, minLen); err != nil {
		return u, err
	}
	custom := []byte("{}")
	if answers != nil {
		custom, _ = json.Marshal(answers)
	}
	hash, err := password.Hash(r.Password)
	if err != nil {
		return u, err
	}
	err = tx.GetContext(ctx, &u, `INSERT INTO users (email, password_hash, first_name, last_name, locale, role, custom_fields, email_confirmed_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $8 THEN now() END) RETURNING `+userColumns,
		r.Email, hash, r.FirstName, r.LastName, r.Locale, role, string(custom), confirmed)
	if isEmailTaken(err) {
		return u, errs.InvalidField(op, "email", "an account with this email already exists").WithRule("taken")
	}
	if err != nil {
		return u, err
	}
	_, err = activity.Record(ctx, tx, activity.Activity{Actor: int64(u.ID), Action: "user.registered", ItemType: "user", ItemID: int64(u.ID)})
	return u, err
}

// Session is a logged-in browser session.
type Session struct {
	ID        int64
	Token     string // only set when the session was just created
	CSRFToken string
	User      *User
	ExpiresAt time.Time
}

// ErrBadCredentials is returned by Login for a wrong email or password,
// without saying which.
var ErrBadCredentials = errs.E("user.Login", errs.Unauthenticated, "wrong email or password")

// Login checks email and password and opens a new session. Unknown emails cost
// the same time as wrong passwords. Errors: ErrBadCredentials.
func (s *Service) Login(ctx context.Context, addr, pw, userAgent, ip string) (*Session, error) {
	addr, err := email.Normalize("user.Login", "email", addr)
	if err != nil {
		password.Waste(pw)
		return nil, ErrBadCredentials
	}
	var sess *Session
	err = s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var row struct {
			User
			PasswordHash string `db:"password_hash"`
		}
		err := tx.GetContext(ctx, &row, `SELECT `+userColumns+`, password_hash FROM users WHERE email = $1 AND deleted_at IS NULL`, addr)
		if errors.Is(err, sql.ErrNoRows) {
			password.Waste(pw)
			return ErrBadCredentials
		}
		if err != nil {
			return err
		}
		if !password.Verify(row.PasswordHash, pw) {
			return ErrBadCredentials
		}
		sess, err = s.openSession(ctx, tx, &row.User, userAgent, ip)
		return err
	})
	return sess, err
}

func (s *Service) openSession(ctx context.Context, tx *tenant.Tx, u *User, userAgent, ip string) (*Session, error) {
	secret, hash := token.New("")
	csrf, _ := token.New("")
	expires := s.now().Add(AbsoluteTimeout)
	var id int64
	if len(userAgent) > 300 {
		userAgent = userAgent[:300]
	}
	err := tx.GetContext(ctx, &id, `INSERT INTO sessions (token_hash, user_id, csrf_token, expires_at, user_agent, ip)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`, hash, u.ID, csrf, expires, userAgent, ip)
	if err != nil {
		return nil, fmt.Errorf("open session: %w", err)
	}
	return &Session{ID: id, Token: secret, CSRFToken: csrf, User: u, ExpiresAt: expires}, nil
}

// SessionByToken returns the live session of a cookie token: not expired,
// used within IdleTimeout, its user not deleted. It refreshes last_seen_at at
// most every few minutes. Errors: errs.Unauthenticated.
func (s *Service) SessionByToken(ctx context.Context, secret string) (*Session, error) {
	if secret == "" {
		return nil, errs.E("user.Session", errs.Unauthenticated, "not logged in")
	}
	var row struct {
		User
		SessionID  int64     `db:"session_id"`
		CSRFToken  string    `db:"csrf_token"`
		ExpiresAt  time.Time `db:"expires_at"`
		LastSeenAt time.Time `db:"last_seen_at"`
	}
	now := s.now()
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &row, `SELECT u.id, u.email, u.first_name, u.last_name, u.handle, u.bio, u.locale, u.role,
			       u.email_confirmed_at, u.blocked_until, u.created_at, u.avatar_path,
			       s.id AS session_id, s.csrf_token, s.expires_at, s.last_seen_at
			  FROM sessions s JOIN users u ON u.id = s.user_id
			 WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND u.deleted_at IS NULL`,
			token.Hash(secret), now, now.Add(-IdleTimeout))
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("user.Session", errs.Unauthenticated, "session expired; log in again")
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(row.LastSeenAt) > touchEvery {
		err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen_at = $2 WHERE id = $1`, row.SessionID, now)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	u := row.User
	return &Session{ID: row.SessionID, CSRFToken: row.CSRFToken, User: &u, ExpiresAt: row.ExpiresAt}, nil
}

// Logout ends one session.
func (s *Service) Logout(ctx context.Context, sessionID int64) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE id = $1`, sessionID)
		return err
	})
}

// LogoutEverywhere ends every session of the user and revokes their API tokens.
func (s *Service) LogoutEverywhere(ctx context.Context, id ID) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		return revokeAll(ctx, tx, id)
	})
}

func revokeAll(ctx context.Context, tx sqlx.ExecerContext, id ID) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, id)
	return err
}

// APIToken describes a Bearer token (never its secret after creation).
type APIToken struct {
	ID         int64      `db:"id" json:"id"`
	Name       string     `db:"name" json:"name"`
	CreatedAt  time.Time  `db:"created_at" json:"created_at"`
	LastUsedAt *time.Time `db:"last_used_at" json:"last_used_at"`
	Token      string     `db:"-" json:"token,omitempty"`
}

// CreateToken makes a new API token for the user; its secret is returned once.
// Errors: errs.Invalid for a bad name.
func (s *Service) CreateToken(ctx context.Context, id ID, name string) (*APIToken, error) {
	if name == "" {
		name = "API token"
	}
	if len(name) > 100 {
		return nil, errs.InvalidField("user.CreateToken", "name", "must be at most 100 characters").WithRule("too_long", 100)
	}
	secret, hash := token.New("agora_")
	var t APIToken
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &t, `INSERT INTO api_tokens (user_id, name, token_hash) VALUES ($1, $2, $3)
			RETURNING id, name, created_at, last_used_at`, id, name, hash)
	})
	if err != nil {
		return nil, err
	}
	t.Token = secret
	return &t, nil
}

// Tokens lists the user's live API tokens.
func (s *Service) Tokens(ctx context.Context, id ID) ([]APIToken, error) {
	var out []APIToken
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT id, name, created_at, last_used_at FROM api_tokens
			WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id`, id)
	})
	return out, err
}

// RevokeToken revokes one of the user's tokens. Errors: errs.NotFound when it
// is not theirs or already revoked.
func (s *Service) RevokeToken(ctx context.Context, id ID, tokenID int64) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = now() WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL`, tokenID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.E("user.RevokeToken", errs.NotFound, "no such token")
		}
		return nil
	})
}

// UserByAPIToken returns the owner of a live Bearer token. Errors:
// errs.Unauthenticated.
func (s *Service) UserByAPIToken(ctx context.Context, secret string) (*User, error) {
	var u User
	var lastUsed *time.Time
	var tokenID int64
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.QueryRowxContext(ctx, `SELECT u.id, u.email, u.first_name, u.last_name, u.handle, u.bio, u.locale, u.role,
			       u.email_confirmed_at, u.blocked_until, u.created_at, u.avatar_path, t.id, t.last_used_at
			  FROM api_tokens t JOIN users u ON u.id = t.user_id
			 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.deleted_at IS NULL`, token.Hash(secret)).
			Scan(&u.ID, &u.Email, &u.FirstName, &u.LastName, &u.Handle, &u.Bio, &u.Locale, &u.Role,
				&u.EmailConfirmedAt, &u.BlockedUntil, &u.CreatedAt, &u.Avatar, &tokenID, &lastUsed)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("user.Token", errs.Unauthenticated, "invalid or revoked API token")
	}
	if err != nil {
		return nil, err
	}
	if now := s.now(); lastUsed == nil || now.Sub(*lastUsed) > touchEvery {
		err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, tokenID, now)
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	return &u, nil
}

func isUnique(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505"
}

// isEmailTaken reports whether err is the unique email constraint.
func isEmailTaken(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505" && pe.Constraint == "users_email_key"
}

// Profile is what a user may edit about themselves.
type Profile struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Bio       string `json:"bio"`
	Locale    string `json:"locale"`
}

// validate normalises p (names and bio trimmed) for a city offering locales.
func (p *Profile) validate(locales []string) error {
	const op = "user.UpdateProfile"
	p.FirstName, p.LastName, p.Bio = strings.TrimSpace(p.FirstName), strings.TrimSpace(p.LastName), strings.TrimSpace(p.Bio)
	switch {
	case p.FirstName == "" || utf8.RuneCountInString(p.FirstName) > 100:
		return errs.InvalidField(op, "first_name", "is required (at most 100 characters)").WithRule("required_max", 100)
	case p.LastName == "" || utf8.RuneCountInString(p.LastName) > 100:
		return errs.InvalidField(op, "last_name", "is required (at most 100 characters)").WithRule("required_max", 100)
	case utf8.RuneCountInString(p.Bio) > 2000:
		return errs.InvalidField(op, "bio", "must be at most 2000 characters").WithRule("too_long", 2000)
	case !slices.Contains(locales, p.Locale):
		return errs.InvalidField(op, "locale", "%q is not one of this city's languages", p.Locale).WithRule("not_offered")
	}
	return nil
}

// UpdateProfile changes the user's own profile. Errors: errs.Invalid naming
// the field.
func (s *Service) UpdateProfile(ctx context.Context, id ID, p Profile) (*User, error) {
	const op = "user.UpdateProfile"
	t, ok := tenant.FromContext(ctx)
	if !ok {
		return nil, tenant.ErrNoTenant
	}
	if err := p.validate(t.Locales); err != nil {
		return nil, err
	}
	var u User
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &u, `UPDATE users SET first_name = $2, last_name = $3, bio = $4, locale = $5, updated_at = now()
			WHERE id = $1 AND deleted_at IS NULL RETURNING `+userColumns, id, p.FirstName, p.LastName, p.Bio, p.Locale)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E(op, errs.NotFound, "no such user")
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}
