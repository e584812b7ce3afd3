package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"agora/tenant"
)

// listFlag collects a repeatable or comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*l = append(*l, p)
		}
	}
	return nil
}

func tenantCmd() *command {
	return &command{
		name:    "tenant",
		summary: "Create and manage cities (tenants).",
		subs: []*command{
			tenantCreateCmd(), tenantListCmd(), tenantShowCmd(), tenantUpdateCmd(),
			tenantAddHostCmd(), tenantRemoveHostCmd(), tenantMoveHostCmd(),
			tenantLifecycleCmd("suspend", "Put a city's portal into maintenance (HTTP 503); data is kept."),
			tenantLifecycleCmd("resume", "Make a suspended city active again."),
			tenantDeleteCmd(),
		},
	}
}

// withApp opens the app for a command and closes it afterwards.
func withApp(ctx context.Context, fn func(a *app) error) error {
	a, err := open(ctx)
	if err != nil {
		return err
	}
	defer a.close()
	return fn(a)
}

// oneArg returns the single positional argument named what.
func oneArg(fs *flag.FlagSet, what string) (string, error) {
	if fs.NArg() != 1 {
		return "", usagef("expected exactly one %s, got %d arguments", what, fs.NArg())
	}
	return fs.Arg(0), nil
}

// friendly turns registry errors into messages an operator can act on.
func friendly(err error) error {
	switch {
	case errors.Is(err, tenant.ErrNotFound):
		return fmt.Errorf("%v (see 'agora tenant list')", err)
	case errors.Is(err, tenant.ErrInvalid), errors.Is(err, tenant.ErrSlugTaken), errors.Is(err, tenant.ErrHostTaken):
		return err
	}
	return err
}

func tenantCreateCmd() *command {
	var s tenant.Spec
	var hosts, locales listFlag
	var plan, lifecycle string
	return &command{
		name:    "create",
		args:    "--slug SLUG --name NAME [--host HOST]... [--plan P] [--locales nl,fr,en] [--timezone TZ] [--admin-email E]",
		summary: "Create a city: schema, migrations, seed data and registry rows in one transaction.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&s.Slug, "slug", "", "city slug: lower-case letter, then letters, digits or _ (schema city_<slug>)")
			fs.StringVar(&s.Name, "name", "", "display name, e.g. \"Stad Gent\"")
			fs.Var(&hosts, "host", "host name of the portal (repeatable; the first is primary)")
			fs.StringVar(&plan, "plan", "essential", "plan: essential, standard or premium")
			fs.StringVar(&lifecycle, "lifecycle", "trial", "lifecycle: trial, active, suspended or churned")
			fs.Var(&locales, "locales", "comma-separated locales, default first (default en)")
			fs.StringVar(&s.TimeZone, "timezone", "UTC", "IANA time zone, e.g. Europe/Brussels")
			fs.StringVar(&s.Country, "country", "", "ISO country code, e.g. BE")
			fs.StringVar(&s.Shard, "shard", "main", "database shard (see AGORA_SHARDS)")
			fs.StringVar(&s.AdminEmail, "admin-email", "", "invite this person as the city's first admin")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if fs.NArg() > 0 {
				return usagef("unexpected argument %q", fs.Arg(0))
			}
			if s.Slug == "" || s.Name == "" {
				return usagef("--slug and --name are required")
			}
			s.Hosts, s.Locales, s.Plan, s.Lifecycle = hosts, locales, tenant.Plan(plan), tenant.Lifecycle(lifecycle)
			return withApp(ctx, func(a *app) error {
				began := time.Now()
				c, err := a.prov.Create(ctx, s)
				if err != nil {
					return friendly(err)
				}
				t := c.Tenant
				fmt.Printf("created city %s (%s) in %s\n", t.Slug, t.Name, time.Since(began).Round(time.Millisecond))
				fmt.Printf("  schema   %s on shard %s\n", t.Schema, t.Shard)
				fmt.Printf("  plan     %s, %s\n", t.Plan, t.Lifecycle)
				fmt.Printf("  locales  %s, time zone %s\n", strings.Join(t.Locales, ", "), t.TimeZone)
				fmt.Printf("  portal   %s\n", portalURL(a, t.PrimaryHost))
				if t.PrimaryHost != t.DefaultHost {
					fmt.Printf("  also     %s\n", portalURL(a, t.DefaultHost))
				}
				if c.InvitationToken != "" {
					fmt.Printf("  admin    invitation to %s queued; the worker emails it (valid 14 days)\n", s.AdminEmail)
				}
				return nil
			})
		},
	}
}

// portalURL is how a browser reaches host on this installation.
func portalURL(a *app, host string) string {
	port := ""
	if _, p, err := net.SplitHostPort(a.cfg.HTTPAddr); err == nil && p != "80" && p != "443" && a.cfg.Env == "dev" {
		port = ":" + p
	}
	scheme := "https"
	if a.cfg.Env == "dev" {
		scheme = "http"
	}
	return scheme + "://" + host + port
}

// tenantJSON is the machine-readable form of a city.
type tenantJSON struct {
	ID          tenant.ID  `json:"id"`
	Slug        string     `json:"slug"`
	Name        string     `json:"name"`
	Schema      string     `json:"schema"`
	Shard       string     `json:"shard"`
	Plan        string     `json:"plan"`
	Lifecycle   string     `json:"lifecycle"`
	Locales     []string   `json:"locales"`
	TimeZone    string     `json:"time_zone"`
	Country     string     `json:"country"`
	PrimaryHost string     `json:"primary_host"`
	DefaultHost string     `json:"default_host"`
	Hosts       []string   `json:"hosts"`
	CreatedAt   time.Time  `json:"created_at"`
	SuspendedAt *time.Time `json:"suspended_at,omitempty"`
}

func toJSON(t *tenant.Tenant) tenantJSON {
	return tenantJSON{t.ID, t.Slug, t.Name, t.Schema, t.Shard, string(t.Plan), string(t.Lifecycle), t.Locales,
		t.TimeZone, t.Country, t.PrimaryHost, t.DefaultHost, t.Hosts, t.CreatedAt, t.SuspendedAt}
}

func printJSON(v any) error {
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func tenantListCmd() *command {
	var asJSON bool
	return &command{
		name:    "list",
		args:    "[--json]",
		summary: "List every city.",
		flags:   func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") },
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			return withApp(ctx, func(a *app) error {
				ts, err := a.reg.List(ctx)
				if err != nil {
					return err
				}
				if asJSON {
					out := make([]tenantJSON, len(ts))
					for i, t := range ts {
						out[i] = toJSON(t)
					}
					return printJSON(out)
				}
				w := newTable(os.Stdout, "SLUG", "NAME", "PLAN", "LIFECYCLE", "HOST", "LOCALES", "CREATED")
				for _, t := range ts {
					w.row(t.Slug, t.Name, string(t.Plan), string(t.Lifecycle), t.PrimaryHost, strings.Join(t.Locales, ","), t.CreatedAt.Format("2006-01-02"))
				}
				w.flush()
				fmt.Printf("\n%d cities\n", len(ts))
				return nil
			})
		},
	}
}

func tenantShowCmd() *command {
	var asJSON bool
	return &command{
		name:    "show",
		args:    "SLUG [--json]",
		summary: "Show one city: registry fields, hosts and migration state.",
		flags:   func(fs *flag.FlagSet) { fs.BoolVar(&asJSON, "json", false, "print JSON") },
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			slug, err := oneArg(fs, "city slug")
			if err != nil {
				return err
			}
			return withApp(ctx, func(a *app) error {
				t, err := a.reg.BySlug(ctx, slug)
				if err != nil {
					return friendly(err)
				}
				if asJSON {
					return printJSON(toJSON(t))
				}
				printTenant(a, t)
				sts, err := a.mig.Status(ctx)
				if err != nil {
					return err
				}
				for _, st := range sts {
					if st.Tenant.ID == t.ID {
						fmt.Printf("  migrations  applied %s; pending %s\n", versions(st.Applied), versions(st.Pending))
					}
				}
				usage, err := tenant.UsageByCity(ctx, a.db.Platform())
				if err != nil {
					return err
				}
				if u, ok := usage[t.ID]; ok {
					fmt.Printf("  usage       %d users, %d ideas, %d bytes stored (measured %s)\n",
						u.Users, u.Ideas, u.StorageBytes, u.ComputedAt.Format(time.RFC3339))
				} else {
					fmt.Println("  usage       not measured yet (the worker measures every hour)")
				}
				return nil
			})
		},
	}
}

func printTenant(a *app, t *tenant.Tenant) {
	fmt.Printf("%s (%s), id %d\n", t.Name, t.Slug, t.ID)
	fmt.Printf("  plan        %s\n", t.Plan)
	fmt.Printf("  lifecycle   %s\n", t.Lifecycle)
	if t.TrialEndsAt != nil {
		fmt.Printf("  trial ends  %s\n", t.TrialEndsAt.Format("2006-01-02"))
	}
	if len(t.Granted) > 0 {
		fmt.Printf("  granted     %s\n", strings.Join(t.Granted, ", "))
	}
	if len(t.Revoked) > 0 {
		fmt.Printf("  revoked     %s\n", strings.Join(t.Revoked, ", "))
	}
	fmt.Printf("  locales     %s\n", strings.Join(t.Locales, ", "))
	fmt.Printf("  time zone   %s\n", t.TimeZone)
	if t.Country != "" {
		fmt.Printf("  country     %s\n", t.Country)
	}
	fmt.Printf("  schema      %s on shard %s\n", t.Schema, t.Shard)
	fmt.Printf("  portal      %s\n", portalURL(a, t.PrimaryHost))
	fmt.Printf("  default     %s\n", t.DefaultHost)
	for _, h := range t.Hosts {
		role := "secondary (redirects)"
		if h == t.PrimaryHost {
			role = "primary"
		}
		fmt.Printf("  host        %s  %s\n", h, role)
	}
	fmt.Printf("  created     %s\n", t.CreatedAt.Format(time.RFC3339))
	if t.SuspendedAt != nil {
		fmt.Printf("  suspended   %s\n", t.SuspendedAt.Format(time.RFC3339))
	}
}

func tenantUpdateCmd() *command {
	var name, plan, lifecycle, tz, country, trialEnds string
	var locales, grant, revoke, reset listFlag
	return &command{
		name: "update",
		args: "SLUG [--name N] [--plan P] [--lifecycle L] [--locales a,b] [--timezone TZ] [--country CC] [--trial-ends YYYY-MM-DD|none]" +
			" [--grant f1,f2] [--revoke f1,f2] [--reset-overrides f1,f2]",
		summary: "Change a city's registry fields.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&name, "name", "", "new display name")
			fs.StringVar(&plan, "plan", "", "new plan: essential, standard or premium")
			fs.StringVar(&lifecycle, "lifecycle", "", "new lifecycle: trial, active, suspended or churned")
			fs.Var(&locales, "locales", "new comma-separated locales, default first")
			fs.StringVar(&tz, "timezone", "", "new IANA time zone")
			fs.StringVar(&country, "country", "", "new ISO country code")
			fs.StringVar(&trialEnds, "trial-ends", "", "day the trial falls back to essential (YYYY-MM-DD, UTC), or none")
			fs.Var(&grant, "grant", "features to grant whatever the plan (comma-separated keys)")
			fs.Var(&revoke, "revoke", "features to take away whatever the plan")
			fs.Var(&reset, "reset-overrides", "features to give back to the plan's rule")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			slug, err := oneArg(fs, "city slug")
			if err != nil {
				return err
			}
			var u tenant.Update
			set := map[string]bool{}
			fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
			if len(set) == 0 {
				return usagef("nothing to change: give at least one flag")
			}
			if set["name"] {
				u.Name = &name
			}
			if set["plan"] {
				p := tenant.Plan(plan)
				u.Plan = &p
			}
			if set["lifecycle"] {
				l := tenant.Lifecycle(lifecycle)
				u.Lifecycle = &l
			}
			if set["locales"] {
				u.Locales = locales
			}
			if set["timezone"] {
				u.TimeZone = &tz
			}
			if set["country"] {
				u.Country = &country
			}
			if set["trial-ends"] {
				if trialEnds == "none" {
					u.ClearTrialEnd = true
				} else {
					d, err := time.Parse("2006-01-02", trialEnds)
					if err != nil {
						return usagef("--trial-ends: %q is not a date like 2027-01-31 (or none)", trialEnds)
					}
					u.TrialEndsAt = &d
				}
			}
			u.Overrides = map[string]*bool{}
			for _, f := range grant {
				u.Overrides[f] = ptrTo(true)
			}
			for _, f := range revoke {
				u.Overrides[f] = ptrTo(false)
			}
			for _, f := range reset {
				u.Overrides[f] = nil
			}
			return withApp(ctx, func(a *app) error {
				t, err := a.ops.Update(ctx, slug, u)
				if err != nil {
					return friendly(err)
				}
				fmt.Println("updated:")
				printTenant(a, t)
				return nil
			})
		},
	}
}

func tenantAddHostCmd() *command {
	var primary bool
	return &command{
		name:    "add-host",
		args:    "SLUG HOST [--primary]",
		summary: "Give a city another host (the primary host is canonical; others redirect to it).",
		flags:   func(fs *flag.FlagSet) { fs.BoolVar(&primary, "primary", false, "make it the primary host") },
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if fs.NArg() != 2 {
				return usagef("expected SLUG and HOST")
			}
			return withApp(ctx, func(a *app) error {
				t, err := a.ops.AddHost(ctx, fs.Arg(0), fs.Arg(1), primary)
				if err != nil {
					return friendly(err)
				}
				fmt.Printf("%s now answers on %s (primary host %s)\n", t.Slug, strings.Join(t.Hosts, ", "), t.PrimaryHost)
				return nil
			})
		},
	}
}

func tenantRemoveHostCmd() *command {
	return &command{
		name:    "remove-host",
		args:    "SLUG HOST",
		summary: "Take a host away from a city.",
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if fs.NArg() != 2 {
				return usagef("expected SLUG and HOST")
			}
			return withApp(ctx, func(a *app) error {
				t, err := a.ops.RemoveHost(ctx, fs.Arg(0), fs.Arg(1))
				if err != nil {
					return friendly(err)
				}
				fmt.Printf("removed %s from %s; primary host is %s\n", fs.Arg(1), t.Slug, t.PrimaryHost)
				return nil
			})
		},
	}
}

func tenantMoveHostCmd() *command {
	var primary bool
	return &command{
		name:    "move-host",
		args:    "HOST SLUG [--primary]",
		summary: "Move a host from the city that has it to another city.",
		flags:   func(fs *flag.FlagSet) { fs.BoolVar(&primary, "primary", false, "make it the new city's primary host") },
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if fs.NArg() != 2 {
				return usagef("expected HOST and SLUG")
			}
			return withApp(ctx, func(a *app) error {
				t, err := a.ops.MoveHost(ctx, fs.Arg(0), fs.Arg(1), primary)
				if err != nil {
					return friendly(err)
				}
				fmt.Printf("%s now belongs to %s\n", fs.Arg(0), t.Slug)
				return nil
			})
		},
	}
}

func tenantLifecycleCmd(name, summary string) *command {
	return &command{
		name:    name,
		args:    "SLUG",
		summary: summary,
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			slug, err := oneArg(fs, "city slug")
			if err != nil {
				return err
			}
			return withApp(ctx, func(a *app) error {
				op := a.ops.Suspend
				if name == "resume" {
					op = a.ops.Resume
				}
				t, err := op(ctx, slug)
				if err != nil {
					return friendly(err)
				}
				fmt.Printf("%s is now %s\n", t.Slug, t.Lifecycle)
				return nil
			})
		},
	}
}

func tenantDeleteCmd() *command {
	var yes bool
	return &command{
		name:    "delete",
		args:    "SLUG [--yes]",
		summary: "Delete a city: soft-delete (it stops answering), then drop its schema, queued work and files.",
		flags:   func(fs *flag.FlagSet) { fs.BoolVar(&yes, "yes", false, "do not ask for confirmation") },
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			slug, err := oneArg(fs, "city slug")
			if err != nil {
				return err
			}
			if !yes {
				if !isTerminal(os.Stdin) {
					return usagef("refusing to delete %s without --yes when not on a terminal", slug)
				}
				fmt.Printf("Delete city %s and ALL its data? Type the slug to confirm: ", slug)
				line, _ := bufio.NewReader(os.Stdin).ReadString('\n')
				if strings.TrimSpace(line) != slug {
					return errors.New("not confirmed; nothing deleted")
				}
			}
			return withApp(ctx, func(a *app) error {
				if err := a.ops.Delete(ctx, slug); err != nil {
					return friendly(err)
				}
				fmt.Printf("deleted city %s: schema dropped, hosts freed; the slug stays reserved\n", slug)
				return nil
			})
		},
	}
}

func ptrTo[T any](v T) *T { return &v }
