package tenant

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"agora/migrations"
)

// Spec describes a city to create.
type Spec struct {
	Slug       string
	Name       string
	Hosts      []string // the first is the primary host; may be empty
	Plan       Plan
	Lifecycle  Lifecycle
	Locales    []string // the first is the default locale
	TimeZone   string
	Country    string // ISO 3166-1 alpha-2, optional
	Shard      string
	AdminEmail string // optional: invite the first admin
}

// Created is what Create returns: the city and, when an admin email was given,
// the one-time invitation token (stored only hashed).
type Created struct {
	Tenant          *Tenant
	InvitationToken string
}

var countryRe = regexp.MustCompile(`^[A-Z]{2}$`)

// normalize validates s and fills defaults. Errors wrap ErrInvalid and name the
// field.
func (s *Spec) normalize(baseDomain, platformHost string) error {
	bad := func(field, format string, a ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrInvalid, field, fmt.Sprintf(format, a...))
	}
	s.Slug = strings.TrimSpace(s.Slug)
	if !ValidSlug(s.Slug) {
		return bad("slug", "%q must be 2-41 characters: a lower-case letter, then letters, digits or _", s.Slug)
	}
	if DefaultHost(s.Slug, baseDomain) == platformHost {
		return fmt.Errorf("%w: slug: %q would make the platform host %s a city host", ErrInvalid, s.Slug, platformHost)
	}
	if SchemaName(s.Slug) == referenceSchema {
		return bad("slug", "%q is reserved", s.Slug)
	}
	s.Name = strings.TrimSpace(s.Name)
	if s.Name == "" || len(s.Name) > 200 {
		return bad("name", "must be 1-200 characters")
	}
	if s.Plan == "" {
		s.Plan = PlanEssential
	}
	if !s.Plan.Valid() {
		return bad("plan", "%q is not one of essential, standard, premium", s.Plan)
	}
	if s.Lifecycle == "" {
		s.Lifecycle = Trial
	}
	if !s.Lifecycle.Valid() {
		return bad("lifecycle", "%q is not one of trial, active, suspended, churned", s.Lifecycle)
	}
	if len(s.Locales) == 0 {
		s.Locales = []string{"en"}
	}
	if err := validLocales(s.Locales); err != nil {
		return bad("locales", "%v", err)
	}
	if s.TimeZone == "" {
		s.TimeZone = "UTC"
	}
	if !validTimeZone(s.TimeZone) {
		return bad("timezone", "%q is not an IANA time zone (e.g. Europe/Brussels)", s.TimeZone)
	}
	s.Country = strings.ToUpper(strings.TrimSpace(s.Country))
	if s.Country != "" && !countryRe.MatchString(s.Country) {
		return bad("country", "%q is not a two-letter country code", s.Country)
	}
	if s.Shard == "" {
		s.Shard = "main"
	}
	hosts := make([]string, 0, len(s.Hosts))
	for _, h := range s.Hosts {
		n, err := checkHost(h, s.Slug, baseDomain, platformHost)
		if err != nil {
			return fmt.Errorf("%w: host: %w", ErrInvalid, err)
		}
		hosts = append(hosts, n)
	}
	s.Hosts = hosts
	if s.AdminEmail != "" {
		a, err := mail.ParseAddress(s.AdminEmail)
		if err != nil || a.Name != "" {
			return bad("admin-email", "%q is not an email address", s.AdminEmail)
		}
		s.AdminEmail = strings.ToLower(a.Address)
	}
	return nil
}

// validTimeZone accepts IANA zone names only: "Local" would mean each node's
// own zone.
func validTimeZone(tz string) bool {
	if tz == "" || tz == "Local" {
		return false
	}
	_, err := time.LoadLocation(tz)
	return err == nil
}

func validLocales(ls []string) error {
	seen := map[string]bool{}
	for _, l := range ls {
		if !localeRe.MatchString(l) {
			return fmt.Errorf("%q is not a locale like en, fr or nl-BE", l)
		}
		if seen[l] {
			return fmt.Errorf("%q is listed twice", l)
		}
		seen[l] = true
	}
	return nil
}

// checkHost normalises an operator-given host and refuses the platform host
// and other cities' default hosts.
func checkHost(raw, slug, baseDomain, platformHost string) (string, error) {
	h, err := NormalizeHost(raw)
	if err != nil {
		return "", err
	}
	if h == platformHost {
		return "", ErrPlatformHost
	}
	if h == baseDomain {
		return "", fmt.Errorf("%s is the base domain of every city's default host", h)
	}
	if strings.HasSuffix(h, "."+baseDomain) {
		if h == DefaultHost(slug, baseDomain) {
			return "", fmt.Errorf("%s is already this city's default host", h)
		}
		return "", fmt.Errorf("%s is reserved: names under %s belong to cities' default hosts", h, baseDomain)
	}
	return h, nil
}

// Provisioner creates cities: registry rows, schema, migrations and seed data
// in one transaction.
type Provisioner struct {
	db           *DB
	baseDomain   string
	platformHost string
	city         *migrations.Set
	// failAt makes the named step fail; tests use it to prove atomicity.
	failAt string
}

// NewProvisioner returns a Provisioner that creates cities with the city
// migrations of this release.
func NewProvisioner(db *DB, baseDomain, platformHost string) *Provisioner {
	return &Provisioner{db: db, baseDomain: baseDomain, platformHost: platformHost, city: migrations.City()}
}

// ProvisionSteps names the steps of Create, in order.
var ProvisionSteps = []string{"registry", "hosts", "schema", "migrate", "seed", "invite"}

func (p *Provisioner) step(name string) error {
	if p.failAt == name {
		return fmt.Errorf("step %s: failure injected", name)
	}
	return nil
}

// Create provisions a city. Either everything exists afterwards (registry
// row, hosts, schema fully migrated, seed data, admin invitation) or nothing
// does. Errors: ErrInvalid (naming the field), ErrSlugTaken, ErrHostTaken.
func (p *Provisioner) Create(ctx context.Context, s Spec) (*Created, error) {
	if err := s.normalize(p.baseDomain, p.platformHost); err != nil {
		return nil, err
	}
	shard, err := p.db.Shard(s.Shard)
	if err != nil {
		return nil, fmt.Errorf("%w: shard: %v", ErrInvalid, err)
	}
	ptx, err := p.db.platform.BeginTxx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("create city: %w", err)
	}
	defer ptx.Rollback()
	id, err := p.register(ctx, ptx, s)
	if err != nil {
		return nil, err
	}
	// On the main shard the schema is built in the same transaction as the
	// registry rows. On another shard it gets its own transaction, committed
	// first and dropped again if the registry cannot commit.
	stx := ptx
	if shard != p.db.platform {
		if stx, err = shard.BeginTxx(ctx, nil); err != nil {
			return nil, fmt.Errorf("create city: shard %s: %w", s.Shard, err)
		}
		defer stx.Rollback()
	}
	inv, err := p.build(ctx, stx, s)
	if err != nil {
		return nil, err
	}
	if inv.Token != "" {
		// The outbox is on the platform database: the task commits with the
		// registry rows, after the invitation it names (on another shard,
		// the shard's transaction commits first).
		if err := queueInvitationEmail(ctx, ptx, id, inv.ID); err != nil {
			return nil, fmt.Errorf("create city: queue invitation: %w", err)
		}
	}
	if stx != ptx {
		if err := stx.Commit(); err != nil {
			return nil, fmt.Errorf("create city: commit shard: %w", err)
		}
	}
	if err := ptx.Commit(); err != nil {
		if stx != ptx {
			_, _ = shard.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA IF EXISTS `+pq.QuoteIdentifier(SchemaName(s.Slug))+` CASCADE`)
		}
		return nil, fmt.Errorf("create city: commit: %w", err)
	}
	ts, err := scanTenants(ctx, p.db.platform, p.baseDomain, "WHERE t.id = $1", id)
	if err != nil || len(ts) == 0 {
		return nil, fmt.Errorf("create city: read back %d: %v", id, err)
	}
	return &Created{Tenant: ts[0], InvitationToken: inv.Token}, nil
}

func (p *Provisioner) register(ctx context.Context, tx *sqlx.Tx, s Spec) (ID, error) {
	if err := p.step("registry"); err != nil {
		return 0, err
	}
	var id ID
	err := tx.GetContext(ctx, &id, `
		INSERT INTO platform.tenants (slug, name, schema_name, shard, plan, lifecycle, locales, time_zone, country)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
		s.Slug, s.Name, SchemaName(s.Slug), s.Shard, s.Plan, s.Lifecycle, pq.StringArray(s.Locales), s.TimeZone, s.Country)
	if isUnique(err) {
		return 0, fmt.Errorf("%w: %s", ErrSlugTaken, s.Slug)
	}
	if err != nil {
		return 0, fmt.Errorf("register city: %w", err)
	}
	if err := p.step("hosts"); err != nil {
		return 0, err
	}
	for i, h := range s.Hosts {
		if err := insertHost(ctx, tx, id, h, i == 0); err != nil {
			return 0, err
		}
	}
	if err := notify(ctx, tx, id); err != nil {
		return 0, fmt.Errorf("register city: %w", err)
	}
	return id, nil
}

func insertHost(ctx context.Context, tx sqlx.ExecerContext, id ID, host string, primary bool) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO platform.tenant_hosts (host, tenant_id, is_primary) VALUES ($1, $2, $3)`, host, id, primary)
	if isUnique(err) {
		return fmt.Errorf("%w: %s", ErrHostTaken, host)
	}
	if err != nil {
		return fmt.Errorf("add host %s: %w", host, err)
	}
	return nil
}

// build creates the city's schema, migrates and seeds it inside tx and
// returns the admin invitation, if any (a zero Invitation otherwise).
func (p *Provisioner) build(ctx context.Context, tx *sqlx.Tx, s Spec) (Invitation, error) {
	schema := SchemaName(s.Slug)
	if err := p.step("schema"); err != nil {
		return Invitation{}, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA `+pq.QuoteIdentifier(schema)); err != nil {
		if isDuplicateSchema(err) {
			return Invitation{}, fmt.Errorf("%w: schema %s already exists", ErrSlugTaken, schema)
		}
		return Invitation{}, fmt.Errorf("create schema: %w", err)
	}
	if err := scope(ctx, tx, schema); err != nil {
		return Invitation{}, err
	}
	if err := p.step("migrate"); err != nil {
		return Invitation{}, err
	}
	if _, err := p.city.Apply(ctx, tx); err != nil {
		return Invitation{}, fmt.Errorf("migrate city %s: %w", s.Slug, err)
	}
	if err := p.step("seed"); err != nil {
		return Invitation{}, err
	}
	if err := seed(ctx, tx, s); err != nil {
		return Invitation{}, err
	}
	if err := p.step("invite"); err != nil {
		return Invitation{}, err
	}
	if s.AdminEmail == "" {
		return Invitation{}, nil
	}
	return Invite(ctx, tx, s.AdminEmail, "admin", 14*24*time.Hour)
}

// queueInvitationEmail records, on ptx (the provisioning transaction of the
// platform database, where the outbox is), the task that emails invitation
// inv of city id. It goes through enqueue like every task, so the relay is
// woken when the city commits.
func queueInvitationEmail(ctx context.Context, ptx sqlx.ExecerContext, id ID, inv int64) error {
	return enqueue(ctx, ptx, id, Task{Type: TaskEmail, ID: fmt.Sprintf("email:invitation:%d", inv), Queue: "critical",
		Payload: map[string]any{"kind": "invitation", "invitation_id": inv, "event": fmt.Sprintf("invitation-%d", inv)}})
}

// Invitation is an invitation just recorded: its id and its one-time token.
type Invitation struct {
	ID    int64
	Token string
}

// Invite records an invitation in the city schema of tx and returns it with
// its one-time token; only the token's SHA-256 is stored.
func Invite(ctx context.Context, tx sqlx.QueryerContext, email, role string, ttl time.Duration) (Invitation, error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return Invitation{}, fmt.Errorf("invite: %w", err)
	}
	inv := Invitation{Token: base64.RawURLEncoding.EncodeToString(raw)}
	sum := sha256.Sum256([]byte(inv.Token))
	if err := sqlx.GetContext(ctx, tx, &inv.ID, `INSERT INTO invitations (email, role, token_hash, expires_at)
		VALUES ($1, $2, $3, now() + $4::interval) RETURNING id`,
		email, role, sum[:], fmt.Sprintf("%d seconds", int(ttl.Seconds()))); err != nil {
		return Invitation{}, fmt.Errorf("invite %s: %w", email, err)
	}
	return inv, nil
}

// scope sets the transaction-local search_path of tx to schema. With run's
// precomputed statements it is the only place Agora sets a search_path.
func scope(ctx context.Context, tx sqlx.ExecerContext, schema string) error {
	if !schemaRe.MatchString(schema) {
		return fmt.Errorf("invalid schema name %q", schema)
	}
	if _, err := tx.ExecContext(ctx, `SELECT set_config('search_path', $1, true)`, pq.QuoteIdentifier(schema)); err != nil {
		return fmt.Errorf("scope to %s: %w", schema, err)
	}
	return nil
}

func isUnique(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "23505"
}

func isDuplicateSchema(err error) bool {
	var pe *pq.Error
	return errors.As(err, &pe) && pe.Code == "42P06"
}
