package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"agora/domain/email/devsmtp"
	"agora/domain/locale"
	"agora/domain/project"
	"agora/tenant"
)

// demoCities are the cities agora dev makes sure exist. They invite no
// first admin: the README creates admin@gent.localhost and
// admin@lyon.localhost with `agora user create` (an invitation would be
// emailed to the in-process mail capture, lost on the next run, and hold a
// seat for an account that already exists).
var demoCities = []tenant.Spec{
	{Slug: "gent", Name: "Stad Gent", Plan: tenant.PlanStandard, Lifecycle: tenant.Active,
		Locales: []string{"nl", "fr", "en"}, TimeZone: "Europe/Brussels", Country: "BE"},
	{Slug: "lyon", Name: "Ville de Lyon", Plan: tenant.PlanPremium, Lifecycle: tenant.Active,
		Locales: []string{"fr", "en"}, TimeZone: "Europe/Paris", Country: "FR"},
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
					created, err := a.prov.Create(ctx, s)
					switch {
					case err == nil:
						if err := demoProject(ctx, a, created.Tenant); err != nil {
							return fmt.Errorf("demo project of %s: %w", s.Slug, err)
						}
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
					fmt.Printf("  %-22s %s/admin\n", "  its back office", portalURL(a, t.DefaultHost))
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

// demoProject gives a new demo city a published project whose timeline runs
// around today: ideas now, the city's choice next, then an open-ended
// follow-up. Its phases use only methods Agora offers (project.Offered).
func demoProject(ctx context.Context, a *app, t *tenant.Tenant) error {
	ctx = tenant.WithTenant(ctx, t)
	svc := project.NewService(a.db)
	p, err := svc.Create(ctx, 0, project.Project{
		Slug: "new-park", Status: project.Published, Topics: []int64{2},
		Title: locale.Text{"en": "A new neighbourhood park", "nl": "Een nieuw buurtpark", "fr": "Un nouveau parc de quartier"},
		Description: locale.Text{
			"en": "The city is turning the old depot into a park. What should it offer? Share your ideas; the city then chooses what to build.",
			"nl": "De stad maakt van het oude depot een park. Wat moet het bieden? Deel je ideeën; daarna kiest de stad wat er komt.",
			"fr": "La ville transforme l'ancien dépôt en parc. Que doit-il offrir ? Partagez vos idées ; la ville choisira ensuite ce qui sera construit.",
		},
	})
	if err != nil {
		return err
	}
	day := 24 * time.Hour
	start := time.Now().Truncate(day).Add(-14 * day)
	phases := []project.Phase{
		{Title: locale.Text{"en": "Ideas", "nl": "Ideeën", "fr": "Idées"}, Method: "ideation", StartsAt: start, EndsAt: ptrTime(start.Add(42 * day))},
		{Title: locale.Text{"en": "The city chooses", "nl": "De stad kiest", "fr": "La ville choisit"}, Method: "information", StartsAt: start.Add(42 * day), EndsAt: ptrTime(start.Add(70 * day))},
		{Title: locale.Text{"en": "Building the park", "nl": "Het park bouwen", "fr": "Construction du parc"}, Method: "information", StartsAt: start.Add(70 * day)},
	}
	for _, ph := range phases {
		ph.PostingEnabled, ph.CommentingEnabled, ph.ReactingEnabled, ph.DislikesEnabled = true, true, true, true
		if _, err := svc.AddPhase(ctx, 0, p.ID, ph); err != nil {
			return err
		}
	}
	return nil
}

func ptrTime(t time.Time) *time.Time { return &t }
