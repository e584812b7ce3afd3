package account_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// cityTextContaining lists "table.column" of every text or jsonb value in the
// city's schema that contains needle (case-insensitive).
func cityTextContaining(t *testing.T, env *tenanttest.Env, city *tenant.Tenant, needle string) []string {
	t.Helper()
	ctx := context.Background()
	var cols []struct {
		Table  string `db:"table_name"`
		Column string `db:"column_name"`
	}
	require.NoError(t, env.DB.Platform().SelectContext(ctx, &cols, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = $1 AND data_type IN ('text', 'jsonb', 'character varying')`, city.Schema))
	require.NotEmpty(t, cols)
	var hits []string
	err := env.DB.InReadTx(tenanttest.Ctx(city), func(tx *tenant.Tx) error {
		for _, c := range cols {
			var n int
			q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE %q::text ILIKE '%%' || $1 || '%%'`, c.Table, c.Column)
			if err := tx.GetContext(ctx, &n, q, needle); err != nil {
				return err
			}
			if n > 0 {
				hits = append(hits, c.Table+"."+c.Column)
			}
		}
		return nil
	})
	require.NoError(t, err)
	return hits
}

func TestDeleteAccountErasesPersonalData(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "forget")
	h := webtest.New(t, env, webtest.Options{})
	const mail = "zoe.quixotic@example.org"
	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/users",
		`{"email":"`+mail+`","password":"correct horse battery","first_name":"Zoequix","last_name":"Vanderquux"}`)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	created := accountOf(t, h, c.DefaultHost, mail)
	cookie, csrf := h.Login(t, c.DefaultHost, mail)
	r = h.Call(t, "POST", c.DefaultHost, "/api/v1/tokens", `{"name":"my script"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusCreated, r.Status, r.Body)
	var tok struct{ Token string }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &tok))
	// A profile with a bio, a data archive on disk, an invitation to the address.
	ctx := tenanttest.Ctx(c)
	users := user.NewService(env.DB)
	_, err := users.UpdateProfile(ctx, user.ID(created.ID), user.Profile{FirstName: "Zoequix", LastName: "Vanderquux", Bio: "I live on Quuxstraat", Locale: "en"})
	require.NoError(t, err)
	exp, err := users.RequestDataExport(ctx, user.ID(created.ID))
	require.NoError(t, err)
	require.NoError(t, users.BuildDataExport(ctx, exp.ID, h.Env.StorageDir))
	file, err := users.DataExportFile(ctx, user.ID(created.ID), exp.ID, h.Env.StorageDir)
	require.NoError(t, err)
	archive, err := os.ReadFile(file)
	require.NoError(t, err)
	require.Contains(t, string(archive), mail)
	require.Contains(t, string(archive), "Quuxstraat")
	require.NotEmpty(t, cityTextContaining(t, env, c, "quixotic"), "the test must see the data before deletion")

	// Wrong password: nothing happens.
	r = h.Call(t, "DELETE", c.DefaultHost, "/api/v1/me", `{"password":"not my password"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	webtest.RequireProblem(t, r, 422, "invalid")
	require.Equal(t, http.StatusOK, h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", cookie).Status)

	r = h.Call(t, "DELETE", c.DefaultHost, "/api/v1/me", `{"password":"correct horse battery"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)

	for _, needle := range []string{"quixotic", "Zoequix", "Vanderquux", "Quuxstraat", "my script"} {
		require.Empty(t, cityTextContaining(t, env, c, needle), "personal data %q survives", needle)
	}
	// The account row stays (content keeps its author id), anonymised.
	var deleted bool
	require.NoError(t, env.DB.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(context.Background(), &deleted, `SELECT deleted_at IS NOT NULL AND email IS NULL FROM users WHERE id = $1`, created.ID)
	}))
	require.True(t, deleted)
	_, err = os.Stat(file)
	require.True(t, os.IsNotExist(err), "the data archive file must be removed")
	// Sessions and tokens are dead; the address is free to register again.
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Cookie", cookie), 401, "unauthenticated")
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Authorization", "Bearer "+tok.Token), 401, "unauthenticated")
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, "/api/v1/session", `{"email":"`+mail+`","password":"correct horse battery"}`), 401, "unauthenticated")
	h.Register(t, c.DefaultHost, mail)
}

func TestDataExportBelongsToItsOwner(t *testing.T) {
	t.Parallel()
	env := tenanttest.New(t)
	c := env.City(t, "archive")
	h := webtest.New(t, env, webtest.Options{})
	h.Register(t, c.DefaultHost, "owner@example.org")
	h.Register(t, c.DefaultHost, "other@example.org")
	owner, ocsrf := h.Login(t, c.DefaultHost, "owner@example.org")
	other, _ := h.Login(t, c.DefaultHost, "other@example.org")
	r := h.Call(t, "POST", c.DefaultHost, "/api/v1/me/data-exports", "", "Cookie", owner, "X-CSRF-Token", ocsrf)
	require.Equal(t, http.StatusAccepted, r.Status, r.Body)
	var e struct {
		ID    int64  `json:"id"`
		State string `json:"state"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &e))
	require.Equal(t, "pending", e.State)
	require.NoError(t, user.NewService(env.DB).BuildDataExport(tenanttest.Ctx(c), e.ID, h.Env.StorageDir))

	list := h.Call(t, "GET", c.DefaultHost, "/api/v1/me/data-exports", "", "Cookie", owner)
	require.Contains(t, list.Body, `"state":"ready"`)
	path := fmt.Sprintf("/api/v1/me/data-exports/%d/download", e.ID)
	got := h.Call(t, "GET", c.DefaultHost, path, "", "Cookie", owner)
	require.Equal(t, http.StatusOK, got.Status, got.Body)
	require.True(t, strings.Contains(got.Body, "owner@example.org"))
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, path, "", "Cookie", other), 404, "not_found")
	webtest.RequireProblem(t, h.Call(t, "GET", c.DefaultHost, path, ""), 401, "unauthenticated")
}
