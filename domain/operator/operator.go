// Package operator is the hosting operator's staff: their accounts and their
// sessions on the platform host, kept in the platform schema.
package operator

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/password"
	"agora/domain/token"
)

// Operator sessions are shorter-lived than citizens': the console is powerful.
const (
	IdleTimeout     = 12 * time.Hour
	AbsoluteTimeout = 7 * 24 * time.Hour
	touchEvery      = 5 * time.Minute
	// MinPassword is the minimum length of an operator's password.
	MinPassword = 12
)

// Operator is one member of the operator's staff.
type Operator struct {
	ID        int64     `db:"id" json:"id"`
	Email     string    `db:"email" json:"email"`
	Name      string    `db:"name" json:"name"`
	CreatedAt time.Time `db:"created_at" json:"created_at"`
}

// Session is an operator's console session.
type Session struct {
	ID        int64
	Token     string // set only when just created
	CSRFToken string
	Operator  *Operator
}

// Service manages operators in the platform database.
type Service struct {
	db  *sqlx.DB
	now func() time.Time
}

// NewService returns the operator service on the platform pool.
func NewService(db *sqlx.DB) *Service { return &Service{db: db, now: time.Now} }

// Create adds an operator. Errors: errs.Invalid naming the field,
// errs.Conflict when the email exists.
func (s *Service) Create(ctx context.Context, addr, name, pw string) (*Operator, error) {
	const op = "operator.Create"
	addr, err := email.Normalize(op, "email", addr)
	if err != nil {
		return nil, err
	}
	if err := password.Check(op, pw, MinPassword); err != nil {
		return nil, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, err
	}
	var o Operator
	err = s.db.GetContext(ctx, &o, `INSERT INTO platform.operators (email, name, password_hash) VALUES ($1, $2, $3)
		RETURNING id, email, name, created_at`, addr, strings.TrimSpace(name), hash)
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "23505" {
		return nil, errs.E(op, errs.Conflict, "an operator with email %s already exists", addr)
	}
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// ErrBadCredentials is returned for a wrong email or password, without
// saying which.
var ErrBadCredentials = errs.E("operator.Login", errs.Unauthenticated, "wrong email or password")

// Login checks credentials and opens a console session.
func (s *Service) Login(ctx context.Context, email, pw string) (*Session, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	var row struct {
		Operator
		PasswordHash string `db:"password_hash"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT id, email, name, created_at, password_hash FROM platform.operators
		WHERE email = $1 AND disabled_at IS NULL`, email)
	if errors.Is(err, sql.ErrNoRows) {
		password.Waste(pw)
		return nil, ErrBadCredentials
	}
	if err != nil {
		return nil, err
	}
	if !password.Verify(row.PasswordHash, pw) {
		return nil, ErrBadCredentials
	}
	secret, hash := token.New("")
	csrf, _ := token.New("")
	var id int64
	if err := s.db.GetContext(ctx, &id, `INSERT INTO platform.operator_sessions (token_hash, operator_id, csrf_token, expires_at)
		VALUES ($1, $2, $3, $4) RETURNING id`, hash, row.ID, csrf, s.now().Add(AbsoluteTimeout)); err != nil {
		return nil, err
	}
	o := row.Operator
	return &Session{ID: id, Token: secret, CSRFToken: csrf, Operator: &o}, nil
}

// SessionByToken returns the live console session of a cookie. Errors:
// errs.Unauthenticated.
func (s *Service) SessionByToken(ctx context.Context, secret string) (*Session, error) {
	var row struct {
		Operator
		SessionID  int64     `db:"session_id"`
		CSRFToken  string    `db:"csrf_token"`
		LastSeenAt time.Time `db:"last_seen_at"`
	}
	now := s.now()
	err := s.db.GetContext(ctx, &row, `SELECT o.id, o.email, o.name, o.created_at, s.id AS session_id, s.csrf_token, s.last_seen_at
		  FROM platform.operator_sessions s JOIN platform.operators o ON o.id = s.operator_id
		 WHERE s.token_hash = $1 AND s.expires_at > $2 AND s.last_seen_at > $3 AND o.disabled_at IS NULL`,
		token.Hash(secret), now, now.Add(-IdleTimeout))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("operator.Session", errs.Unauthenticated, "not logged in to the console")
	}
	if err != nil {
		return nil, err
	}
	if now.Sub(row.LastSeenAt) > touchEvery {
		if _, err := s.db.ExecContext(ctx, `UPDATE platform.operator_sessions SET last_seen_at = $2 WHERE id = $1`, row.SessionID, now); err != nil {
			return nil, err
		}
	}
	o := row.Operator
	return &Session{ID: row.SessionID, CSRFToken: row.CSRFToken, Operator: &o}, nil
}

// Logout ends a console session.
func (s *Service) Logout(ctx context.Context, sessionID int64) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM platform.operator_sessions WHERE id = $1`, sessionID)
	return err
}

// CreateToken issues an API token for the operator with this email; the
// secret is returned once. Errors: errs.NotFound, errs.Invalid for a name.
func (s *Service) CreateToken(ctx context.Context, addr, name string) (string, error) {
	const op = "operator.CreateToken"
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 100 {
		return "", errs.InvalidField(op, "name", "give the token a name of 1 to 100 characters")
	}
	var id int64
	err := s.db.GetContext(ctx, &id, `SELECT id FROM platform.operators WHERE email = lower($1) AND disabled_at IS NULL`, strings.TrimSpace(addr))
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.E(op, errs.NotFound, "no operator %q", addr)
	}
	if err != nil {
		return "", err
	}
	secret, hash := token.New("agop_")
	_, err = s.db.ExecContext(ctx, `INSERT INTO platform.operator_tokens (operator_id, name, token_hash) VALUES ($1, $2, $3)`, id, name, hash)
	return secret, err
}

// ByToken returns the operator of a live API token. Errors:
// errs.Unauthenticated.
func (s *Service) ByToken(ctx context.Context, secret string) (*Operator, error) {
	var o Operator
	err := s.db.GetContext(ctx, &o, `UPDATE platform.operator_tokens t SET last_used_at = now()
		  FROM platform.operators o
		 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND o.id = t.operator_id AND o.disabled_at IS NULL
		RETURNING o.id, o.email, o.name, o.created_at`, token.Hash(secret))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("operator.ByToken", errs.Unauthenticated, "the operator token is unknown or revoked")
	}
	return &o, err
}
