package portal_test

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/fixture"
	"agora/web/webtest"
)

func TestPhaseReactionRules(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "reactrules", nil)
	h, c, admin, csrf, unlimited, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	adminAuth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	citUser := fixture.User(t, env, c, fixture.UserOpts{Email: "cit@example.org", FirstName: "Cas", LastName: "Citizen"})
	cit := fixture.Token(t, env, c, citUser)
	react := func(ideaID int64, mode string) webtest.Response {
		return h.Call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/reaction", ideaID), `{"mode":"`+mode+`"}`, "Authorization", cit)
	}

	t.Run("a phase without dislikes refuses them", func(t *testing.T) {
		project := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "nodislikes", Title: "No dislikes", Phase: &fixture.PhaseOpts{NoDislikes: true}}).ID
		it := webtest.NewIdea(t, h, c.DefaultHost, project, "Quiet streets", adminAuth...)
		webtest.RequireProblem(t, react(int64(it), "dislike"), 422, "invalid")
		require.Equal(t, 200, react(int64(it), "like").Status)
		webtest.RequireProblem(t, react(int64(it), "dislike"), 422, "invalid")
		r := h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it))
		require.Contains(t, r.Body, `"likes_count":1,"dislikes_count":0`)
	})

	t.Run("an idea keeps the dislike rule of the phase it was posted in", func(t *testing.T) {
		pr := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "earlier", Title: "Earlier", Phase: &fixture.PhaseOpts{NoDislikes: true}})
		project, first := pr.ID, pr.Phases[0].ID
		it := webtest.NewIdea(t, h, c.DefaultHost, project, "From the first phase", adminAuth...)
		// The first phase ends; a second one, with dislikes, runs now.
		fixture.Exec(t, env, c, `UPDATE phases SET ends_at = '2021-01-01' WHERE id = $1`, []any{first})
		r := h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", project),
			`{"title":{"en":"Second"},"method":"ideation","starts_at":"2021-01-01T00:00:00Z","posting_enabled":true,"reacting_enabled":true,"dislikes_enabled":true}`, adminAuth...)
		require.Equal(t, 201, r.Status, r.Body)
		p := webtest.RequireProblem(t, react(int64(it), "dislike"), 422, "invalid")
		require.Contains(t, p.Detail, "dislikes")
		require.Equal(t, 200, react(int64(webtest.NewIdea(t, h, c.DefaultHost, project, "From the second phase", adminAuth...)), "dislike").Status)
	})

	t.Run("a reaction limit holds under concurrency", func(t *testing.T) {
		pr := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "limited", Title: "Limited", Phase: &fixture.PhaseOpts{ReactionLimit: 3}})
		project, phase := pr.ID, pr.Phases[0].ID
		ideas := make([]int64, 10)
		for i := range ideas {
			ideas[i] = int64(webtest.NewIdea(t, h, c.DefaultHost, project, fmt.Sprintf("Limited idea %d", i), adminAuth...))
		}
		// One user reacts to the ten ideas at once, from ten goroutines.
		statuses := make([]int, len(ideas))
		bodies := make([]string, len(ideas))
		var wg sync.WaitGroup
		for i, id := range ideas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := http.NewRequest("PUT", h.URL+fmt.Sprintf("/api/v1/ideas/%d/reaction", id), strings.NewReader(`{"mode":"like"}`))
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				req.Host = c.DefaultHost
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", cit)
				res, err := h.Client.Do(req)
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				defer res.Body.Close()
				b, _ := io.ReadAll(res.Body)
				statuses[i], bodies[i] = res.StatusCode, string(b)
			}()
		}
		wg.Wait()
		var liked []int64
		for i, st := range statuses {
			switch st {
			case 200:
				liked = append(liked, ideas[i])
			case 409:
				webtest.RequireProblem(t, webtest.Response{Status: st, Header: http.Header{"Content-Type": {"application/problem+json"}}, Body: bodies[i]}, 409, "conflict")
			default:
				t.Fatalf("reaction %d: %d %s", i, st, bodies[i])
			}
		}
		require.Len(t, liked, 3, "exactly the limit is taken: %v", statuses)
		var rows, likes int
		fixture.Exec(t, env, c, `SELECT (SELECT count(*) FROM reactions r JOIN ideas i ON i.id = r.item_id WHERE r.item_type = 'idea' AND i.phase_id = $1),
			(SELECT coalesce(sum(likes_count + dislikes_count), 0) FROM ideas WHERE phase_id = $1)`, []any{phase}, &rows, &likes)
		require.Equal(t, 3, rows)
		require.Equal(t, 3, likes)

		// Switching a reaction is not a new one.
		r := react(liked[0], "dislike")
		require.Equal(t, 200, r.Status, r.Body)
		require.Contains(t, r.Body, `"likes_count":0,"dislikes_count":1`)
		require.Equal(t, 200, react(liked[0], "like").Status)
		var refused int64
		for _, id := range ideas {
			if !slices.Contains(liked, id) {
				refused = id
				break
			}
		}
		webtest.RequireProblem(t, react(refused, "like"), 409, "conflict")

		// The idea page says how many are left; taking one back frees one.
		cookie, _ := fixture.Session(t, env, c, citUser)
		page := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", refused), "", "Cookie", cookie)
		webtest.RequireHTML(t, page, 200)
		require.Contains(t, page.Body, "You can react to 0 more ideas in this phase.")
		require.Equal(t, 200, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/reaction", liked[1]), "", "Authorization", cit).Status)
		page = h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", refused), "", "Cookie", cookie)
		require.Contains(t, page.Body, "You can react to 1 more idea in this phase.")
		require.Equal(t, 200, react(refused, "like").Status)
		// An unlimited phase says nothing of it.
		other := webtest.NewIdea(t, h, c.DefaultHost, unlimited, "Unlimited idea", adminAuth...)
		page = h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", other), "", "Cookie", cookie)
		webtest.RequireHTML(t, page, 200)
		require.NotContains(t, page.Body, "more idea")
	})

	t.Run("a reaction on a deleted idea does not use up the limit", func(t *testing.T) {
		project := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "one-vote", Title: "One vote", Phase: &fixture.PhaseOpts{ReactionLimit: 1}}).ID
		voter := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "voter@example.org", FirstName: "Vic", LastName: "Voter"}))
		mine := webtest.NewIdea(t, h, c.DefaultHost, project, "My own idea", "Authorization", voter)
		other := webtest.NewIdea(t, h, c.DefaultHost, project, "Someone else's idea", adminAuth...)
		vote := func(id int64) webtest.Response {
			return h.Call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/reaction", id), `{"mode":"like"}`, "Authorization", voter)
		}
		require.Equal(t, 200, vote(int64(mine)).Status)
		webtest.RequireProblem(t, vote(int64(other)), 409, "conflict")
		// The idea goes, and its reaction with it: it cannot be taken back
		// any more, so it must not hold the voter's only reaction.
		require.Equal(t, 204, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", mine), "", "Authorization", voter).Status)
		webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/reaction", mine), "", "Authorization", voter), 404, "not_found")
		r := vote(int64(other))
		require.Equal(t, 200, r.Status, "the reaction on the deleted idea no longer counts: %s", r.Body)
	})
}
