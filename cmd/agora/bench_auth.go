package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"agora/domain/user"
	"agora/tenant"
	"agora/web"
)

type benchAuthOptions struct {
	users    int
	duration time.Duration
	clients  int
	conns    int
}

func benchAuthCmd() *command {
	var o benchAuthOptions
	return &command{
		name:    "auth",
		args:    "[--users N] [--duration D] [--clients N]",
		summary: "Login throughput and latency (argon2id), and an authenticated city read vs the anonymous one.",
		flags: func(fs *flag.FlagSet) {
			fs.IntVar(&o.users, "users", 40, "accounts to log in with")
			fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each phase")
			fs.IntVar(&o.clients, "clients", 8, "concurrent clients for logins (reads use 4x)")
			fs.IntVar(&o.conns, "conns", 8, "web server's PostgreSQL pool size")
		},
		run: func(ctx context.Context, fs *flag.FlagSet) error { return runBenchAuth(ctx, o) },
	}
}

// runBenchAuth serves the real web stack on a loopback port against a
// database of its own. Rate limits are off (no Redis), so that the figures
// measure the work of a login, not the limiter refusing it.
func runBenchAuth(ctx context.Context, o benchAuthOptions) error {
	if o.users < 1 || o.clients < 1 || o.conns < 1 {
		return usagef("--users, --clients and --conns must be positive")
	}
	env, closeEnv, err := openBench(ctx, false, tenant.PoolOptions{MaxConns: o.conns, ConnMaxLifetime: 30 * time.Minute})
	if err != nil {
		return err
	}
	defer closeEnv()
	cfg, db, reg := env.cfg, env.db, env.reg
	city, err := env.city(ctx, tenant.Spec{
		Slug: "authbench", Name: "Auth bench", Plan: tenant.PlanStandard, Lifecycle: tenant.Active, Locales: []string{"en"}})
	if err != nil {
		return err
	}
	users := user.NewService(db)
	cctx := tenant.WithTenant(ctx, city)
	emails := make([]string, o.users)
	fmt.Fprintf(stderrOf(), "creating %d accounts (argon2id each)…\n", o.users)
	for i := range emails {
		emails[i] = fmt.Sprintf("user%d@example.org", i)
		if _, err := users.Create(cctx, user.Registration{Email: emails[i], Password: "correct horse battery staple",
			FirstName: "Bench", LastName: "User"}, user.RoleCitizen); err != nil {
			return err
		}
	}
	srv, err := web.New(web.Deps{Config: cfg, DB: db, Registry: reg, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	defer hs.Close()
	base := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	host := city.DefaultHost

	doLogin := func(email string) (string, error) {
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/api/v1/session",
			strings.NewReader(`{"email":"`+email+`","password":"correct horse battery staple"}`))
		req.Host = host
		req.Header.Set("Content-Type", "application/json")
		resp, err := client.Do(req)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("login: %s", resp.Status)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "agora_session" {
				return c.Name + "=" + c.Value, nil
			}
		}
		return "", fmt.Errorf("login: no session cookie")
	}
	fmt.Fprintf(stderrOf(), "phase: logins (%s)\n", o.duration)
	logins, err := load(o.clients, o.duration, func(rng *mrand.Rand) error {
		_, err := doLogin(emails[rng.IntN(len(emails))])
		return err
	})
	if err != nil {
		return err
	}
	cookies := make([]string, len(emails))
	for i, e := range emails {
		if cookies[i], err = doLogin(e); err != nil {
			return err
		}
	}
	read := func(cookie string) error {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/api/v1/site", nil)
		req.Host = host
		if cookie != "" {
			req.Header.Set("Cookie", cookie)
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("read: %s %v", resp.Status, err)
		}
		return nil
	}
	readers := o.clients * 4
	fmt.Fprintf(stderrOf(), "phase: anonymous reads (%s)\n", o.duration)
	if _, err := load(readers, 2*time.Second, func(*mrand.Rand) error { return read("") }); err != nil { // warm-up
		return err
	}
	anon, err := load(readers, o.duration, func(*mrand.Rand) error { return read("") })
	if err != nil {
		return err
	}
	fmt.Fprintf(stderrOf(), "phase: authenticated reads (%s)\n", o.duration)
	authed, err := load(readers, o.duration, func(rng *mrand.Rand) error { return read(cookies[rng.IntN(len(cookies))]) })
	if err != nil {
		return err
	}
	fmt.Printf("\nPassword hashing: argon2id m=19456 KiB (19 MiB), t=2, p=1, 32-byte key, 16-byte salt (OWASP minimum)\n")
	fmt.Printf("Logins (POST /api/v1/session, %d clients, %s, rate limits off): %.1f logins/s   p50 %.1f ms   p99 %.1f ms\n",
		o.clients, o.duration, logins.rps, ms(logins.lat.p50), ms(logins.lat.p99))
	fmt.Printf("\nGET /api/v1/site, %d clients, %s each\n", readers, o.duration)
	fmt.Printf("  %-28s %10s %9s %9s\n", "read", "req/s", "p50 ms", "p99 ms")
	fmt.Printf("  %-28s %10.0f %9.2f %9.2f\n", "anonymous", anon.rps, ms(anon.lat.p50), ms(anon.lat.p99))
	fmt.Printf("  %-28s %10.0f %9.2f %9.2f\n", "with a session cookie", authed.rps, ms(authed.lat.p50), ms(authed.lat.p99))
	fmt.Printf("\n  authenticated / anonymous: %.2f\n", authed.rps/anon.rps)
	return nil
}

func stderrOf() io.Writer { return os.Stderr }
