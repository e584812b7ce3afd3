package tenant_test

import (
	"context"
	"testing"

	"agora/tenant"
	"agora/tenant/tenanttest"
)

func TestCreateAndReadThroughDoor(t *testing.T) {
	env := tenanttest.New(t)
	c := env.City(t, "gent", "gent.example.org")
	var name string
	err := env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &name, `SELECT name FROM settings`)
	})
	if err != nil || name != "City gent" {
		t.Fatalf("got %q, %v", name, err)
	}
	got, res, err := env.Registry.Resolve(context.Background(), "gent.example.org")
	if err != nil || got == nil || got.ID != c.ID || res != tenant.Serve {
		t.Fatalf("resolve: %v %v %v", got, res, err)
	}
}
