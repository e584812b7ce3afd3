package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"

	"agora/domain/email/devsmtp"
	"agora/tenant"
)

// demoCities are the cities agora dev makes sure exist.
var demoCities = []tenant.Spec{
	{Slug: "gent", Name: "Stad Gent", Plan: tenant.PlanStandard, Lifecycle: tenant.Active,
		Locales: []string{"nl", "fr", "en"}, TimeZone: "Europe/Brussels", Country: "BE", AdminEmail: "admin@gent.localhost"},
	{Slug: "lyon", Name: "Ville de Lyon", Plan: tenant.PlanPremium, Lifecycle: tenant.Active,
		Locales: []string{"fr", "en"}, TimeZone: "Europe/Paris", Country: "FR", AdminEmail: "admin@lyon.localhost"},
}

func devCmd() *command {
	return &command{
		name:    "dev",
		args:    "",
		summary: "Local development: migrate, ensure two demo cities, run web and worker in one process.",
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return withApp(ctx, func(a *app) error {
				if err := migrateAll(ctx, a, a.mig, defaultJobs(), os.Stdout, os.Stderr); err != nil {
					return err
				}
				for _, s := range demoCities {
					_, err := a.prov.Create(ctx, s)
					switch {
					case err == nil:
						fmt.Printf("created demo city %s\n", s.Slug)
					case errors.Is(err, tenant.ErrSlugTaken):
					default:
						return fmt.Errorf("demo city %s: %w", s.Slug, err)
					}
				}
				ts, err := a.reg.List(ctx)
				if err != nil {
					return err
				}
				fmt.Println("\nAgora is running. Open:")
				for _, t := range ts {
					fmt.Printf("  %-22s %s\n", t.Name, portalURL(a, t.DefaultHost))
				}
				mail, err := devsmtp.Start("127.0.0.1:0", 0)
				if err != nil {
					return fmt.Errorf("start mail capture: %w", err)
				}
				defer mail.Close()
				fmt.Printf("  %-22s %s\n", "Operator console", portalURL(a, a.cfg.PlatformHost))
				fmt.Printf("  %-22s %s/dev/mail\n", "Captured mail", portalURL(a, a.cfg.PlatformHost))
				fmt.Println("\nPress Ctrl+C to stop.")
				return runProcesses(ctx, a, processes{web: true, worker: true, devMail: mail})
			})
		},
	}
}
