package user

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"agora/domain/email"
	"agora/domain/errs"
	"agora/domain/password"
	"agora/domain/site"
	"agora/domain/token"
	"agora/tenant"
)

// Purposes of one-time email codes, and how long each lives.
const (
	PurposeConfirm     = "confirm"
	PurposeReset       = "reset"
	PurposeChangeEmail = "change_email"
	// PurposeAccountExists is the email that tells an account's owner that
	// someone tried to register with their address (no code: a notice).
	PurposeAccountExists = "account_exists"

	ConfirmTTL = 24 * time.Hour
	ResetTTL   = time.Hour
	// maxCodeAttempts bounds guesses of a typed short code.
	maxCodeAttempts = 5
)

// emailTask is the tenant.TaskEmail task of an account email.
func emailTask(kind string, id ID, event string) tenant.Task {
	return tenant.Task{
		Type: tenant.TaskEmail, Queue: "critical",
		ID:      fmt.Sprintf("email:%s:%d:%s", kind, id, event),
		Payload: map[string]any{"kind": kind, "user_id": id, "event": event},
	}
}

func shortHash(id ID, code string) []byte {
	return token.Hash(strconv.FormatInt(int64(id), 10) + ":" + code)
}

// IssueCode creates a one-time code for the user on tx (a city transaction),
// replacing any unused one of the same purpose. It returns the long token for
// a link and a six-digit code to type; only their hashes are stored.
func IssueCode(ctx context.Context, tx sqlx.ExtContext, id ID, purpose string, ttl time.Duration) (link, code string, err error) {
	if _, err := tx.ExecContext(ctx, `UPDATE email_codes SET used_at = now() WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL`, id, purpose); err != nil {
		return "", "", err
	}
	link, hash := token.New("")
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", "", err
	}
	code = fmt.Sprintf("%06d", n.Int64())
	_, err = tx.ExecContext(ctx, `INSERT INTO email_codes (user_id, purpose, code_hash, short_hash, expires_at)
		VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`, id, purpose, hash, shortHash(id, code), ttl.Seconds())
	return link, code, err
}

var errBadCode = errs.E("user.Confirm", errs.Invalid, "this code is wrong or has expired").WithRule("code")

// ConfirmByLink confirms the email of the user whose confirmation link token
// this is. Errors: errs.Invalid when unknown, used or expired.
func (s *Service) ConfirmByLink(ctx context.Context, secret string) (*User, error) {
	var u User
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var id ID
		err := tx.GetContext(ctx, &id, `UPDATE email_codes SET used_at = now()
			WHERE code_hash = $1 AND purpose = 'confirm' AND used_at IS NULL AND expires_at > now() RETURNING user_id`, token.Hash(secret))
		if errors.Is(err, sql.ErrNoRows) {
			return errBadCode
		}
		if err != nil {
			return err
		}
		return tx.GetContext(ctx, &u, `UPDATE users SET email_confirmed_at = coalesce(email_confirmed_at, now())
			WHERE id = $1 RETURNING `+userColumns, id)
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}

// ConfirmByCode confirms the user's email with the six-digit code they typed.
// After maxCodeAttempts wrong guesses the code is void. Errors: errs.Invalid.
func (s *Service) ConfirmByCode(ctx context.Context, id ID, code string) (*User, error) {
	var u User
	var wrong bool
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE email_codes SET used_at = now()
			WHERE user_id = $1 AND short_hash = $2 AND purpose = 'confirm' AND used_at IS NULL
			  AND expires_at > now() AND attempts < $3`, id, shortHash(id, code), maxCodeAttempts)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Count the failed guess against the live code, committed below.
			wrong = true
			_, err := tx.ExecContext(ctx, `UPDATE email_codes SET attempts = attempts + 1
				WHERE user_id = $1 AND purpose = 'confirm' AND used_at IS NULL`, id)
			return err
		}
		return tx.GetContext(ctx, &u, `UPDATE users SET email_confirmed_at = coalesce(email_confirmed_at, now())
			WHERE id = $1 RETURNING `+userColumns, id)
	})
	if err != nil {
		return nil, err
	}
	if wrong {
		return nil, errBadCode
	}
	return &u, nil
}

// ResendConfirmation queues a new confirmation email (the old code stops
// working when the new one is issued).
func (s *Service) ResendConfirmation(ctx context.Context, id ID) error {
	secret, _ := token.New("")
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		return tx.Enqueue(ctx, emailTask(PurposeConfirm, id, "resend-"+secret[:12]))
	})
}

// RequestPasswordReset queues a reset email when an account has this address
// and does nothing otherwise; either way it answers the same, so the response
// reveals nothing about which addresses have accounts. Errors only for a
// malformed address or a failure.
func (s *Service) RequestPasswordReset(ctx context.Context, addr string) error {
	addr, err := email.Normalize("user.RequestPasswordReset", "email", addr)
	if err != nil {
		return err
	}
	secret, _ := token.New("")
	return s.emailOwner(ctx, addr, PurposeReset, secret[:12])
}

// emailOwner queues the account email of purpose for event to the live
// account of the normalised address addr, if there is one, and does
// nothing otherwise: callers answer the same either way, so no one learns
// from them who has an account.
func (s *Service) emailOwner(ctx context.Context, addr, purpose, event string) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var id ID
		err := tx.GetContext(ctx, &id, `SELECT id FROM users WHERE email = $1 AND deleted_at IS NULL`, addr)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return tx.Enqueue(ctx, emailTask(purpose, id, event))
	})
}

// ResetPassword sets a new password with a reset link's token, once. Every
// session and API token of the user is revoked. Errors: errs.Invalid for a
// bad token or password.
func (s *Service) ResetPassword(ctx context.Context, secret, pw string) error {
	const op = "user.ResetPassword"
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		st, err := site.GetSettings(ctx, tx)
		if err != nil {
			return err
		}
		if err := password.Check(op, pw, st.PasswordMinLength); err != nil {
			return err
		}
		var id ID
		err = tx.GetContext(ctx, &id, `UPDATE email_codes SET used_at = now()
			WHERE code_hash = $1 AND purpose = 'reset' AND used_at IS NULL AND expires_at > now() RETURNING user_id`, token.Hash(secret))
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.Invalid, "this reset link is wrong, used or expired; ask for a new one").WithRule("reset_link")
		}
		if err != nil {
			return err
		}
		hash, err := password.Hash(pw)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = now(),
			email_confirmed_at = coalesce(email_confirmed_at, now()) WHERE id = $1`, id, hash); err != nil {
			return err
		}
		return revokeAll(ctx, tx, id)
	})
}

// Recipient is what an account email needs to know about its addressee.
type Recipient struct {
	ID           ID      `db:"id"`
	Email        string  `db:"email"`
	PendingEmail *string `db:"pending_email"`
	FirstName    string  `db:"first_name"`
	Locale       string  `db:"locale"`
}

// GetRecipient reads the addressee of an account email on tx. Deleted
// accounts are not found (sql.ErrNoRows).
func GetRecipient(ctx context.Context, tx sqlx.QueryerContext, id ID) (Recipient, error) {
	var r Recipient
	err := sqlx.GetContext(ctx, tx, &r, `SELECT id, email, pending_email, first_name, locale FROM users WHERE id = $1 AND deleted_at IS NULL`, id)
	return r, err
}

// RequestEmailChange starts changing the user's address: the password is
// checked, the new address kept as pending and a confirmation link sent to
// it. The current address stays in use until the link is opened. Errors:
// errs.Invalid naming the field.
func (s *Service) RequestEmailChange(ctx context.Context, id ID, newAddr, pw string) error {
	const op = "user.RequestEmailChange"
	addr, err := email.Normalize(op, "email", newAddr)
	if err != nil {
		return err
	}
	secret, _ := token.New("")
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var row struct {
			Email        string `db:"email"`
			PasswordHash string `db:"password_hash"`
		}
		if err := tx.GetContext(ctx, &row, `SELECT email, password_hash FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id); err != nil {
			return err
		}
		if !password.Verify(row.PasswordHash, pw) {
			return errs.InvalidField(op, "password", "is not your current password").WithRule("wrong_password")
		}
		if addr == row.Email {
			return errs.InvalidField(op, "email", "is already your address").WithRule("same_email")
		}
		var taken bool
		if err := tx.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1)`, addr); err != nil {
			return err
		}
		if taken {
			return errs.InvalidField(op, "email", "an account with this email already exists").WithRule("taken")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET pending_email = $2, updated_at = now() WHERE id = $1`, id, addr); err != nil {
			return err
		}
		return tx.Enqueue(ctx, emailTask(PurposeChangeEmail, id, "change-"+secret[:12]))
	})
}

// ConfirmEmailChange switches the account to its pending address with the
// link sent there. Every session but none of the content changes. Errors:
// errs.Invalid for a bad link, errs.Invalid (taken) when the address got an
// account meanwhile.
func (s *Service) ConfirmEmailChange(ctx context.Context, secret string) (*User, error) {
	var u User
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var id ID
		err := tx.GetContext(ctx, &id, `UPDATE email_codes SET used_at = now()
			WHERE code_hash = $1 AND purpose = 'change_email' AND used_at IS NULL AND expires_at > now() RETURNING user_id`, token.Hash(secret))
		if errors.Is(err, sql.ErrNoRows) {
			return errBadCode
		}
		if err != nil {
			return err
		}
		err = tx.GetContext(ctx, &u, `UPDATE users SET email = pending_email, pending_email = NULL,
			email_confirmed_at = now(), updated_at = now() WHERE id = $1 AND pending_email IS NOT NULL RETURNING `+userColumns, id)
		if isUnique(err) {
			return errs.InvalidField("user.ConfirmEmailChange", "email", "an account with this email already exists").WithRule("taken")
		}
		if errors.Is(err, sql.ErrNoRows) {
			return errBadCode
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &u, nil
}
