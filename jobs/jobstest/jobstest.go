// Package jobstest makes background work fail for real, on a Redis database
// of the test's own, for tests of the operator's tools.
package jobstest

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"agora/tenant"
	"agora/tenant/tenanttest"
)

// RedisDB locks Redis database db for the calling test (see
// tenanttest.LockRedisDB), empties it now and when the test ends, and returns
// how to reach it.
func RedisDB(tb testing.TB, db int) asynq.RedisClientOpt {
	tb.Helper()
	opt := asynq.RedisClientOpt{Addr: tenanttest.RedisAddr(), DB: db}
	tenanttest.LockRedisDB(tb, opt.Addr, db)
	rdb := redis.NewClient(&redis.Options{Addr: opt.Addr, DB: db})
	flush := func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		return rdb.FlushDB(ctx).Err()
	}
	if err := flush(); err != nil {
		tb.Fatalf("jobstest: flush Redis db %d at %s (is Redis running?): %v", db, opt.Addr, err)
	}
	tb.Cleanup(func() {
		_ = flush()
		_ = rdb.Close()
	})
	return opt
}

// Task is a task that will fail with Error.
type Task struct {
	Type     string
	Queue    string    // "default" when empty
	TenantID tenant.ID // 0: platform work
	Error    string
	// Retry leaves the task waiting to retry (an hour later) instead of
	// archiving it after its one attempt.
	Retry bool
}

// payload carries the city like every Agora task, and the error to fail with.
type payload struct {
	TenantID tenant.ID `json:"tenant_id,omitempty"`
	FailWith string    `json:"fail_with"`
}

// Fail enqueues tasks on opt's database and runs an asynq server whose
// handler fails every one of them, until each waits to retry or sits in the
// archive. It returns the tasks' ids, in order.
func Fail(tb testing.TB, opt asynq.RedisClientOpt, tasks ...Task) []string {
	tb.Helper()
	client := asynq.NewClient(opt)
	defer client.Close()
	queues := map[string]int{}
	ids := make([]string, len(tasks))
	for i, t := range tasks {
		if t.Queue == "" {
			t.Queue = "default"
		}
		queues[t.Queue] = 1
		b, err := json.Marshal(payload{TenantID: t.TenantID, FailWith: t.Error})
		if err != nil {
			tb.Fatal(err)
		}
		maxRetry := 0
		if t.Retry {
			maxRetry = 3
		}
		info, err := client.Enqueue(asynq.NewTask(t.Type, b), asynq.Queue(t.Queue), asynq.MaxRetry(maxRetry))
		if err != nil {
			tb.Fatalf("jobstest: enqueue %s: %v", t.Type, err)
		}
		ids[i] = info.ID
	}

	srv := asynq.NewServer(opt, asynq.Config{
		Concurrency:    4,
		Queues:         queues,
		LogLevel:       asynq.FatalLevel,
		RetryDelayFunc: func(int, error, *asynq.Task) time.Duration { return time.Hour },
	})
	err := srv.Start(asynq.HandlerFunc(func(_ context.Context, task *asynq.Task) error {
		var p payload
		_ = json.Unmarshal(task.Payload(), &p)
		return errors.New(p.FailWith)
	}))
	if err != nil {
		tb.Fatalf("jobstest: start asynq server: %v", err)
	}
	defer srv.Shutdown()

	insp := asynq.NewInspector(opt)
	defer insp.Close()
	deadline := time.Now().Add(20 * time.Second)
	for i, id := range ids {
		want := asynq.TaskStateArchived
		if tasks[i].Retry {
			want = asynq.TaskStateRetry
		}
		q := tasks[i].Queue
		if q == "" {
			q = "default"
		}
		for {
			ti, err := insp.GetTaskInfo(q, id)
			if err == nil && ti.State == want {
				break
			}
			if time.Now().After(deadline) {
				tb.Fatalf("jobstest: task %s (%s) did not reach state %s within 20s (last: %v, %v)", id, tasks[i].Type, want, ti, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return ids
}
