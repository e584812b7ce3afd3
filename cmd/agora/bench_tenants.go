package main

import (
	"context"
	"errors"
	"flag"
)

type benchTenantsOptions struct{ cities int }

func (o *benchTenantsOptions) flags(fs *flag.FlagSet) { fs.IntVar(&o.cities, "cities", 1000, "") }

func runBenchTenants(ctx context.Context, o benchTenantsOptions) error { return errors.New("todo") }
