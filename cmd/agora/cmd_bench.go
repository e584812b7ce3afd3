package main

import (
	"context"
	"flag"
)

func benchCmd() *command {
	return &command{
		name:    "bench",
		summary: "Benchmarks that print figures (no pass/fail).",
		subs:    []*command{benchTenantsCmd(), benchAuthCmd(), benchPortalCmd(), benchExportCmd(), benchDigestCmd()},
	}
}

func benchTenantsCmd() *command {
	var o benchTenantsOptions
	return &command{
		name:    "tenants",
		args:    "[--cities N] [--jobs N] [--duration D] [--clients N]",
		summary: "City creation, migration of all cities, and city-scoped reads with 1 vs N cities.",
		flags:   o.flags,
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return runBenchTenants(ctx, o)
		},
	}
}
