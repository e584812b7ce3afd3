package jobs_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"agora/domain/export"
	"agora/domain/permission"
	"agora/domain/user"
	"agora/fixture"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// exportCity is a city with an admin and a project of n ideas, seeded in one
// statement through the city's door, plus an anonymous idea, a hidden one and
// a deleted one, and a second project with 25 ideas.
type exportCity struct {
	c                 *tenant.Tenant
	ctx               context.Context
	admin             permission.Actor
	big, small        int64 // project ids
	anonymous, hidden int64 // idea ids
}

func seedExportCity(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, n int) exportCity {
	t.Helper()
	ctx := tenanttest.Ctx(c)
	u := fixture.User(t, env, c, fixture.UserOpts{Email: "admin@example.org", FirstName: "Ada", LastName: "Admin", Role: user.RoleAdmin})
	ec := exportCity{c: c, ctx: ctx, admin: permission.Actor{UserID: int64(u.ID), Role: "admin"}}
	require.NoError(t, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
		for _, p := range []struct {
			slug string
			id   *int64
		}{{"big", &ec.big}, {"small", &ec.small}} {
			if err := tx.GetContext(ctx, p.id, `INSERT INTO projects (slug, title, status) VALUES ($1, jsonb_build_object('en', 'Project ' || $1::text, 'fr', 'Projet ' || $1::text), 'published') RETURNING id`, p.slug); err != nil {
				return err
			}
		}
		const seed = `INSERT INTO ideas (project_id, author_id, title, body, body_text, status_id, created_at)
			SELECT $1, $2, 'Idea number ' || g, '<p>Body of idea ' || g || '</p>', 'Body of idea ' || g,
				(SELECT id FROM idea_statuses WHERE code = 'proposed'), now() - g * interval '1 minute'
			FROM generate_series(1, $3::int) g`
		if _, err := tx.ExecContext(ctx, seed, ec.big, u.ID, n); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, seed, ec.small, u.ID, 25); err != nil {
			return err
		}
		extra := `INSERT INTO ideas (project_id, author_id, anonymous, title, body, body_text, status_id, hidden_at, deleted_at)
			VALUES ($1, $2, $3, $4, '<p>=1+1</p>', '=1+1', (SELECT id FROM idea_statuses WHERE code = 'accepted'), $5, $6) RETURNING id`
		if err := tx.GetContext(ctx, &ec.anonymous, extra, ec.big, u.ID, true, "An anonymous idea", nil, nil); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &ec.hidden, extra, ec.big, u.ID, false, "A hidden idea", time.Now(), nil); err != nil {
			return err
		}
		var deleted int64
		return tx.GetContext(ctx, &deleted, extra, ec.big, u.ID, false, "A deleted idea", nil, time.Now())
	}))
	return ec
}

// ideaHeader is the header of an idea export in the city's default
// language (English here).
var ideaHeader = []string{"ID", "Project ID", "Project", "Phase ID", "Title", "Text", "Status", "Author ID", "Author", "Anonymous",
	"Likes", "Dislikes", "Comments", "Topics", "Place", "Latitude", "Longitude", "Hidden", "Created", "Updated"}

// TestExportsEndToEnd: an admin asks for an XLSX of every idea and a CSV of
// one project's; the outbox relay and the real worker build both; the files
// hold the header and every row, nothing else is left in the directory, and
// the progress says done.
func TestExportsEndToEnd(t *testing.T) {
	flushRedis(t)
	env := tenanttest.New(t)
	c := env.City(t, "exports")
	const n = 10_000
	ec := seedExportCity(t, env, c, n)
	storage := t.TempDir()

	svc := export.NewService(env.DB, storage, export.NewSigner(strings.Repeat("k", 32)))
	began := time.Now()
	all, err := svc.Request(ec.ctx, ec.admin, export.Ideas, export.XLSX, export.Filters{})
	require.NoError(t, err)
	one, err := svc.Request(ec.ctx, ec.admin, export.Ideas, export.CSV, export.Filters{Project: ec.small})
	require.NoError(t, err)
	require.Equal(t, export.Queued, all.Status)

	// The task waits in the outbox, on the low queue, named after its city
	// and export.
	var queue string
	require.NoError(t, env.DB.Platform().GetContext(context.Background(), &queue,
		`SELECT queue FROM platform.outbox WHERE task_id = $1 AND task_type = $2`, fmt.Sprintf("t%d:export:%d", c.ID, all.ID), export.TaskBuild))
	require.Equal(t, "low", queue)

	log, _ := testLogger(t)
	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })
	startWorker(t, jobs.WorkerDeps{Redis: redisOpt(), DB: env.DB, Registry: env.Registry, Client: client,
		StorageDir: storage, Log: log, Concurrency: 4, DSN: env.URL})

	// One sweep task per city per day, whichever scheduler builds it, when.
	day := time.Now().UTC().Truncate(24 * time.Hour).Add(time.Hour)
	for i, at := range []time.Time{day, day.Add(20 * time.Hour)} {
		task, err := jobs.NewExportSweepTask(c.ID+1, at)
		require.NoError(t, err)
		_, err = client.Enqueue(task)
		if i == 0 {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, asynq.ErrTaskIDConflict, "a second sweep of one city on one day")
		}
	}

	done := func(id int64) *export.Export {
		var e *export.Export
		eventually(t, 30*time.Second, func() bool {
			var err error
			e, err = svc.Get(ec.ctx, ec.admin, id)
			require.NoError(t, err)
			require.NotEqual(t, export.Failed, e.Status, "export failed: %s", e.Error)
			return e.Status == export.Done
		}, func() string { return fmt.Sprintf("export %d: %+v", id, e) })
		return e
	}
	xe, ce := done(all.ID), done(one.ID)
	t.Logf("both exports built in %s", time.Since(began).Round(time.Millisecond))

	// n + 25 ideas, the anonymous and the hidden one; never the deleted one.
	const rows = n + 25 + 2
	require.EqualValues(t, rows, xe.RowsDone)
	require.EqualValues(t, rows, xe.RowsTotal)
	require.Equal(t, 100, xe.Percent())
	require.NotNil(t, xe.ExpiresAt)
	require.WithinDuration(t, xe.FinishedAt.Add(export.Lifetime), *xe.ExpiresAt, time.Second)
	require.Positive(t, xe.SizeBytes)

	dir := export.Dir(storage, c.ID)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, en := range entries {
		names = append(names, en.Name())
	}
	require.ElementsMatch(t, []string{xe.FileName, ce.FileName}, names, "only the two finished files stay in the directory")

	// The XLSX: one sheet named after the kind, the header, every idea once.
	f, err := excelize.OpenFile(filepath.Join(dir, xe.FileName))
	require.NoError(t, err)
	defer f.Close()
	require.Equal(t, []string{"ideas"}, f.GetSheetList())
	it, err := f.Rows("ideas")
	require.NoError(t, err)
	require.True(t, it.Next())
	header, err := it.Columns()
	require.NoError(t, err)
	require.Equal(t, ideaHeader, header)
	seen := map[string]bool{}
	count := 0
	var anonymousRow, hiddenRow, firstRow []string
	for it.Next() {
		cols, err := it.Columns()
		require.NoError(t, err)
		count++
		require.False(t, seen[cols[0]], "idea %s twice", cols[0])
		seen[cols[0]] = true
		switch cols[0] {
		case fmt.Sprint(ec.anonymous):
			anonymousRow = cols
		case fmt.Sprint(ec.hidden):
			hiddenRow = cols
		case "1":
			firstRow = cols
		}
	}
	require.NoError(t, it.Close())
	require.Equal(t, rows, count)
	require.Equal(t, "Idea number 1", firstRow[4])
	require.Equal(t, "Body of idea 1", firstRow[5])
	require.Equal(t, "Project big", firstRow[2])
	require.Equal(t, "Proposed", firstRow[6])
	require.Equal(t, "Ada Admin", firstRow[8])
	require.Equal(t, fmt.Sprint(ec.admin.UserID), firstRow[7])
	require.NotEmpty(t, firstRow[18], "created_at")
	// An anonymous idea names no author, not even by id.
	require.Equal(t, "An anonymous idea", anonymousRow[4])
	require.Equal(t, "", anonymousRow[7])
	require.Equal(t, "", anonymousRow[8])
	require.Equal(t, "TRUE", anonymousRow[9])
	require.Equal(t, "TRUE", hiddenRow[17])
	require.Equal(t, "=1+1", anonymousRow[5], "text stays text in a spreadsheet cell")
	raw, err := f.GetCellValue("ideas", "S2", excelize.Options{RawCellValue: true})
	require.NoError(t, err)
	require.Regexp(t, `^4\d{4}\.\d+$`, raw, "created_at is a spreadsheet date")

	// The CSV of the small project: its 25 ideas only.
	recs := readCSV(t, filepath.Join(dir, ce.FileName))
	require.Equal(t, ideaHeader, recs[0])
	require.Len(t, recs, 1+25)
	for _, r := range recs[1:] {
		require.Equal(t, fmt.Sprint(ec.small), r[1])
		require.True(t, strings.HasPrefix(r[4], "Idea number "), r[4])
		_, err := time.Parse(time.RFC3339, r[18])
		require.NoError(t, err, "created_at %q", r[18])
	}
	require.EqualValues(t, 25, ce.RowsDone)
}

// readCSV reads a whole export CSV, checking its byte order mark.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	fh, err := os.Open(path)
	require.NoError(t, err)
	defer fh.Close()
	br := bufio.NewReader(fh)
	bom := make([]byte, 3)
	_, err = io.ReadFull(br, bom)
	require.NoError(t, err)
	require.Equal(t, "\ufeff", string(bom), "UTF-8 byte order mark")
	recs, err := csv.NewReader(br).ReadAll()
	require.NoError(t, err)
	return recs
}

// runTask runs a task's handler as the worker would: behind the tenant
// middleware, with the payload the outbox recorded.
func runTask(t *testing.T, env *tenanttest.Env, h asynq.HandlerFunc, taskType, taskID string) error {
	t.Helper()
	var payload string
	require.NoError(t, env.DB.Platform().GetContext(context.Background(), &payload,
		`SELECT payload::text FROM platform.outbox WHERE task_id = $1`, taskID))
	return jobs.TenantMiddleware(env.Registry, discardLog())(h).ProcessTask(context.Background(), asynq.NewTask(taskType, []byte(payload)))
}

// TestExportFailsWithoutThePlan: a city whose plan lost exports after the
// request gets a failed export, and the task is not retried.
func TestExportFailsWithoutThePlan(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "lost_plan")
	ec := seedExportCity(t, env, c, 10)
	storage := t.TempDir()
	svc := export.NewService(env.DB, storage, export.Signer{})
	e, err := svc.Request(ec.ctx, ec.admin, export.Comments, export.CSV, export.Filters{})
	require.NoError(t, err)

	essential := tenant.PlanEssential
	_, err = env.Ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &essential})
	require.NoError(t, err)
	env.Registry.Invalidate()

	x := jobs.NewExports(env.DB, env.Registry, nil, storage)
	err = runTask(t, env, x.Build, export.TaskBuild, fmt.Sprintf("t%d:export:%d", c.ID, e.ID))
	require.Error(t, err)
	require.True(t, errors.Is(err, asynq.SkipRetry), "a city without exports is a permanent failure: %v", err)
	got, err := svc.Get(ec.ctx, ec.admin, e.ID)
	require.NoError(t, err)
	require.Equal(t, export.Failed, got.Status)
	require.Contains(t, got.Error, "plan")
	_, err = os.Stat(export.Dir(storage, c.ID))
	require.True(t, os.IsNotExist(err), "no file was written")
}

// TestExportSweep: the daily sweep deletes the files of expired exports and
// marks them expired; the others stay downloadable. Its tasks are one per
// city per day.
func TestExportSweep(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "sweep")
	ec := seedExportCity(t, env, c, 5)
	storage := t.TempDir()
	svc := export.NewService(env.DB, storage, export.Signer{})
	x := jobs.NewExports(env.DB, env.Registry, nil, storage)
	var ids []int64
	for _, k := range []export.Kind{export.Ideas, export.Reactions} {
		e, err := svc.Request(ec.ctx, ec.admin, k, export.XLSX, export.Filters{})
		require.NoError(t, err)
		require.NoError(t, runTask(t, env, x.Build, export.TaskBuild, fmt.Sprintf("t%d:export:%d", c.ID, e.ID)))
		ids = append(ids, e.ID)
	}
	old, err := svc.Get(ec.ctx, ec.admin, ids[0])
	require.NoError(t, err)
	fresh, err := svc.Get(ec.ctx, ec.admin, ids[1])
	require.NoError(t, err)
	require.Equal(t, export.Done, old.Status)
	dir := export.Dir(storage, c.ID)
	require.FileExists(t, filepath.Join(dir, old.FileName))
	require.NoError(t, env.DB.InTx(ec.ctx, func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(ec.ctx, `UPDATE exports SET expires_at = now() - interval '1 minute' WHERE id = $1`, old.ID)
		return err
	}))

	sweep, err := jobs.NewExportSweepTask(c.ID, time.Now())
	require.NoError(t, err)
	mw := jobs.TenantMiddleware(env.Registry, discardLog())
	require.NoError(t, mw(asynq.HandlerFunc(x.Sweep)).ProcessTask(context.Background(), sweep))

	_, err = os.Stat(filepath.Join(dir, old.FileName))
	require.True(t, os.IsNotExist(err), "the expired file is deleted")
	require.FileExists(t, filepath.Join(dir, fresh.FileName))
	got, err := svc.Get(ec.ctx, ec.admin, old.ID)
	require.NoError(t, err)
	require.Equal(t, export.Expired, got.Status)
	got, err = svc.Get(ec.ctx, ec.admin, fresh.ID)
	require.NoError(t, err)
	require.Equal(t, export.Done, got.Status)

}

func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
