package export

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/lib/pq"

	"agora/domain/errs"
	"agora/domain/permission"
	"agora/domain/project"
	"agora/tenant"
)

// PageSize is how many rows one keyset page reads, and so how often the
// progress is written.
const PageSize = 5000

// Service records export requests, builds their files and serves them.
type Service struct {
	db         *tenant.DB
	storageDir string
	signer     Signer
	now        func() time.Time
}

// NewService returns the export service. Files live under
// <storageDir>/tenants/<city id>/exports; links are signed with signer.
func NewService(db *tenant.DB, storageDir string, signer Signer) *Service {
	return &Service{db: db, storageDir: storageDir, signer: signer, now: time.Now}
}

// Dir is the directory of a city's export files.
func Dir(storageDir string, city tenant.ID) string {
	return filepath.Join(tenant.StoragePath(storageDir, city), "exports")
}

const exportColumns = `id, kind, format, filters, requested_by, status, rows_done, rows_total, file_name, size_bytes, error,
	created_at, started_at, finished_at, expires_at`

// Request records an export of kind in format for a, limited by f, and queues
// its build in the same transaction. Errors: errs.Invalid (kind, format,
// project), errs.Unauthenticated, errs.Forbidden (see Authorize),
// errs.Conflict when a already has MaxInProgress exports queued or running.
func (s *Service) Request(ctx context.Context, a permission.Actor, kind Kind, format Format, f Filters) (*Export, error) {
	const op = "export.Request"
	if err := Validate(kind, format, f); err != nil {
		return nil, err
	}
	if err := Authorize(a, kind, f.Project, s.now()); err != nil {
		return nil, err
	}
	var e Export
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if f.Project > 0 {
			var ok bool
			if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM projects WHERE id = $1)`, f.Project); err != nil {
				return err
			}
			if !ok {
				return errs.InvalidField(op, "project", "no such project").WithRule("not_found")
			}
		}
		// Serialise one person's requests, so the count below holds.
		if err := tx.Lock(ctx, "export."+strconv.FormatInt(a.UserID, 10)); err != nil {
			return err
		}
		var busy int
		if err := tx.GetContext(ctx, &busy, `SELECT count(*) FROM exports WHERE requested_by = $1 AND status IN ('queued', 'running')`, a.UserID); err != nil {
			return err
		}
		if busy >= MaxInProgress {
			return errs.E(op, errs.Conflict, "you already have %d exports in progress; wait for one to finish", busy).WithRule("too_many", MaxInProgress)
		}
		if err := tx.GetContext(ctx, &e, `INSERT INTO exports (kind, format, filters, requested_by) VALUES ($1, $2, $3, $4)
			RETURNING `+exportColumns, kind, format, f, a.UserID); err != nil {
			return err
		}
		return tx.Enqueue(ctx, tenant.Task{Type: TaskBuild, Queue: "low", ID: fmt.Sprintf("export:%d", e.ID),
			Payload: map[string]any{"export_id": e.ID}})
	})
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// Get returns export id if a may see it. Errors: errs.NotFound (also for an
// export a may not see).
func (s *Service) Get(ctx context.Context, a permission.Actor, id int64) (*Export, error) {
	e, err := s.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if !Visible(a, *e) {
		return nil, errs.E("export.Get", errs.NotFound, "no such export")
	}
	return e, nil
}

func (s *Service) load(ctx context.Context, id int64) (*Export, error) {
	var e Export
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &e, `SELECT `+exportColumns+` FROM exports WHERE id = $1`, id)
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errs.E("export.Get", errs.NotFound, "no such export")
	}
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// List returns the newest exports a may see (at most limit): every export for
// admins, those of their projects for project moderators, none for others.
func (s *Service) List(ctx context.Context, a permission.Actor, limit int) ([]Export, error) {
	if !IsStaff(a) {
		return nil, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	admin := a.Role == "admin"
	out := []Export{}
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out, `SELECT `+exportColumns+` FROM exports
			WHERE $1 OR (kind <> 'users' AND (filters->>'project')::bigint = ANY($2))
			ORDER BY created_at DESC, id DESC LIMIT $3`, admin, pq.Array(a.ModeratorOf), limit)
	})
	return out, err
}

// Link returns the signed download token of a finished export, valid until
// the export expires; "" when it cannot be downloaded.
func (s *Service) Link(ctx context.Context, e Export) string {
	t, ok := tenant.FromContext(ctx)
	if !ok || !e.Downloadable(s.now()) {
		return ""
	}
	return s.signer.Token(t.ID, e.ID, *e.ExpiresAt)
}

// Download checks a download of export id with token by a and returns the
// stored file and the name to offer it under. Errors: errs.Unauthenticated;
// errs.Forbidden for anyone but staff who may see the export; errs.NotFound
// for a link not signed for this city and export, or an export not finished;
// errs.Forbidden with rule "expired" (IsExpired) once the link or the file
// expired.
func (s *Service) Download(ctx context.Context, a permission.Actor, id int64, token string) (path, name string, err error) {
	const op = "export.Download"
	t, ok := tenant.FromContext(ctx)
	if !ok {
		return "", "", tenant.ErrNoTenant
	}
	switch {
	case a.Anonymous():
		return "", "", errs.E(op, errs.Unauthenticated, "log in as city staff to download exports")
	case !IsStaff(a):
		return "", "", errs.E(op, errs.Forbidden, "only city staff download exports")
	}
	now := s.now()
	if err := s.signer.Check(t.ID, id, token, now); err != nil {
		return "", "", err
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return "", "", err
	}
	if !Visible(a, *e) {
		return "", "", errs.E(op, errs.Forbidden, "you may not download this export")
	}
	switch {
	case e.Status == Expired || (e.Status == Done && !e.Downloadable(now)):
		return "", "", errs.E(op, errs.Forbidden, "this export has expired; request it again").WithRule("expired")
	case e.Status != Done:
		return "", "", errs.E(op, errs.NotFound, "this export is not ready")
	}
	return filepath.Join(Dir(s.storageDir, t.ID), filepath.Base(e.FileName)), e.DownloadName(t.Slug), nil
}

// Fail marks a queued or running export failed with a message for staff.
func (s *Service) Fail(ctx context.Context, id int64, msg string) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE exports SET status = 'failed', error = $2, finished_at = now()
			WHERE id = $1 AND status IN ('queued', 'running')`, id, msg)
		return err
	})
}

// Build writes the file of export id, streaming its rows from the city's
// schema in keyset pages of PageSize and recording the progress after each
// page, then marks it done, downloadable for Lifetime. Done, failed and
// expired exports are left alone, so a repeated task does nothing; a running
// one (a worker died) starts again. The requester's right is checked again:
// staff who lost it since get a failed export. Errors: errs.NotFound (the
// export is gone) and errs.Forbidden are permanent; others may pass on retry.
func (s *Service) Build(ctx context.Context, id int64) error {
	const op = "export.Build"
	t, ok := tenant.FromContext(ctx)
	if !ok {
		return tenant.ErrNoTenant
	}
	e, err := s.load(ctx, id)
	if err != nil {
		return err
	}
	if !e.Active() {
		return nil
	}
	a, err := s.requester(ctx, e.RequestedBy)
	if err != nil {
		return err
	}
	if err := Authorize(a, e.Kind, e.Filters.Project, s.now()); err != nil {
		return errs.E(op, errs.Forbidden, "the person who asked for this export may no longer export it")
	}

	var (
		src   *source
		heads []string // in the city's default language
	)
	err = s.db.InTx(ctx, func(tx *tenant.Tx) error {
		l, err := loadLookups(ctx, tx, t.Locales, e.Kind)
		if err != nil {
			return err
		}
		if src, err = sourceOf(e.Kind, l); err != nil {
			return err
		}
		heads, err = src.headers(t.DefaultLocale())
		if err != nil {
			return err
		}
		var total int64
		if err := tx.GetContext(ctx, &total, src.count, e.Filters.Project); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE exports SET status = 'running', started_at = now(), rows_done = 0, rows_total = $2, error = ''
			WHERE id = $1 AND status IN ('queued', 'running')`, id, total)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s %d: start: %w", op, id, err)
	}

	dir := Dir(s.storageDir, t.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("%s %d: %w", op, id, err)
	}
	name := fmt.Sprintf("%d-%s.%s", id, randomHex(8), e.Format)
	tmp := filepath.Join(dir, fmt.Sprintf("%d-%s.tmp.%s", id, randomHex(8), e.Format))
	loc, err := time.LoadLocation(t.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	out, err := newSheet(e.Format, tmp, string(e.Kind), loc)
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, id, err)
	}
	done, err := s.write(ctx, id, out, src, heads, e.Filters.Project)
	if err == nil {
		err = out.close()
	} else {
		out.abort()
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("%s %d: %w", op, id, err)
	}
	info, err := os.Stat(filepath.Join(dir, name))
	if err != nil {
		return fmt.Errorf("%s %d: %w", op, id, err)
	}
	var finished bool
	err = s.db.InTx(ctx, func(tx *tenant.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE exports SET status = 'done', file_name = $2, size_bytes = $3, rows_done = $4, rows_total = $4,
			finished_at = now(), expires_at = now() + $5 * interval '1 second'
			WHERE id = $1 AND status = 'running'`, id, name, info.Size(), done, int64(Lifetime/time.Second))
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		finished = n == 1
		return nil
	})
	if err != nil || !finished {
		// Failed meanwhile (or the city is gone): the file has no owner.
		_ = os.Remove(filepath.Join(dir, name))
	}
	if err != nil {
		return fmt.Errorf("%s %d: finish: %w", op, id, err)
	}
	return nil
}

// write copies every row of src into out, page by page, each page in its
// own read transaction, and records the progress after each page.
func (s *Service) write(ctx context.Context, id int64, out sheet, src *source, heads []string, project int64) (int64, error) {
	if err := out.header(src.columns, heads); err != nil {
		return 0, err
	}
	window := `SELECT coalesce(max(id), 0), count(*) FROM (SELECT id FROM ` + src.table + ` WHERE id > $1 ORDER BY id LIMIT $2) w`
	vals := make([]any, len(src.columns))
	var after, done int64
	for {
		var (
			hi      int64
			scanned int
		)
		err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
			if err := tx.QueryRowxContext(ctx, window, after, PageSize).Scan(&hi, &scanned); err != nil || scanned == 0 {
				return err
			}
			rows, err := tx.QueryContext(ctx, src.page, after, project, hi)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				if _, err := src.scan(rows, vals); err != nil {
					return err
				}
				if err := out.row(vals); err != nil {
					return err
				}
				done++
			}
			return rows.Err()
		})
		if err != nil {
			return done, err
		}
		if scanned < PageSize {
			return done, nil
		}
		after = hi
		if err := s.progress(ctx, id, done); err != nil {
			return done, err
		}
	}
}

// progress records how many rows are written; the total grows with it if
// rows were added since the count.
func (s *Service) progress(ctx context.Context, id, done int64) error {
	return s.db.InTx(ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE exports SET rows_done = $2, rows_total = greatest(rows_total, $2)
			WHERE id = $1 AND status = 'running'`, id, done)
		return err
	})
}

// requester is the export's requester as an actor, as they are now.
func (s *Service) requester(ctx context.Context, id int64) (permission.Actor, error) {
	var row struct {
		Role    string     `db:"role"`
		Blocked *time.Time `db:"blocked_until"`
		Deleted bool       `db:"deleted"`
	}
	a := permission.Actor{UserID: id}
	err := s.db.InReadTx(ctx, func(tx *tenant.Tx) error {
		err := tx.GetContext(ctx, &row, `SELECT role, blocked_until, deleted_at IS NOT NULL AS deleted FROM users WHERE id = $1`, id)
		if err != nil {
			return err
		}
		a.ModeratorOf, err = project.ModeratedBy(ctx, tx, id)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) || row.Deleted {
		return permission.Actor{}, nil // gone: anonymous, refused by Authorize
	}
	a.Role, a.BlockedUntil = row.Role, row.Blocked
	return a, err
}

// Sweep deletes the files of the city's exports that expired by now and
// marks them expired; exports stuck queued or running for two days are
// failed, and stray files (of failed or interrupted builds) older than two
// days are removed. It returns how many exports expired.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	t, ok := tenant.FromContext(ctx)
	if !ok {
		return 0, tenant.ErrNoTenant
	}
	now := s.now()
	var files []string
	err := s.db.InTx(ctx, func(tx *tenant.Tx) error {
		if err := tx.SelectContext(ctx, &files, `WITH old AS (
				SELECT id, file_name FROM exports WHERE status = 'done' AND expires_at <= $1 FOR UPDATE)
			UPDATE exports e SET status = 'expired', file_name = '' FROM old WHERE e.id = old.id
			RETURNING old.file_name`, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE exports SET status = 'failed', error = 'the export did not finish in time', finished_at = $1
			WHERE status IN ('queued', 'running') AND created_at < $2`, now, now.Add(-2*Lifetime))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("export.Sweep: %w", err)
	}
	dir := Dir(s.storageDir, t.ID)
	for _, f := range files {
		if err := os.Remove(filepath.Join(dir, filepath.Base(f))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return len(files), fmt.Errorf("export.Sweep: %w", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return len(files), fmt.Errorf("export.Sweep: %w", err)
	}
	for _, en := range entries {
		info, err := en.Info()
		if err == nil && info.Mode().IsRegular() && info.ModTime().Before(now.Add(-2*Lifetime)) {
			_ = os.Remove(filepath.Join(dir, en.Name()))
		}
	}
	return len(files), nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
