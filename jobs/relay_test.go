package jobs_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"agora/domain/email"
	"agora/fixture"
	"agora/jobs"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// exclusiveRedis gives the test redisDB to itself: it waits for any other
// test process on this machine that holds it (a lock in Redis database 0,
// which no test flushes), then flushes it now and when the test ends. Within
// one process the tests that use redisDB already run one at a time; the lock
// keeps two `go test` runs of this package from flushing each other's tasks
// or a worker of one from taking (and dropping, as a task of an unknown city)
// the tasks of the other.
func exclusiveRedis(tb testing.TB) {
	tb.Helper()
	tenanttest.LockRedisDB(tb, tenanttest.RedisAddr(), redisDB)
	flushRedisTB(tb)
}

// flushRedisTB is flushRedis for benchmarks too.
func flushRedisTB(tb testing.TB) {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: tenanttest.RedisAddr(), DB: redisDB})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(tb, rdb.FlushDB(ctx).Err(), "flush Redis db %d at %s", redisDB, tenanttest.RedisAddr())
	tb.Cleanup(func() {
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rdb.FlushDB(ctx).Err()
	})
}

// deadRedis returns a Redis client for a Redis that is not there: a port
// that was just listening and is now closed, so connections are refused at
// once.
func deadRedis(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := ln.Addr().String()
	require.NoError(tb, ln.Close())
	rdb := redis.NewClient(&redis.Options{Addr: addr, DialTimeout: time.Second})
	tb.Cleanup(func() { rdb.Close() })
	return rdb
}

// liveRedis returns a Redis client of the test's redisDB, for a relay, and
// an inspector of it, for the test.
func liveRedis(tb testing.TB) (redis.UniversalClient, *asynq.Inspector) {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: tenanttest.RedisAddr(), DB: redisDB})
	insp := asynq.NewInspector(redisOpt())
	tb.Cleanup(func() {
		rdb.Close()
		insp.Close()
	})
	return rdb, insp
}

// queueOf is the queue the i-th test task asks for: even ones are
// transactional mail, odd ones name no queue (the outbox's default).
func queueOf(i int) string {
	if i%2 == 0 {
		return "critical"
	}
	return ""
}

// writeOutbox records n tasks "<prefix>:<i>" (i from first) in the city's
// outbox, batch tasks per transaction, as domain code does.
func writeOutbox(tb testing.TB, env *tenanttest.Env, c *tenant.Tenant, prefix string, first, n, batch int) {
	tb.Helper()
	ctx := tenanttest.Ctx(c)
	for lo := first; lo < first+n; lo += batch {
		hi := min(lo+batch, first+n)
		require.NoError(tb, env.DB.InTx(ctx, func(tx *tenant.Tx) error {
			for i := lo; i < hi; i++ {
				if err := tx.Enqueue(ctx, tenant.Task{
					Type: tenant.TaskEmail, ID: fmt.Sprintf("%s:%d", prefix, i), Queue: queueOf(i),
					Payload: map[string]any{"i": i},
				}); err != nil {
					return err
				}
			}
			return nil
		}))
	}
}

type outboxState struct {
	TaskID    string `db:"task_id"`
	Attempts  int    `db:"attempts"`
	LastError string `db:"last_error"`
	Enqueued  bool   `db:"enqueued"` // the relay put its task in Redis
}

func outboxRows(tb testing.TB, env *tenanttest.Env) []outboxState {
	tb.Helper()
	var rows []outboxState
	require.NoError(tb, env.DB.Platform().SelectContext(context.Background(), &rows,
		`SELECT task_id, attempts, last_error, enqueued_at IS NOT NULL AS enqueued FROM platform.outbox ORDER BY id`))
	return rows
}

// requireAllEnqueued fails unless the outbox holds n rows, each enqueued.
func requireAllEnqueued(tb testing.TB, env *tenanttest.Env, n int) {
	tb.Helper()
	rows := outboxRows(tb, env)
	require.Len(tb, rows, n, "outbox rows")
	for _, r := range rows {
		require.True(tb, r.Enqueued, "row %s is not marked enqueued", r.TaskID)
	}
}

// ageOutbox makes the outbox's enqueued rows look enqueued an hour ago, as
// if the relay's 5 minutes had passed (the clock, driven).
func ageOutbox(tb testing.TB, env *tenanttest.Env) {
	tb.Helper()
	_, err := env.DB.Platform().ExecContext(context.Background(),
		`UPDATE platform.outbox SET enqueued_at = now() - interval '1 hour' WHERE enqueued_at IS NOT NULL`)
	require.NoError(tb, err)
}

// drainAll drains until the relay moves nothing more and returns the total.
func drainAll(tb testing.TB, r *jobs.Relay) int {
	tb.Helper()
	total := 0
	for range 100 {
		n, err := r.Drain(context.Background())
		require.NoError(tb, err)
		if n == 0 {
			return total
		}
		total += n
	}
	tb.Fatal("the relay never ran dry")
	return total
}

// pendingTasks lists, by id, the pending tasks of the queues the outbox uses.
func pendingTasks(t *testing.T, insp *asynq.Inspector) map[string]*asynq.TaskInfo {
	t.Helper()
	out := map[string]*asynq.TaskInfo{}
	for _, q := range []string{"critical", "default"} {
		ts, err := insp.ListPendingTasks(q, asynq.PageSize(5000))
		if err != nil {
			require.ErrorIs(t, err, asynq.ErrQueueNotFound)
			continue
		}
		for _, ti := range ts {
			require.NotContains(t, out, ti.ID, "task %s is in two queues", ti.ID)
			out[ti.ID] = ti
		}
	}
	return out
}

// clearOutbox drops what provisioning may have recorded (a first admin's
// invitation), so a test counts only its own rows.
func clearOutbox(tb testing.TB, env *tenanttest.Env) {
	tb.Helper()
	_, err := env.DB.Platform().ExecContext(context.Background(), `DELETE FROM platform.outbox`)
	require.NoError(tb, err)
}

// TestRelayRedisDownDelaysNeverLoses: while Redis cannot be reached the relay
// fails, keeps every outbox row and counts the attempt; once Redis is back it
// moves every row into asynq exactly once, under the row's deterministic
// task id, and marks every row enqueued. A row whose task is already in
// asynq (a relay died between enqueue and commit) is done, not duplicated.
func TestRelayRedisDownDelaysNeverLoses(t *testing.T) {
	exclusiveRedis(t) // uses redisDB: not parallel
	env := tenanttest.New(t)
	c := env.City(t, "relay")
	clearOutbox(t, env)
	log, _ := testLogger(t)
	const n = 100
	writeOutbox(t, env, c, "test", 0, n, n)
	require.Len(t, outboxRows(t, env), n)

	// Redis is down.
	moved, err := jobs.NewRelay(env.DB.Platform(), deadRedis(t), log).Drain(context.Background())
	require.Error(t, err, "a relay that cannot reach Redis must say so")
	require.Zero(t, moved)
	rows := outboxRows(t, env)
	require.Len(t, rows, n, "rows were lost while Redis was down")
	first := fmt.Sprintf("t%d:test:0", c.ID)
	require.Equal(t, first, rows[0].TaskID)
	require.Equal(t, 1, rows[0].Attempts, "the failed attempt is counted on the first row")
	require.Contains(t, rows[0].LastError, first)
	for _, r := range rows[1:] {
		require.Zero(t, r.Attempts, "row %s was not tried (the relay stops at the first failure)", r.TaskID)
	}
	for _, r := range rows {
		require.False(t, r.Enqueued, "row %s is marked enqueued while Redis is down", r.TaskID)
	}

	// Redis is back.
	rdb, insp := liveRedis(t)
	relay := jobs.NewRelay(env.DB.Platform(), rdb, log)
	require.Equal(t, n, drainAll(t, relay))
	requireAllEnqueued(t, env, n) // until the tasks have run

	tasks := pendingTasks(t, insp)
	require.Len(t, tasks, n)
	for i := range n {
		id := fmt.Sprintf("t%d:test:%d", c.ID, i)
		ti, ok := tasks[id]
		require.True(t, ok, "task %s is not in asynq", id)
		require.Equal(t, tenant.TaskEmail, ti.Type)
		wantQueue := queueOf(i)
		if wantQueue == "" {
			wantQueue = "default"
		}
		require.Equal(t, wantQueue, ti.Queue, "queue of %s", id)
		var p struct {
			TenantID tenant.ID `json:"tenant_id"`
			I        int       `json:"i"`
		}
		require.NoError(t, json.Unmarshal(ti.Payload, &p))
		require.Equal(t, c.ID, p.TenantID, "the payload carries its city")
		require.Equal(t, i, p.I)
	}

	// A row whose task is in asynq but was not marked (a relay died after
	// the enqueue, before its commit): done without a second task.
	redo := fmt.Sprintf("t%d:test:7", c.ID)
	_, err = env.DB.Platform().ExecContext(context.Background(), `UPDATE platform.outbox SET enqueued_at = NULL WHERE task_id = $1`, redo)
	require.NoError(t, err)
	moved, err = relay.Drain(context.Background())
	require.NoError(t, err, "a task id already in asynq is not an error")
	require.Equal(t, 1, moved)
	requireAllEnqueued(t, env, n)
	require.Len(t, pendingTasks(t, insp), n, "the task was enqueued twice")
	// Recorded again while its row is there: nothing new.
	writeOutbox(t, env, c, "test", 7, 1, 1)
	requireAllEnqueued(t, env, n)
	moved, err = relay.Drain(context.Background())
	require.NoError(t, err)
	require.Zero(t, moved)
}

// TestOutboxOutlivesRedis: an outbox row stays until its task has run for
// good, so a Redis that loses its data after the relay moved the task (a
// restart without persistence; here its database flushed) loses nothing:
// once the row's 5 minutes have passed the relay enqueues the task again under
// the same id, and the worker deletes the row when the task succeeded or
// failed for good, not while it waits to retry. The relay deletes the row
// of a task that is done but whose row was left behind.
func TestOutboxOutlivesRedis(t *testing.T) {
	exclusiveRedis(t) // uses redisDB: not parallel
	env := tenanttest.New(t)
	ctx := context.Background()
	c := env.City(t, "relay_lost")
	clearOutbox(t, env)
	log, _ := testLogger(t)
	const addr, downAddr = "lost@example.net", "down@example.net"
	// A confirmation that will be sent, and one whose send fails: it waits to retry.
	fixture.User(t, env, c, fixture.UserOpts{Email: addr, FirstName: "Lena", LastName: "Peeters", Locale: "en", Unconfirmed: true})
	fixture.User(t, env, c, fixture.UserOpts{Email: downAddr, FirstName: "Dirk", LastName: "Peeters", Locale: "en", Unconfirmed: true})
	writeOutbox(t, env, c, "broken", 0, 1, 1) // an email task without an event: fails for good
	var saved []struct {
		TenantID tenant.ID `db:"tenant_id"`
		Type     string    `db:"task_type"`
		TaskID   string    `db:"task_id"`
		Queue    string    `db:"queue"`
		Payload  string    `db:"payload"`
	}
	require.NoError(t, env.DB.Platform().SelectContext(ctx, &saved,
		`SELECT tenant_id, task_type, task_id, queue, payload::text AS payload FROM platform.outbox ORDER BY id`))
	require.Len(t, saved, 3)
	ids := make([]string, len(saved))
	for i, r := range saved {
		ids[i] = r.TaskID
	}

	rdb, insp := liveRedis(t)
	relay := jobs.NewRelay(env.DB.Platform(), rdb, log)
	require.Equal(t, 3, drainAll(t, relay))
	requireAllEnqueued(t, env, 3)
	require.Len(t, pendingTasks(t, insp), 3)

	// Redis loses everything (FLUSHDB of the test's database: FLUSHALL
	// would also drop other test processes' lock in database 0).
	flushRedisTB(t)
	require.Empty(t, pendingTasks(t, insp))
	n, err := relay.Check(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "rows enqueued a moment ago are not looked up yet")
	require.Empty(t, pendingTasks(t, insp))
	requireAllEnqueued(t, env, 3)

	ageOutbox(t, env) // their 5 minutes have passed
	n, err = relay.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	tasks := pendingTasks(t, insp)
	require.Len(t, tasks, 3, "the tasks Redis lost are enqueued again")
	for _, id := range ids {
		require.Contains(t, tasks, id, "under the same deterministic id")
	}
	requireAllEnqueued(t, env, 3)
	n, err = relay.Check(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "a row just checked is not looked up again at once")

	// The worker runs them: the confirmation is sent and its row deleted,
	// the broken task fails for good and its row is deleted, the one whose
	// send fails waits to retry and keeps its row.
	mailSrv, smtp := startMail(t)
	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })
	stop := startWorker(t, jobs.WorkerDeps{
		Redis: redisOpt(), DB: env.DB, Registry: env.Registry, Client: client, StorageDir: env.StorageDir,
		Log: log, Concurrency: 4, PortalURL: httpsPortal, DSN: env.URL,
		Sender: senderFunc(func(ctx context.Context, m email.Message) error {
			if m.To == downAddr {
				return errors.New("421 try again later")
			}
			return smtp.Send(ctx, m)
		}),
	})
	state := func(i int) asynq.TaskState {
		ti, err := insp.GetTaskInfo(saved[i].Queue, ids[i])
		if err != nil {
			return 0
		}
		return ti.State
	}
	eventually(t, 15*time.Second, func() bool {
		return state(0) == asynq.TaskStateCompleted && state(1) == asynq.TaskStateRetry && state(2) == asynq.TaskStateArchived
	}, func() string { return fmt.Sprintf("task states %s, %s, %s", state(0), state(1), state(2)) })
	stop()
	require.Len(t, mailSrv.To(addr), 1)
	rows := outboxRows(t, env)
	require.Len(t, rows, 1, "outbox rows once the tasks ran: %+v", rows)
	require.Equal(t, ids[1], rows[0].TaskID, "only the task that will retry keeps its row")

	// Rows left behind by a worker that died between the end of a task and
	// the delete: the relay deletes those whose task is done, and keeps the
	// one still waiting to retry, without enqueueing anything.
	for _, i := range []int{0, 2} {
		r := saved[i]
		_, err := env.DB.Platform().ExecContext(ctx, `INSERT INTO platform.outbox (tenant_id, task_type, task_id, queue, payload, enqueued_at)
			VALUES ($1, $2, $3, $4, $5, now())`, r.TenantID, r.Type, r.TaskID, r.Queue, r.Payload)
		require.NoError(t, err)
	}
	ageOutbox(t, env)
	n, err = relay.Check(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n)
	rows = outboxRows(t, env)
	require.Len(t, rows, 1, "outbox rows after the check: %+v", rows)
	require.Equal(t, ids[1], rows[0].TaskID)
	require.Equal(t, asynq.TaskStateRetry, state(1), "a task waiting to retry is left as it is")
	require.Empty(t, pendingTasks(t, insp))

	// The same deterministic task recorded again after it completed (a
	// second notice on the same day; outbox task ids are unique, so only
	// once the first row is gone): the relay drops the new row at once, as
	// nothing would run it, instead of leaving it for the check minutes
	// later.
	r := saved[0]
	_, err = env.DB.Platform().ExecContext(ctx, `INSERT INTO platform.outbox (tenant_id, task_type, task_id, queue, payload)
		VALUES ($1, $2, $3, $4, $5)`, r.TenantID, r.Type, r.TaskID, r.Queue, r.Payload)
	require.NoError(t, err)
	require.Equal(t, 1, drainAll(t, relay))
	rows = outboxRows(t, env)
	require.Len(t, rows, 1, "outbox rows after the drain: %+v", rows)
	require.Equal(t, ids[1], rows[0].TaskID, "only the task that will retry keeps its row")
	require.Empty(t, pendingTasks(t, insp), "nothing is enqueued twice")
}

// TestRelaysShareTheOutbox: relays running at once (one per worker) lock
// disjoint rows, so each row is moved by exactly one of them.
func TestRelaysShareTheOutbox(t *testing.T) {
	exclusiveRedis(t) // uses redisDB: not parallel
	env := tenanttest.New(t)
	c := env.City(t, "relay_share")
	clearOutbox(t, env)
	const n, relays = 1000, 4
	writeOutbox(t, env, c, "share", 0, n, 250)
	rdb, insp := liveRedis(t)

	var wg sync.WaitGroup
	counts := make([]int, relays)
	for r := range relays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			relay := jobs.NewRelay(env.DB.Platform(), rdb, slog.New(slog.NewTextHandler(io.Discard, nil)))
			for {
				moved, err := relay.Drain(context.Background())
				if err != nil {
					t.Errorf("relay %d: %v", r, err)
					return
				}
				if moved == 0 {
					return
				}
				counts[r] += moved
			}
		}()
	}
	wg.Wait()
	sum := 0
	for _, k := range counts {
		sum += k
	}
	require.Equal(t, n, sum, "rows moved by the relays %v: a row was moved twice or not at all", counts)
	requireAllEnqueued(t, env, n)
	require.Len(t, pendingTasks(t, insp), n)
}

// BenchmarkRelay measures how many outbox rows per second relays move into
// Redis (rows are written before the timer starts). It prints rows/s and
// asserts no timing.
func BenchmarkRelay(b *testing.B) {
	for _, relays := range []int{1, 4} {
		b.Run(fmt.Sprintf("relays=%d", relays), func(b *testing.B) {
			exclusiveRedis(b)
			env := tenanttest.New(b)
			c := env.City(b, "relay_bench")
			clearOutbox(b, env)
			writeOutbox(b, env, c, "bench", 0, b.N, 500)
			rdb, _ := liveRedis(b)
			log := slog.New(slog.NewTextHandler(io.Discard, nil))

			b.ResetTimer()
			began := time.Now()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var moved []int
			for range relays {
				wg.Add(1)
				go func() {
					defer wg.Done()
					relay := jobs.NewRelay(env.DB.Platform(), rdb, log)
					total := 0
					for {
						k, err := relay.Drain(context.Background())
						if err != nil {
							b.Error(err)
							return
						}
						if k == 0 {
							break
						}
						total += k
					}
					mu.Lock()
					moved = append(moved, total)
					mu.Unlock()
				}()
			}
			wg.Wait()
			elapsed := time.Since(began)
			b.StopTimer()

			sum := 0
			for _, k := range moved {
				sum += k
			}
			sort.Ints(moved)
			require.Equal(b, b.N, sum, "rows moved per relay %v", moved)
			requireAllEnqueued(b, env, b.N)
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
		})
	}
}
