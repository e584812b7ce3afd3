package user

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"agora/domain/errs"
	"agora/domain/media"
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

// BuildDataExport writes the archive of one request: one JSON document with
// a section per table that names the user (see archiveSections), what each
// section holds in words, and the pictures they uploaded. Idempotent: a
// ready archive is left alone.
func (s *Service) BuildDataExport(ctx context.Context, exportID int64, storageDir string) error {
	t, ok := tenant.FromContext(ctx)
	if !ok {
		return tenant.ErrNoTenant
	}
	var userID ID
	var state string
	sections := make([]json.RawMessage, len(archiveSections))
	var files []archiveFile
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.QueryRowxContext(ctx, `SELECT user_id, state FROM data_exports WHERE id = $1`, exportID).Scan(&userID, &state); err != nil {
			return err
		}
		if state != "pending" {
			return nil
		}
		for i, sec := range archiveSections {
			q := `SELECT coalesce(json_agg(r), '[]'::json) FROM (` + sec.Query + `) r`
			if sec.One {
				q = `SELECT row_to_json(r) FROM (` + sec.Query + `) r`
			}
			if err := tx.QueryRowxContext(ctx, q, userID).Scan(&sections[i]); err != nil {
				return fmt.Errorf("archive section %s: %w", sec.Key, err)
			}
		}
		return tx.SelectContext(ctx, &files, archiveFilesQuery, userID)
	})
	if errors.Is(err, sql.ErrNoRows) || (err == nil && state != "pending") {
		return nil // deleted with its account, or already built
	}
	if err != nil {
		return err
	}
	dir := exportDir(storageDir, t.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	secret, _ := token.New("")
	name := fmt.Sprintf("%d-%s.json", exportID, secret[:16])
	path := filepath.Join(dir, name)
	size, err := writeArchive(ctx, path, t.Name, sections, files, storageDir)
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write archive: %w", err)
	}
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE data_exports SET state = 'ready', file_name = $2, size_bytes = $3, ready_at = now()
			WHERE id = $1 AND state = 'pending'`, exportID, name, size)
		return err
	})
}

// archiveFile is a picture a user uploaded: their avatar, or one of their
// ideas' pictures.
type archiveFile struct {
	Kind      string     `db:"kind" json:"kind"` // avatar or idea_image
	IdeaID    int64      `db:"idea_id" json:"idea_id,omitempty"`
	Name      string     `db:"name" json:"name"`
	CreatedAt *time.Time `db:"created_at" json:"created_at,omitempty"`
}

// archiveFilesQuery lists the files of user $1.
const archiveFilesQuery = `SELECT 'avatar' AS kind, 0::bigint AS idea_id, avatar_path AS name, NULL::timestamptz AS created_at
	FROM users WHERE id = $1 AND avatar_path <> ''
	UNION ALL
	SELECT 'idea_image', m.idea_id, m.name, m.created_at FROM idea_images m JOIN ideas i ON i.id = m.idea_id
	WHERE i.author_id = $1
	ORDER BY kind, idea_id, name`

// writeArchive writes the archive document to path and returns its size.
// Files are streamed into it one at a time, as base64.
func writeArchive(ctx context.Context, path, city string, sections []json.RawMessage, files []archiveFile, storageDir string) (int64, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	contents := map[string]string{"files": archiveFilesAbout}
	for _, sec := range archiveSections {
		contents[sec.Key] = sec.About
	}
	field := func(key string, v any) error {
		raw, ok := v.(json.RawMessage)
		if !ok {
			var err error
			if raw, err = json.Marshal(v); err != nil {
				return err
			}
		}
		var b bytes.Buffer
		if err := json.Indent(&b, raw, "  ", "  "); err != nil {
			return fmt.Errorf("section %s: %w", key, err)
		}
		fmt.Fprintf(w, "  %q: ", key)
		_, err := w.Write(append(b.Bytes(), ",\n"...))
		return err
	}
	w.WriteString("{\n")
	if err := field("generated_at", time.Now().UTC()); err != nil {
		return 0, err
	}
	if err := field("city", city); err != nil {
		return 0, err
	}
	if err := field("contents", contents); err != nil {
		return 0, err
	}
	for i, sec := range archiveSections {
		if err := field(sec.Key, sections[i]); err != nil {
			return 0, err
		}
	}
	w.WriteString("  \"files\": [")
	for i, af := range files {
		if i > 0 {
			w.WriteString(",")
		}
		if err := writeArchiveFile(ctx, w, af, storageDir); err != nil {
			return 0, err
		}
	}
	w.WriteString("]\n}\n")
	if err := w.Flush(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	st, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}

// writeArchiveFile writes one file's entry: its description and its content
// as base64, or "missing" when the city no longer has it.
func writeArchiveFile(ctx context.Context, w *bufio.Writer, af archiveFile, storageDir string) error {
	type entry struct {
		archiveFile
		ContentType string `json:"content_type,omitempty"`
		Missing     bool   `json:"missing,omitempty"`
	}
	e := entry{archiveFile: af}
	kind := map[string]string{"avatar": "avatars", "idea_image": "ideas"}[af.Kind]
	var src *os.File
	if p := media.Path(ctx, storageDir, kind, af.Name); p != "" {
		src, _ = os.Open(p)
	}
	if src == nil {
		e.Missing = true
	} else {
		defer src.Close()
		e.ContentType = "image/png"
		if strings.HasSuffix(af.Name, ".jpg") {
			e.ContentType = "image/jpeg"
		}
	}
	meta, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if src == nil {
		_, err = w.Write(meta)
		return err
	}
	// The entry's object, opened up for its content.
	w.Write(meta[:len(meta)-1])
	w.WriteString(`,"base64":"`)
	enc := base64.NewEncoder(base64.StdEncoding, w)
	if _, err := io.Copy(enc, src); err != nil {
		return fmt.Errorf("file %s: %w", af.Name, err)
	}
	if err := enc.Close(); err != nil {
		return err
	}
	_, err = w.WriteString(`"}`)
	return err
}
