package backoffice_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestDowngradeLocksAndUpgradeRestores: a standard city uses exports and a
// custom idea status; the operator moves it to essential: the routes of
// those features answer feature_unavailable, the pages show them locked,
// and nothing is deleted; moving back to standard restores every route and
// the same data.
func TestDowngradeLocksAndUpgradeRestores(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "updown")
	h := webtest.New(t, env, webtest.Options{})
	admin := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "admin@updown.example.org", Role: user.RoleAdmin}))
	auth := []string{"Authorization", admin}

	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/exports", `{"kind":"ideas","format":"csv"}`, auth...)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	var exp struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &exp))
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"on_hold","title":{"en":"On hold"}}`, auth...)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	count := func(table string) int {
		var n int
		require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			return tx.GetContext(context.Background(), &n, `SELECT count(*) FROM `+table)
		}))
		return n
	}
	exportsBefore, statusesBefore := count("exports"), count("idea_statuses")

	plan := func(p tenant.Plan) {
		t.Helper()
		_, err := env.Ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &p})
		require.NoError(t, err)
	}
	plan(tenant.PlanEssential)
	exportPath := fmt.Sprintf("/api/v1/exports/%d", exp.ID)
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, "/api/v1/exports", auth...), http.StatusForbidden, "feature_unavailable")
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, exportPath, auth...), http.StatusForbidden, "feature_unavailable")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/exports", `{"kind":"ideas","format":"csv"}`, auth...), http.StatusForbidden, "feature_unavailable")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"later","title":{"en":"Later"}}`, auth...), http.StatusForbidden, "feature_unavailable")
	r = h.Get(t, c.DefaultHost, "/api/v1/features", auth...)
	require.Contains(t, r.Body, `{"key":"exports","allowed":false,"enabled":false,"plan":"standard"}`)
	// The data stays: the status is still there for the ideas that have it.
	r = h.Get(t, c.DefaultHost, "/api/v1/statuses")
	require.Contains(t, r.Body, `"code":"on_hold"`)
	require.Equal(t, exportsBefore, count("exports"))
	require.Equal(t, statusesBefore, count("idea_statuses"))

	plan(tenant.PlanStandard)
	r = h.Get(t, c.DefaultHost, exportPath, auth...)
	require.Equal(t, http.StatusOK, r.Status, "the same export is back: %s", r.Body)
	require.Contains(t, r.Body, fmt.Sprintf(`"id":%d`, exp.ID))
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"later","title":{"en":"Later"}}`, auth...)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
}
