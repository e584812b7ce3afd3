package jobs_test

import (
	"context"
	"encoding/json"
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
	tenanttest.LockRedisDB(tb, redisAddr(), redisDB)
	flushRedisTB(tb)
}

// flushRedisTB is flushRedis for benchmarks too.
func flushRedisTB(tb testing.TB) {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: redisAddr(), DB: redisDB})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(tb, rdb.FlushDB(ctx).Err(), "flush Redis db %d at %s", redisDB, redisAddr())
	tb.Cleanup(func() {
		defer rdb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = rdb.FlushDB(ctx).Err()
	})
}

// deadRedis returns a client for a Redis that is not there: a port that was
// just listening and is now closed, so connections are refused at once.
func deadRedis(tb testing.TB) *asynq.Client {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(tb, err)
	addr := ln.Addr().String()
	require.NoError(tb, ln.Close())
	c := asynq.NewClient(asynq.RedisClientOpt{Addr: addr, DialTimeout: time.Second})
	tb.Cleanup(func() { c.Close() })
	return c
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
					Type: jobs.TypeEmailSend, ID: fmt.Sprintf("%s:%d", prefix, i), Queue: queueOf(i),
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
}

func outboxRows(tb testing.TB, env *tenanttest.Env) []outboxState {
	tb.Helper()
	var rows []outboxState
	require.NoError(tb, env.DB.Platform().SelectContext(context.Background(), &rows,
		`SELECT task_id, attempts, last_error FROM platform.outbox ORDER BY id`))
	return rows
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
// task id, and empties the outbox. A row whose task is already in asynq (a
// relay died between enqueue and delete) is done, not duplicated.
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

	// Redis is back.
	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })
	relay := jobs.NewRelay(env.DB.Platform(), client, log)
	require.Equal(t, n, drainAll(t, relay))
	require.Empty(t, outboxRows(t, env))

	insp := asynq.NewInspector(redisOpt())
	t.Cleanup(func() { insp.Close() })
	tasks := pendingTasks(t, insp)
	require.Len(t, tasks, n)
	for i := range n {
		id := fmt.Sprintf("t%d:test:%d", c.ID, i)
		ti, ok := tasks[id]
		require.True(t, ok, "task %s is not in asynq", id)
		require.Equal(t, jobs.TypeEmailSend, ti.Type)
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

	// The same task recorded again (a relay died after the enqueue, before
	// the delete): done without a second task.
	writeOutbox(t, env, c, "test", 7, 1, 1)
	require.Len(t, outboxRows(t, env), 1)
	moved, err = relay.Drain(context.Background())
	require.NoError(t, err, "a task id already in asynq is not an error")
	require.Equal(t, 1, moved)
	require.Empty(t, outboxRows(t, env))
	require.Len(t, pendingTasks(t, insp), n, "the re-recorded task was enqueued twice")
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
	client := asynq.NewClient(redisOpt())
	t.Cleanup(func() { client.Close() })

	var wg sync.WaitGroup
	counts := make([]int, relays)
	for r := range relays {
		wg.Add(1)
		go func() {
			defer wg.Done()
			relay := jobs.NewRelay(env.DB.Platform(), client, slog.New(slog.NewTextHandler(io.Discard, nil)))
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
	require.Empty(t, outboxRows(t, env))
	insp := asynq.NewInspector(redisOpt())
	t.Cleanup(func() { insp.Close() })
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
			client := asynq.NewClient(redisOpt())
			b.Cleanup(func() { client.Close() })
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
					relay := jobs.NewRelay(env.DB.Platform(), client, log)
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
			require.Empty(b, outboxRows(b, env))
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "rows/s")
		})
	}
}
