package tenant

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// NotifyChannel is the PostgreSQL channel on which every change to the
// registry (a city or one of its hosts) is announced, so that every node drops
// its cached host → city mappings.
const NotifyChannel = "agora_tenants"

// Resolution is what a host means to the registry.
type Resolution int

const (
	// Unknown: no city answers on this host.
	Unknown Resolution = iota
	// Serve: the city's primary host or its default <slug>.<base domain>
	// host; serve the request.
	Serve
	// Redirect: a secondary host of the city; redirect to the primary host.
	Redirect
)

// Registry looks cities up by host or id, caching results in process for a
// short TTL and dropping the cache whenever a change is announced on
// NotifyChannel. Deleted cities are never returned.
type Registry struct {
	db         *sqlx.DB
	baseDomain string
	ttl        time.Duration
	now        func() time.Time

	mu      sync.RWMutex
	byHost  map[string]hostEntry
	byID    map[ID]idEntry
	unknown int // cached negative entries, bounded
}

type hostEntry struct {
	t       *Tenant // nil: unknown host
	res     Resolution
	expires time.Time
}

type idEntry struct {
	t       *Tenant
	expires time.Time
}

const maxUnknownHosts = 10000

// NewRegistry returns a registry reading platform.tenants from db. baseDomain
// is AGORA_BASE_DOMAIN: every city answers on <slug>.<baseDomain> too.
func NewRegistry(db *sqlx.DB, baseDomain string, ttl time.Duration) *Registry {
	return &Registry{
		db: db, baseDomain: baseDomain, ttl: ttl, now: time.Now,
		byHost: map[string]hostEntry{}, byID: map[ID]idEntry{},
	}
}

// BaseDomain is the domain under which every city has a default host.
func (r *Registry) BaseDomain() string { return r.baseDomain }

// Invalidate drops every cached mapping.
func (r *Registry) Invalidate() {
	r.mu.Lock()
	r.byHost = map[string]hostEntry{}
	r.byID = map[ID]idEntry{}
	r.unknown = 0
	r.mu.Unlock()
}

const selectTenant = `
SELECT t.id, t.slug, t.name, t.schema_name, t.shard, t.plan, t.lifecycle, t.locales,
       t.time_zone, t.country, t.created_at, t.suspended_at, t.deleted_at,
       coalesce((SELECT array_agg(h.host ORDER BY h.is_primary DESC, h.host)
                   FROM platform.tenant_hosts h WHERE h.tenant_id = t.id), '{}') AS hosts,
       coalesce((SELECT h.host FROM platform.tenant_hosts h
                  WHERE h.tenant_id = t.id AND h.is_primary), '') AS primary_host,
       t.trial_ends_at,
       coalesce((SELECT array_agg(o.feature ORDER BY o.feature) FROM platform.tenant_feature_overrides o
                  WHERE o.tenant_id = t.id AND o.enabled), '{}') AS granted,
       coalesce((SELECT array_agg(o.feature ORDER BY o.feature) FROM platform.tenant_feature_overrides o
                  WHERE o.tenant_id = t.id AND NOT o.enabled), '{}') AS revoked,
       coalesce((SELECT array_agg(f.feature ORDER BY f.feature) FROM platform.plan_features f
                  WHERE f.plan = t.plan), '{}') AS plan_features
  FROM platform.tenants t`

type tenantRow struct {
	ID          ID             `db:"id"`
	Slug        string         `db:"slug"`
	Name        string         `db:"name"`
	Schema      string         `db:"schema_name"`
	Shard       string         `db:"shard"`
	Plan        Plan           `db:"plan"`
	Lifecycle   Lifecycle      `db:"lifecycle"`
	Locales     pq.StringArray `db:"locales"`
	TimeZone    string         `db:"time_zone"`
	Country     string         `db:"country"`
	CreatedAt   time.Time      `db:"created_at"`
	SuspendedAt *time.Time     `db:"suspended_at"`
	DeletedAt   *time.Time     `db:"deleted_at"`
	Hosts       pq.StringArray `db:"hosts"`
	PrimaryHost string         `db:"primary_host"`
	TrialEndsAt *time.Time     `db:"trial_ends_at"`
	Granted     pq.StringArray `db:"granted"`
	Revoked     pq.StringArray `db:"revoked"`
	PlanFeats   pq.StringArray `db:"plan_features"`
}

func (row tenantRow) tenant(baseDomain string) (*Tenant, error) {
	t := &Tenant{
		ID: row.ID, Slug: row.Slug, Name: row.Name, Schema: row.Schema, Shard: row.Shard,
		Plan: row.Plan, Lifecycle: row.Lifecycle, Locales: row.Locales, TimeZone: row.TimeZone,
		Country: row.Country, CreatedAt: row.CreatedAt, SuspendedAt: row.SuspendedAt,
		DeletedAt: row.DeletedAt, Hosts: row.Hosts, PrimaryHost: row.PrimaryHost,
		DefaultHost: DefaultHost(row.Slug, baseDomain), TrialEndsAt: row.TrialEndsAt,
		Granted: row.Granted, Revoked: row.Revoked,
	}
	t.features = map[string]bool{}
	for _, f := range row.PlanFeats {
		t.features[f] = true
	}
	for _, f := range row.Granted {
		t.features[f] = true
	}
	for _, f := range row.Revoked {
		delete(t.features, f)
	}
	if t.PrimaryHost == "" {
		t.PrimaryHost = t.DefaultHost
	}
	return t, t.prepare()
}

func scanTenants(ctx context.Context, q sqlx.QueryerContext, baseDomain, where string, args ...any) ([]*Tenant, error) {
	var rows []tenantRow
	if err := sqlx.SelectContext(ctx, q, &rows, selectTenant+" "+where, args...); err != nil {
		return nil, err
	}
	out := make([]*Tenant, 0, len(rows))
	for _, row := range rows {
		t, err := row.tenant(baseDomain)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Resolve maps a normalised host to its city. The city's primary host and its
// default <slug>.<base domain> host resolve to Serve; its other hosts to
// Redirect; everything else to Unknown with a nil city. Deleted cities are
// unknown.
func (r *Registry) Resolve(ctx context.Context, host string) (*Tenant, Resolution, error) {
	now := r.now()
	r.mu.RLock()
	e, ok := r.byHost[host]
	r.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.t, e.res, nil
	}
	t, res, err := r.resolve(ctx, host)
	if err != nil {
		return nil, Unknown, err
	}
	r.mu.Lock()
	if t == nil {
		if r.unknown >= maxUnknownHosts {
			for h, e := range r.byHost {
				if e.t == nil {
					delete(r.byHost, h)
				}
			}
			r.unknown = 0
		}
		r.unknown++
	}
	r.byHost[host] = hostEntry{t: t, res: res, expires: now.Add(r.ttl)}
	r.mu.Unlock()
	return t, res, nil
}

// hostWhere finds the city that owns a host, or whose default host it is. An
// explicit host row wins over a default host.
const hostWhere = `
 WHERE t.deleted_at IS NULL
   AND (t.id = (SELECT tenant_id FROM platform.tenant_hosts WHERE host = $1) OR t.slug = $2)
 ORDER BY (t.slug = $2) LIMIT 1`

func (r *Registry) resolve(ctx context.Context, host string) (*Tenant, Resolution, error) {
	slug := ""
	if prefix, ok := strings.CutSuffix(host, "."+r.baseDomain); ok && !strings.Contains(prefix, ".") {
		slug = strings.ReplaceAll(prefix, "-", "_")
	}
	ts, err := scanTenants(ctx, r.db, r.baseDomain, hostWhere, host, slug)
	if err != nil {
		return nil, Unknown, fmt.Errorf("resolve host %s: %w", host, err)
	}
	if len(ts) == 0 {
		return nil, Unknown, nil
	}
	t := ts[0]
	if host == t.PrimaryHost || host == t.DefaultHost {
		return t, Serve, nil
	}
	return t, Redirect, nil
}

// Get returns the city with id, from cache when fresh. ErrNotFound when it does
// not exist or was deleted.
func (r *Registry) Get(ctx context.Context, id ID) (*Tenant, error) {
	now := r.now()
	r.mu.RLock()
	e, ok := r.byID[id]
	r.mu.RUnlock()
	if ok && now.Before(e.expires) {
		return e.t, nil
	}
	ts, err := scanTenants(ctx, r.db, r.baseDomain, "WHERE t.id = $1 AND t.deleted_at IS NULL", id)
	if err != nil {
		return nil, fmt.Errorf("get city %d: %w", id, err)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("city %d: %w", id, ErrNotFound)
	}
	r.mu.Lock()
	r.byID[id] = idEntry{t: ts[0], expires: now.Add(r.ttl)}
	r.mu.Unlock()
	return ts[0], nil
}

// BySlug returns the (not deleted) city with slug, bypassing the cache.
func (r *Registry) BySlug(ctx context.Context, slug string) (*Tenant, error) {
	ts, err := scanTenants(ctx, r.db, r.baseDomain, "WHERE t.slug = $1 AND t.deleted_at IS NULL", slug)
	if err != nil {
		return nil, fmt.Errorf("city %s: %w", slug, err)
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("city %q: %w", slug, ErrNotFound)
	}
	return ts[0], nil
}

// List returns every city that is not deleted, active ones first, then by slug.
func (r *Registry) List(ctx context.Context) ([]*Tenant, error) {
	ts, err := scanTenants(ctx, r.db, r.baseDomain, `WHERE t.deleted_at IS NULL
	 ORDER BY (t.lifecycle = 'active') DESC, t.slug`)
	if err != nil {
		return nil, fmt.Errorf("list cities: %w", err)
	}
	return ts, nil
}

// Listen keeps the cache coherent across nodes: it LISTENs on NotifyChannel
// and drops the cache on every notification and on every reconnect (a
// notification may have been missed). It returns when ctx ends.
func (r *Registry) Listen(ctx context.Context, dsn string, log *slog.Logger) error {
	l := pq.NewListener(dsn, 100*time.Millisecond, 10*time.Second, func(ev pq.ListenerEventType, err error) {
		switch ev {
		case pq.ListenerEventReconnected:
			r.Invalidate()
			log.Info("registry listener reconnected; cache dropped")
		case pq.ListenerEventConnectionAttemptFailed, pq.ListenerEventDisconnected:
			r.Invalidate()
			log.Warn("registry listener lost its connection", "err", err)
		}
	})
	defer l.Close()
	if err := l.Listen(NotifyChannel); err != nil {
		return fmt.Errorf("listen %s: %w", NotifyChannel, err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case n := <-l.Notify:
			r.Invalidate()
			if n != nil {
				log.Debug("registry changed; cache dropped", "payload", n.Extra)
			}
		case <-time.After(90 * time.Second):
			go l.Ping()
		}
	}
}

// notify announces a registry change inside the caller's transaction, so other
// nodes hear it only if the change commits.
func notify(ctx context.Context, tx sqlx.ExecerContext, id ID) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, fmt.Sprint(id))
	return err
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
