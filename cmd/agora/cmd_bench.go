package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"time"

	"agora/cmd/agora/bench"
	"agora/config"
)

func benchCmd() *command {
	return &command{
		name:    "bench",
		summary: "Benchmarks that print figures (no pass/fail).",
		subs:    []*command{benchTenantsCmd(), benchAuthCmd(), benchPortalCmd(), benchExportCmd(), benchDigestCmd()},
	}
}

// runBench checks a benchmark's options, then loads the configuration and
// runs it with the report on stdout and progress on stderr. Options it cannot
// run with are usage errors.
func runBench(validate func() error, run func(*bench.Runner) error) error {
	if err := validate(); err != nil {
		return asUsage(err)
	}
	cfg, err := config.Load(nil)
	if err != nil {
		return err
	}
	return asUsage(run(&bench.Runner{Config: cfg, Out: os.Stdout, Progress: os.Stderr, ProgressBar: isTerminal(os.Stderr)}))
}

// asUsage turns a benchmark's *bench.UsageError into the CLI's usage error.
func asUsage(err error) error {
	if ue, ok := errors.AsType[*bench.UsageError](err); ok {
		return usageError{ue.Error()}
	}
	return err
}

func benchTenantsCmd() *command {
	var o bench.TenantsOptions
	return &command{
		name:    "tenants",
		args:    "[--cities N] [--jobs N] [--duration D] [--clients N]",
		summary: "City creation, migration of all cities, and city-scoped reads with 1 vs N cities.",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&o.Cities, "cities", 1000, "cities to create")
			fs.IntVar(&o.Jobs, "jobs", defaultJobs(), "cities migrated in parallel (agora migrate's default)")
			fs.DurationVar(&o.Duration, "duration", 5*time.Second, "measured time of each read phase in each round")
			fs.IntVar(&o.Rounds, "rounds", 3, "rounds of read phases; each phase reports its median round")
			fs.IntVar(&o.Clients, "clients", 32, "concurrent HTTP clients in read phases")
			fs.IntVar(&o.Conns, "conns", 8, "web server's PostgreSQL pool size in read phases")
			fs.BoolVar(&o.Keep, "keep", false, "keep the benchmark database afterwards")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return runBench(o.Validate, func(r *bench.Runner) error { return r.Tenants(ctx, o) })
		},
	}
}

func benchAuthCmd() *command {
	var o bench.AuthOptions
	return &command{
		name:    "auth",
		args:    "[--users N] [--duration D] [--clients N]",
		summary: "Login throughput and latency (argon2id), and an authenticated city read vs the anonymous one.",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&o.Users, "users", 40, "accounts to log in with")
			fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time of each phase")
			fs.IntVar(&o.Clients, "clients", 8, "concurrent clients for logins (reads use 4x)")
			fs.IntVar(&o.Conns, "conns", 8, "web server's PostgreSQL pool size")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return runBench(o.Validate, func(r *bench.Runner) error { return r.Auth(ctx, o) })
		},
	}
}

func benchPortalCmd() *command {
	var o bench.PortalOptions
	return &command{
		name:    "portal",
		args:    "[--ideas N] [--comments N] [--reactions N] [--clients N] [--cities N] [--duration D] [--cpuprofile FILE]",
		summary: "A city's busy portal: idea list (trending, topic), idea page (anonymous and logged in), reactions, home and project pages, and the list over many cities, against a constant-JSON ceiling.",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&o.Ideas, "ideas", 10000, "ideas in the city's project")
			fs.IntVar(&o.Comments, "comments", 50000, "comments on them (30% are replies)")
			fs.IntVar(&o.Reactions, "reactions", 50000, "likes and dislikes on them (one per citizen and idea)")
			fs.IntVar(&o.Users, "users", 2000, "citizens who post, comment and react")
			fs.IntVar(&o.Clients, "clients", 50, "concurrent HTTP clients, each on its own keep-alive connection")
			fs.IntVar(&o.Cities, "cities", 100, "small cities (200 ideas each) the list line picks from at random per request")
			fs.IntVar(&o.Conns, "conns", 16, "web server's PostgreSQL pool size (agora serve: AGORA_DB_MAX_CONNS, 16 by default)")
			fs.DurationVar(&o.Duration, "duration", 10*time.Second, "measured time of each request kind")
			fs.BoolVar(&o.Keep, "keep", false, "keep the benchmark database afterwards (to EXPLAIN its queries)")
			fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile of the measured requests to this file (go tool pprof FILE)")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return runBench(o.Validate, func(r *bench.Runner) error { return r.Portal(ctx, o) })
		},
	}
}

func benchExportCmd() *command {
	var o bench.ExportOptions
	return &command{
		name:    "export",
		args:    "[--ideas N] [--format xlsx|csv] [--runs N]",
		summary: "Build a staff export of a city's ideas: seconds and peak memory (target < 150 MB).",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&o.Ideas, "ideas", 100_000, "ideas in the city")
			fs.StringVar(&o.Format, "format", "xlsx", "xlsx or csv")
			fs.IntVar(&o.Runs, "runs", 3, "builds to measure (the median is reported)")
			fs.BoolVar(&o.Keep, "keep", false, "keep the benchmark database afterwards (to EXPLAIN its queries)")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return runBench(o.Validate, func(r *bench.Runner) error { return r.Export(ctx, o) })
		},
	}
}

func benchDigestCmd() *command {
	var o bench.DigestOptions
	return &command{
		name:    "digest",
		args:    "[--users N] [--parallel N] [--page N]",
		summary: "Send one city's weekly user digest to N users through the in-process SMTP server: emails/s and peak memory.",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&o.Users, "users", 20_000, "users in the city, all following the project with news")
			fs.IntVar(&o.Parallel, "parallel", 4, "emails in flight at once")
			fs.IntVar(&o.Page, "page", 500, "recipients per keyset page")
			fs.BoolVar(&o.Keep, "keep", false, "keep the benchmark database afterwards")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return runBench(o.Validate, func(r *bench.Runner) error { return r.Digest(ctx, o) })
		},
	}
}
