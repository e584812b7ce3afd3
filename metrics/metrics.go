// Package metrics is what an operator watches Agora by: Prometheus metrics
// (request durations by route, the database pools, the outbox, the job
// queues, emails sent and failed) and pprof, served on an internal listener
// (AGORA_METRICS_ADDR), never on a city's or the platform's host. Labels
// are of bounded cardinality: route patterns, status classes, shards,
// queues, campaign types; no city is a label.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/jmoiron/sqlx"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"agora/domain/email"
	"agora/tenant"
)

// Registry holds one process's metrics. The zero of a *Registry (nil) is
// usable: every method does nothing, so code records unconditionally.
type Registry struct {
	reg          *prometheus.Registry
	requests     *prometheus.HistogramVec
	emailsSent   *prometheus.CounterVec
	emailsFailed *prometheus.CounterVec
}

// New returns a registry with the Go runtime, process and build
// information collectors, and Agora's own metrics.
func New() *Registry {
	r := &Registry{reg: prometheus.NewRegistry()}
	r.requests = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "agora_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by route pattern, method and status class.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
	}, []string{"route", "method", "status"})
	r.emailsSent = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agora_emails_sent_total",
		Help: "Emails the SMTP server accepted, by campaign type (confirm, reset, user_digest, manual, ...).",
	}, []string{"campaign"})
	r.emailsFailed = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "agora_emails_failed_total",
		Help: "Emails the SMTP server refused or that could not be sent, by campaign type (each is retried).",
	}, []string{"campaign"})
	version := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "agora_build_info", Help: "Always 1; its labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": version},
	})
	build.Set(1)
	r.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(), build, r.requests, r.emailsSent, r.emailsFailed)
	return r
}

// ObserveRequest records one answered request. route is the matched route
// pattern ("" when none matched: recorded as "unmatched").
func (r *Registry) ObserveRequest(route, method string, status int, d time.Duration) {
	if r == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	r.requests.WithLabelValues(route, method, strconv.Itoa(status/100)+"xx").Observe(d.Seconds())
}

// EmailSent records an email of campaign the SMTP server accepted; failed
// one it did not.
func (r *Registry) EmailSent(campaign string, ok bool) {
	if r == nil {
		return
	}
	if ok {
		r.emailsSent.WithLabelValues(campaign).Inc()
	} else {
		r.emailsFailed.WithLabelValues(campaign).Inc()
	}
}

// Count wraps s so that every email it sends is counted, by the message's
// campaign type, as sent (the SMTP server accepted it) or failed.
func (r *Registry) Count(s email.Sender) email.Sender {
	if r == nil {
		return s
	}
	return countingSender{s, r}
}

type countingSender struct {
	email.Sender
	r *Registry
}

func (c countingSender) Send(ctx context.Context, m email.Message) error {
	err := c.Sender.Send(ctx, m)
	c.r.EmailSent(m.Campaign, err == nil)
	return err
}

// WatchPools reports the connection pools of every shard of db at each
// scrape.
func (r *Registry) WatchPools(db *tenant.DB) {
	if r == nil {
		return
	}
	r.reg.MustRegister(&poolCollector{db: db})
}

// WatchOutbox reports, at each scrape, the outbox's backlog (rows not yet
// enqueued, and rows enqueued whose task has not run for good) and the age
// of its oldest row, read from the platform database.
func (r *Registry) WatchOutbox(platform *sqlx.DB) {
	if r == nil {
		return
	}
	r.reg.MustRegister(&outboxCollector{db: platform})
}

// WatchQueues reports the size of each job queue by task state, read from
// Redis at each scrape.
func (r *Registry) WatchQueues(insp *asynq.Inspector) {
	if r == nil || insp == nil {
		return
	}
	r.reg.MustRegister(&queueCollector{insp: insp})
}

// Handler serves /metrics and pprof's /debug/pprof/.
func (r *Registry) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(r.reg, promhttp.HandlerOpts{Registry: r.reg}))
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}

// Serve serves Handler on addr until ctx ends.
func (r *Registry) Serve(ctx context.Context, addr string, log *slog.Logger) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics listener %s: %w", addr, err)
	}
	srv := &http.Server{Handler: r.Handler(), ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("metrics and pprof listening", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

var (
	poolOpen = prometheus.NewDesc("agora_db_connections", "Connections of a PostgreSQL pool, by shard and state (in_use, idle).",
		[]string{"shard", "state"}, nil)
	poolMax = prometheus.NewDesc("agora_db_connections_max", "The most connections a PostgreSQL pool opens, by shard.",
		[]string{"shard"}, nil)
	poolWaits = prometheus.NewDesc("agora_db_waits_total", "Times a caller waited for a connection of a pool, by shard.",
		[]string{"shard"}, nil)
	poolWaited = prometheus.NewDesc("agora_db_wait_seconds_total", "Time callers waited for connections of a pool, by shard.",
		[]string{"shard"}, nil)
)

type poolCollector struct{ db *tenant.DB }

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- poolOpen
	ch <- poolMax
	ch <- poolWaits
	ch <- poolWaited
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for _, name := range c.db.ShardNames() {
		pool, err := c.db.Shard(name)
		if err != nil {
			continue
		}
		st := pool.Stats()
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(st.InUse), name, "in_use")
		ch <- prometheus.MustNewConstMetric(poolOpen, prometheus.GaugeValue, float64(st.Idle), name, "idle")
		ch <- prometheus.MustNewConstMetric(poolMax, prometheus.GaugeValue, float64(st.MaxOpenConnections), name)
		ch <- prometheus.MustNewConstMetric(poolWaits, prometheus.CounterValue, float64(st.WaitCount), name)
		ch <- prometheus.MustNewConstMetric(poolWaited, prometheus.CounterValue, st.WaitDuration.Seconds(), name)
	}
}

var (
	outboxRows = prometheus.NewDesc("agora_outbox_rows", "Rows of the outbox, by state (waiting: not in Redis yet; enqueued: in Redis, not run for good).",
		[]string{"state"}, nil)
	outboxAge = prometheus.NewDesc("agora_outbox_oldest_age_seconds", "Age of the oldest row of the outbox (0 when empty).", nil, nil)
	outboxErr = prometheus.NewDesc("agora_outbox_scrape_error", "1 when the outbox could not be read at the last scrape.", nil, nil)
)

type outboxCollector struct{ db *sqlx.DB }

func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- outboxRows
	ch <- outboxAge
	ch <- outboxErr
}

func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var row struct {
		Waiting  int64   `db:"waiting"`
		Enqueued int64   `db:"enqueued"`
		Age      float64 `db:"age"`
	}
	err := c.db.GetContext(ctx, &row, `SELECT count(*) FILTER (WHERE enqueued_at IS NULL) AS waiting,
		count(*) FILTER (WHERE enqueued_at IS NOT NULL) AS enqueued,
		coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age FROM platform.outbox`)
	failed := 0.0
	if err != nil {
		failed = 1
	} else {
		ch <- prometheus.MustNewConstMetric(outboxRows, prometheus.GaugeValue, float64(row.Waiting), "waiting")
		ch <- prometheus.MustNewConstMetric(outboxRows, prometheus.GaugeValue, float64(row.Enqueued), "enqueued")
		ch <- prometheus.MustNewConstMetric(outboxAge, prometheus.GaugeValue, row.Age)
	}
	ch <- prometheus.MustNewConstMetric(outboxErr, prometheus.GaugeValue, failed)
}

var (
	queueTasks = prometheus.NewDesc("agora_queue_tasks", "Tasks of a job queue, by queue and state.", []string{"queue", "state"}, nil)
	queueErr   = prometheus.NewDesc("agora_queue_scrape_error", "1 when the job queues could not be read at the last scrape.", nil, nil)
)

type queueCollector struct{ insp *asynq.Inspector }

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- queueTasks
	ch <- queueErr
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	queues, err := c.insp.Queues()
	failed := 0.0
	if err != nil {
		failed = 1
	}
	for _, q := range queues {
		info, err := c.insp.GetQueueInfo(q)
		if err != nil {
			failed = 1
			continue
		}
		for state, n := range map[string]int{"pending": info.Pending, "active": info.Active, "scheduled": info.Scheduled,
			"retry": info.Retry, "archived": info.Archived, "completed": info.Completed} {
			ch <- prometheus.MustNewConstMetric(queueTasks, prometheus.GaugeValue, float64(n), q, state)
		}
	}
	ch <- prometheus.MustNewConstMetric(queueErr, prometheus.GaugeValue, failed)
}
