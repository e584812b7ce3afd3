package portal_test

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

	"agora/domain/permission"
	"agora/domain/project"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

func TestReactionCountsStayExactUnderConcurrency(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "reactions", nil)
	h, c, admin, csrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	r := webtest.PostIdea(t, h, c.DefaultHost, admin, csrf, project, "Plant more trees", "<p>Shade!</p>")
	require.Equal(t, 201, r.Status, r.Body)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))

	// 50 citizens, each from its own goroutine, like, unlike and switch.
	const n = 50
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: fmt.Sprintf("r%d@example.org", i)}))
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
				var res webtest.Response
				switch rng.IntN(3) {
				case 0:
					res = h.Call(t, "PUT", c.DefaultHost, path, `{"mode":"like"}`, "Authorization", tokens[i])
				case 1:
					res = h.Call(t, "PUT", c.DefaultHost, path, `{"mode":"dislike"}`, "Authorization", tokens[i])
				default:
					res = h.Call(t, "DELETE", c.DefaultHost, path, "", "Authorization", tokens[i])
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
	s := webtest.NewIdeaCity(t, "xss", nil)
	h, c, admin, csrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	payloads := []string{
		`<script>alert(1)</script><p>ok</p>`,
		`<img src=x onerror="alert(2)">`,
		`<a href="javascript:alert(3)">click</a>`,
		`<p style="background:url(javascript:alert(4))" onclick="alert(5)">styled</p>`,
		`<iframe src="https://evil.example"></iframe><svg onload=alert(6)>`,
	}
	for _, p := range payloads {
		r := webtest.PostIdea(t, h, c.DefaultHost, admin, csrf, project, `<b onmouseover="alert(7)">Title</b> <script>x</script>`, p)
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
	r := h.Get(t, c.DefaultHost, "/api/v1/ideas?q=styled")
	require.Contains(t, r.Body, `"total":1`, r.Body)
}

func TestIdeaWritesFollowThePhasePermissions(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "rules", project.Permissions{permission.Post: {Level: permission.Confirmed}, permission.React: {Level: permission.Registered}})
	h, c, admin, csrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	h.Register(t, c.DefaultHost, "new@example.org") // unconfirmed
	cit, ccsrf := h.Login(t, c.DefaultHost, "new@example.org")

	p := webtest.RequireProblem(t, webtest.PostIdea(t, h, c.DefaultHost, "", "", project, "Anonymous idea", ""), 401, "unauthenticated")
	require.Contains(t, p.Detail, "log in")
	p = webtest.RequireProblem(t, webtest.PostIdea(t, h, c.DefaultHost, cit, ccsrf, project, "Unconfirmed idea", ""), 403, "forbidden")
	require.Contains(t, p.Detail, "confirm your email")
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE users SET email_confirmed_at = now() WHERE email = 'new@example.org'`)
		return err
	}))
	r := webtest.PostIdea(t, h, c.DefaultHost, cit, ccsrf, project, "Confirmed idea", "<p>Now I can</p>")
	require.Equal(t, 201, r.Status, r.Body)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	react := fmt.Sprintf("/api/v1/ideas/%d/reaction", it.ID)
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, react, `{"mode":"like"}`), 401, "unauthenticated")
	require.Equal(t, 200, h.Call(t, "PUT", c.DefaultHost, react, `{"mode":"like"}`, "Cookie", cit, "X-CSRF-Token", ccsrf).Status)
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, react, `{"mode":"love"}`, "Cookie", cit, "X-CSRF-Token", ccsrf), 422, "invalid")

	// Switch posting and dislikes off in the phase: citizens are refused, staff not.
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE phases SET posting_enabled = false, dislikes_enabled = false`)
		return err
	}))
	p = webtest.RequireProblem(t, webtest.PostIdea(t, h, c.DefaultHost, cit, ccsrf, project, "Too late", ""), 403, "forbidden")
	require.Contains(t, p.Detail, "phase does not allow")
	require.Equal(t, 201, webtest.PostIdea(t, h, c.DefaultHost, admin, csrf, project, "Staff may", "").Status)
	p = webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, react, `{"mode":"dislike"}`, "Cookie", cit, "X-CSRF-Token", ccsrf), 422, "invalid")
	require.Contains(t, p.Detail, "dislikes are off")

	// Blocked users read but do not act.
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE users SET blocked_until = now() + interval '1 day' WHERE email = 'new@example.org'`)
		return err
	}))
	require.Equal(t, 200, h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID), "", "Cookie", cit).Status)
	p = webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, react, "", "Cookie", cit, "X-CSRF-Token", ccsrf), 403, "forbidden")
	require.Contains(t, p.Detail, "blocked")

	// Ideas of a project hidden from the viewer are hidden too.
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE projects SET visibility = 'admins'`)
		return err
	}))
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)), 404, "not_found")
	require.Contains(t, h.Get(t, c.DefaultHost, "/api/v1/ideas").Body, `"total":0`)
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, "/api/v1/ideas", "", "Cookie", admin).Body, `"total":2`)
}

func TestIdeaPagesWithoutJavaScript(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "ideapages", project.Permissions{permission.Post: {Level: permission.Registered}})
	h, c, env := s.H, s.City, s.Env
	anon := h.Get(t, c.DefaultHost, "/projects/ideas")
	webtest.RequireHTML(t, anon, 200)
	require.Contains(t, anon.Body, "Log in or sign up to take part.")
	require.Contains(t, anon.Body, `href="/login?next=%2Fprojects%2Fideas"`)

	h.Register(t, c.DefaultHost, "cit@example.org")
	cit, _ := h.Login(t, c.DefaultHost, "cit@example.org")
	page := h.Call(t, "GET", c.DefaultHost, "/projects/ideas", "", "Cookie", cit)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, `action="/projects/ideas/ideas"`)
	csrf := webtest.CSRFFromPage(t, page)

	// Too short a title: 422 in the page, the body kept.
	r := h.CallForm(t, c.DefaultHost, "/projects/ideas/ideas", "csrf_token="+csrf+"&title=No&body=kept+text", "Cookie", cit)
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Use 3 to 200 characters.")
	require.Contains(t, r.Body, "kept text")

	body := `<p>More <b>benches</b></p><script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a>`
	r = h.CallForm(t, c.DefaultHost, "/projects/ideas/ideas",
		"csrf_token="+csrf+"&title="+urlEscape(`Benches <i onclick="alert(4)">everywhere</i>`)+"&body="+urlEscape(body), "Cookie", cit)
	require.Equal(t, 303, r.Status, r.Body)
	ideaPath := r.Header.Get("Location")
	require.Contains(t, ideaPath, "/ideas/")
	page = h.Call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", cit)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "<b>benches</b>", "allowed markup renders")
	for _, bad := range []string{"<script", "onerror", "onclick", "javascript:"} {
		require.NotContains(t, page.Body, bad, "the rendered idea page must be inert")
	}
	// Like, switch to dislike, withdraw: with forms.
	react := func(mode string) {
		r := h.CallForm(t, c.DefaultHost, ideaPath+"/reaction", "csrf_token="+csrf+"&mode="+mode, "Cookie", cit)
		require.Equal(t, 303, r.Status, r.Body)
	}
	react("like")
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", cit).Body, `aria-pressed="true">👍 Like (1)`)
	react("dislike")
	page = h.Call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", cit)
	require.Contains(t, page.Body, "Like (0)")
	require.Contains(t, page.Body, `aria-pressed="true">👎 Dislike (1)`)
	react("dislike") // pressing it again withdraws
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, ideaPath, "", "Cookie", cit).Body, "Dislike (0)")
	// Anonymous visitors see the counts and a call to log in.
	require.Contains(t, h.Get(t, c.DefaultHost, ideaPath).Body, "Log in or sign up to take part.")
	// The list shows the idea; another city does not know it.
	require.Contains(t, h.Get(t, c.DefaultHost, "/projects/ideas?sort=popular").Body, "Benches everywhere")
	other := env.City(t, "otherideas")
	webtest.RequireHTML(t, h.Get(t, other.DefaultHost, ideaPath), 404)
}

func urlEscape(s string) string { return url.QueryEscape(s) }

func TestCommentsThread(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "threads", project.Permissions{permission.Comment: {Level: permission.Registered}})
	h, c, admin, acsrf, project, env := s.H, s.City, s.Cookie, s.CSRF, s.Project, s.Env
	h.Register(t, c.DefaultHost, "ann@example.org")
	h.Register(t, c.DefaultHost, "bob@example.org")
	ann, acs := h.Login(t, c.DefaultHost, "ann@example.org")
	bob, bcs := h.Login(t, c.DefaultHost, "bob@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "Bike lanes", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	cpath := fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID)
	add := func(cookie, csrf, body string) webtest.Response {
		return h.Call(t, "POST", c.DefaultHost, cpath, body, "Cookie", cookie, "X-CSRF-Token", csrf)
	}
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, cpath, `{"body":"hi"}`), 401, "unauthenticated")
	r = add(bob, bcs, `{"body":"<p>Yes, <b>please</b></p><script>x</script>"}`)
	require.Equal(t, 201, r.Status, r.Body)
	var top struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &top))
	r = add(ann, acs, fmt.Sprintf(`{"body":"Thanks!","parent_id":%d}`, top.ID))
	require.Equal(t, 201, r.Status, r.Body)
	var reply struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &reply))
	// One level only: a reply to a reply is refused, by the domain and the database.
	p := webtest.RequireProblem(t, add(bob, bcs, fmt.Sprintf(`{"body":"deeper","parent_id":%d}`, reply.ID)), 422, "invalid")
	require.Contains(t, p.Detail, "parent_id")
	webtest.RequireProblem(t, add(bob, bcs, `{"body":"<script>only</script>"}`), 422, "invalid")

	thread := h.Get(t, c.DefaultHost, cpath)
	require.Equal(t, 200, thread.Status)
	require.Contains(t, thread.Body, `"total":2`)
	require.Contains(t, thread.Body, `"replies":[{`)
	require.NotContains(t, thread.Body, "<script>")

	// Edit: only the author. Delete: the author, or staff; the comment stays as deleted.
	edit := fmt.Sprintf("/api/v1/comments/%d", top.ID)
	webtest.RequireProblem(t, h.Call(t, "PATCH", c.DefaultHost, edit, `{"body":"hijack"}`, "Cookie", ann, "X-CSRF-Token", acs), 403, "forbidden")
	require.Equal(t, 200, h.Call(t, "PATCH", c.DefaultHost, edit, `{"body":"Yes, please!"}`, "Cookie", bob, "X-CSRF-Token", bcs).Status)
	webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, edit, "", "Cookie", ann, "X-CSRF-Token", acs), 403, "forbidden")
	require.Equal(t, 204, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/comments/%d", reply.ID), "", "Cookie", admin, "X-CSRF-Token", acsrf).Status)
	require.Equal(t, 204, h.Call(t, "DELETE", c.DefaultHost, edit, "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	page := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", ann)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "Deleted by its author")
	require.Contains(t, page.Body, "Deleted by a moderator")
	require.NotContains(t, page.Body, "Yes, please!")
	require.Contains(t, h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it.ID)).Body, `"comments_count":0`)

	// From the page: a comment with the form; commenting switched off refuses it.
	csrf := webtest.CSRFFromPage(t, page)
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/ideas/%d/comments", it.ID), "csrf_token="+csrf+"&body=From+the+page", "Cookie", ann)
	require.Equal(t, 303, r.Status, r.Body)
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", ann).Body, "From the page")
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		_, err := tx.ExecContext(context.Background(), `UPDATE phases SET commenting_enabled = false`)
		return err
	}))
	p = webtest.RequireProblem(t, add(bob, bcs, `{"body":"closed?"}`), 403, "forbidden")
	require.Contains(t, p.Detail, "does not allow")
	require.Contains(t, h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", bob).Body, "This phase does not accept this now.")
}

func TestFollows(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "follows", nil)
	h, c, project := s.H, s.City, s.Project
	h.Register(t, c.DefaultHost, "ann@example.org")
	h.Register(t, c.DefaultHost, "bob@example.org")
	ann, acs := h.Login(t, c.DefaultHost, "ann@example.org")
	bob, bcs := h.Login(t, c.DefaultHost, "bob@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "More benches", "")
	require.Equal(t, 201, r.Status, r.Body)
	require.Contains(t, r.Body, `"followers_count":1`, "authors follow their ideas")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))

	f := fmt.Sprintf("/api/v1/follows/idea/%d", it.ID)
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, f, ""), 401, "unauthenticated")
	r = h.Call(t, "PUT", c.DefaultHost, f, "", "Cookie", bob, "X-CSRF-Token", bcs)
	require.Equal(t, 200, r.Status, r.Body)
	require.JSONEq(t, `{"following":true,"followers":2}`, r.Body)
	r = h.Call(t, "PUT", c.DefaultHost, f, "", "Cookie", bob, "X-CSRF-Token", bcs) // idempotent
	require.JSONEq(t, `{"following":true,"followers":2}`, r.Body)
	require.Equal(t, 200, h.Call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/follows/project/%d", project), "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	require.Equal(t, 200, h.Call(t, "PUT", c.DefaultHost, "/api/v1/follows/topic/2", "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, "/api/v1/follows/topic/9999", "", "Cookie", bob, "X-CSRF-Token", bcs), 404, "not_found")
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, "/api/v1/follows/user/1", "", "Cookie", bob, "X-CSRF-Token", bcs), 422, "invalid")
	mine := h.Call(t, "GET", c.DefaultHost, "/api/v1/me/follows", "", "Cookie", bob)
	require.Contains(t, mine.Body, `"total":3`)
	r = h.Call(t, "DELETE", c.DefaultHost, f, "", "Cookie", bob, "X-CSRF-Token", bcs)
	require.JSONEq(t, `{"following":false,"followers":1}`, r.Body)

	// The idea page's button.
	page := h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", bob)
	require.Contains(t, page.Body, "1 follower<")
	r = h.CallForm(t, c.DefaultHost, fmt.Sprintf("/follows/idea/%d", it.ID), "csrf_token="+bcs+"&follow=on&back=/ideas/"+fmt.Sprint(it.ID), "Cookie", bob)
	require.Equal(t, 303, r.Status, r.Body)
	page = h.Call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", it.ID), "", "Cookie", bob)
	require.Contains(t, page.Body, "2 followers")
	require.Contains(t, page.Body, `aria-pressed="true"`)
}

func TestEditDeleteAndSortIdeas(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "editing", nil)
	h, c, admin, acsrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	h.Register(t, c.DefaultHost, "ann@example.org")
	h.Register(t, c.DefaultHost, "bob@example.org")
	ann, acs := h.Login(t, c.DefaultHost, "ann@example.org")
	bob, bcs := h.Login(t, c.DefaultHost, "bob@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "Trees on Main Street", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	path := fmt.Sprintf("/api/v1/ideas/%d", it.ID)

	webtest.RequireProblem(t, h.Call(t, "PATCH", c.DefaultHost, path, `{"title":"Mine now"}`, "Cookie", bob, "X-CSRF-Token", bcs), 403, "forbidden")
	r = h.Call(t, "PATCH", c.DefaultHost, path, `{"title":"Trees on Main St.","body":"<p>Oaks <script>x</script></p>","topics":[2]}`, "Cookie", ann, "X-CSRF-Token", acs)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"title":"Trees on Main St."`)
	require.NotContains(t, r.Body, "script")
	webtest.RequireProblem(t, h.Call(t, "PATCH", c.DefaultHost, path, `{"title":"x"}`, "Cookie", ann, "X-CSRF-Token", acs), 422, "invalid")
	// Once answered, the author can no longer edit; staff can.
	require.Equal(t, 200, h.Call(t, "POST", c.DefaultHost, path+"/status", `{"status":"viewed"}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)
	p := webtest.RequireProblem(t, h.Call(t, "PATCH", c.DefaultHost, path, `{"title":"Late change"}`, "Cookie", ann, "X-CSRF-Token", acs), 403, "forbidden")
	require.Contains(t, p.Detail, "answered")
	require.Equal(t, 200, h.Call(t, "PATCH", c.DefaultHost, path, `{"title":"Trees on Main Street (typo fixed)"}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)

	// Sorts: all accepted; random is stable for a viewer; bad sorts are 422.
	for i := range 4 {
		require.Equal(t, 201, webtest.PostIdea(t, h, c.DefaultHost, bob, bcs, project, fmt.Sprintf("Idea number %d", i), "").Status)
	}
	for _, s := range []string{"new", "popular", "trending", "random", "oldest"} {
		require.Equal(t, 200, h.Call(t, "GET", c.DefaultHost, "/api/v1/ideas?sort="+s, "", "Cookie", bob).Status, s)
	}
	first := h.Call(t, "GET", c.DefaultHost, "/api/v1/ideas?sort=random", "", "Cookie", bob).Body
	require.Equal(t, first, h.Call(t, "GET", c.DefaultHost, "/api/v1/ideas?sort=random", "", "Cookie", bob).Body)
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, "/api/v1/ideas?sort=loudest"), 422, "invalid")

	// Delete: author or staff; gone from lists and pages.
	webtest.RequireProblem(t, h.Call(t, "DELETE", c.DefaultHost, path, "", "Cookie", bob, "X-CSRF-Token", bcs), 403, "forbidden")
	require.Equal(t, 204, h.Call(t, "DELETE", c.DefaultHost, path, "", "Cookie", ann, "X-CSRF-Token", acs).Status)
	webtest.RequireProblem(t, h.Get(t, c.DefaultHost, path), 404, "not_found")
	require.Contains(t, h.Get(t, c.DefaultHost, "/api/v1/ideas").Body, `"total":4`)
}

func TestNotificationsReachFollowers(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "notices", nil)
	h, c, admin, acsrf, project := s.H, s.City, s.Cookie, s.CSRF, s.Project
	h.Register(t, c.DefaultHost, "ann@example.org")
	h.Register(t, c.DefaultHost, "bob@example.org")
	h.Register(t, c.DefaultHost, "cas@example.org")
	ann, acs := h.Login(t, c.DefaultHost, "ann@example.org")
	bob, bcs := h.Login(t, c.DefaultHost, "bob@example.org")
	cas, _ := h.Login(t, c.DefaultHost, "cas@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "A fountain", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	require.Equal(t, 200, h.Call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/follows/idea/%d", it.ID), "", "Cookie", bob, "X-CSRF-Token", bcs).Status)

	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID), `{"body":"Lovely"}`, "Cookie", bob, "X-CSRF-Token", bcs).Status)
	require.Equal(t, 200, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", it.ID), `{"status":"accepted"}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)
	require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/feedback", it.ID), `{"body":"Summer 2027"}`, "Cookie", admin, "X-CSRF-Token", acsrf).Status)

	var annN, bobN, casN struct {
		Data   []struct{ Kind string }
		Unread int
	}
	get := func(cookie string, into any) {
		r := h.Call(t, "GET", c.DefaultHost, "/api/v1/notifications", "", "Cookie", cookie)
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
	home := h.Call(t, "GET", c.DefaultHost, "/", "", "Cookie", ann)
	require.Contains(t, home.Body, `<span class="count" aria-label="3 unread">3</span>`)
	page := h.Call(t, "GET", c.DefaultHost, "/notifications", "", "Cookie", ann)
	webtest.RequireHTML(t, page, 200)
	require.Contains(t, page.Body, "commented on your idea")
	get(ann, &annN)
	require.Zero(t, annN.Unread)
	require.Equal(t, 204, h.Call(t, "POST", c.DefaultHost, "/api/v1/notifications/read", "", "Cookie", bob, "X-CSRF-Token", bcs).Status)
	get(bob, &bobN)
	require.Zero(t, bobN.Unread)
}

func TestCommentReactions(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "commentlikes", nil)
	h, c, project := s.H, s.City, s.Project
	h.Register(t, c.DefaultHost, "ann@example.org")
	h.Register(t, c.DefaultHost, "bob@example.org")
	ann, acs := h.Login(t, c.DefaultHost, "ann@example.org")
	bob, bcs := h.Login(t, c.DefaultHost, "bob@example.org")
	r := webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "Water fountains", "")
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	r = h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID), `{"body":"Near the playground"}`, "Cookie", ann, "X-CSRF-Token", acs)
	var cm struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &cm))
	path := fmt.Sprintf("/api/v1/comments/%d/reaction", cm.ID)
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, path, `{"mode":"like"}`), 401, "unauthenticated")
	r = h.Call(t, "PUT", c.DefaultHost, path, `{"mode":"like"}`, "Cookie", bob, "X-CSRF-Token", bcs)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"likes_count":1`)
	r = h.Call(t, "PUT", c.DefaultHost, path, `{"mode":"dislike"}`, "Cookie", bob, "X-CSRF-Token", bcs)
	require.Contains(t, r.Body, `"likes_count":0,"dislikes_count":1`)
	r = h.Call(t, "DELETE", c.DefaultHost, path, "", "Cookie", bob, "X-CSRF-Token", bcs)
	require.Contains(t, r.Body, `"likes_count":0,"dislikes_count":0`)
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, path, `{"mode":"meh"}`, "Cookie", bob, "X-CSRF-Token", bcs), 422, "invalid")
	// A deleted comment takes no reactions.
	require.Equal(t, 204, h.Call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/comments/%d", cm.ID), "", "Cookie", ann, "X-CSRF-Token", acs).Status)
	webtest.RequireProblem(t, h.Call(t, "PUT", c.DefaultHost, path, `{"mode":"like"}`, "Cookie", bob, "X-CSRF-Token", bcs), 404, "not_found")
}

func TestProfanityFilter(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "polite", nil)
	h, c, project := s.H, s.City, s.Project
	h.Register(t, c.DefaultHost, "ann@example.org")
	ann, acs := h.Login(t, c.DefaultHost, "ann@example.org")
	p := webtest.RequireProblem(t, webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "This is shit", ""), 422, "invalid")
	require.Contains(t, p.Detail, "rephrase")
	webtest.RequireProblem(t, webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "Fine title", "<p>Quelle merde</p>"), 422, "invalid") // fr is a city language
	r := webtest.PostIdea(t, h, c.DefaultHost, ann, acs, project, "Polite idea", "")
	require.Equal(t, 201, r.Status)
	var it struct{ ID int64 }
	require.NoError(t, json.Unmarshal([]byte(r.Body), &it))
	webtest.RequireProblem(t, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it.ID), `{"body":"wat een klootzak"}`, "Cookie", ann, "X-CSRF-Token", acs), 422, "invalid")
	// The page says it in the visitor's language.
	page := h.Call(t, "GET", c.DefaultHost, "/projects/ideas", "", "Cookie", ann)
	r = h.CallForm(t, c.DefaultHost, "/projects/ideas/ideas", "csrf_token="+webtest.CSRFFromPage(t, page)+"&title=Putain+de+trottoirs", "Cookie", ann+"; agora_locale=fr")
	webtest.RequireHTML(t, r, 422)
	require.Contains(t, r.Body, "Merci de reformuler")
}
