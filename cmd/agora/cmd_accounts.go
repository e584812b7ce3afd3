package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"agora/domain/operator"
	"agora/domain/user"
	"agora/tenant"
)

// readPassword reads one line from stdin (--password-stdin), so passwords
// never appear in shell history or the process list.
func readPassword(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", usagef("no password on standard input (echo 'secret' | agora ... --password-stdin)")
	}
	return pw, nil
}

func operatorCmd() *command {
	return &command{
		name:    "operator",
		summary: "Manage the hosting operator's staff accounts (console on the platform host).",
		subs:    []*command{operatorCreateCmd(), operatorTokenCmd()},
	}
}

func operatorCreateCmd() *command {
	var email, name string
	var stdin bool
	return &command{
		name:    "create",
		args:    "--email E [--name N] --password-stdin",
		summary: "Create an operator account that can log in to the console on the platform host.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&email, "email", "", "the operator's email (login)")
			fs.StringVar(&name, "name", "", "display name")
			fs.BoolVar(&stdin, "password-stdin", false, "read the password from standard input (required)")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if email == "" || !stdin {
				return usagef("--email and --password-stdin are required")
			}
			pw, err := readPassword(os.Stdin)
			if err != nil {
				return err
			}
			return withApp(ctx, func(a *app) error {
				o, err := operator.NewService(a.db.Platform()).Create(ctx, email, name, pw)
				if err != nil {
					return err
				}
				fmt.Printf("created operator %s (id %d); log in at %s/login\n", o.Email, o.ID, portalURL(a, a.cfg.PlatformHost))
				return nil
			})
		},
	}
}

func operatorTokenCmd() *command {
	var email, name string
	return &command{
		name:    "token",
		args:    "--email E --name N",
		summary: "Issue an API token for the platform host's JSON API (/api/v1/cities); it is shown once.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&email, "email", "", "the operator's email")
			fs.StringVar(&name, "name", "", "what the token is for, e.g. billing-sync")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if email == "" || name == "" {
				return usagef("--email and --name are required")
			}
			return withApp(ctx, func(a *app) error {
				secret, err := operator.NewService(a.db.Platform()).CreateToken(ctx, email, name)
				if err != nil {
					return err
				}
				fmt.Printf("%s\n", secret)
				fmt.Fprintf(os.Stderr, "token %q for %s: send it as 'Authorization: Bearer <token>' to %s/api/v1/cities; it is not shown again\n",
					name, email, portalURL(a, a.cfg.PlatformHost))
				return nil
			})
		},
	}
}

func userCmd() *command {
	return &command{
		name:    "user",
		summary: "Manage a city's user accounts (bootstrap and support).",
		subs:    []*command{userCreateCmd()},
	}
}

func userCreateCmd() *command {
	var city, email, role, first, last, locale string
	var stdin bool
	return &command{
		name:    "create",
		args:    "--city SLUG --email E --role admin|moderator|citizen --password-stdin [--first-name F] [--last-name L]",
		summary: "Create a confirmed user in a city with a role.",
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&city, "city", "", "city slug")
			fs.StringVar(&email, "email", "", "the user's email")
			fs.StringVar(&role, "role", "citizen", "admin, moderator or citizen")
			fs.StringVar(&first, "first-name", "", "first name (default: from the email, admin@gent.be is Admin)")
			fs.StringVar(&last, "last-name", "", "last name (default: from the email, admin@gent.be is Gent)")
			fs.StringVar(&locale, "locale", "", "language (default: the city's first)")
			fs.BoolVar(&stdin, "password-stdin", false, "read the password from standard input (required)")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error {
			if city == "" || email == "" || !stdin {
				return usagef("--city, --email and --password-stdin are required")
			}
			pw, err := readPassword(os.Stdin)
			if err != nil {
				return err
			}
			return withApp(ctx, func(a *app) error {
				t, err := a.reg.BySlug(ctx, city)
				if err != nil {
					return friendly(err)
				}
				// Pages and emails greet people by their first name: one from
				// the address reads better than a made-up "City Staff".
				defFirst, defLast := user.NamesFromEmail(email)
				if first == "" {
					first = defFirst
				}
				if last == "" {
					last = defLast
				}
				u, err := user.NewService(a.db).Create(tenant.WithTenant(ctx, t), user.Registration{
					Email: email, Password: pw, FirstName: first, LastName: last, Locale: locale,
				}, user.Role(role))
				if err != nil {
					return err
				}
				fmt.Printf("created %s %s in %s (id %d, email confirmed)\n", u.Role, u.Email, t.Slug, u.ID)
				return nil
			})
		},
	}
}
