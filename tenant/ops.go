package tenant

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Operations changes existing cities on behalf of the operator. Every change
// is announced on NotifyChannel in its own transaction.
type Operations struct {
	db           *DB
	reg          *Registry
	platformHost string
	storageDir   string
}

// NewOperations returns the operator's handle on existing cities.
func NewOperations(db *DB, reg *Registry, platformHost, storageDir string) *Operations {
	return &Operations{db: db, reg: reg, platformHost: platformHost, storageDir: storageDir}
}

// Update holds the fields an operator may change; nil means unchanged.
type Update struct {
	Name      *string
	Plan      *Plan
	Lifecycle *Lifecycle
	Locales   []string
	TimeZone  *string
	Country   *string
	// TrialEndsAt sets when a trial falls back to essential; ClearTrialEnd
	// removes the date.
	TrialEndsAt   *time.Time
	ClearTrialEnd bool
	// Overrides grants (true) or takes away (false) a feature whatever the
	// plan; a nil value removes the override.
	Overrides map[string]*bool
}

// change runs fn in a platform transaction for the (not deleted) city with
// slug, announces the change and returns the city as it is afterwards.
func (o *Operations) change(ctx context.Context, slug string, fn func(tx *sqlx.Tx, t *Tenant) error) (*Tenant, error) {
	tx, err := o.db.platform.BeginTxx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ts, err := scanTenants(ctx, tx, o.reg.baseDomain, "WHERE t.slug = $1 AND t.deleted_at IS NULL FOR UPDATE OF t", slug)
	if err != nil {
		return nil, err
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("city %q: %w", slug, ErrNotFound)
	}
	if err := fn(tx, ts[0]); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE platform.tenants SET updated_at = now() WHERE id = $1`, ts[0].ID); err != nil {
		return nil, err
	}
	if err := notify(ctx, tx, ts[0].ID); err != nil {
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	o.reg.Invalidate()
	return o.reg.BySlug(ctx, slug)
}

// Update changes a city's registry fields. Errors: ErrNotFound, ErrInvalid
// naming the field.
func (o *Operations) Update(ctx context.Context, slug string, u Update) (*Tenant, error) {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, a...))
	}
	if u.Name != nil {
		if n := strings.TrimSpace(*u.Name); n == "" || len(n) > 200 {
			return nil, bad("name", "must be 1-200 characters")
		}
	}
	if u.Plan != nil && !u.Plan.Valid() {
		return nil, bad("plan", "%q is not one of essential, standard, premium", *u.Plan)
	}
	if u.Lifecycle != nil && !u.Lifecycle.Valid() {
		return nil, bad("lifecycle", "%q is not one of trial, active, suspended, churned", *u.Lifecycle)
	}
	if u.Locales != nil {
		if len(u.Locales) == 0 {
			return nil, bad("locales", "at least one locale is required")
		}
		if err := validLocales(u.Locales); err != nil {
			return nil, bad("locales", "%v", err)
		}
	}
	if u.TimeZone != nil {
		if !validTimeZone(*u.TimeZone) {
			return nil, bad("timezone", "%q is not an IANA time zone (e.g. Europe/Brussels)", *u.TimeZone)
		}
	}
	if u.Country != nil {
		c := strings.ToUpper(strings.TrimSpace(*u.Country))
		if c != "" && !countryRe.MatchString(c) {
			return nil, bad("country", "%q is not a two-letter country code", *u.Country)
		}
		u.Country = &c
	}
	if u.TrialEndsAt != nil {
		// The years a person could mean; the console shows and mails it.
		if y := u.TrialEndsAt.UTC().Year(); y < 1900 || y > 2200 {
			return nil, bad("trial_ends_at", "must be a date between 1900 and 2200")
		}
	}
	for f := range u.Overrides {
		if !featureRe.MatchString(f) {
			return nil, bad("overrides", "%q is not a feature key", f)
		}
	}
	return o.change(ctx, slug, func(tx *sqlx.Tx, t *Tenant) error {
		planChanged := u.Plan != nil && *u.Plan != t.Plan
		if err := setOverrides(ctx, tx, t.ID, u.Overrides); err != nil {
			return err
		}
		if u.TrialEndsAt != nil || u.ClearTrialEnd {
			if _, err := tx.ExecContext(ctx, `UPDATE platform.tenants SET trial_ends_at = $2 WHERE id = $1`, t.ID, u.TrialEndsAt); err != nil {
				return err
			}
		}
		if planChanged || len(u.Overrides) > 0 {
			to := t.Plan
			if u.Plan != nil {
				to = *u.Plan
			}
			// The worker recomputes, tells the admins and refreshes every
			// node: queued here, so it happens if and only if this commits.
			event := fmt.Sprintf("apply_plan:%d", time.Now().UnixNano())
			if err := enqueue(ctx, tx, t.ID, Task{Type: TaskApplyPlan, ID: event,
				Queue: "default", Payload: map[string]any{"from": t.Plan, "to": to, "event": event}}); err != nil {
				return err
			}
		}
		var locales any
		if u.Locales != nil {
			locales = pq.StringArray(u.Locales)
		}
		var name *string
		if u.Name != nil {
			n := strings.TrimSpace(*u.Name)
			name = &n
		}
		_, err := tx.ExecContext(ctx, `
			UPDATE platform.tenants SET
			  name = coalesce($2, name),
			  plan = coalesce($3, plan),
			  lifecycle = coalesce($4, lifecycle),
			  suspended_at = CASE WHEN $4 = 'suspended' THEN coalesce(suspended_at, now())
			                      WHEN $4 IS NULL THEN suspended_at ELSE NULL END,
			  locales = coalesce($5, locales),
			  time_zone = coalesce($6, time_zone),
			  country = coalesce($7, country)
			WHERE id = $1`, t.ID, name, (*string)(u.Plan), (*string)(u.Lifecycle), locales, u.TimeZone, u.Country)
		return err
	})
}

var featureRe = regexp.MustCompile(`^[a-z][a-z_]{1,60}$`)

// setOverrides applies the operator's feature overrides of a city. Unknown
// feature keys (not in any plan) are refused.
func setOverrides(ctx context.Context, tx *sqlx.Tx, id ID, overrides map[string]*bool) error {
	for f, on := range overrides {
		if on == nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM platform.tenant_feature_overrides WHERE tenant_id = $1 AND feature = $2`, id, f); err != nil {
				return err
			}
			continue
		}
		var known bool
		if err := tx.GetContext(ctx, &known, `SELECT EXISTS (SELECT 1 FROM platform.plan_features WHERE feature = $1)`, f); err != nil {
			return err
		}
		if !known {
			return fmt.Errorf("%w: overrides: %q is not a feature of any plan", ErrInvalid, f)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO platform.tenant_feature_overrides (tenant_id, feature, enabled) VALUES ($1, $2, $3)
			ON CONFLICT (tenant_id, feature) DO UPDATE SET enabled = excluded.enabled, updated_at = now()`, id, f, *on); err != nil {
			return err
		}
	}
	return nil
}

// ExpiredTrials lists the cities whose trial ended by now.
func (o *Operations) ExpiredTrials(ctx context.Context, now time.Time) ([]*Tenant, error) {
	return scanTenants(ctx, o.db.platform, o.reg.baseDomain,
		"WHERE t.lifecycle = 'trial' AND t.trial_ends_at <= $1 AND t.deleted_at IS NULL ORDER BY t.id", now)
}

// Announce tells every node's registry that the city changed.
func (o *Operations) Announce(ctx context.Context, id ID) error {
	if err := notify(ctx, o.db.platform, id); err != nil {
		return err
	}
	o.reg.Invalidate()
	return nil
}

// Suspend puts a city's portal into maintenance (HTTP 503); its data stays.
func (o *Operations) Suspend(ctx context.Context, slug string) (*Tenant, error) {
	l := Suspended
	return o.Update(ctx, slug, Update{Lifecycle: &l})
}

// Resume makes a suspended city active again.
func (o *Operations) Resume(ctx context.Context, slug string) (*Tenant, error) {
	l := Active
	return o.Update(ctx, slug, Update{Lifecycle: &l})
}

// AddHost gives a city another host; primary makes it the canonical one (the
// previous primary becomes a redirecting secondary). Errors: ErrInvalid,
// ErrHostTaken, ErrPlatformHost.
func (o *Operations) AddHost(ctx context.Context, slug, host string, primary bool) (*Tenant, error) {
	h, err := checkHost(host, slug, o.reg.baseDomain, o.platformHost)
	if err != nil {
		return nil, fmt.Errorf("%w: host: %w", ErrInvalid, err)
	}
	return o.change(ctx, slug, func(tx *sqlx.Tx, t *Tenant) error {
		// A city with no host yet gets its first host as primary.
		primary := primary || len(t.Hosts) == 0
		if primary {
			if _, err := tx.ExecContext(ctx, `UPDATE platform.tenant_hosts SET is_primary = false WHERE tenant_id = $1`, t.ID); err != nil {
				return err
			}
		}
		return insertHost(ctx, tx, t.ID, h, primary)
	})
}

// MoveHost reassigns a host that belongs to one city to another (a city
// merging into another, or a domain handed over). It keeps the registry and
// every node's cache consistent in one transaction.
func (o *Operations) MoveHost(ctx context.Context, host, toSlug string, primary bool) (*Tenant, error) {
	h, err := NormalizeHost(host)
	if err != nil {
		return nil, fmt.Errorf("%w: host: %v", ErrInvalid, err)
	}
	return o.change(ctx, toSlug, func(tx *sqlx.Tx, t *Tenant) error {
		var from ID
		if err := tx.GetContext(ctx, &from, `DELETE FROM platform.tenant_hosts WHERE host = $1 RETURNING tenant_id`, h); err != nil {
			if isNoRows(err) {
				return fmt.Errorf("host %s: %w", h, ErrNotFound)
			}
			return err
		}
		if err := notify(ctx, tx, from); err != nil {
			return err
		}
		if err := promoteHost(ctx, tx, from); err != nil {
			return err
		}
		if primary {
			if _, err := tx.ExecContext(ctx, `UPDATE platform.tenant_hosts SET is_primary = false WHERE tenant_id = $1`, t.ID); err != nil {
				return err
			}
		}
		return insertHost(ctx, tx, t.ID, h, primary || len(t.Hosts) == 0)
	})
}

// RemoveHost takes a host away from a city. Removing the primary host makes
// the next remaining host primary (or the default host canonical).
func (o *Operations) RemoveHost(ctx context.Context, slug, host string) (*Tenant, error) {
	h, err := NormalizeHost(host)
	if err != nil {
		return nil, fmt.Errorf("%w: host: %v", ErrInvalid, err)
	}
	return o.change(ctx, slug, func(tx *sqlx.Tx, t *Tenant) error {
		var removed string
		err := tx.GetContext(ctx, &removed, `DELETE FROM platform.tenant_hosts WHERE host = $1 AND tenant_id = $2 RETURNING host`, h, t.ID)
		if isNoRows(err) {
			return fmt.Errorf("host %s of %s: %w", h, slug, ErrNotFound)
		}
		if err != nil {
			return err
		}
		return promoteHost(ctx, tx, t.ID)
	})
}

// promoteHost makes the oldest remaining host of a city primary when it has
// hosts but no primary one (after its primary was removed or moved away).
func promoteHost(ctx context.Context, tx sqlx.ExecerContext, id ID) error {
	_, err := tx.ExecContext(ctx, `UPDATE platform.tenant_hosts SET is_primary = true
		WHERE host = (SELECT host FROM platform.tenant_hosts WHERE tenant_id = $1 ORDER BY created_at, host LIMIT 1)
		  AND NOT EXISTS (SELECT 1 FROM platform.tenant_hosts WHERE tenant_id = $1 AND is_primary)`, id)
	return err
}

// Delete soft-deletes a city (it stops answering at once, its hosts are
// freed), then drops its schema, its pending background work and its stored
// files. The slug stays reserved. Errors: ErrNotFound.
func (o *Operations) Delete(ctx context.Context, slug string) error {
	tx, err := o.db.platform.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("delete %s: %w", slug, err)
	}
	defer tx.Rollback()
	var id ID
	var schema, shard string
	// A city already soft-deleted whose schema is still there is deleted
	// again: that finishes a delete whose schema drop failed.
	var already bool
	err = tx.QueryRowxContext(ctx, `UPDATE platform.tenants SET deleted_at = coalesce(deleted_at, now()), lifecycle = 'churned', updated_at = now()
		WHERE slug = $1 RETURNING id, schema_name, shard, deleted_at < now()`, slug).Scan(&id, &schema, &shard, &already)
	if isNoRows(err) {
		return fmt.Errorf("city %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", slug, err)
	}
	pool, err := o.db.Shard(shard)
	if err != nil {
		return fmt.Errorf("delete %s: %w", slug, err)
	}
	if already {
		var exists bool
		if err := pool.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, schema); err != nil {
			return fmt.Errorf("delete %s: %w", slug, err)
		}
		if !exists {
			return fmt.Errorf("city %q: %w", slug, ErrNotFound)
		}
	}
	for _, q := range []string{
		`DELETE FROM platform.tenant_hosts WHERE tenant_id = $1`,
		`DELETE FROM platform.outbox WHERE tenant_id = $1`,
	} {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("delete %s: %w", slug, err)
		}
	}
	if err := notify(ctx, tx, id); err != nil {
		return fmt.Errorf("delete %s: %w", slug, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("delete %s: %w", slug, err)
	}
	o.reg.Invalidate()
	if !schemaRe.MatchString(schema) {
		return fmt.Errorf("delete %s: invalid schema name %q", slug, schema)
	}
	if _, err := pool.ExecContext(ctx, `DROP SCHEMA IF EXISTS `+pq.QuoteIdentifier(schema)+` CASCADE`); err != nil {
		return fmt.Errorf("delete %s: drop schema: %w", slug, err)
	}
	if o.storageDir != "" {
		if err := os.RemoveAll(StoragePath(o.storageDir, id)); err != nil {
			return fmt.Errorf("delete %s: remove files: %w", slug, err)
		}
	}
	return nil
}

// StoragePath is the directory holding every stored file of a city:
// <storage dir>/tenants/<id>.
func StoragePath(storageDir string, id ID) string {
	return filepath.Join(storageDir, "tenants", strconv.FormatInt(int64(id), 10))
}
