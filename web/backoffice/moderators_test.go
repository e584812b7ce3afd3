package backoffice_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestProjectModerators(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "moderators", nil)
	h, c, admin, csrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	other := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "other", Title: "Other", Phase: &fixture.PhaseOpts{}}).ID
	modUser := fixture.User(t, env, c, fixture.UserOpts{Email: "mod@example.org", FirstName: "Mo", LastName: "Derator"})
	modID, mod := int64(modUser.ID), fixture.Token(t, env, c, modUser)
	goneUser := fixture.User(t, env, c, fixture.UserOpts{Email: "gone@example.org", FirstName: "Gone", LastName: "Soon"})
	goneID := int64(goneUser.ID)
	fixture.User(t, env, c, fixture.UserOpts{Email: "late@example.org", FirstName: "Late", LastName: "Comer"})
	it := webtest.NewIdea(t, h, c.DefaultHost, project, "Moderated idea", auth...)
	add := func(id int64, email string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", id), `{"email":"`+email+`"}`, auth...)
	}
	setStatus := func(status string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", it), `{"status":"`+status+`"}`, "Authorization", mod)
	}

	t.Run("a moderator answers the project's ideas", func(t *testing.T) {
		webtest.RequireProblem(t, setStatus("viewed"), 403, "forbidden")
		m := webtest.Decode[struct {
			UserID int64  `json:"user_id"`
			Email  string `json:"email"`
		}](t, add(int64(project), "mod@example.org"), 201)
		require.Equal(t, modID, m.UserID)
		r := setStatus("viewed")
		require.Equal(t, 200, r.Status, r.Body)
		require.Contains(t, r.Body, `"status":"viewed"`)
		require.Contains(t, h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), "", "Cookie", admin).Body, "mod@example.org")
		// Not the ideas of another project.
		elsewhere := webtest.NewIdea(t, h, c.DefaultHost, other, "Elsewhere", auth...)
		webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", elsewhere), `{"status":"viewed"}`, "Authorization", mod), 403, "forbidden")
		// Only admins add moderators.
		r = h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), `{"email":"late@example.org"}`, "Authorization", mod)
		webtest.RequireProblem(t, r, 403, "forbidden")
	})

	t.Run("only existing non-admin accounts", func(t *testing.T) {
		require.Equal(t, "email", webtest.RequireProblem(t, add(int64(project), "nobody@example.org"), 422, "invalid").Field)
		require.Equal(t, "email", webtest.RequireProblem(t, add(int64(project), "admin@example.org"), 422, "invalid").Field)
		webtest.RequireProblem(t, add(999999, "mod@example.org"), 404, "not_found")
	})

	t.Run("seats", func(t *testing.T) {
		require.Equal(t, 201, add(int64(project), "gone@example.org").Status)
		// 18 more distinct moderators: 20, the standard plan's seats.
		require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
			for i := range 18 {
				var id int64
				if err := tx.GetContext(context.Background(), &id, `INSERT INTO users (email, first_name, last_name, email_confirmed_at)
					VALUES ($1, 'Seat', $2, now()) RETURNING id`, fmt.Sprintf("seat%d@example.org", i), fmt.Sprintf("Holder %d", i)); err != nil {
					return err
				}
				if _, err := tx.ExecContext(context.Background(), `INSERT INTO project_moderators (project_id, user_id) VALUES ($1, $2)`, other, id); err != nil {
					return err
				}
			}
			return nil
		}))
		p := webtest.RequireProblem(t, add(int64(project), "late@example.org"), 409, "conflict")
		require.Contains(t, p.Detail, "20")
		// A moderator already seated moderates another project at no cost.
		require.Equal(t, 201, add(int64(other), "mod@example.org").Status)
		require.Equal(t, 201, add(int64(project), "seat3@example.org").Status)
		webtest.RequireProblem(t, add(int64(other), "late@example.org"), 409, "conflict")
	})

	t.Run("removal takes the rights away", func(t *testing.T) {
		r := h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators/%d", project, modID), "", auth...)
		require.Equal(t, http.StatusNoContent, r.Status, r.Body)
		webtest.RequireProblem(t, setStatus("accepted"), 403, "forbidden")
		require.NotContains(t, h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), "", "Cookie", admin).Body, "mod@example.org")
		webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators/%d", project, modID), "", auth...), 404, "not_found")
	})

	t.Run("a deleted moderator frees their seat", func(t *testing.T) {
		cookie, gcsrf := fixture.Session(t, env, c, goneUser)
		r := h.Call(t, "DELETE", c.DefaultHost, "/api/v1/me", `{"password":"`+fixture.Password+`"}`, "Cookie", cookie, "X-CSRF-Token", gcsrf)
		require.Equal(t, http.StatusNoContent, r.Status, r.Body)
		list := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), "", "Cookie", admin)
		require.NotContains(t, list.Body, fmt.Sprintf(`"user_id":%d`, goneID), "the list no longer shows them")
		r = add(int64(project), "late@example.org")
		require.Equal(t, 201, r.Status, "19 live moderators leave a seat free: %s", r.Body)
	})
}
