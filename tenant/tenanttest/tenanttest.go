// Package tenanttest gives tests a real, private PostgreSQL database with the
// platform schema migrated, and cities made by the real provisioning code.
package tenanttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"agora/domain/feature"
	"agora/tenant"
)

// BaseDomain and PlatformHost are what test registries use.
const (
	BaseDomain   = "agora.test"
	PlatformHost = "platform.agora.test"
)

// Env is one test database with Agora's tenant machinery on top of it.
type Env struct {
	URL         string // URL of the private database
	DB          *tenant.DB
	Registry    *tenant.Registry
	Provisioner *tenant.Provisioner
	Ops         *tenant.Operations
	Migrator    *tenant.Migrator
	StorageDir  string
}

// ServerURL is the PostgreSQL server tests use: AGORA_TEST_DATABASE_URL, else
// AGORA_DATABASE_URL, else the local default. The database part is ignored.
func ServerURL() string {
	for _, k := range []string{"AGORA_TEST_DATABASE_URL", "AGORA_DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// NewDatabase creates an empty database with a random name on the test server
// and drops it when the test ends. It returns its URL.
func NewDatabase(tb testing.TB) string {
	tb.Helper()
	u, err := url.Parse(ServerURL())
	if err != nil {
		tb.Fatalf("tenanttest: bad server URL: %v", err)
	}
	admin := *u
	admin.Path = "/postgres"
	adb, err := sqlx.Open("postgres", admin.String())
	if err != nil {
		tb.Fatal(err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	name := "agora_test_" + hex.EncodeToString(b)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		adb.Close()
		tb.Fatalf("tenanttest: create database (is PostgreSQL running? make test starts it): %v", err)
	}
	tb.Cleanup(func() {
		defer adb.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := adb.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("tenanttest: drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// New returns an Env on a fresh database with the platform schema migrated
// and the plan table synced, as agora migrate leaves it.
func New(tb testing.TB) *Env {
	tb.Helper()
	dsn := NewDatabase(tb)
	pool, err := tenant.OpenPool(dsn, tenant.PoolOptions{MaxConns: 20, ConnMaxLifetime: 5 * time.Minute})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { pool.Close() })
	if _, err := tenant.MigratePlatform(context.Background(), pool); err != nil {
		tb.Fatalf("tenanttest: %v", err)
	}
	// As agora migrate does: the plan table is written from feature's.
	if _, err := feature.SyncPlans(context.Background(), pool); err != nil {
		tb.Fatalf("tenanttest: %v", err)
	}
	// City ids are unique within one installation. Test databases share one
	// Redis, so start each database's ids at a random point: keys that carry a
	// city id (rate limits, task ids) then never collide across tests.
	var start [4]byte
	_, _ = rand.Read(start[:])
	first := 1_000_000 + int64(start[0])<<24 | int64(start[1])<<16 | int64(start[2])<<8 | int64(start[3])
	if _, err := pool.Exec(fmt.Sprintf("ALTER TABLE platform.tenants ALTER COLUMN id RESTART WITH %d", first)); err != nil {
		tb.Fatalf("tenanttest: %v", err)
	}
	db := tenant.NewDB(pool, nil)
	reg := tenant.NewRegistry(pool, BaseDomain, time.Minute)
	storage := tb.TempDir()
	return &Env{
		URL:         dsn,
		DB:          db,
		Registry:    reg,
		Provisioner: tenant.NewProvisioner(db, BaseDomain, PlatformHost),
		Ops:         tenant.NewOperations(db, reg, PlatformHost, storage),
		Migrator:    tenant.NewMigrator(db, reg),
		StorageDir:  storage,
	}
}

// City provisions a city with the given slug (name "City <slug>", locales en,
// fr, nl, plan standard, lifecycle active) and returns it as the registry
// loads it.
func (e *Env) City(tb testing.TB, slug string, hosts ...string) *tenant.Tenant {
	tb.Helper()
	c, err := e.Provisioner.Create(context.Background(), tenant.Spec{
		Slug: slug, Name: fmt.Sprintf("City %s", slug), Hosts: hosts, Plan: tenant.PlanStandard,
		Lifecycle: tenant.Active, Locales: []string{"en", "fr", "nl"}, TimeZone: "Europe/Brussels",
	})
	if err != nil {
		tb.Fatalf("tenanttest: create city %s: %v", slug, err)
	}
	return c.Tenant
}

// Ctx returns a background context carrying t.
func Ctx(t *tenant.Tenant) context.Context {
	return tenant.WithTenant(context.Background(), t)
}
