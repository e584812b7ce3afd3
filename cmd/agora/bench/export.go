package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"agora/domain/export"
	"agora/domain/permission"
	"agora/domain/user"
	"agora/tenant"
)

// ExportOptions size the export benchmark (agora bench export's flags).
type ExportOptions struct {
	Ideas  int    // ideas in the city
	Format string // xlsx or csv
	Runs   int    // builds to measure (the median is reported)
	Keep   bool   // keep the benchmark database afterwards (to EXPLAIN its queries)
}

// Validate reports, as a *UsageError, options the benchmark cannot run with.
func (o ExportOptions) Validate() error {
	switch {
	case o.Ideas < 1 || o.Runs < 1:
		return usagef("--ideas and --runs must be positive")
	case o.Format != string(export.XLSX) && o.Format != string(export.CSV):
		return usagef("--format must be xlsx or csv")
	}
	return nil
}

// exportMemoryTarget is the peak memory an export of 100,000 ideas must stay
// under.
const exportMemoryTarget = 150 << 20

// Export fills one city, in a database of its own, with o.Ideas ideas
// (bodies of a few hundred characters, topics, places) and builds their
// export o.Runs times the way the worker does (export.Service.Build), while
// sampling the Go heap every 5 ms and reading the process's peak resident
// memory (VmHWM, reset before each build where the kernel allows it).
func (r *Runner) Export(ctx context.Context, o ExportOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	env, closeEnv, err := r.open(ctx, o.Keep, tenant.PoolOptions{MaxConns: 4, ConnMaxLifetime: 30 * time.Minute})
	if err != nil {
		return err
	}
	defer closeEnv()
	cfg, db := env.cfg, env.db
	city, err := env.city(ctx, tenant.Spec{
		Slug: "exportbench", Name: "Export bench", Plan: tenant.PlanStandard, Lifecycle: tenant.Active,
		Locales: []string{"en", "fr"}, TimeZone: "Europe/Brussels"})
	if err != nil {
		return err
	}
	cctx := tenant.WithTenant(ctx, city)
	admin, err := user.NewService(db).Create(cctx, user.Registration{Email: "admin@exportbench.example.org",
		Password: "correct horse battery", FirstName: "Bench", LastName: "Admin"}, user.RoleAdmin)
	if err != nil {
		return err
	}

	began := time.Now()
	err = db.InTx(cctx, func(tx *tenant.Tx) error {
		var project int64
		if err := tx.GetContext(cctx, &project, `INSERT INTO projects (slug, title, status)
			VALUES ('big', '{"en":"A big consultation","fr":"Une grande consultation"}', 'published') RETURNING id`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(cctx, `INSERT INTO users (email, first_name, last_name, role)
			SELECT 'citizen' || g || '@exportbench.example.org', 'Citizen', 'Number ' || g, 'citizen' FROM generate_series(1, 2000) g`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(cctx, `INSERT INTO ideas (project_id, author_id, anonymous, title, body, body_text, status_id,
				likes_count, comments_count, location_name, location_lat, location_lng, created_at)
			SELECT $1, (SELECT min(id) FROM users) + g % 2000, g % 10 = 0,
				'Idea ' || g || ': more trees and benches along the river',
				'<p>' || repeat('We would like the city to plant trees, ' || g || ' of them. ', 8) || '</p>',
				repeat('We would like the city to plant trees, ' || g || ' of them. ', 8),
				(SELECT id FROM idea_statuses ORDER BY id LIMIT 1 OFFSET g % 6),
				g % 97, g % 13, CASE WHEN g % 3 = 0 THEN 'Rue de la Loi ' || g % 200 ELSE '' END,
				CASE WHEN g % 3 = 0 THEN 50.8 + (g % 100) / 1000.0 END, CASE WHEN g % 3 = 0 THEN 4.3 + (g % 100) / 1000.0 END,
				now() - g * interval '1 minute'
			FROM generate_series(1, $2::int) g`, project, o.Ideas); err != nil {
			return err
		}
		_, err := tx.ExecContext(cctx, `INSERT INTO idea_topics (idea_id, topic_id)
			SELECT i.id, t.id FROM ideas i JOIN LATERAL (SELECT id FROM topics ORDER BY id LIMIT 1 + i.id % 2 OFFSET i.id % 5) t ON true`)
		return err
	})
	if err == nil {
		// As autovacuum would soon after such an import: the planner needs
		// the tables' statistics to walk the keyset pages by index.
		err = db.InTx(cctx, func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(cctx, `ANALYZE users, ideas, idea_topics`)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(r.Out, "seeded %d ideas in %s\n", o.Ideas, time.Since(began).Round(time.Millisecond))

	storage, err := os.MkdirTemp("", "agora-bench-export-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(storage)
	svc := export.NewService(db, storage, export.NewSigner(cfg.SecretKey))
	actor := permission.Actor{UserID: int64(admin.ID), Role: "admin"}

	type result struct {
		secs          float64
		heapPeak, hwm uint64
		size          int64
	}
	var results []result
	for run := 1; run <= o.Runs; run++ {
		e, err := svc.Request(cctx, actor, export.Ideas, export.Format(o.Format), export.Filters{})
		if err != nil {
			return err
		}
		m, err := measure(func() error { return svc.Build(cctx, e.ID) })
		secs := m.secs
		if err != nil {
			return fmt.Errorf("build: %w", err)
		}
		done, err := svc.Get(cctx, actor, e.ID)
		if err != nil {
			return err
		}
		if done.Status != export.Done || done.RowsDone != int64(o.Ideas) {
			return fmt.Errorf("export %d: status %s, %d rows of %d", e.ID, done.Status, done.RowsDone, o.Ideas)
		}
		res := result{secs: secs, heapPeak: m.heapPeak, hwm: peakRSS(), size: done.SizeBytes}
		results = append(results, res)
		fmt.Fprintf(r.Out, "run %d: %d ideas as %s in %.2f s (%.0f rows/s), file %.1f MB, Go heap in use at peak %.1f MB (%.1f MB before), process peak RSS %s\n",
			run, o.Ideas, o.Format, secs, float64(o.Ideas)/secs, float64(res.size)/(1<<20), mb(res.heapPeak), mb(m.heapBase), rss(res.hwm))
	}
	slices.SortFunc(results, func(a, b result) int {
		switch {
		case a.secs < b.secs:
			return -1
		case a.secs > b.secs:
			return 1
		}
		return 0
	})
	med := results[len(results)/2]
	var maxHeap, maxRSS uint64
	for _, res := range results {
		maxHeap, maxRSS = max(maxHeap, res.heapPeak), max(maxRSS, res.hwm)
	}
	verdict := "within"
	if maxRSS > exportMemoryTarget || (maxRSS == 0 && maxHeap > exportMemoryTarget) {
		verdict = "OVER"
	}
	fmt.Fprintf(r.Out, "\nexport of %d ideas as %s, median of %d: %.2f s; peak Go heap in use %.1f MB; peak process RSS %s (%s the %d MB target)\n",
		o.Ideas, o.Format, len(results), med.secs, mb(maxHeap), rss(maxRSS), verdict, exportMemoryTarget>>20)
	return nil
}
