// Package export builds staff exports of a city's ideas, comments, reactions
// and users as XLSX or CSV files in the background, and hands them out
// through signed links that expire.
package export

import (
	"agora/domain/jsonb"
	"database/sql/driver"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"agora/domain/errs"
	"agora/domain/permission"
)

// Kind is what an export holds.
type Kind string

const (
	Ideas     Kind = "ideas"
	Comments  Kind = "comments"
	Reactions Kind = "reactions"
	Users     Kind = "users"
)

// Kinds lists every kind, for forms.
var Kinds = []Kind{Ideas, Comments, Reactions, Users}

// Format is the file format of an export.
type Format string

const (
	XLSX Format = "xlsx"
	CSV  Format = "csv"
)

// Formats lists every format, for forms.
var Formats = []Format{XLSX, CSV}

// Status is where an export is in its life.
type Status string

const (
	Queued  Status = "queued"
	Running Status = "running"
	Done    Status = "done"
	Failed  Status = "failed"
	Expired Status = "expired" // done, then its file was deleted by the sweep
)

// TaskBuild is the background task that builds one export; TaskSweep deletes
// a city's expired export files.
const (
	TaskBuild = "export:build"
	TaskSweep = "export:sweep"
)

// Lifetime is how long a finished export can be downloaded.
const Lifetime = 24 * time.Hour

// MaxInProgress is how many exports one person may have queued or running.
const MaxInProgress = 5

// Filters limit what an export holds. Stored as the row's jsonb filters.
type Filters struct {
	Project int64 `json:"project,omitempty"` // only this project's ideas, comments, reactions
}

// Scan reads the jsonb column.
func (f *Filters) Scan(src any) error {
	*f = Filters{}
	return jsonb.Scan("export filters", src, f)
}

// Value writes the jsonb column.
func (f Filters) Value() (driver.Value, error) {
	b, err := json.Marshal(f)
	return string(b), err
}

// Export is one request for an export file and its progress.
type Export struct {
	ID          int64      `db:"id" json:"id"`
	Kind        Kind       `db:"kind" json:"kind"`
	Format      Format     `db:"format" json:"format"`
	Filters     Filters    `db:"filters" json:"filters"`
	RequestedBy int64      `db:"requested_by" json:"requested_by"`
	Status      Status     `db:"status" json:"status"`
	RowsDone    int64      `db:"rows_done" json:"rows_done"`
	RowsTotal   int64      `db:"rows_total" json:"rows_total"`
	FileName    string     `db:"file_name" json:"-"` // the stored file, never shown
	SizeBytes   int64      `db:"size_bytes" json:"size_bytes"`
	Error       string     `db:"error" json:"error,omitempty"`
	CreatedAt   time.Time  `db:"created_at" json:"created_at"`
	StartedAt   *time.Time `db:"started_at" json:"started_at"`
	FinishedAt  *time.Time `db:"finished_at" json:"finished_at"`
	ExpiresAt   *time.Time `db:"expires_at" json:"expires_at"`
}

// Percent is the share of rows written, 0 to 100 (100 once done).
func (e Export) Percent() int {
	switch {
	case e.Status == Done || e.Status == Expired:
		return 100
	case e.RowsTotal <= 0:
		return 0
	}
	return int(min(100, e.RowsDone*100/e.RowsTotal))
}

// Active reports whether the export is still being built.
func (e Export) Active() bool { return e.Status == Queued || e.Status == Running }

// Downloadable reports whether the file can be fetched at now.
func (e Export) Downloadable(now time.Time) bool {
	return e.Status == Done && e.ExpiresAt != nil && now.Before(*e.ExpiresAt)
}

// DownloadName is the file name a download is offered under:
// <city>-<kind>[-project-<id>]-<date>.<format>, the date being the day the
// export was requested (UTC).
func (e Export) DownloadName(city string) string {
	var b strings.Builder
	b.WriteString(city)
	b.WriteString("-")
	b.WriteString(string(e.Kind))
	if e.Filters.Project > 0 {
		b.WriteString("-project-")
		b.WriteString(strconv.FormatInt(e.Filters.Project, 10))
	}
	b.WriteString("-")
	b.WriteString(e.CreatedAt.UTC().Format("2006-01-02"))
	b.WriteString(".")
	b.WriteString(string(e.Format))
	return b.String()
}

// Validate checks a request's kind, format and filters.
// Errors: errs.Invalid naming the field.
func Validate(kind Kind, format Format, f Filters) error {
	const op = "export.Validate"
	if !slices.Contains(Kinds, kind) {
		return errs.InvalidField(op, "kind", "%q is not one of ideas, comments, reactions, users", kind).WithRule("one_of", "ideas, comments, reactions, users")
	}
	if !slices.Contains(Formats, format) {
		return errs.InvalidField(op, "format", "%q is not one of xlsx, csv", format).WithRule("one_of", "xlsx, csv")
	}
	if f.Project < 0 {
		return errs.InvalidField(op, "project", "must be a project id").WithRule("format")
	}
	if kind == Users && f.Project != 0 {
		return errs.InvalidField(op, "project", "users are exported for the whole city, not per project").WithRule("not_offered")
	}
	return nil
}

// Authorize decides whether a may request an export of kind limited to
// project (0: the whole city). Admins export everything; project moderators
// export the ideas, comments and reactions of a project they moderate, and
// must name it; nobody else exports. Errors: errs.Unauthenticated,
// errs.Forbidden, errs.Invalid (a moderator without a project).
func Authorize(a permission.Actor, kind Kind, project int64, now time.Time) error {
	const op = "export.Authorize"
	switch {
	case a.Anonymous():
		return errs.E(op, errs.Unauthenticated, "log in as city staff to export")
	case a.BlockedUntil != nil && now.Before(*a.BlockedUntil):
		return errs.E(op, errs.Forbidden, "your account is blocked")
	case a.Role == "admin":
		return nil
	case len(a.ModeratorOf) == 0:
		return errs.E(op, errs.Forbidden, "only city admins and project moderators can export")
	case kind == Users:
		return errs.E(op, errs.Forbidden, "only city admins can export users")
	case project == 0:
		return errs.InvalidField(op, "project", "is required: project moderators export the projects they moderate").WithRule("required")
	case !slices.Contains(a.ModeratorOf, project):
		return errs.E(op, errs.Forbidden, "you do not moderate this project")
	}
	return nil
}

// Visible reports whether a may see (and download) export e: admins see
// every export, project moderators those of the projects they moderate.
func Visible(a permission.Actor, e Export) bool {
	if a.Anonymous() {
		return false
	}
	if a.Role == "admin" {
		return true
	}
	return e.Kind != Users && e.Filters.Project != 0 && slices.Contains(a.ModeratorOf, e.Filters.Project)
}

// IsStaff reports whether a is city staff who may use exports at all.
func IsStaff(a permission.Actor) bool {
	return !a.Anonymous() && (a.Role == "admin" || len(a.ModeratorOf) > 0)
}

// spreadsheetSafe defuses a text value that a spreadsheet would run as a
// formula when the CSV is opened (=, +, -, @, tab, carriage return first).
func spreadsheetSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
