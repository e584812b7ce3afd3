package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/user"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// ideaCity makes a city with an admin, a published project and a current
// ideation phase whose permissions are perms (JSON), and returns the
// harness, the admin's cookie and csrf, and the project id.
func ideaCity(t *testing.T, slug, perms string) (*harness, *tenant.Tenant, string, string, int64, *tenanttest.Env) {
	t.Helper()
	env := tenanttest.New(t)
	c := env.City(t, slug)
	h := newHarness(t, env, serverOpts{})
	staff(t, env, c, "admin@example.org", user.RoleAdmin)
	admin, csrf := login(t, h, c.DefaultHost, "admin@example.org")
	r := h.call(t, "POST", c.DefaultHost, "/api/v1/projects", `{"slug":"ideas","title":{"en":"Ideas"},"status":"published"}`, "Cookie", admin, "X-CSRF-Token", csrf)
	require.Equal(t, 201, r.Status, r.Body)
	var p struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &p))
	r = h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", p.ID),
		`{"title":{"en":"Now"},"method":"ideation","starts_at":"2020-01-01T00:00:00Z","dislikes_enabled":true,"posting_enabled":true,"reacting_enabled":true,"permissions":`+perms+`}`,
		"Cookie", admin, "X-CSRF-Token", csrf)
	require.Equal(t, 201, r.Status, r.Body)
	return h, c, admin, csrf, p.ID, env
}

func postIdea(t *testing.T, h *harness, host, cookie, csrf string, project int64, title, body string) response {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"project_id": project, "title": title, "body": body})
	return h.call(t, "POST", host, "/api/v1/ideas", string(b), "Cookie", cookie, "X-CSRF-Token", csrf)
}

func TestReactionCountsStayExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, env := ideaCity(t, "reactions", `{}`)
	r := postIdea(t, h, c.DefaultHost, admin, csrf, project, "Plant more trees", "<p>Shade!</p>")
	require.Equal(t, 201, r.Status, r.Body)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))

	// 50 citizens, each from its own goroutine, like, unlike and switch.
	const n = 50
	tokens := make([]string, n)
	users := user.NewService(env.DB)
	for i := range tokens {
		u, err := users.Create(tenanttest.Ctx(c), user.Registration{Email: fmt.Sprintf("r%d@example.org", i), Password: "correct horse battery",
			FirstName: "R", LastName: "X"}, user.RoleCitizen)
		require.NoError(t, err)
		tok, err := users.CreateToken(tenanttest.Ctx(c), u.ID, "test")
		require.NoError(t, err)
		tokens[i] = "Bearer " + tok.Token
	}
	path := fmt.Sprintf("/api/v1/ideas/%d/reaction", it.ID)
	var wg sync.WaitGroup
	errs := make(chan string, n*20)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 7))
			for range 12 {
				var res response
				switch rng.IntN(3) {
				case 0:
					res = h.call(t, "PUT", c.DefaultHost, path, `{"mode":"like"}`, "Authorization", tokens[i])
				case 1:
					res = h.call(t, "PUT", c.DefaultHost, path, `{"mode":"dislike"}`, "Authorization", tokens[i])
				default:
					res = h.call(t, "DELETE", c.DefaultHost, path, "", "Authorization", tokens[i])
				}
				if res.Status != 200 {
					errs <- fmt.Sprintf("%d %s", res.Status, res.Body)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatalf("a reaction failed: %s", e)
	}
	var counts struct {
		Likes, Dislikes, RowLikes, RowDislikes int
	}
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.QueryRowxContext(context.Background(), `SELECT i.likes_count, i.dislikes_count,
			(SELECT count(*) FROM reactions WHERE item_type = 'idea' AND item_id = i.id AND mode = 'like'),
			(SELECT count(*) FROM reactions WHERE item_type = 'idea' AND item_id = i.id AND mode = 'dislike')
			FROM ideas i WHERE i.id = $1`, it.ID).Scan(&counts.Likes, &counts.Dislikes, &counts.RowLikes, &counts.RowDislikes)
	}))
	require.Equal(t, counts.RowLikes, counts.Likes, "likes counter equals the like rows")
	require.Equal(t, counts.RowDislikes, counts.Dislikes, "dislikes counter equals the dislike rows")
	require.LessOrEqual(t, counts.Likes+counts.Dislikes, n, "one reaction per user")
	// The list's narrow copy (idea_listing) moved with every change.
	var listing struct{ Likes, Dislikes int }
	require.NoError(t, env.DB.InReadTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		return tx.QueryRowxContext(context.Background(), `SELECT likes_count, dislikes_count FROM idea_listing WHERE id = $1`, it.ID).
			Scan(&listing.Likes, &listing.Dislikes)
	}))
	require.Equal(t, counts.Likes, listing.Likes, "the listing's likes")
	require.Equal(t, counts.Dislikes, listing.Dislikes, "the listing's dislikes")
	t.Logf("after %d concurrent reactions: %d likes, %d dislikes", n*12, counts.Likes, counts.Dislikes)
}

func TestIdeaBodiesAreSanitised(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, _ := ideaCity(t, "xss", `{}`)
	payloads := []string{
		`<script>alert(1)</script><p>ok</p>`,
		`<img src=x onerror="alert(2)">`,
		`<a href="javascript:alert(3)">click</a>`,
		`<p style="background:url(javascript:alert(4))" onclick="alert(5)">styled</p>`,
		`<iframe src="https://evil.example"></iframe><svg onload=alert(6)>`,
	}
	for _, p := range payloads {
		r := postIdea(t, h, c.DefaultHost, admin, csrf, project, `<b onmouseover="alert(7)">Title</b> <script>x</script>`, p)
		require.Equal(t, 201, r.Status, r.Body)
		var it struct {
			ID    int64
			Title string
			Body  string
		}
		require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
		for _, bad := range []string{"<script", "onerror", "onclick", "onload", "onmouseover", "javascript:", "<iframe", "style=", "<svg"} {
			require.NotContains(t, strings.ToLower(it.Body), bad, "stored body of %q", p)
			require.NotContains(t, strings.ToLower(it.Title), bad)
		}
		require.NotContains(t, it.Title, "<")
	}
	// Search finds by words, in the city's language configuration.
	r := h.get(t, c.DefaultHost, "/api/v1/ideas?q=styled")
	require.Contains(t, r.Body, `"total":1`, r.Body)
}

func TestIdeaWritesFollowThePhasePermissions(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, env := ideaCity(t, "rules", `{"post":{"level":"confirmed"},"react":{"level":"registered"}}`)
	register(t, h, c.DefaultHost, "new@example.org") // unconfirmed
	cit, ccsrf := login(t, h, c.DefaultHost, "new@example.org")

	p := requireProblem(t, postIdea(t, h, c.DefaultHost, "", "", project, "Anonymous idea", ""), 401, "unauthenticated")
	require.Contains(t, p.Detail, "log in")
	p = requireProblem(t, postIdea(t, h, c.DefaultHost, cit, ccsrf, project, "Unconfirmed idea", ""), 403, "forbidden")
	require.Contains(t, p.Detail, "confirm your email")
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE users SET email_confirmed_at = now() WHERE email = 'new@example.org'`)
		return err
	}))
	r := postIdea(t, h, c.DefaultHost, cit, ccsrf, project, "Confirmed idea", "<p>Now I can</p>")
	require.Equal(t, 201, r.Status, r.Body)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	react := fmt.Sprintf("/api/v1/ideas/%d/reaction", it.ID)
	requireProblem(t, h.call(t, "PUT", c.DefaultHost, react, `{"mode":"like"}`), 401, "unauthenticated")
	require.Equal(t, 200, h.call(t, "PUT", c.DefaultHost, react, `{"mode":"like"}`, "Cookie", cit, "X-CSRF-Token", ccsrf).Status)
	requireProblem(t, h.call(t, "PUT", c.DefaultHost, react, `{"mode":"love"}`, "Cookie", cit, "X-CSRF-Token", ccsrf), 422, "invalid")

	// Switch posting and dislikes off in the phase: citizens are refused, staff not.
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE phases SET posting_enabled = false, dislikes_enabled = false`)
		return err
	}))
	p = requireProblem(t, postIdea(t, h, c.DefaultHost, cit, ccsrf, project, "Too late", ""), 403, "forbidden")
	require.Contains(t, p.Detail, "phase does not allow")
	require.Equal(t, 201, postIdea(t, h, c.DefaultHost, admin, csrf, project, "Staff may", "").Status)
	p = requireProblem(t, h.call(t, "PUT", c.DefaultHost, react, `{"mode":"dislike"}`, "Cookie", cit, "X-CSRF-Token", ccsrf), 422, "invalid")
	require.Contains(t, p.Detail, "dislikes are off")

	// Blocked users read but do not act.
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE users SET blocked_until = now() + interval '1 day' WHERE email = 'new@example.org'`)
		return err
	}))
	require.Equal(t, 200, h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID), "", "Cookie", cit).Status)
	p = requireProblem(t, h.call(t, "DELETE", c.DefaultHost, react, "", "Cookie", cit, "X-CSRF-Token", ccsrf), 403, "forbidden")
	require.Contains(t, p.Detail, "blocked")

	// Ideas of a project hidden from the viewer are hidden too.
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE projects SET visibility = 'admins'`)
		return err
	}))
	requireProblem(t, h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)), 404, "not_found")
	require.Contains(t, h.get(t, c.DefaultHost, "/api/v1/ideas").Body, `"total":0`)
	require.Contains(t, h.call(t, "GET", c.DefaultHost, "/api/v1/ideas", "", "Cookie", admin).Body, `"total":2`)
}

func TestIdeaPagesWithoutJavaScript(t *testing.T) {
	t.Parallel()
	h, c, _, _, _, env := ideaCity(t, "ideapages", `{"post":{"level":"registered"}}`)
	anon := h.get(t, c.DefaultHost, "/projects/ideas")
	requireHTML(t, anon, 200)
	require.Contains(t, anon.Body, "Log in or sign up to take part.")
	require.Contains(t, anon.Body, `href="/login?next=%2Fprojects%2Fideas"`)

	register(t, h, c.DefaultHost, "cit@example.org")
	cit, _ := login(t, h, c.DefaultHost, "cit@example.org")
	page := h.call(t, "GET", c.DefaultHost, "/projects/ideas", "", "Cookie", cit)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, `action="/projects/ideas/ideas"`)
	csrf := csrfFromPage(t, page)

	// Too short a title: 422 in the page, the body kept.
	r := h.callForm(t, c.DefaultHost, "/projects/ideas/ideas", "csrf_token="+csrf+"&title=No&body=kept+text", "Cookie", cit)
	requireHTML(t, r, 422)
	require.Contains(t, r.Body, "Use 3 to 200 characters.")
	require.Contains(t, r.Body, "kept text")

	body := `<p>More <b>benches</b></p><script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>`
	r = h.callForm(t, c.DefaultHost, "/projects/ideas/ideas",
		"csrf_token="+csrf+"&title="+urlEscape(`Benches <i onclick="alert(4)">everywhere</i>`)+"&body="+urlEscape(body), "Cookie", cit)
	require.Equal(t, 303, r.Status, r.Body)
	ideaPath := r.Header.Get("Location")
	require.Contains(t, ideaPath, "/ideas/")
	page = h.call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", cit)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "<b>benches</b>", "allowed markup renders")
	for _, bad := range []string{"<script", "onerror", "onclick", "javascript:"} {
		require.NotContains(t, page.Body, bad, "the rendered idea page must be inert")
	}
	// Like, switch to dislike, withdraw: with forms.
	react := func(mode string) {
		r := h.callForm(t, c.DefaultHost, ideaPath+"/reaction", "csrf_token="+csrf+"&mode="+mode, "Cookie", cit)
		require.Equal(t, 303, r.Status, r.Body)
	}
	react("like")
	require.Contains(t, h.call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", cit).Body, `aria-pressed="true">👍 Like (1)`)
	react("dislike")
	page = h.call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", cit)
	require.Contains(t, page.Body, "Like (0)")
	require.Contains(t, page.Body, `aria-pressed="true">👎 Dislike (1)`)
	react("dislike") // pressing it again withdraws
	require.Contains(t, h.call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", cit).Body, "Dislike (0)")
	// Anonymous visitors see the counts and a call to log in.
	require.Contains(t, h.get(t, c.DefaultHost, ideaPath).Body, "Log in or sign up to take part.")
	// The list shows the idea; another city does not know it.
	require.Contains(t, h.get(t, c.DefaultHost, "/projects/ideas?sort=popular").Body, "Benches everywhere")
	other := env.City(t, "otherideas")
	requireHTML(t, h.get(t, other.DefaultHost, ideaPath), 404)
}

func urlEscape(s string) string { return url.QueryEscape(s) }

func TestStaffStatusAndFeedback(t *testing.T) {
	t.Parallel()
	h, c, admin, acsrf, project, _ := ideaCity(t, "answers", `{}`)
	register(t, h, c.DefaultHost, "cit@example.org")
	cit, ccsrf := login(t, h, c.DefaultHost, "cit@example.org")
	r := postIdea(t, h, c.DefaultHost, cit, ccsrf, project, "Light the bridge", "<p>It is dark at night</p>")
	require.Equal(t, 201, r.Status, r.Body)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	path := fmt.Sprintf("/api/v1/ideas/%d", it.ID)

	requireProblem(t, h.call(t, "POST", c.DefaultHost, path+"/status", `{"status":"accepted"}`, "Cookie", cit, "X-CSRF-Token", ccsrf), 403, "forbidden")
	requireProblem(t, h.call(t, "POST", c.DefaultHost, path+"/feedback", `{"body":"me"}`, "Cookie", cit, "X-CSRF-Token", ccsrf), 403, "forbidden")
	p := requireProblem(t, h.call(t, "POST", c.DefaultHost, path+"/status", `{"status":"maybe"}`, "Cookie", admin, "X-CSRF-Token", acsrf), 422, "invalid")
	require.Contains(t, p.Detail, "status")
	r = h.call(t, "POST", c.DefaultHost, path+"/status", `{"status":"under_consideration","note":"Our team looks at it"}`, "Cookie", admin, "X-CSRF-Token", acsrf)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"status":"under_consideration"`)
	r = h.call(t, "POST", c.DefaultHost, path+"/feedback", `{"body":"<p>We will add lamps in <b>spring</b>.</p><script>x</script>"}`, "Cookie", admin, "X-CSRF-Token", acsrf)
	require.Equal(t, 201, r.Status, r.Body)
	requireProblem(t, h.call(t, "POST", c.DefaultHost, path+"/feedback", `{"body":"<script>only</script>"}`, "Cookie", admin, "X-CSRF-Token", acsrf), 422, "invalid")

	// The citizen sees both on the idea page, in their language; no staff forms.
	page := h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", cit+"; agora_locale=fr")
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "À l&#39;étude")
	require.Contains(t, page.Body, "Réponse officielle")
	require.Contains(t, page.Body, "<b>spring</b>")
	require.NotContains(t, page.Body, "<script>")
	require.NotContains(t, page.Body, `action="/ideas/`+fmt.Sprint(it.ID)+`/status"`)
	// Staff answer from the page too.
	staffPage := h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", admin)
	require.Contains(t, staffPage.Body, `action="/ideas/`+fmt.Sprint(it.ID)+`/status"`)
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/ideas/%d/status", it.ID), "csrf_token="+acsrf+"&status=accepted&note=Yes", "Cookie", admin)
	require.Equal(t, 303, r.Status, r.Body)
	require.Contains(t, h.get(t, c.DefaultHost, path).Body, `"status":"accepted"`)
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/ideas/%d/status", it.ID), "csrf_token="+ccsrf+"&status=rejected", "Cookie", cit)
	requireHTML(t, r, 403)
	require.Contains(t, h.get(t, c.DefaultHost, path).Body, `"status":"accepted"`)
}

func TestCommentsThread(t *testing.T) {
	t.Parallel()
	h, c, admin, acsrf, project, env := ideaCity(t, "threads", `{"comment":{"level":"registered"}}`)
	register(t, h, c.DefaultHost, "ann@example.org")
	register(t, h, c.DefaultHost, "bob@example.org")
	ann, acs := login(t, h, c.DefaultHost, "ann@example.org")
	bob, bcs := login(t, h, c.DefaultHost, "bob@example.org")
	r := postIdea(t, h, c.DefaultHost, ann, acs, project, "Bike lanes", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	cpath := fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID)
	add := func(cookie, csrf, body string) response {
		return h.call(t, "POST", c.DefaultHost, cpath, body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	requireProblem(t, h.call(t, "POST", c.DefaultHost, cpath, `{"body":"hi"}`), 401, "unauthenticated")
	r = add(bob, bcs, `{"body":"<p>Yes, <b>please</b></p><script>x</script>"}`)
	require.Equal(t, 201, r.Status, r.Body)
	var top struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &top))
	r = add(ann, acs, fmt.Sprintf(`{"body":"Thanks!","parent_id":%d}`, top.ID))
	require.Equal(t, 201, r.Status, r.Body)
	var reply struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &reply))
	// One level only: a reply to a reply is refused, by the domain and the database.
	p := requireProblem(t, add(bob, bcs, fmt.Sprintf(`{"body":"deeper","parent_id":%d}`, reply.ID)), 422, "invalid")
	require.Contains(t, p.Detail, "parent_id")
	requireProblem(t, add(bob, bcs, `{"body":"<script>only</script>"}`), 422, "invalid")

	thread := h.get(t, c.DefaultHost, cpath)
	require.Equal(t, 200, thread.Status)
	require.Contains(t, thread.Body, `"total":2`)
	require.Contains(t, thread.Body, `"replies":[{`)
	require.NotContains(t, thread.Body, "<script>")

	// Edit: only the author. Delete: the author, or staff; the comment stays as deleted.
	edit := fmt.Sprintf("/api/v1/comments/%d", top.ID)
	requireProblem(t, h.call(t, "PATCH", c.DefaultHost, edit, `{"body":"hijack"}`, "Cookie", ann, "X-CSRF-Token", acs), 403, "forbidden")
	require.Equal(t, 200, h.call(t, "PATCH", c.DefaultHost, edit, `{"body":"Yes, please!"}`, "Cookie", bob, "X-CSRF-Token", bcs).Status)
	requireProblem(t, h.call(t, "DELETE", c.DefaultHost, edit, "", "Cookie", ann, "X-CSRF-Token", acs), 403, "forbidden")
	require.Equal(t, 204, h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/comments/%d", reply.ID), "", "Cookie", admin, "X-CSRF-Token", acsrf).Status)
	require.Equal(t, 204, h.call(t, "DELETE", c.DefaultHost, edit, "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	page := h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", ann)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "Deleted by its author")
	require.Contains(t, page.Body, "Deleted by a moderator")
	require.NotContains(t, page.Body, "Yes, please!")
	require.Contains(t, h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)).Body, `"comments_count":0`)

	// From the page: a comment with the form; commenting switched off refuses it.
	csrf := csrfFromPage(t, page)
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/ideas/%d/comments", it.ID), "csrf_token="+csrf+"&body=From+the+page", "Cookie", ann)
	require.Equal(t, 303, r.Status, r.Body)
	require.Contains(t, h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", ann).Body, "From the page")
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE phases SET commenting_enabled = false`)
		return err
	}))
	p = requireProblem(t, add(bob, bcs, `{"body":"closed?"}`), 403, "forbidden")
	require.Contains(t, p.Detail, "does not allow")
	require.Contains(t, h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", bob).Body, "This phase does not accept this now.")
}

func TestFollows(t *testing.T) {
	t.Parallel()
	h, c, _, _, project, _ := ideaCity(t, "follows", `{}`)
	register(t, h, c.DefaultHost, "ann@example.org")
	register(t, h, c.DefaultHost, "bob@example.org")
	ann, acs := login(t, h, c.DefaultHost, "ann@example.org")
	bob, bcs := login(t, h, c.DefaultHost, "bob@example.org")
	r := postIdea(t, h, c.DefaultHost, ann, acs, project, "More benches", "")
	require.Equal(t, 201, r.Status, r.Body)
	require.Contains(t, r.Body, `"followers_count":1`, "authors follow their ideas")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))

	f := fmt.Sprintf("/api/v1/follows/idea/%d", it.ID)
	requireProblem(t, h.call(t, "PUT", c.DefaultHost, f, ""), 401, "unauthenticated")
	r = h.call(t, "PUT", c.DefaultHost, f, "", "Cookie", bob, "X-CSRF-Token", bcs)
	require.Equal(t, 200, r.Status, r.Body)
	require.JSONEq(t, `{"following":true,"followers":2}`, r.Body)
	r = h.call(t, "PUT", c.DefaultHost, f, "", "Cookie", bob, "X-CSRF-Token", bcs) // idempotent
	require.JSONEq(t, `{"following":true,"followers":2}`, r.Body)
	require.Equal(t, 200, h.call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/follows/project/%d", project), "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	require.Equal(t, 200, h.call(t, "PUT", c.DefaultHost, "/api/v1/follows/topic/2", "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	requireProblem(t, h.call(t, "PUT", c.DefaultHost, "/api/v1/follows/topic/9999", "", "Cookie", bob, "X-CSRF-Token", bcs), 404, "not_found")
	requireProblem(t, h.call(t, "PUT", c.DefaultHost, "/api/v1/follows/user/1", "", "Cookie", bob, "X-CSRF-Token", bcs), 422, "invalid")
	mine := h.call(t, "GET", c.DefaultHost, "/api/v1/me/follows", "", "Cookie", bob)
	require.Contains(t, mine.Body, `"total":3`)
	r = h.call(t, "DELETE", c.DefaultHost, f, "", "Cookie", bob, "X-CSRF-Token", bcs)
	require.JSONEq(t, `{"following":false,"followers":1}`, r.Body)

	// The idea page's button.
	page := h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", bob)
	require.Contains(t, page.Body, "1 followers")
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/follows/idea/%d", it.ID), "csrf_token="+bcs+"&follow=on&back=/ideas/"+fmt.Sprint(it.ID), "Cookie", bob)
	require.Equal(t, 303, r.Status, r.Body)
	page = h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", bob)
	require.Contains(t, page.Body, "2 followers")
	require.Contains(t, page.Body, `aria-pressed="true"`)
}

func TestEditDeleteAndSortIdeas(t *testing.T) {
	t.Parallel()
	h, c, admin, acsrf, project, _ := ideaCity(t, "editing", `{}`)
	register(t, h, c.DefaultHost, "ann@example.org")
	register(t, h, c.DefaultHost, "bob@example.org")
	ann, acs := login(t, h, c.DefaultHost, "ann@example.org")
	bob, bcs := login(t, h, c.DefaultHost, "bob@example.org")
	r := postIdea(t, h, c.DefaultHost, ann, acs, project, "Trees on Main Street", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	path := fmt.Sprintf("/api/v1/ideas/%d", it.ID)

	requireProblem(t, h.call(t, "PATCH", c.DefaultHost, path, `{"title":"Mine now"}`, "Cookie", bob, "X-CSRF-Token", bcs), 403, "forbidden")
	r = h.call(t, "PATCH", c.DefaultHost, path, `{"title":"Trees on Main St.","body":"<p>Oaks <script>x</script></p>","topics":[2]}`, "Cookie", ann, "X-CSRF-Token", acs)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"title":"Trees on Main St."`)
	require.NotContains(t, r.Body, "script")
	requireProblem(t, h.call(t, "PATCH", c.DefaultHost, path, `{"title":"x"}`, "Cookie", ann, "X-CSRF-Token", acs), 422, "invalid")
	// Once answered, the author can no longer edit; staff can.
	require.Equal(t, 200, h.call(t, "POST", c.DefaultHost, path+"/status", `{"status":"viewed"}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)
	p := requireProblem(t, h.call(t, "PATCH", c.DefaultHost, path, `{"title":"Late change"}`, "Cookie", ann, "X-CSRF-Token", acs), 403, "forbidden")
	require.Contains(t, p.Detail, "answered")
	require.Equal(t, 200, h.call(t, "PATCH", c.DefaultHost, path, `{"title":"Trees on Main Street (typo fixed)"}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)

	// Sorts: all accepted; random is stable for a viewer; bad sorts are 422.
	for i := range 4 {
		require.Equal(t, 201, postIdea(t, h, c.DefaultHost, bob, bcs, project, fmt.Sprintf("Idea number %d", i), "").Status)
	}
	for _, s := range []string{"new", "popular", "trending", "random", "oldest"} {
		require.Equal(t, 200, h.call(t, "GET", c.DefaultHost, "/api/v1/ideas?sort="+s, "", "Cookie", bob).Status, s)
	}
	first := h.call(t, "GET", c.DefaultHost, "/api/v1/ideas?sort=random", "", "Cookie", bob).Body
	require.Equal(t, first, h.call(t, "GET", c.DefaultHost, "/api/v1/ideas?sort=random", "", "Cookie", bob).Body)
	requireProblem(t, h.get(t, c.DefaultHost, "/api/v1/ideas?sort=loudest"), 422, "invalid")

	// Delete: author or staff; gone from lists and pages.
	requireProblem(t, h.call(t, "DELETE", c.DefaultHost, path, "", "Cookie", bob, "X-CSRF-Token", bcs), 403, "forbidden")
	require.Equal(t, 204, h.call(t, "DELETE", c.DefaultHost, path, "", "Cookie", ann, "X-CSRF-Token", acs).Status)
	requireProblem(t, h.get(t, c.DefaultHost, path), 404, "not_found")
	require.Contains(t, h.get(t, c.DefaultHost, "/api/v1/ideas").Body, `"total":4`)
}

func TestNotificationsReachFollowers(t *testing.T) {
	t.Parallel()
	h, c, admin, acsrf, project, _ := ideaCity(t, "notices", `{}`)
	register(t, h, c.DefaultHost, "ann@example.org")
	register(t, h, c.DefaultHost, "bob@example.org")
	register(t, h, c.DefaultHost, "cas@example.org")
	ann, acs := login(t, h, c.DefaultHost, "ann@example.org")
	bob, bcs := login(t, h, c.DefaultHost, "bob@example.org")
	cas, _ := login(t, h, c.DefaultHost, "cas@example.org")
	r := postIdea(t, h, c.DefaultHost, ann, acs, project, "A fountain", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	require.Equal(t, 200, h.call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/follows/idea/%d", it.ID), "", "Cookie", bob, "X-CSRF-Token", bcs).Status)

	require.Equal(t, 201, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID), `{"body":"Lovely"}`, "Cookie", bob, "X-CSRF-Token", bcs).Status)
	require.Equal(t, 200, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", it.ID), `{"status":"accepted"}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)
	require.Equal(t, 201, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/feedback", it.ID), `{"body":"Summer 2027"}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)

	var annN, bobN, casN struct {
		Data   []struct{ Kind string }
		Unread int
	}
	get := func(cookie string, into any) {
		r := h.call(t, "GET", c.DefaultHost, "/api/v1/notifications", "", "Cookie", cookie)
		require.Equal(t, 200, r.Status, r.Body)
		require.NoError(t, json.Unmarshal([]byte(r.Body), into))
	}
	get(ann, &annN)
	get(bob, &bobN)
	get(cas, &casN)
	kinds := func(ns []struct{ Kind string }) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n.Kind)
		}
		return out
	}
	require.Equal(t, []string{"official_feedback", "status_changed", "comment_on_your_idea"}, kinds(annN.Data), "the author hears of everything")
	require.Equal(t, 3, annN.Unread)
	require.Equal(t, []string{"official_feedback", "status_changed"}, kinds(bobN.Data), "a follower hears of answers, not of their own comment")
	require.Empty(t, casN.Data, "non-followers hear nothing")

	// The header shows the unread count; opening the page marks them read.
	home := h.call(t, "GET", c.DefaultHost, "/", "", "Cookie", ann)
	require.Contains(t, home.Body, `<span class="count" aria-label="3 unread">3</span>`)
	page := h.call(t, "GET", c.DefaultHost, "/notifications", "", "Cookie", ann)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "commented on your idea")
	get(ann, &annN)
	require.Zero(t, annN.Unread)
	require.Equal(t, 204, h.call(t, "POST", c.DefaultHost, "/api/v1/notifications/read", "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	get(bob, &bobN)
	require.Zero(t, bobN.Unread)
}

func TestCommentReactions(t *testing.T) {
	t.Parallel()
	h, c, _, _, project, _ := ideaCity(t, "commentlikes", `{}`)
	register(t, h, c.DefaultHost, "ann@example.org")
	register(t, h, c.DefaultHost, "bob@example.org")
	ann, acs := login(t, h, c.DefaultHost, "ann@example.org")
	bob, bcs := login(t, h, c.DefaultHost, "bob@example.org")
	r := postIdea(t, h, c.DefaultHost, ann, acs, project, "Water fountains", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	r = h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID), `{"body":"Near the playground"}`, "Cookie", ann, "X-CSRF-Token", acs)
	var cm struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &cm))
	path := fmt.Sprintf("/api/v1/comments/%d/reaction", cm.ID)
	requireProblem(t, h.call(t, "PUT", c.DefaultHost, path, `{"mode":"like"}`), 401, "unauthenticated")
	r = h.call(t, "PUT", c.DefaultHost, path, `{"mode":"like"}`, "Cookie", bob, "X-CSRF-Token", bcs)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"likes_count":1`)
	r = h.call(t, "PUT", c.DefaultHost, path, `{"mode":"dislike"}`, "Cookie", bob, "X-CSRF-Token", bcs)
	require.Contains(t, r.Body, `"likes_count":0,"dislikes_count":1`)
	r = h.call(t, "DELETE", c.DefaultHost, path, "", "Cookie", bob, "X-CSRF-Token", bcs)
	require.Contains(t, r.Body, `"likes_count":0,"dislikes_count":0`)
	requireProblem(t, h.call(t, "PUT", c.DefaultHost, path, `{"mode":"meh"}`, "Cookie", bob, "X-CSRF-Token", bcs), 422, "invalid")
	// A deleted comment takes no reactions.
	require.Equal(t, 204, h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/comments/%d", cm.ID), "", "Cookie", ann, "X-CSRF-Token", acs).Status)
	requireProblem(t, h.call(t, "PUT", c.DefaultHost, path, `{"mode":"like"}`, "Cookie", bob, "X-CSRF-Token", bcs), 404, "not_found")
}

func TestReportsInboxAndHiding(t *testing.T) {
	t.Parallel()
	h, c, admin, acsrf, project, _ := ideaCity(t, "moderated", `{}`)
	register(t, h, c.DefaultHost, "ann@example.org")
	register(t, h, c.DefaultHost, "bob@example.org")
	ann, acs := login(t, h, c.DefaultHost, "ann@example.org")
	bob, bcs := login(t, h, c.DefaultHost, "bob@example.org")
	r := postIdea(t, h, c.DefaultHost, ann, acs, project, "Buy cheap watches here", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	r = h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID), `{"body":"Rude words"}`, "Cookie", ann, "X-CSRF-Token", acs)
	var cm struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &cm))

	report := func(body string) response {
		return h.call(t, "POST", c.DefaultHost, "/api/v1/reports", body, "Cookie", bob, "X-CSRF-Token", bcs)
	}
	require.Equal(t, 201, report(fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, it.ID)).Status)
	require.Equal(t, 201, report(fmt.Sprintf(`{"item_type":"comment","item_id":%d,"reason":"abuse","note":"insulting"}`, cm.ID)).Status)
	require.Equal(t, 201, report(fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, it.ID)).Status, "reporting again updates, no duplicate")
	requireProblem(t, report(fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"ugly"}`, it.ID)), 422, "invalid")
	requireProblem(t, report(`{"item_type":"idea","item_id":99999,"reason":"spam"}`), 404, "not_found")

	requireProblem(t, h.call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports", "", "Cookie", bob), 403, "forbidden")
	inbox := h.call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports?unread=true", "", "Cookie", admin)
	require.Equal(t, 200, inbox.Status, inbox.Body)
	require.Contains(t, inbox.Body, `"total":2`)
	require.Contains(t, inbox.Body, "Buy cheap watches here")
	require.Contains(t, h.call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports?q=insulting", "", "Cookie", admin).Body, `"total":1`)
	var rs struct{ Data []struct{ ID int64 } }
	require.NoError(t, json.Unmarshal([]byte(inbox.Body), &rs))
	require.Equal(t, 204, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/reports/%d/read", rs.Data[0].ID), `{"read":true}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)
	require.Contains(t, h.call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports?unread=true", "", "Cookie", admin).Body, `"total":1`)

	// Hide the comment and the idea: gone from the portal; restore brings them back.
	hide := func(method, typ string, id int64) int {
		return h.call(t, method, c.DefaultHost, fmt.Sprintf("/api/v1/moderation/hidden/%s/%d", typ, id), "", "Cookie", admin, "X-CSRF-Token", acsrf).Status
	}
	require.Equal(t, 403, h.call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/hidden/comment/%d", cm.ID), "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	require.Equal(t, 204, hide("PUT", "comment", cm.ID))
	thread := h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID))
	require.NotContains(t, thread.Body, "Rude words")
	require.Contains(t, thread.Body, `"deleted_by":"hidden"`)
	require.Equal(t, 204, hide("PUT", "idea", it.ID))
	requireProblem(t, h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)), 404, "not_found")
	require.Contains(t, h.get(t, c.DefaultHost, "/api/v1/ideas").Body, `"total":0`)
	require.Contains(t, h.call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports", "", "Cookie", admin).Body, `"hidden":true`)
	require.Equal(t, 204, hide("DELETE", "idea", it.ID))
	require.Equal(t, 200, h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)).Status)
}

func TestProfanityFilter(t *testing.T) {
	t.Parallel()
	h, c, _, _, project, _ := ideaCity(t, "polite", `{}`)
	register(t, h, c.DefaultHost, "ann@example.org")
	ann, acs := login(t, h, c.DefaultHost, "ann@example.org")
	p := requireProblem(t, postIdea(t, h, c.DefaultHost, ann, acs, project, "This is shit", ""), 422, "invalid")
	require.Contains(t, p.Detail, "rephrase")
	requireProblem(t, postIdea(t, h, c.DefaultHost, ann, acs, project, "Fine title", "<p>Quelle merde</p>"), 422, "invalid") // fr is a city language
	r := postIdea(t, h, c.DefaultHost, ann, acs, project, "Polite idea", "")
	require.Equal(t, 201, r.Status)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	requireProblem(t, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID), `{"body":"wat een klootzak"}`, "Cookie", ann, "X-CSRF-Token", acs), 422, "invalid")
	// The page says it in the visitor's language.
	page := h.call(t, "GET", c.DefaultHost, "/projects/ideas", "", "Cookie", ann)
	r = h.callForm(t, c.DefaultHost, "/projects/ideas/ideas", "csrf_token="+csrfFromPage(t, page)+"&title=Putain+de+trottoirs", "Cookie", ann+"; agora_locale=fr")
	requireHTML(t, r, 422)
	require.Contains(t, r.Body, "Merci de reformuler")
}

func TestModerationInboxPage(t *testing.T) {
	t.Parallel()
	h, c, admin, acsrf, project, _ := ideaCity(t, "inboxpage", `{}`)
	register(t, h, c.DefaultHost, "ann@example.org")
	ann, acs := login(t, h, c.DefaultHost, "ann@example.org")
	r := postIdea(t, h, c.DefaultHost, ann, acs, project, "Visit my shop online", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	require.Equal(t, 201, h.call(t, "POST", c.DefaultHost, "/api/v1/reports", fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, it.ID),
		"Cookie", ann, "X-CSRF-Token", acs).Status)

	requireHTML(t, h.call(t, "GET", c.DefaultHost, "/admin/moderation", "", "Cookie", ann), 403)
	page := h.call(t, "GET", c.DefaultHost, "/admin/moderation?unread=on", "", "Cookie", admin+"; agora_locale=nl")
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "Visit my shop online")
	require.Contains(t, page.Body, "Spam")
	require.Contains(t, page.Body, "Verbergen")
	var reportID int64
	{
		r := h.call(t, "GET", c.DefaultHost, "/api/v1/moderation/reports", "", "Cookie", admin)
		var rs struct{ Data []struct{ ID int64 } }
		require.NoError(t, json.Unmarshal([]byte(r.Body), &rs))
		reportID = rs.Data[0].ID
	}
	form := fmt.Sprintf("csrf_token=%s&do=hide&item_type=idea&item_id=%d", acsrf, it.ID)
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), form, "Cookie", admin)
	require.Equal(t, 303, r.Status, r.Body)
	requireProblem(t, h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)), 404, "not_found")
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+acsrf+"&do=read", "Cookie", admin)
	require.Equal(t, 303, r.Status)
	require.Contains(t, h.call(t, "GET", c.DefaultHost, "/admin/moderation?unread=on", "", "Cookie", admin).Body, "Nothing reported.")
	// A citizen cannot act on reports.
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+acs+"&do=restore&item_type=idea&item_id="+fmt.Sprint(it.ID), "Cookie", ann)
	requireHTML(t, r, 403)
}
