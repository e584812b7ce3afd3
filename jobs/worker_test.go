package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

type usageRow struct {
	TenantID     tenant.ID `db:"tenant_id"`
	Pages        int       `db:"pages"`
	Topics       int       `db:"topics"`
	Invitations  int       `db:"invitations"`
	StorageBytes int64     `db:"storage_bytes"`
}

// eventually polls cond every 50 ms until it holds or the deadline passes,
// then fails with what describe says about the last state.
func eventually(t *testing.T, within time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not done within %s: %s", within, describe())
		}
		<-tick.C
	}
}

// startWorker runs a worker on redisDB until the returned stop is called (or
// the test ends); stop fails the test unless Run returns cleanly.
func startWorker(t *testing.T, d jobs.WorkerDeps) (stop func()) {
	t.Helper()
	w, err := jobs.NewWorker(d)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	stopped := false
	stop = func() {
		t.Helper()
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			require.NoError(t, err, "Run")
		case <-time.After(25 * time.Second):
			t.Fatal("Run did not return after its context was cancelled")
		}
	}
	t.Cleanup(stop)
	return stop
}

// TestWorkerUsageEndToEnd runs the real worker against Redis: the hourly tick
// fans out one usage task per city, and each city's figures (counted through
// its own schema, files measured under its own directory) land in
// platform.tenant_usage.
func TestWorkerUsageEndToEnd(t *testing.T) {
	flushRedis(t)
	env := tenanttest.New(t)
	ctx := context.Background()
	a := env.City(t, "usage_a")
	b := env.City(t, "usage_b")

	storage := t.TempDir()
	dir := filepath.Join(tenant.StoragePath(storage, a.ID), "exports", "2024")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	const size = 12345
	require.NoError(t, os.WriteFile(filepath.Join(dir, "report.csv"), make([]byte, size), 0o644))
	// B has a directory but no file: still 0 bytes.
	require.NoError(t, os.MkdirAll(tenant.StoragePath(storage, b.ID), 0o755))

	log, _ := testLogger(t)
	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })
	stop := startWorker(t, jobs.WorkerDeps{
		Redis: redisOpt(), DB: env.DB, Registry: env.Registry, Client: client,
		StorageDir: storage, Log: log, Concurrency: 4,
	})

	hourBefore := time.Now().UTC().Truncate(time.Hour)
	tick, err := client.Enqueue(jobs.NewUsageTickTask())
	require.NoError(t, err)
	require.Equal(t, "low", tick.Queue)

	want := map[tenant.ID]usageRow{
		a.ID: {TenantID: a.ID, Pages: 3, Topics: 8, StorageBytes: size},
		b.ID: {TenantID: b.ID, Pages: 3, Topics: 8, StorageBytes: 0},
	}
	var got []usageRow
	eventually(t, 15*time.Second, func() bool {
		got = nil
		require.NoError(t, env.DB.Platform().SelectContext(ctx, &got,
			`SELECT tenant_id, pages, topics, invitations, storage_bytes FROM platform.tenant_usage ORDER BY tenant_id`))
		if len(got) != len(want) {
			return false
		}
		for _, r := range got {
			if want[r.TenantID] != r {
				return false
			}
		}
		return true
	}, func() string { return fmt.Sprintf("usage rows %+v, want %+v", got, want) })

	// A second tick in the same hour (another scheduler, a re-run) must not
	// add usage tasks: their ids are deterministic.
	tick2, err := client.Enqueue(jobs.NewUsageTickTask())
	require.NoError(t, err)
	insp := asynq.NewInspector(redisOpt())
	t.Cleanup(func() { insp.Close() })
	eventually(t, 15*time.Second, func() bool {
		_, err := insp.GetTaskInfo("low", tick2.ID)
		return errors.Is(err, asynq.ErrTaskNotFound) // processed (ticks are not retained)
	}, func() string { return "second tick never completed" })
	hourAfter := time.Now().UTC().Truncate(time.Hour)
	if hourBefore.Equal(hourAfter) {
		var usageTasks []string
		eventually(t, 15*time.Second, func() bool {
			usageTasks = nil
			for _, list := range []func(string, ...asynq.ListOption) ([]*asynq.TaskInfo, error){
				insp.ListPendingTasks, insp.ListActiveTasks, insp.ListCompletedTasks, insp.ListRetryTasks, insp.ListArchivedTasks,
			} {
				ts, err := list("low")
				require.NoError(t, err)
				for _, ti := range ts {
					if ti.Type == jobs.TypeUsage {
						usageTasks = append(usageTasks, ti.ID)
					}
				}
			}
			return len(usageTasks) >= 2
		}, func() string { return fmt.Sprintf("usage tasks %v", usageTasks) })
		require.ElementsMatch(t, []string{
			fmt.Sprintf("tenant:usage:%d:%s", a.ID, hourBefore.Format("2006010215")),
			fmt.Sprintf("tenant:usage:%d:%s", b.ID, hourBefore.Format("2006010215")),
		}, usageTasks, "two ticks in one hour must leave exactly one usage task per city")
	}

	stop()
}

// TestUsageTaskIDDedupes checks that the usage task of one city for one hour
// can be enqueued only once, whichever scheduler builds it and whenever in the
// hour, while another hour or another city is a new task.
func TestUsageTaskIDDedupes(t *testing.T) {
	flushRedis(t)
	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })

	hour := time.Date(2024, 3, 10, 14, 0, 0, 0, time.UTC)
	const city tenant.ID = 42

	first, err := jobs.NewUsageTask(city, hour.Add(5*time.Minute))
	require.NoError(t, err)
	info, err := client.Enqueue(first)
	require.NoError(t, err)
	require.Equal(t, "low", info.Queue)
	var p jobs.UsagePayload
	require.NoError(t, json.Unmarshal(info.Payload, &p))
	require.Equal(t, city, p.TenantID, "the payload must carry its city")
	require.Equal(t, "2024-03-10T14:00:00Z", p.Hour)

	// Same city, same hour, built by another scheduler later in the hour and
	// in another time zone.
	brussels, err := time.LoadLocation("Europe/Brussels")
	require.NoError(t, err)
	for _, at := range []time.Time{hour, hour.Add(59 * time.Minute), hour.Add(30 * time.Minute).In(brussels)} {
		again, err := jobs.NewUsageTask(city, at)
		require.NoError(t, err)
		_, err = client.Enqueue(again)
		require.ErrorIs(t, err, asynq.ErrTaskIDConflict, "usage task at %s was enqueued twice", at)
	}

	// Another hour, or another city in the same hour, is new work.
	for _, c := range []struct {
		id tenant.ID
		at time.Time
	}{{city, hour.Add(time.Hour)}, {city, hour.Add(-time.Minute)}, {city + 1, hour}} {
		task, err := jobs.NewUsageTask(c.id, c.at)
		require.NoError(t, err)
		_, err = client.Enqueue(task)
		require.NoError(t, err, "city %d at %s", c.id, c.at)
	}

	insp := asynq.NewInspector(redisOpt())
	defer insp.Close()
	pending, err := insp.ListPendingTasks("low")
	require.NoError(t, err)
	var ids []string
	for _, ti := range pending {
		ids = append(ids, ti.ID)
	}
	require.ElementsMatch(t, []string{
		"tenant:usage:42:2024031014", "tenant:usage:42:2024031015", "tenant:usage:42:2024031013", "tenant:usage:43:2024031014",
	}, ids, strings.Join(ids, ", "))
}
