package user

import (
	"agora/domain/media"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"agora/domain/errs"
	"agora/domain/password"
	"agora/domain/token"
	"agora/tenant"
)

// DeleteAccount erases a user's personal data and keeps their contributions,
// which then show as by a deleted user: the row stays (so content keeps an
// author id) with every personal field emptied; sessions, API tokens, codes,
// data archives and invitations to their address go. The password must be
// given again. Errors: errs.Invalid for a wrong password.
func (s *Service) DeleteAccount(ctx context.Context, id ID, pw, storageDir string) error {
	const op = "user.DeleteAccount"
	var files []string
	var avatar string
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		var row struct {
			Email        string `db:"email"`
			PasswordHash string `db:"password_hash"`
			Avatar       string `db:"avatar_path"`
		}
		err := tx.GetContext(ctx, &row, `SELECT email, password_hash, avatar_path FROM users WHERE id = $1 AND deleted_at IS NULL FOR UPDATE`, id)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.E(op, errs.NotFound, "no such account")
		}
		if err != nil {
			return err
		}
		if !password.Verify(row.PasswordHash, pw) {
			return errs.InvalidField(op, "password", "is not your current password").WithRule("wrong_password")
		}
		if err := tx.SelectContext(ctx, &files, `SELECT file_name FROM data_exports WHERE user_id = $1 AND file_name <> ''`, id); err != nil {
			return err
		}
		avatar = row.Avatar
		for _, q := range []string{
			`DELETE FROM sessions WHERE user_id = $1`,
			`DELETE FROM api_tokens WHERE user_id = $1`,
			`DELETE FROM email_codes WHERE user_id = $1`,
			`DELETE FROM data_exports WHERE user_id = $1`,
			`UPDATE email_deliveries SET recipient = 'deleted-user-' || $1::text, user_id = NULL WHERE user_id = $1`,
			`UPDATE users SET email = NULL, pending_email = NULL, password_hash = '', first_name = '', last_name = '', handle = 'deleted--' || id, bio = '', avatar_path = '',
			        custom_fields = '{}', blocked_until = NULL, role = 'citizen', deleted_at = now(), updated_at = now()
			  WHERE id = $1`,
		} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("%s: %w", op, err)
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM invitations WHERE email = $1`, row.Email)
		return err
	})
	if err != nil {
		return err
	}
	t, _ := tenant.FromContext(ctx)
	for _, f := range files {
		_ = os.Remove(filepath.Join(exportDir(storageDir, t.ID), filepath.Base(f)))
	}
	media.Remove(ctx, storageDir, "avatars", avatar)
	return nil
}

// DataExport is a request for a user's personal data archive.
type DataExport struct {
	ID        int64      `db:"id" json:"id"`
	State     string     `db:"state" json:"state"`
	SizeBytes int64      `db:"size_bytes" json:"size_bytes"`
	CreatedAt time.Time  `db:"created_at" json:"created_at"`
	ReadyAt   *time.Time `db:"ready_at" json:"ready_at"`
	ExpiresAt time.Time  `db:"expires_at" json:"expires_at"`
	FileName  string     `db:"file_name" json:"-"`
}

// TaskDataExport builds a personal data archive in the background.
const TaskDataExport = "user:data_export"

// RequestDataExport records a request and queues the archive's build.
func (s *Service) RequestDataExport(ctx context.Context, id ID) (*DataExport, error) {
	var e DataExport
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.GetContext(ctx, &e, `INSERT INTO data_exports (user_id) VALUES ($1)
			RETURNING id, state, size_bytes, created_at, ready_at, expires_at, file_name`, id); err != nil {
			return err
		}
		return tx.Enqueue(ctx, tenant.Task{Type: TaskDataExport, Queue: "low", ID: fmt.Sprintf("data_export:%d", e.ID),
			Payload: map[string]any{"export_id": e.ID}})
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// DataExports lists the user's archives that have not expired, newest first.
func (s *Service) DataExports(ctx context.Context, id ID) ([]DataExport, error) {
	var out []DataExport
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT id, state, size_bytes, created_at, ready_at, expires_at, file_name
			FROM data_exports WHERE user_id = $1 AND expires_at > now() ORDER BY created_at DESC`, id)
	})
	return out, err
}

// DataExportFile returns the path of a ready, unexpired archive of the user.
// Errors: errs.NotFound (also for another user's archive).
func (s *Service) DataExportFile(ctx context.Context, id ID, exportID int64, storageDir string) (string, error) {
	var name string
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &name, `SELECT file_name FROM data_exports
			WHERE id = $1 AND user_id = $2 AND state = 'ready' AND expires_at > now()`, exportID, id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return "", errs.E("user.DataExportFile", errs.NotFound, "no such archive, or it expired")
	}
	if err != nil {
		return "", err
	}
	t, _ := tenant.FromContext(ctx)
	return filepath.Join(exportDir(storageDir, t.ID), filepath.Base(name)), nil
}

// exportDir is where a city's personal data archives are stored.
func exportDir(storageDir string, id tenant.ID) string {
	return filepath.Join(tenant.StoragePath(storageDir, id), "personal-data")
}

// BuildDataExport writes the archive of one request: a JSON document with the
// profile and everything the city holds about the user. Each feature adds
// its section here as it arrives. Idempotent: a ready archive is left alone.
func (s *Service) BuildDataExport(ctx context.Context, exportID int64, storageDir string) error {
	t, ok := tenant.FromContext(ctx)
	if !ok {
		return tenant.ErrNoTenant
	}
	type archive struct {
		GeneratedAt time.Time  `json:"generated_at"`
		City        string     `json:"city"`
		Profile     User       `json:"profile"`
		Sessions    []sessionV `json:"sessions"`
		APITokens   []APIToken `json:"api_tokens"`
		Emails      []emailV   `json:"emails_sent"`
	}
	var a archive
	var userID ID
	var state string
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.QueryRowxContext(ctx, `SELECT user_id, state FROM data_exports WHERE id = $1`, exportID).Scan(&userID, &state); err != nil {
			return err
		}
		if state != "pending" {
			return nil
		}
		if err := tx.GetContext(ctx, &a.Profile, `SELECT `+userColumns+` FROM users WHERE id = $1`, userID); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &a.Sessions, `SELECT created_at, last_seen_at, user_agent, ip FROM sessions WHERE user_id = $1 ORDER BY id`, userID); err != nil {
			return err
		}
		if err := tx.SelectContext(ctx, &a.APITokens, `SELECT id, name, created_at, last_used_at FROM api_tokens WHERE user_id = $1 ORDER BY id`, userID); err != nil {
			return err
		}
		return tx.SelectContext(ctx, &a.Emails, `SELECT campaign, event, sent_at FROM email_deliveries WHERE user_id = $1 AND state = 'sent' ORDER BY id`, userID)
	})
	if errors.Is(err, sql.ErrNoRows) || (err == nil && state != "pending") {
		return nil // deleted with its account, or already built
	}
	if err != nil {
		return err
	}
	a.GeneratedAt, a.City = time.Now().UTC(), t.Name
	b, err := json.MarshalIndent(a, "", "  ")
	if err != nil {
		return err
	}
	dir := exportDir(storageDir, t.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	secret, _ := token.New("")
	name := fmt.Sprintf("%d-%s.json", exportID, secret[:16])
	if err := os.WriteFile(filepath.Join(dir, name), b, 0o640); err != nil {
		return err
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE data_exports SET state = 'ready', file_name = $2, size_bytes = $3, ready_at = now()
			WHERE id = $1 AND state = 'pending'`, exportID, name, len(b))
		return err
	})
}

type sessionV struct {
	CreatedAt  time.Time `db:"created_at" json:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at" json:"last_seen_at"`
	UserAgent  string    `db:"user_agent" json:"user_agent"`
	IP         string    `db:"ip" json:"ip"`
}

type emailV struct {
	Campaign string     `db:"campaign" json:"campaign"`
	Event    string     `db:"event" json:"event"`
	SentAt   *time.Time `db:"sent_at" json:"sent_at"`
}
