package tenanttest

import (
	"context"
	"fmt"
	"testing"

	"agora/tenant"
)

// CityOnPlan is City with another plan: a city made by the real
// provisioning code, active, in en, fr and nl.
func (e *Env) CityOnPlan(tb testing.TB, slug string, plan tenant.Plan, hosts ...string) *tenant.Tenant {
	tb.Helper()
	c, err := e.Provisioner.Create(context.Background(), tenant.Spec{
		Slug: slug, Name: fmt.Sprintf("City %s", slug), Hosts: hosts, Plan: plan,
		Lifecycle: tenant.Active, Locales: []string{"en", "fr", "nl"}, TimeZone: "Europe/Brussels",
	})
	if err != nil {
		tb.Fatalf("tenanttest: create city %s: %v", slug, err)
	}
	return c.Tenant
}
