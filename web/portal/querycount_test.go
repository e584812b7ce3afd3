package portal_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

// TestIdeaListQueryCountIsConstant: the project page with its idea list,
// and the ideas API, cost the same number of queries for 1, 20 and 100
// ideas (one page shows at most 20).
func TestIdeaListQueryCountIsConstant(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "counted", nil)
	h, c, project, env := s.H, s.City, s.Project, s.Env
	count := func(path string) int64 {
		var n atomic.Int64
		req := httptest.NewRequest(http.MethodGet, path, nil)
		req.Host = c.DefaultHost
		req = req.WithContext(tenant.CountQueries(req.Context(), &n))
		rec := httptest.NewRecorder()
		h.Server.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		return n.Load()
	}
	addIdeas := func(k int) {
		require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(context.Background(), `INSERT INTO ideas (project_id, title, status_id)
				SELECT $1, 'Idea ' || g, (SELECT id FROM idea_statuses WHERE code = 'proposed') FROM generate_series(1, $2) g`, project, k)
			if err != nil {
				return err
			}
			_, err = tx.ExecContext(context.Background(), `INSERT INTO idea_topics (idea_id, topic_id) SELECT id, 1 FROM ideas ON CONFLICT DO NOTHING`)
			return err
		}))
	}
	var page, api []int64
	for _, total := range []int{1, 20, 100} {
		have := 0
		require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			return tx.GetContext(context.Background(), &have, `SELECT count(*) FROM ideas`)
		}))
		addIdeas(total - have)
		page = append(page, count("/projects/ideas"))
		api = append(api, count(fmt.Sprintf("/api/v1/ideas?project=%d", project)))
	}
	t.Logf("queries for 1, 20, 100 ideas: page %v, api %v", page, api)
	require.Equal(t, page[0], page[1])
	require.Equal(t, page[1], page[2])
	require.Equal(t, api[0], api[1])
	require.Equal(t, api[1], api[2])
	require.Greater(t, page[0], int64(2), "the counter must see the page's queries")
}
