package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/jobs"
	"agora/jobs/jobstest"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// jobsRedisDB is the Redis database of the jobs CLI tests (7, 8 and 9 are
// other packages' tests; 0 is a dev worker's).
const jobsRedisDB = 12

// TestJobsCLI fails real tasks of two cities and of the platform on a private
// Redis database, then reads and repairs them through `agora jobs`.
func TestJobsCLI(t *testing.T) {
	env := tenanttest.New(t)
	gent, lyon := env.City(t, "gent"), env.City(t, "lyon")
	opt := jobstest.RedisDB(t, jobsRedisDB)
	t.Setenv("AGORA_DATABASE_URL", env.URL)
	t.Setenv("AGORA_REDIS_URL", fmt.Sprintf("redis://%s/%d", opt.Addr, opt.DB))
	t.Setenv("AGORA_BASE_DOMAIN", tenanttest.BaseDomain)
	t.Setenv("AGORA_PLATFORM_HOST", tenanttest.PlatformHost)
	t.Setenv("AGORA_ENV", "dev")
	t.Setenv("AGORA_SECRET_KEY", "")
	t.Setenv("AGORA_SHARDS", "")

	const mailErr = "smtp: 550 mailbox unavailable"
	ids := jobstest.Fail(t, opt,
		jobstest.Task{Type: "email:send", TenantID: gent.ID, Error: mailErr},
		jobstest.Task{Type: "email:send", TenantID: gent.ID, Error: mailErr},
		jobstest.Task{Type: "digest:user", TenantID: gent.ID, Error: "digest: template missing", Retry: true},
		jobstest.Task{Type: "email:send", TenantID: lyon.ID, Error: mailErr},
		jobstest.Task{Type: "tenant:usage_tick", Queue: "low", Error: "usage: database busy"},
	)
	gentMail, lyonMail, tick := ids[0], ids[3], ids[4]
	insp := asynq.NewInspector(opt)
	t.Cleanup(func() { _ = insp.Close() })

	stats := func() jobs.Overview {
		t.Helper()
		res := agora(t, "jobs", "stats", "--json")
		require.Equal(t, 0, res.code, res.stderr)
		var o jobs.Overview
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &o), "jobs stats --json printed %q", res.stdout)
		return o
	}
	queue := func(o jobs.Overview, name string) jobs.QueueStats {
		t.Helper()
		for _, q := range o.Queues {
			if q.Queue == name {
				return q
			}
		}
		t.Fatalf("queue %s missing from %+v", name, o.Queues)
		return jobs.QueueStats{}
	}
	city := func(o jobs.Overview, id tenant.ID) jobs.CityTally {
		t.Helper()
		for _, c := range o.ByCity {
			if c.TenantID == id {
				return c
			}
		}
		t.Fatalf("city %d missing from %+v", id, o.ByCity)
		return jobs.CityTally{}
	}

	t.Run("stats", func(t *testing.T) {
		o := stats()
		require.Equal(t, []string{"critical", "default", "low"}, queueNames(o), "every queue, by weight, even one that never held a task")
		d := queue(o, "default")
		require.Equal(t, 3, d.Archived)
		require.Equal(t, 1, d.Retry)
		require.Equal(t, 4, d.Size)
		require.Equal(t, 4, d.FailedToday)
		require.Equal(t, 4, d.ProcessedToday)
		require.Equal(t, 1, queue(o, "low").Archived)
		require.Zero(t, queue(o, "critical").Size)

		require.Equal(t, 5, o.Failed)
		require.Equal(t, 1, o.Retry)
		require.Equal(t, 4, o.Archived)
		require.Equal(t, jobs.TypeTally{Type: "email:send", Archived: 3, Total: 3}, o.ByType[0], "the commonest failure first")
		require.Equal(t, jobs.CityTally{City: "gent", TenantID: gent.ID, Retry: 1, Archived: 2, Total: 3}, city(o, gent.ID))
		require.Equal(t, jobs.CityTally{City: "lyon", TenantID: lyon.ID, Archived: 1, Total: 1}, city(o, lyon.ID))
		require.Equal(t, jobs.CityTally{Archived: 1, Total: 1}, city(o, 0), "platform work has no city")
		require.Empty(t, o.Latest, "stats does not list tasks")

		res := agora(t, "jobs", "stats")
		require.Equal(t, 0, res.code, res.stderr)
		require.Regexp(t, `(?m)^default\s+4\s+0\s+0\s+0\s+1\s+3\s+4\s+4\s*$`, res.stdout)
		require.Regexp(t, `(?m)^email:send\s+0\s+3\s+3\s*$`, res.stdout)
		require.Regexp(t, `(?m)^gent\s+1\s+2\s+3\s*$`, res.stdout)
		require.Regexp(t, `(?m)^\(platform\)\s+0\s+1\s+1\s*$`, res.stdout)
		require.Contains(t, res.stdout, "5 failed tasks: 1 waiting to retry, 4 archived")
	})

	t.Run("failed", func(t *testing.T) {
		res := agora(t, "jobs", "failed", "--city", "gent", "--json")
		require.Equal(t, 0, res.code, res.stderr)
		var got []jobs.FailedTask
		require.NoError(t, json.Unmarshal([]byte(res.stdout), &got))
		require.Len(t, got, 3)
		for i, ft := range got {
			require.Equal(t, "gent", ft.City)
			require.Equal(t, gent.ID, ft.TenantID)
			require.NotEmpty(t, ft.Error)
			require.False(t, ft.LastFailedAt.IsZero())
			if i > 0 {
				require.False(t, ft.LastFailedAt.After(got[i-1].LastFailedAt), "newest failure first")
			}
			if ft.Type == "digest:user" {
				require.Equal(t, jobs.StateRetry, ft.State)
				require.NotNil(t, ft.NextRetryAt)
				require.Equal(t, "digest: template missing", ft.Error)
			} else {
				require.Equal(t, jobs.StateArchived, ft.State)
				require.Equal(t, mailErr, ft.Error)
			}
		}

		res = agora(t, "jobs", "failed", "--queue", "low")
		require.Equal(t, 0, res.code, res.stderr)
		require.Contains(t, res.stdout, tick)
		require.Contains(t, res.stdout, "tenant:usage_tick")
		require.Contains(t, res.stdout, "usage: database busy")
		require.NotContains(t, res.stdout, gentMail)
		require.Contains(t, res.stdout, "1 of 1 failed tasks")

		res = agora(t, "jobs", "failed", "--limit", "2")
		require.Equal(t, 0, res.code, res.stderr)
		require.Contains(t, res.stdout, "2 of 5 failed tasks")

		res = agora(t, "jobs", "failed", "--city", "atlantis")
		require.Equal(t, 1, res.code)
		require.Contains(t, res.stderr, `city "atlantis" not found`)
		res = agora(t, "jobs", "failed", "--queue", "urgent")
		require.Equal(t, 1, res.code)
		require.Contains(t, res.stderr, `queue "urgent" does not exist`)
	})

	t.Run("retry one task", func(t *testing.T) {
		res := agora(t, "jobs", "retry", "default", gentMail)
		require.Equal(t, 0, res.code, res.stderr)
		require.Contains(t, res.stdout, "pending again")
		ti, err := insp.GetTaskInfo("default", gentMail)
		require.NoError(t, err)
		require.Equal(t, asynq.TaskStatePending, ti.State)

		res = agora(t, "jobs", "retry", "default", gentMail)
		require.Equal(t, 1, res.code, "a pending task has not failed")
		require.Contains(t, res.stderr, "not failed")
		res = agora(t, "jobs", "retry", "default", "no-such-task")
		require.Equal(t, 1, res.code)
		require.Contains(t, res.stderr, "task no-such-task not found in queue default")

		o := stats()
		require.Equal(t, 2, queue(o, "default").Archived)
		require.Equal(t, 1, queue(o, "default").Pending)
		require.Equal(t, 2, city(o, gent.ID).Total)
	})

	t.Run("delete", func(t *testing.T) {
		res := agora(t, "jobs", "delete", "default", lyonMail)
		require.Equal(t, 0, res.code, res.stderr)
		_, err := insp.GetTaskInfo("default", lyonMail)
		require.ErrorIs(t, err, asynq.ErrTaskNotFound)
		for _, c := range stats().ByCity {
			require.NotEqual(t, lyon.ID, c.TenantID, "lyon has no failed task left")
		}
		res = agora(t, "jobs", "delete", "default", lyonMail)
		require.Equal(t, 1, res.code)
		require.Contains(t, res.stderr, "not found")
	})

	t.Run("retry every archived task of a queue", func(t *testing.T) {
		res := agora(t, "jobs", "retry", "--all-archived", "--queue", "low")
		require.Equal(t, 0, res.code, res.stderr)
		require.Contains(t, res.stdout, "1 archived tasks are pending again (low 1)")
		ti, err := insp.GetTaskInfo("low", tick)
		require.NoError(t, err)
		require.Equal(t, asynq.TaskStatePending, ti.State)
		require.Equal(t, 1, queue(stats(), "default").Archived, "other queues are left alone")

		res = agora(t, "jobs", "retry", "--all-archived")
		require.Equal(t, 0, res.code, res.stderr)
		o := stats()
		require.Zero(t, o.Archived)
		require.Equal(t, 1, o.Retry, "a task waiting to retry keeps waiting")
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{"jobs", "retry", "default"},
			{"jobs", "retry", "--all-archived", "default", gentMail},
			{"jobs", "retry", "default", gentMail, "--queue", "low"},
			{"jobs", "delete", "default"},
			{"jobs", "failed", "--limit", "0"},
			{"jobs", "stats", "extra"},
		} {
			res := agora(t, args...)
			require.Equal(t, 2, res.code, "agora %s", strings.Join(args, " "))
			require.Contains(t, res.stderr, "usage")
		}
	})

	t.Run("Redis unreachable", func(t *testing.T) {
		t.Setenv("AGORA_REDIS_URL", "redis://127.0.0.1:1/0")
		for _, args := range [][]string{{"jobs", "stats"}, {"jobs", "delete", "default", gentMail}} {
			res := agora(t, args...)
			require.Equal(t, 1, res.code)
			require.Contains(t, res.stderr, "cannot reach Redis at AGORA_REDIS_URL (redis://127.0.0.1:1/0)")
		}
	})
}

func queueNames(o jobs.Overview) []string {
	var out []string
	for _, q := range o.Queues {
		out = append(out, q.Queue)
	}
	return out
}
