// Package tenant is Agora's multi-tenant core: the city registry, host
// resolution, the scoped transaction that is the only door into a city's
// schema, provisioning, migrations across cities, and shard routing.
package tenant

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/lib/pq"
)

// ID identifies a city in the platform registry.
type ID int64

// Plan is a city's license tier.
type Plan string

const (
	PlanEssential Plan = "essential"
	PlanStandard  Plan = "standard"
	PlanPremium   Plan = "premium"
)

// Valid reports whether p is a known plan.
func (p Plan) Valid() bool {
	return p == PlanEssential || p == PlanStandard || p == PlanPremium
}

// Lifecycle is where a city stands with the operator.
type Lifecycle string

const (
	Trial     Lifecycle = "trial"
	Active    Lifecycle = "active"
	Suspended Lifecycle = "suspended"
	Churned   Lifecycle = "churned"
)

// Valid reports whether l is a known lifecycle state.
func (l Lifecycle) Valid() bool {
	return l == Trial || l == Active || l == Suspended || l == Churned
}

// Tenant is one city as the platform registry knows it.
type Tenant struct {
	ID          ID
	Slug        string
	Name        string
	Schema      string
	Shard       string
	Plan        Plan
	Lifecycle   Lifecycle
	Locales     []string
	TimeZone    string
	Country     string
	PrimaryHost string   // canonical host: the primary host row, else DefaultHost
	DefaultHost string   // <slug>.<base domain>
	Hosts       []string // explicit hosts, primary first
	CreatedAt   time.Time
	SuspendedAt *time.Time
	DeletedAt   *time.Time
	TrialEndsAt *time.Time // when a trial falls back to the essential plan
	// Granted and Revoked are the operator's overrides of the plan.
	Granted, Revoked []string

	// features is what the plan and the overrides allow.
	features map[string]bool

	// beginSQL opens a transaction and scopes it to the city's schema in one
	// round trip. Computed once when the tenant is loaded, never per request.
	beginSQL, beginReadSQL string
}

// Allows reports whether the city's plan, with the operator's overrides,
// includes the feature.
func (t *Tenant) Allows(feature string) bool { return t.features[feature] }

// DefaultLocale is the city's first locale.
func (t *Tenant) DefaultLocale() string { return t.Locales[0] }

// IsSuspended reports whether the portal must show the maintenance page.
func (t *Tenant) IsSuspended() bool { return t.Lifecycle == Suspended }

var (
	slugRe   = regexp.MustCompile(`^[a-z][a-z0-9_]{1,40}$`)
	schemaRe = regexp.MustCompile(`^city_[a-z][a-z0-9_]{1,40}$`)
	localeRe = regexp.MustCompile(`^[a-z]{2}(-[A-Z]{2})?$`)
)

// ValidSlug reports whether s may name a city (and so its schema).
func ValidSlug(s string) bool { return slugRe.MatchString(s) }

// SchemaName returns the schema of the city with slug s.
func SchemaName(slug string) string { return "city_" + slug }

// DefaultHost is the host every city answers on besides its own domains:
// <slug>.<base domain>, with underscores turned into hyphens (DNS forbids them).
func DefaultHost(slug, baseDomain string) string {
	return strings.ReplaceAll(slug, "_", "-") + "." + baseDomain
}

// prepare validates the schema name and precomputes the statements that open a
// scoped transaction. The schema name is checked against schemaRe and quoted
// both as an identifier and as a literal, so it can never inject SQL.
func (t *Tenant) prepare() error {
	if !schemaRe.MatchString(t.Schema) {
		return fmt.Errorf("tenant %d: invalid schema name %q", t.ID, t.Schema)
	}
	path := pq.QuoteLiteral(pq.QuoteIdentifier(t.Schema))
	scope := "; SELECT set_config('search_path', " + path + ", true)"
	t.beginSQL = "BEGIN" + scope
	t.beginReadSQL = "BEGIN READ ONLY" + scope
	return nil
}

type ctxKey struct{}

// WithTenant returns a context that carries t.
func WithTenant(ctx context.Context, t *Tenant) context.Context {
	return context.WithValue(ctx, ctxKey{}, t)
}

// FromContext returns the city carried by ctx, if any.
func FromContext(ctx context.Context) (*Tenant, bool) {
	t, ok := ctx.Value(ctxKey{}).(*Tenant)
	return t, ok && t != nil
}

// Errors returned by this package; callers match them with errors.Is.
var (
	ErrNoTenant     = errors.New("no city in context")
	ErrNotFound     = errors.New("city not found")
	ErrInvalidHost  = errors.New("invalid host")
	ErrIPHost       = errors.New("IP-literal hosts are not served")
	ErrHostTaken    = errors.New("host already belongs to a city")
	ErrSlugTaken    = errors.New("slug already taken")
	ErrInvalid      = errors.New("invalid city")
	ErrPlatformHost = errors.New("the platform host cannot be a city host")
)
