package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hibiken/asynq"

	"agora/domain/digest"
	"agora/domain/email"
	"agora/domain/email/devsmtp"
	"agora/jobs"
	"agora/tenant"
)

// DigestOptions size the digest benchmark (agora bench digest's flags).
type DigestOptions struct {
	Users    int  // users in the city, all following the project with news
	Parallel int  // emails in flight at once
	Page     int  // recipients per keyset page
	Keep     bool // keep the benchmark database afterwards
}

// Validate reports, as a *UsageError, options the benchmark cannot run with.
func (o DigestOptions) Validate() error {
	if o.Users < 1 || o.Parallel < 1 || o.Page < 1 {
		return usagef("--users, --parallel and --page must be positive")
	}
	return nil
}

// countingSender counts the emails the SMTP server accepted.
type countingSender struct {
	next email.Sender
	n    atomic.Int64
}

func (s *countingSender) Send(ctx context.Context, m email.Message) error {
	if err := s.next.Send(ctx, m); err != nil {
		return err
	}
	s.n.Add(1)
	return nil
}

// Digest fills one city, in a database of its own, with o.Users
// confirmed users who follow a project with a busy week, then runs its user
// digest the way the worker does (the tenant middleware, then the digest
// handler: keyset pages, a ledger claim per email, SMTP to an in-process
// server), sampling the Go heap every 5 ms and reading the process's peak
// resident memory. A second run of the same task measures a re-run, which
// must send nothing.
func (r *Runner) Digest(ctx context.Context, o DigestOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	env, closeEnv, err := r.open(ctx, o.Keep, tenant.PoolOptions{MaxConns: 8, ConnMaxLifetime: 30 * time.Minute})
	if err != nil {
		return err
	}
	defer closeEnv()
	cfg, db, reg := env.cfg, env.db, env.reg
	city, err := env.city(ctx, tenant.Spec{
		Slug: "digestbench", Name: "Digest bench", Plan: tenant.PlanStandard, Lifecycle: tenant.Active,
		Locales: []string{"en", "fr", "nl"}, TimeZone: "Europe/Brussels"})
	if err != nil {
		return err
	}
	cctx := tenant.WithTenant(ctx, city)

	began := time.Now()
	// Users go in by thousands: each distinct name takes an advisory lock
	// (handles) until its transaction ends.
	for from := 1; from <= o.Users && err == nil; from += 1000 {
		err = db.InTx(cctx, func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(cctx, `INSERT INTO users (email, first_name, last_name, locale, role, email_confirmed_at, created_at)
				SELECT 'citizen' || g || '@digestbench.example.org', 'Citizen', 'Number ' || g, (ARRAY['en', 'fr', 'nl'])[1 + g % 3],
				       'citizen', now() - interval '30 days', now() - interval '30 days'
				  FROM generate_series($1::int, $2::int) g`, from, min(from+999, o.Users))
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("seed users: %w", err)
	}
	err = db.InTx(cctx, func(tx *tenant.Tx) error {
		var project int64
		if err := tx.GetContext(cctx, &project, `INSERT INTO projects (slug, title, status, visibility, published_at)
			VALUES ('riverside', '{"en":"The riverside","fr":"Les quais","nl":"De kaaien"}', 'published', 'public', now()) RETURNING id`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(cctx, `INSERT INTO phases (project_id, title, method, starts_at)
			VALUES ($1, '{"en":"Share your ideas","fr":"Partagez vos idées","nl":"Deel je ideeën"}', 'ideation', now() - interval '2 days')`, project); err != nil {
			return err
		}
		if _, err := tx.ExecContext(cctx, `INSERT INTO follows (user_id, item_type, item_id) SELECT id, 'project', $1 FROM users`, project); err != nil {
			return err
		}
		if _, err := tx.ExecContext(cctx, `INSERT INTO ideas (project_id, author_id, title, status_id, created_at)
			SELECT $1, (SELECT min(id) FROM users) + g % (SELECT count(*) FROM users), 'Idea ' || g || ': more trees and benches along the river',
			       (SELECT id FROM idea_statuses WHERE code = 'proposed'), now() - (g % 6 + 1) * interval '1 day'
			  FROM generate_series(1, 50) g`, project); err != nil {
			return err
		}
		// A busy week: likes and comments spread over the ideas.
		if _, err := tx.ExecContext(cctx, `INSERT INTO reactions (user_id, item_type, item_id, mode, created_at)
			SELECT u.id, 'idea', i.id, 'like', now() - interval '1 day'
			  FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM users) u
			  JOIN (SELECT id, row_number() OVER (ORDER BY id) AS n FROM ideas) i ON u.n % 50 = i.n % 50 AND u.n % 7 = 0`); err != nil {
			return err
		}
		if _, err := tx.ExecContext(cctx, `INSERT INTO comments (idea_id, author_id, body, created_at)
			SELECT i.id, (SELECT min(id) FROM users) + g % (SELECT count(*) FROM users), '<p>Good idea!</p>', now() - interval '1 day'
			  FROM ideas i, generate_series(1, 20) g WHERE i.id % 3 = 0`); err != nil {
			return err
		}
		_, err := tx.ExecContext(cctx, `UPDATE ideas i SET likes_count = (SELECT count(*) FROM reactions r WHERE r.item_type = 'idea' AND r.item_id = i.id),
			comments_count = (SELECT count(*) FROM comments c WHERE c.idea_id = i.id)`)
		return err
	})
	if err == nil {
		err = db.InTx(cctx, func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(cctx, `ANALYZE users, follows, ideas, reactions, comments, email_deliveries, email_consents`)
			return err
		})
	}
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(r.Out, "seeded %d users following a project with 50 active ideas in %s\n", o.Users, time.Since(began).Round(time.Millisecond))

	// The capture server keeps only the last 100 messages: the figures are
	// the digest's, not the capture's.
	srv, err := devsmtp.Start("127.0.0.1:0", 100)
	if err != nil {
		return err
	}
	defer srv.Close()
	smtp, err := email.NewSMTP(srv.URL())
	if err != nil {
		return err
	}
	sender := &countingSender{next: smtp}
	d, err := jobs.NewDigests(jobs.WorkerDeps{DB: db, Registry: reg, Sender: sender, SecretKey: cfg.SecretKey, Log: quiet,
		PortalURL: func(host string) string { return "https://" + host }})
	if err != nil {
		return err
	}
	d.Parallel, d.PageSize = o.Parallel, o.Page
	handler := jobs.TenantMiddleware(reg, quiet)(asynq.HandlerFunc(d.Send))
	now := time.Now()
	task, err := jobs.NewDigestTask(city.ID, digest.User, digest.Period{Key: "bench", From: now.AddDate(0, 0, -7), To: now})
	if err != nil {
		return err
	}

	for run := 1; run <= 2; run++ {
		before := sender.n.Load()
		m, err := measure(func() error { return handler.ProcessTask(ctx, task) })
		secs := m.secs
		if err != nil {
			return fmt.Errorf("run %d: %w", run, err)
		}
		sent := sender.n.Load() - before
		switch run {
		case 1:
			var ledger int
			if err := db.InReadTx(cctx, func(tx *tenant.Tx) error {
				return tx.GetContext(cctx, &ledger, `SELECT count(*) FROM email_deliveries WHERE event = 'digest:user:bench' AND state = 'sent'`)
			}); err != nil {
				return err
			}
			if int(sent) != o.Users || ledger != o.Users {
				return fmt.Errorf("sent %d digests (ledger: %d) to %d users", sent, ledger, o.Users)
			}
			fmt.Fprintf(r.Out, "digest: %d emails in %.2f s = %.0f emails/s (%d in flight, pages of %d); Go heap in use at peak %.1f MB (%.1f MB before); process peak RSS %s\n",
				sent, secs, float64(sent)/secs, o.Parallel, o.Page, mb(m.heapPeak), mb(m.heapBase), rss(peakRSS()))
		case 2:
			if sent != 0 {
				return fmt.Errorf("the re-run sent %d digests again", sent)
			}
			fmt.Fprintf(r.Out, "re-run of the same task: 0 emails sent, %.2f s\n", secs)
		}
	}
	return nil
}
