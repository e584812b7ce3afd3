package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"

	"agora/domain/feature"
	"agora/tenant"
)

func migrateCmd() *command {
	var jobs int
	return &command{
		name:    "migrate",
		args:    "[status|check] [--jobs N]",
		summary: "Apply platform migrations, then every city's (one transaction per city; re-running resumes).",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&jobs, "jobs", defaultJobs(), "cities migrated in parallel")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if fs.NArg() > 0 {
				return usagef("unknown argument %q", fs.Arg(0))
			}
			if jobs < 1 || jobs > 64 {
				return usagef("--jobs must be between 1 and 64")
			}
			a, err := open(ctx)
			if err != nil {
				return err
			}
			defer a.close()
			return migrateAll(ctx, a, a.mig, jobs, os.Stdout, os.Stderr)
		},
		subs: []*command{migrateStatusCmd(), migrateCheckCmd()},
	}
}

// defaultJobs is how many cities migrate at once: PostgreSQL DDL is mostly
// catalog work, so a little more than the core count keeps the server busy.
func defaultJobs() int { return max(2, runtime.NumCPU()*2) }

// migrateAll runs platform then city migrations, with a progress bar on a
// terminal and plain lines otherwise, and fails when any city failed.
func migrateAll(ctx context.Context, a *app, m *tenant.Migrator, jobs int, stdout, stderr io.Writer) error {
	began := time.Now()
	applied, err := tenant.MigratePlatform(ctx, a.db.Platform())
	if err != nil {
		return err
	}
	if len(applied) > 0 {
		fmt.Fprintf(stdout, "platform: applied %s\n", versions(applied))
	} else {
		fmt.Fprintln(stdout, "platform: up to date")
	}
	// The platform's plan table is written from this release's tiers.
	if changed, err := feature.SyncPlans(ctx, a.db.Platform()); err != nil {
		return err
	} else if changed {
		fmt.Fprintln(stdout, "platform: plan features updated")
	}
	var bar *progressbar.ProgressBar
	tty := isTerminal(stderr)
	start := func(total int) {
		if total == 0 {
			return
		}
		if tty {
			bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr),
				progressbar.OptionSetDescription("migrating cities"), progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true), progressbar.OptionClearOnFinish())
		} else {
			fmt.Fprintf(stdout, "cities: %d to migrate with %d jobs\n", total, jobs)
		}
	}
	done := func(r tenant.CityResult) {
		if bar != nil {
			_ = bar.Add(1)
			return
		}
		if r.Err != nil {
			fmt.Fprintf(stdout, "city %s: FAILED: %v\n", r.Tenant.Slug, r.Err)
		} else {
			fmt.Fprintf(stdout, "city %s: applied %s (%s)\n", r.Tenant.Slug, versions(r.Applied), r.Duration.Round(time.Millisecond))
		}
	}
	sum, err := m.Cities(ctx, jobs, start, done)
	if bar != nil {
		_ = bar.Finish()
	}
	fmt.Fprintf(stdout, "cities: %d total, %d migrated, %d up to date, %d failed, %d not attempted (%s)\n",
		sum.Cities, sum.Migrated, sum.UpToDate, len(sum.Failed), sum.Skipped, time.Since(began).Round(time.Millisecond))
	for _, f := range sum.Failed {
		fmt.Fprintf(stdout, "  FAILED %s: %v\n", f.Tenant.Slug, f.Err)
	}
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted; run 'agora migrate' again to resume")
	}
	if err != nil {
		return err
	}
	if len(sum.Failed) > 0 {
		return fmt.Errorf("%d of %d cities failed to migrate", len(sum.Failed), sum.Cities)
	}
	return nil
}

func versions(vs []int) string {
	if len(vs) == 0 {
		return "nothing"
	}
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprintf("%04d", v)
	}
	return strings.Join(parts, ", ")
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func migrateStatusCmd() *command {
	var pendingOnly bool
	return &command{
		name:    "status",
		args:    "[--pending]",
		summary: "List every city's applied and pending city migrations.",
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&pendingOnly, "pending", false, "only list cities with pending migrations")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			a, err := open(ctx)
			if err != nil {
				return err
			}
			defer a.close()
			sts, err := a.mig.Status(ctx)
			if err != nil {
				return err
			}
			latest := a.mig.CitySet().Latest()
			w := newTable(os.Stdout, "CITY", "SHARD", "VERSION", "PENDING", "STATE")
			behind := 0
			for _, st := range sts {
				cur := 0
				if n := len(st.Applied); n > 0 {
					cur = st.Applied[n-1]
				}
				state := "up to date"
				switch {
				case st.Err != nil:
					state, behind = "ERROR: "+st.Err.Error(), behind+1
				case len(st.Pending) > 0:
					state, behind = "pending", behind+1
				}
				if pendingOnly && state == "up to date" {
					continue
				}
				w.row(st.Tenant.Slug, st.Tenant.Shard, fmt.Sprintf("%04d", cur), versions(st.Pending), state)
			}
			w.flush()
			fmt.Printf("\n%d cities, %d behind; latest city migration %04d\n", len(sts), behind, latest)
			return nil
		},
	}
}

func migrateCheckCmd() *command {
	return &command{
		name:    "check",
		args:    "",
		summary: "Compare every city's schema with a freshly migrated reference and report drift (exit 1 on drift).",
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			a, err := open(ctx)
			if err != nil {
				return err
			}
			defer a.close()
			drifts, err := a.mig.Check(ctx)
			if err != nil {
				return err
			}
			for _, d := range drifts {
				fmt.Printf("city %s:\n", d.Tenant.Slug)
				if d.Err != nil {
					fmt.Printf("  error: %v\n", d.Err)
				}
				for _, m := range d.Missing {
					fmt.Printf("  missing: %s\n", m)
				}
				for _, x := range d.Extra {
					fmt.Printf("  extra:   %s\n", x)
				}
			}
			if len(drifts) > 0 {
				return fmt.Errorf("%d cities drift from the reference schema", len(drifts))
			}
			fmt.Println("no drift: every city matches the reference schema")
			return nil
		},
	}
}
