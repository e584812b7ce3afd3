package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"agora/config"
	"agora/domain/errs"
	"agora/jobs"
)

func jobsCmd() *command {
	return &command{
		name:    "jobs",
		summary: "Background jobs: queue figures, failed tasks by type and city, retry and delete.",
		subs:    []*command{jobsStatsCmd(), jobsFailedCmd(), jobsRetryCmd(), jobsDeleteCmd()},
	}
}

// withMonitor connects to AGORA_REDIS_URL and runs fn with a jobs monitor.
// With cities, it also opens PostgreSQL so tasks show their city's slug;
// retrying and deleting a task need Redis only.
func withMonitor(ctx context.Context, cities bool, fn func(m *jobs.Monitor) error) error {
	if cities {
		return withApp(ctx, func(a *app) error {
			rdb, err := a.redisClient(ctx)
			if err != nil {
				return err
			}
			defer rdb.Close()
			return fn(jobs.NewMonitor(asynq.NewInspectorFromRedisClient(rdb), a.reg))
		})
	}
	cfg, err := config.Load(nil)
	if err != nil {
		return err
	}
	rdb, err := (&app{cfg: cfg}).redisClient(ctx)
	if err != nil {
		return err
	}
	defer rdb.Close()
	return fn(jobs.NewMonitor(asynq.NewInspectorFromRedisClient(rdb), nil))
}

// jobsError adds the command that helps to a task or queue that is not there.
func jobsError(err error) error {
	if e, ok := errs.As(err); ok {
		switch e.Code {
		case errs.NotFound:
			switch {
			case strings.HasPrefix(e.Message, "task"):
				return fmt.Errorf("%s (see 'agora jobs failed')", e.Message)
			case strings.HasPrefix(e.Message, "city"):
				return fmt.Errorf("%s (see 'agora tenant list')", e.Message)
			}
			return errors.New(e.Message)
		case errs.Conflict, errs.Invalid:
			return errors.New(e.Message)
		}
	}
	return err
}

func jobsStatsCmd() *command {
	var asJSON bool
	return &command{
		name:    "stats",
		args:    "[--json]",
		summary: "Per queue: size, pending, active, scheduled, retry, archived, processed and failed today; failed tasks by type and city.",
		flags:   func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") },
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if fs.NArg() > 0 {
				return usagef("unexpected argument %q", fs.Arg(0))
			}
			return withMonitor(ctx, true, func(m *jobs.Monitor) error {
				o, err := m.Overview(ctx, jobs.Filter{})
				if err != nil {
					return jobsError(err)
				}
				o.Latest = nil // 'agora jobs failed' lists them
				if asJSON {
					return printJSON(o)
				}
				printQueues(o)
				return nil
			})
		},
	}
}

func printQueues(o *jobs.Overview) {
	w := newTable(os.Stdout, "QUEUE", "SIZE", "PENDING", "ACTIVE", "SCHEDULED", "RETRY", "ARCHIVED", "PROCESSED TODAY", "FAILED TODAY")
	for _, q := range o.Queues {
		name := q.Queue
		if q.Paused {
			name += " (paused)"
		}
		w.row(name, itoa(q.Size), itoa(q.Pending), itoa(q.Active), itoa(q.Scheduled), itoa(q.Retry), itoa(q.Archived),
			itoa(q.ProcessedToday), itoa(q.FailedToday))
	}
	w.flush()
	if o.Failed == 0 {
		fmt.Println("\nNo failed tasks.")
		return
	}
	fmt.Println()
	w = newTable(os.Stdout, "FAILED BY TYPE", "RETRY", "ARCHIVED", "TOTAL")
	for _, t := range o.ByType {
		w.row(t.Type, itoa(t.Retry), itoa(t.Archived), itoa(t.Total))
	}
	w.flush()
	fmt.Println()
	w = newTable(os.Stdout, "FAILED BY CITY", "RETRY", "ARCHIVED", "TOTAL")
	for _, c := range o.ByCity {
		w.row(cityLabel(c.City, int64(c.TenantID)), itoa(c.Retry), itoa(c.Archived), itoa(c.Total))
	}
	w.flush()
	more := ""
	if o.Truncated {
		more = " (at least; some queues hold more than were read)"
	}
	fmt.Printf("\n%d failed tasks%s: %d waiting to retry, %d archived. List them with 'agora jobs failed'.\n",
		o.Failed, more, o.Retry, o.Archived)
}

// cityLabel names the city of a task for people.
func cityLabel(slug string, id int64) string {
	switch {
	case slug != "":
		return slug
	case id != 0:
		return fmt.Sprintf("deleted city %d", id)
	}
	return "(platform)"
}

func itoa(n int) string { return strconv.Itoa(n) }

func jobsFailedCmd() *command {
	var f jobs.Filter
	var asJSON bool
	return &command{
		name:    "failed",
		args:    "[--queue Q] [--city SLUG] [--limit N] [--json]",
		summary: "List failed tasks, newest failure first: id, queue, type, city, error, last failed at.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&f.Queue, "queue", "", "only this queue (critical, default, low)")
			fs.StringVar(&f.City, "city", "", "only this city's tasks (its slug)")
			fs.IntVar(&f.Limit, "limit", jobs.DefaultLimit, "list at most N tasks")
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if fs.NArg() > 0 {
				return usagef("unexpected argument %q", fs.Arg(0))
			}
			if f.Limit < 1 {
				return usagef("--limit must be at least 1")
			}
			return withMonitor(ctx, true, func(m *jobs.Monitor) error {
				o, err := m.Overview(ctx, f)
				if err != nil {
					return jobsError(err)
				}
				if asJSON {
					return printJSON(o.Latest)
				}
				if o.Failed == 0 {
					fmt.Println("No failed tasks.")
					return nil
				}
				w := newTable(os.Stdout, "ID", "QUEUE", "TYPE", "CITY", "STATE", "ATTEMPTS", "LAST FAILED", "ERROR")
				for _, t := range o.Latest {
					state := t.State
					if t.NextRetryAt != nil {
						state += " at " + t.NextRetryAt.UTC().Format("15:04")
					}
					w.row(t.ID, t.Queue, t.Type, cityLabel(t.City, int64(t.TenantID)), state,
						fmt.Sprintf("%d/%d", t.Attempts(), t.MaxAttempts()), t.LastFailedAt.UTC().Format(time.RFC3339), oneLine(t.Error, 80))
				}
				w.flush()
				fmt.Printf("\n%d of %d failed tasks. Run one again with 'agora jobs retry QUEUE ID', remove it with 'agora jobs delete QUEUE ID'.\n",
					len(o.Latest), o.Failed)
				return nil
			})
		},
	}
}

// oneLine fits an error message on one table row of at most n characters.
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

func jobsRetryCmd() *command {
	var all bool
	var queue string
	return &command{
		name:    "retry",
		args:    "QUEUE TASK-ID | --all-archived [--queue Q]",
		summary: "Run a failed task again now, or every archived task (of one queue or all).",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&all, "all-archived", false, "retry every archived task")
			fs.StringVar(&queue, "queue", "", "with --all-archived: only this queue")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			switch {
			case all && fs.NArg() > 0:
				return usagef("give either QUEUE TASK-ID or --all-archived, not both")
			case !all && fs.NArg() != 2:
				return usagef("expected QUEUE and TASK-ID (or --all-archived)")
			case !all && queue != "":
				return usagef("--queue goes with --all-archived; a single task is named by QUEUE TASK-ID")
			}
			return withMonitor(ctx, false, func(m *jobs.Monitor) error {
				if !all {
					if err := m.Retry(ctx, fs.Arg(0), fs.Arg(1)); err != nil {
						return jobsError(err)
					}
					fmt.Printf("task %s of queue %s is pending again; a worker runs it next\n", fs.Arg(1), fs.Arg(0))
					return nil
				}
				n, err := m.RetryAllArchived(ctx, queue)
				if err != nil {
					return jobsError(err)
				}
				total := 0
				var parts []string
				for q, k := range n {
					total += k
					if k > 0 {
						parts = append(parts, fmt.Sprintf("%s %d", q, k))
					}
				}
				sort.Strings(parts)
				detail := ""
				if len(parts) > 0 {
					detail = " (" + strings.Join(parts, ", ") + ")"
				}
				fmt.Printf("%d archived tasks are pending again%s\n", total, detail)
				return nil
			})
		},
	}
}

func jobsDeleteCmd() *command {
	return &command{
		name:    "delete",
		args:    "QUEUE TASK-ID",
		summary: "Delete a task that is not running (a failed one, usually): it will never run.",
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if fs.NArg() != 2 {
				return usagef("expected QUEUE and TASK-ID")
			}
			return withMonitor(ctx, false, func(m *jobs.Monitor) error {
				if err := m.Delete(ctx, fs.Arg(0), fs.Arg(1)); err != nil {
					return jobsError(err)
				}
				fmt.Printf("deleted task %s from queue %s\n", fs.Arg(1), fs.Arg(0))
				return nil
			})
		},
	}
}
