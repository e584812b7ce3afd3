package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"strings"
	"time"

	"agora/domain/user"
	"agora/tenant"
)

// AuthOptions size the auth benchmark (agora bench auth's flags).
type AuthOptions struct {
	Users    int           // accounts to log in with
	Duration time.Duration // measured time of each phase
	Clients  int           // concurrent clients for logins (reads use 4x)
	Conns    int           // the web server's PostgreSQL pool size
}

// Validate reports, as a *UsageError, options the benchmark cannot run with.
func (o AuthOptions) Validate() error {
	if o.Users < 1 || o.Clients < 1 || o.Conns < 1 {
		return usagef("--users, --clients and --conns must be positive")
	}
	return nil
}

// Auth measures login throughput and latency (argon2id), and an
// authenticated city read against the anonymous one. It serves the real web
// stack on a loopback port against a database of its own. Rate limits are
// off (no Redis), so that the figures measure the work of a login, not the
// limiter refusing it.
func (r *Runner) Auth(ctx context.Context, o AuthOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	env, closeEnv, err := r.open(ctx, false, tenant.PoolOptions{MaxConns: o.Conns, ConnMaxLifetime: 30 * time.Minute})
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
	emails := make([]string, o.Users)
	fmt.Fprintf(r.Progress, "creating %d accounts (argon2id each)…\n", o.Users)
	for i := range emails {
		emails[i] = fmt.Sprintf("user%d@example.org", i)
		if _, err := users.Create(cctx, user.Registration{Email: emails[i], Password: "correct horse battery staple",
			FirstName: "Bench", LastName: "User"}, user.RoleCitizen); err != nil {
			return err
		}
	}
	srv, err := webStack(cfg, db, reg)
	if err != nil {
		return err
	}
	base, stop, err := serveLoopback(srv)
	if err != nil {
		return err
	}
	defer stop()
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
	fmt.Fprintf(r.Progress, "phase: logins (%s)\n", o.Duration)
	logins, err := load(o.Clients, o.Duration, func(rng *mrand.Rand) error {
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
	readers := o.Clients * 4
	fmt.Fprintf(r.Progress, "phase: anonymous reads (%s)\n", o.Duration)
	if _, err := load(readers, 2*time.Second, func(*mrand.Rand) error { return read("") }); err != nil { // warm-up
		return err
	}
	anon, err := load(readers, o.Duration, func(*mrand.Rand) error { return read("") })
	if err != nil {
		return err
	}
	fmt.Fprintf(r.Progress, "phase: authenticated reads (%s)\n", o.Duration)
	authed, err := load(readers, o.Duration, func(rng *mrand.Rand) error { return read(cookies[rng.IntN(len(cookies))]) })
	if err != nil {
		return err
	}
	w := r.Out
	fmt.Fprintf(w, "\nPassword hashing: argon2id m=19456 KiB (19 MiB), t=2, p=1, 32-byte key, 16-byte salt (OWASP minimum)\n")
	fmt.Fprintf(w, "Logins (POST /api/v1/session, %d clients, %s, rate limits off): %.1f logins/s   p50 %.1f ms   p99 %.1f ms\n",
		o.Clients, o.Duration, logins.rps, ms(logins.lat.p50), ms(logins.lat.p99))
	fmt.Fprintf(w, "\nGET /api/v1/site, %d clients, %s each\n", readers, o.Duration)
	fmt.Fprintf(w, "  %-28s %10s %9s %9s\n", "read", "req/s", "p50 ms", "p99 ms")
	fmt.Fprintf(w, "  %-28s %10.0f %9.2f %9.2f\n", "anonymous", anon.rps, ms(anon.lat.p50), ms(anon.lat.p99))
	fmt.Fprintf(w, "  %-28s %10.0f %9.2f %9.2f\n", "with a session cookie", authed.rps, ms(authed.lat.p50), ms(authed.lat.p99))
	fmt.Fprintf(w, "\n  authenticated / anonymous: %.2f\n", authed.rps/anon.rps)
	return nil
}
