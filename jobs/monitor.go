package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/hibiken/asynq"

	"agora/domain/errs"
	"agora/tenant"
)

// Monitor is the operator's view of the queues: figures per queue, the failed
// tasks (waiting to retry, or archived after their last attempt) with the city
// each belongs to, and the two repairs: run a failed task again, delete it.
type Monitor struct {
	insp   *asynq.Inspector
	cities CityLister
}

// CityLister lists the cities, so that a task's tenant id can be shown as the
// city's slug. *tenant.Registry is one.
type CityLister interface {
	List(ctx context.Context) ([]*tenant.Tenant, error)
}

// NewMonitor reads and repairs the queues through insp.
func NewMonitor(insp *asynq.Inspector, cities CityLister) *Monitor {
	return &Monitor{insp: insp, cities: cities}
}

// QueueStats are the figures of one queue. The day's counters are asynq's,
// which reset at midnight UTC.
type QueueStats struct {
	Queue          string `json:"queue"`
	Size           int    `json:"size"`
	Pending        int    `json:"pending"`
	Active         int    `json:"active"`
	Scheduled      int    `json:"scheduled"`
	Retry          int    `json:"retry"`
	Archived       int    `json:"archived"`
	ProcessedToday int    `json:"processed_today"`
	FailedToday    int    `json:"failed_today"`
	Paused         bool   `json:"paused"`
}

// Failed task states.
const (
	StateRetry    = "retry"    // failed, will run again at NextRetryAt
	StateArchived = "archived" // failed for the last time; runs again only if retried by hand
)

// FailedTask is one task that failed.
type FailedTask struct {
	ID    string `json:"id"`
	Queue string `json:"queue"`
	Type  string `json:"type"`
	State string `json:"state"` // StateRetry or StateArchived
	// TenantID is the city named in the payload; 0 for platform work.
	TenantID tenant.ID `json:"tenant_id,omitempty"`
	// City is that city's slug; "" for platform work and for a deleted city.
	City         string     `json:"city"`
	Error        string     `json:"error"`
	LastFailedAt time.Time  `json:"last_failed_at"`
	Retried      int        `json:"retried"`
	MaxRetry     int        `json:"max_retry"`
	NextRetryAt  *time.Time `json:"next_retry_at,omitempty"`
}

// Attempts is how many times the task has run.
func (f FailedTask) Attempts() int {
	if f.State == StateRetry {
		return f.Retried // asynq counts a retry when it schedules it
	}
	return f.Retried + 1
}

// MaxAttempts is how many times the task may run in all.
func (f FailedTask) MaxAttempts() int { return f.MaxRetry + 1 }

// TypeTally counts the failed tasks of one task type.
type TypeTally struct {
	Type     string `json:"type"`
	Retry    int    `json:"retry"`
	Archived int    `json:"archived"`
	Total    int    `json:"total"`
}

// CityTally counts the failed tasks of one city (TenantID 0: platform work).
type CityTally struct {
	City     string    `json:"city"`
	TenantID tenant.ID `json:"tenant_id"`
	Retry    int       `json:"retry"`
	Archived int       `json:"archived"`
	Total    int       `json:"total"`
}

// Overview is the state of the queues at one moment.
type Overview struct {
	TakenAt time.Time    `json:"taken_at"`
	Queues  []QueueStats `json:"queues"`
	// The failed tasks that match the filter: how many, grouped, and the
	// latest ones (newest failure first).
	Failed   int          `json:"failed"`
	Retry    int          `json:"retry"`
	Archived int          `json:"archived"`
	ByType   []TypeTally  `json:"failed_by_type"`
	ByCity   []CityTally  `json:"failed_by_city"`
	Latest   []FailedTask `json:"latest_failed,omitempty"`
	// Truncated is set when a queue held more failed tasks than are read
	// (MaxScan per queue and state): the counts above are then lower bounds.
	Truncated bool `json:"truncated,omitempty"`
}

// Filter narrows the failed tasks an Overview counts and lists.
type Filter struct {
	Queue string // a queue name; "" for every queue
	City  string // a city's slug; "" for every city and platform work
	Limit int    // how many of the latest failed tasks to list; 0 means DefaultLimit
}

const (
	// DefaultLimit is how many failed tasks an Overview lists by default.
	DefaultLimit = 50
	// MaxScan bounds the failed tasks read per queue and state. asynq keeps
	// at most 10,000 archived tasks per queue, for 90 days.
	MaxScan  = 10000
	scanPage = 500
)

// Overview reads every queue's figures and the failed tasks that match f.
// It returns a not_found error for an unknown queue or city, and the Redis
// error when Redis does not answer.
func (m *Monitor) Overview(ctx context.Context, f Filter) (*Overview, error) {
	const op = "jobs.Overview"
	if f.Limit <= 0 {
		f.Limit = DefaultLimit
	}
	queues, known, err := m.queueNames()
	if err != nil {
		return nil, err
	}
	if f.Queue != "" && !slices.Contains(queues, f.Queue) {
		return nil, errs.E(op, errs.NotFound, "queue %q does not exist (queues: %s)", f.Queue, strings.Join(queues, ", "))
	}
	cities, err := m.cities.List(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	slugs := make(map[tenant.ID]string, len(cities))
	var cityID tenant.ID
	for _, c := range cities {
		slugs[c.ID] = c.Slug
		if c.Slug == f.City {
			cityID = c.ID
		}
	}
	if f.City != "" && cityID == 0 {
		return nil, errs.E(op, errs.NotFound, "city %q not found", f.City)
	}

	o := &Overview{TakenAt: time.Now().UTC(), ByType: []TypeTally{}, ByCity: []CityTally{}, Latest: []FailedTask{}}
	var failed []FailedTask
	for _, q := range queues {
		if f.Queue != "" && q != f.Queue {
			continue
		}
		st := QueueStats{Queue: q} // a queue that never held a task has no figures
		if slices.Contains(known, q) {
			if st, err = m.queueStats(q); err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
		}
		o.Queues = append(o.Queues, st)
		for _, state := range []string{StateRetry, StateArchived} {
			if (state == StateRetry && st.Retry == 0) || (state == StateArchived && st.Archived == 0) {
				continue
			}
			tasks, truncated, err := m.scan(ctx, q, state)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", op, err)
			}
			o.Truncated = o.Truncated || truncated
			for _, ti := range tasks {
				ft := failedTask(ti, state, slugs)
				if f.City != "" && ft.TenantID != cityID {
					continue
				}
				failed = append(failed, ft)
			}
		}
	}

	byType, byCity := map[string]*TypeTally{}, map[tenant.ID]*CityTally{}
	for _, ft := range failed {
		tt := byType[ft.Type]
		if tt == nil {
			tt = &TypeTally{Type: ft.Type}
			byType[ft.Type] = tt
		}
		ct := byCity[ft.TenantID]
		if ct == nil {
			ct = &CityTally{City: ft.City, TenantID: ft.TenantID}
			byCity[ft.TenantID] = ct
		}
		o.Failed++
		tt.Total++
		ct.Total++
		if ft.State == StateRetry {
			o.Retry++
			tt.Retry++
			ct.Retry++
		} else {
			o.Archived++
			tt.Archived++
			ct.Archived++
		}
	}
	for _, tt := range byType {
		o.ByType = append(o.ByType, *tt)
	}
	sort.Slice(o.ByType, func(i, j int) bool {
		a, b := o.ByType[i], o.ByType[j]
		return a.Total > b.Total || (a.Total == b.Total && a.Type < b.Type)
	})
	for _, ct := range byCity {
		o.ByCity = append(o.ByCity, *ct)
	}
	sort.Slice(o.ByCity, func(i, j int) bool {
		a, b := o.ByCity[i], o.ByCity[j]
		return a.Total > b.Total || (a.Total == b.Total && a.TenantID < b.TenantID)
	})
	sort.SliceStable(failed, func(i, j int) bool { return failed[i].LastFailedAt.After(failed[j].LastFailedAt) })
	if len(failed) > f.Limit {
		failed = failed[:f.Limit]
	}
	o.Latest = append(o.Latest, failed...)
	return o, nil
}

// queueNames lists the queues: Agora's own (even before their first task),
// then any other queue Redis knows, by weight and then by name. known are
// the queues Redis knows.
func (m *Monitor) queueNames() (names, known []string, err error) {
	known, err = m.insp.Queues()
	if err != nil {
		return nil, nil, fmt.Errorf("jobs: list queues: %w", err)
	}
	names = slices.Clone(known)
	for q := range Queues {
		if !slices.Contains(names, q) {
			names = append(names, q)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		wi, wj := Queues[names[i]], Queues[names[j]]
		return wi > wj || (wi == wj && names[i] < names[j])
	})
	return names, known, nil
}

// queueStats reads the figures of a queue Redis knows.
func (m *Monitor) queueStats(q string) (QueueStats, error) {
	qi, err := m.insp.GetQueueInfo(q)
	if err != nil {
		return QueueStats{}, fmt.Errorf("queue %s: %w", q, err)
	}
	return QueueStats{
		Queue: q, Size: qi.Size, Pending: qi.Pending, Active: qi.Active, Scheduled: qi.Scheduled,
		Retry: qi.Retry, Archived: qi.Archived, ProcessedToday: qi.Processed, FailedToday: qi.Failed, Paused: qi.Paused,
	}, nil
}

// scan reads up to MaxScan tasks of queue q in state, page by page.
func (m *Monitor) scan(ctx context.Context, q, state string) ([]*asynq.TaskInfo, bool, error) {
	list := m.insp.ListRetryTasks
	if state == StateArchived {
		list = m.insp.ListArchivedTasks
	}
	var out []*asynq.TaskInfo
	for page := 1; len(out) < MaxScan; page++ {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		tasks, err := list(q, asynq.PageSize(scanPage), asynq.Page(page))
		if errors.Is(err, asynq.ErrQueueNotFound) {
			return out, false, nil
		}
		if err != nil {
			return nil, false, fmt.Errorf("list %s tasks of %s: %w", state, q, err)
		}
		out = append(out, tasks...)
		if len(tasks) < scanPage {
			return out, false, nil
		}
	}
	return out[:MaxScan], true, nil
}

func failedTask(ti *asynq.TaskInfo, state string, slugs map[tenant.ID]string) FailedTask {
	ft := FailedTask{
		ID: ti.ID, Queue: ti.Queue, Type: ti.Type, State: state, Error: ti.LastErr,
		LastFailedAt: ti.LastFailedAt, Retried: ti.Retried, MaxRetry: ti.MaxRetry,
	}
	var p Payload
	if json.Unmarshal(ti.Payload, &p) == nil && p.TenantID > 0 {
		ft.TenantID = p.TenantID
		ft.City = slugs[p.TenantID]
	}
	if state == StateRetry && !ti.NextProcessAt.IsZero() {
		next := ti.NextProcessAt
		ft.NextRetryAt = &next
	}
	return ft
}

// Retry moves a failed task (waiting to retry, or archived) back to pending,
// so a worker runs it at once. It returns not_found for an unknown queue or
// task and conflict for a task that has not failed.
func (m *Monitor) Retry(ctx context.Context, queue, id string) error {
	const op = "jobs.Retry"
	ti, err := m.task(op, queue, id)
	if err != nil {
		return err
	}
	if ti.State != asynq.TaskStateRetry && ti.State != asynq.TaskStateArchived {
		return errs.E(op, errs.Conflict, "task %s in queue %s is %s, not failed", id, queue, ti.State)
	}
	if err := m.insp.RunTask(queue, id); err != nil {
		return m.taskError(op, queue, id, err)
	}
	return nil
}

// RetryAllArchived moves every archived task of queue (of every queue when
// queue is "") back to pending and says how many per queue.
func (m *Monitor) RetryAllArchived(ctx context.Context, queue string) (map[string]int, error) {
	const op = "jobs.RetryAllArchived"
	known, err := m.insp.Queues()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	if queue != "" {
		if !slices.Contains(known, queue) {
			return nil, errs.E(op, errs.NotFound, "queue %q does not exist (queues: %s)", queue, strings.Join(known, ", "))
		}
		known = []string{queue}
	}
	out := map[string]int{}
	for _, q := range known {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		n, err := m.insp.RunAllArchivedTasks(q)
		if err != nil {
			return out, fmt.Errorf("%s: queue %s: %w", op, q, err)
		}
		out[q] = n
	}
	return out, nil
}

// Delete removes a task that is not running. It returns not_found for an
// unknown queue or task and conflict for a running task.
func (m *Monitor) Delete(ctx context.Context, queue, id string) error {
	const op = "jobs.Delete"
	ti, err := m.task(op, queue, id)
	if err != nil {
		return err
	}
	if ti.State == asynq.TaskStateActive {
		return errs.E(op, errs.Conflict, "task %s in queue %s is running; wait until it ends", id, queue)
	}
	if err := m.insp.DeleteTask(queue, id); err != nil {
		return m.taskError(op, queue, id, err)
	}
	return nil
}

func (m *Monitor) task(op, queue, id string) (*asynq.TaskInfo, error) {
	if queue == "" || id == "" {
		return nil, errs.E(op, errs.Invalid, "a queue and a task id are required")
	}
	ti, err := m.insp.GetTaskInfo(queue, id)
	if err != nil {
		return nil, m.taskError(op, queue, id, err)
	}
	return ti, nil
}

func (m *Monitor) taskError(op, queue, id string, err error) error {
	switch {
	case errors.Is(err, asynq.ErrQueueNotFound):
		return errs.E(op, errs.NotFound, "queue %q does not exist", queue)
	case errors.Is(err, asynq.ErrTaskNotFound):
		return errs.E(op, errs.NotFound, "task %s not found in queue %s", id, queue)
	}
	return fmt.Errorf("%s: %w", op, err)
}
