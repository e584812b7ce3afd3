package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/group"
	"agora/domain/locale"
	"agora/domain/user"
	"agora/tenant"
	"agora/tenant/tenanttest"
)

// End-to-end tests of the participation details (commit "Participation
// details"): mentions, phase reaction rules, custom statuses, folders, areas
// and ordering, project moderators, header images and idea pictures, idea
// places and list filters, and blocking an author from the moderation inbox.

const pdPassword = "correct horse battery"

// pdCitizen makes a confirmed citizen with a name and returns its id and an
// API bearer credential ("Bearer ...").
func pdCitizen(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, email, first, last string) (int64, string) {
	t.Helper()
	users := user.NewService(env.DB)
	u, err := users.Create(tenanttest.Ctx(c), user.Registration{Email: email, Password: pdPassword, FirstName: first, LastName: last}, user.RoleCitizen)
	require.NoError(t, err)
	tok, err := users.CreateToken(tenanttest.Ctx(c), u.ID, "test")
	require.NoError(t, err)
	return int64(u.ID), "Bearer " + tok.Token
}

// pdSession opens a browser session for email without the rate-limited
// login route: the session cookie and its CSRF token.
func pdSession(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, email string) (cookie, csrf string) {
	t.Helper()
	sess, err := user.NewService(env.DB).Login(tenanttest.Ctx(c), email, pdPassword, "test", "127.0.0.1")
	require.NoError(t, err)
	return "agora_session=" + sess.Token, sess.CSRFToken
}

// pdExec runs one statement in the city, scanning its row into dest if any.
func pdExec(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, q string, args []any, dest ...any) {
	t.Helper()
	require.NoError(t, env.DB.InTx(tenanttest.Ctx(c), func(tx *tenant.Tx) error {
		if len(dest) > 0 {
			return tx.QueryRowxContext(context.Background(), q, args...).Scan(dest...)
		}
		_, err := tx.ExecContext(context.Background(), q, args...)
		return err
	}), q)
}

// pdDecode checks r's status and decodes its JSON body into a T.
func pdDecode[T any](t *testing.T, r response, status int) T {
	t.Helper()
	require.Equal(t, status, r.Status, "body: %s", r.Body)
	var v T
	require.NoError(t, json.Unmarshal([]byte(r.Body), &v), "body: %s", r.Body)
	return v
}

// pdField checks that r is a problem with status and code and returns the
// field it names.
func pdField(t *testing.T, r response, status int, code string) string {
	t.Helper()
	requireProblem(t, r, status, code)
	var p struct {
		Field string `json:"field"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &p))
	return p.Field
}

type pdID struct {
	ID int64 `json:"id"`
}

// pdIdea posts an idea with the API as auth (a header pair) and returns its id.
func pdIdea(t *testing.T, h *harness, c *tenant.Tenant, project int64, title string, auth ...string) int64 {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"project_id": project, "title": title})
	return pdDecode[pdID](t, h.call(t, "POST", c.DefaultHost, "/api/v1/ideas", string(b), auth...), 201).ID
}

// pdProject creates a published project with a current ideation phase
// (phase is the JSON of extra phase fields) and returns the project and phase ids.
func pdProject(t *testing.T, h *harness, c *tenant.Tenant, admin, csrf, slug, title, phase string) (int64, int64) {
	t.Helper()
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	p := pdDecode[pdID](t, h.call(t, "POST", c.DefaultHost, "/api/v1/projects",
		`{"slug":"`+slug+`","title":{"en":"`+title+`"},"status":"published"}`, auth...), 201)
	body := `{"title":{"en":"Now"},"method":"ideation","starts_at":"2020-01-01T00:00:00Z","posting_enabled":true,"reacting_enabled":true,"commenting_enabled":true`
	if phase != "" {
		body += "," + phase
	}
	ph := pdDecode[pdID](t, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", p.ID), body+"}", auth...), 201)
	return p.ID, ph.ID
}

// pdPhaseOf is the id of the project's only phase.
func pdPhaseOf(t *testing.T, env *tenanttest.Env, c *tenant.Tenant, project int64) int64 {
	t.Helper()
	var id int64
	pdExec(t, env, c, `SELECT id FROM phases WHERE project_id = $1`, []any{project}, &id)
	return id
}

// pdUpload builds a multipart body with one file in field.
func pdUpload(t *testing.T, field, filename string, data []byte) (body, ctype string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile(field, filename)
	require.NoError(t, err)
	_, err = fw.Write(data)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.String(), w.FormDataContentType()
}

type pdNotice struct {
	Kind      string `json:"kind"`
	IdeaID    *int64 `json:"idea_id"`
	ActorName string `json:"actor_name"`
}

// pdNotices lists the notification kinds of a user (by bearer), newest first.
func pdNotices(t *testing.T, h *harness, c *tenant.Tenant, bearer string) []pdNotice {
	t.Helper()
	return pdDecode[struct {
		Data []pdNotice `json:"data"`
	}](t, h.call(t, "GET", c.DefaultHost, "/api/v1/notifications", "", "Authorization", bearer), 200).Data
}

func pdKinds(ns []pdNotice) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Kind)
	}
	return out
}

// pdHandle is the caller's handle from GET /api/v1/me.
func pdHandle(t *testing.T, h *harness, c *tenant.Tenant, bearer string) string {
	t.Helper()
	return pdDecode[struct {
		Handle string `json:"handle"`
	}](t, h.call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Authorization", bearer), 200).Handle
}

func TestMentionsNotifyOnceAndHandles(t *testing.T) {
	t.Parallel()
	h, c, _, _, project, env := ideaCity(t, "mentions", `{}`)
	_, alice := pdCitizen(t, env, c, "alice@example.org", "Alice", "Martin")
	_, bruno := pdCitizen(t, env, c, "bruno@example.org", "Bruno", "Dubois")
	ideaID := pdIdea(t, h, c, project, "Benches on the square", "Authorization", alice)
	comment := func(bearer, body string) response {
		b, _ := json.Marshal(map[string]string{"body": body})
		return h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", ideaID), string(b), "Authorization", bearer)
	}
	mentions := func() int {
		var n int
		pdExec(t, env, c, `SELECT count(*) FROM notifications WHERE kind = 'mention'`, nil, &n)
		return n
	}

	t.Run("a mentioned follower hears of it once, as a mention", func(t *testing.T) {
		handle := pdHandle(t, h, c, bruno)
		require.Equal(t, "bruno-dubois", handle)
		require.Equal(t, 200, h.call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/follows/idea/%d", ideaID), "", "Authorization", bruno).Status)
		require.Equal(t, 201, comment(alice, "@"+handle+" look").Status)
		ns := pdNotices(t, h, c, bruno)
		require.Equal(t, []string{"mention"}, pdKinds(ns), "one mention, no second follower notification")
		require.NotNil(t, ns[0].IdeaID)
		require.Equal(t, ideaID, *ns[0].IdeaID)
		require.Empty(t, pdNotices(t, h, c, alice), "the commenter is not notified of their own comment")
		// The comment thread shows how to mention its author.
		require.Contains(t, h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", ideaID)).Body, `"author_handle":"alice-martin"`)
	})

	t.Run("an e-mail address is not a mention", func(t *testing.T) {
		// A user whose handle is "example", the host part of the address.
		var exampleID int64
		var handle string
		pdExec(t, env, c, `INSERT INTO users (email, first_name, last_name, email_confirmed_at) VALUES ('org@example.net', 'Example', '', now())
			RETURNING id, handle`, nil, &exampleID, &handle)
		require.Equal(t, "example", handle)
		before := mentions()
		require.Equal(t, 201, comment(alice, "Write to x@example.org or bruno@bruno-dubois.example about it").Status)
		require.Equal(t, before, mentions(), "no one is mentioned by an e-mail address")
		var n int
		pdExec(t, env, c, `SELECT count(*) FROM notifications WHERE user_id = $1`, []any{exampleID}, &n)
		require.Zero(t, n)
		// Bruno follows the idea: a follower notification, not a mention.
		require.Equal(t, []string{"comment_on_followed", "mention"}, pdKinds(pdNotices(t, h, c, bruno)))
		// The same user is mentioned by @example at the start of a sentence.
		require.Equal(t, 201, comment(alice, "@example: is this your address?").Status)
		pdExec(t, env, c, `SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'mention'`, []any{exampleID}, &n)
		require.Equal(t, 1, n)
	})

	t.Run("handles are unique", func(t *testing.T) {
		type doc struct {
			ID     int64
			Handle string
		}
		signUpAnn := func(addr string) doc {
			t.Helper()
			r := h.call(t, "POST", c.DefaultHost, "/api/v1/users", `{"email":"`+addr+`","password":"`+pdPassword+`","first_name":"Ann","last_name":"Peeters"}`)
			require.Equal(t, 202, r.Status, r.Body)
			var d doc
			pdExec(t, env, c, `SELECT id, handle FROM users WHERE email = $1`, []any{addr}, &d.ID, &d.Handle)
			return d
		}
		a1, a2 := signUpAnn("ann1@example.org"), signUpAnn("ann2@example.org")
		require.Equal(t, "ann-peeters", a1.Handle)
		require.NotEqual(t, a1.Handle, a2.Handle)
		require.Regexp(t, `^ann-peeters--\d+$`, a2.Handle, "a taken handle falls back to name--id, which no name can produce")
		// A mention of the first Ann reaches her alone.
		require.Equal(t, 201, comment(alice, "Ask @ann-peeters").Status)
		var n1, n2 int
		pdExec(t, env, c, `SELECT (SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'mention'),
			(SELECT count(*) FROM notifications WHERE user_id = $2 AND kind = 'mention')`, []any{a1.ID, a2.ID}, &n1, &n2)
		require.Equal(t, 1, n1)
		require.Zero(t, n2)
	})

	t.Run("a handle that a name with a number holds does not block a registration", func(t *testing.T) {
		// The next id; the person registering after "Ann Peeters <next+1>"
		// is an Ann Peeters whose fallback handle would be ann-peeters-<next+1>.
		var next int64
		pdExec(t, env, c, `SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM users_id_seq`, nil, &next)
		r := h.call(t, "POST", c.DefaultHost, "/api/v1/users",
			fmt.Sprintf(`{"email":"ann3@example.org","password":"%s","first_name":"Ann","last_name":"Peeters %d"}`, pdPassword, next+1))
		require.Equal(t, 202, r.Status, r.Body)
		var handle string
		pdExec(t, env, c, `SELECT handle FROM users WHERE email = 'ann3@example.org'`, nil, &handle)
		require.Equal(t, fmt.Sprintf("ann-peeters-%d", next+1), handle)
		r = h.call(t, "POST", c.DefaultHost, "/api/v1/users",
			`{"email":"ann4@example.org","password":"`+pdPassword+`","first_name":"Ann","last_name":"Peeters"}`)
		require.Equal(t, 202, r.Status, "a third Ann Peeters can register: %s", r.Body)
		var made int
		pdExec(t, env, c, `SELECT count(*) FROM users WHERE email = 'ann4@example.org'`, nil, &made)
		require.Equal(t, 1, made)
	})

	t.Run("a deleted account's handle no longer names them", func(t *testing.T) {
		_, zoe := pdCitizen(t, env, c, "zoe@example.org", "Zoé", "Vanderquux")
		require.Equal(t, "zoe-vanderquux", pdHandle(t, h, c, zoe))
		require.Equal(t, 201, comment(zoe, "I agree").Status)
		cookie, csrf := pdSession(t, env, c, "zoe@example.org")
		r := h.call(t, "DELETE", c.DefaultHost, "/api/v1/me", `{"password":"`+pdPassword+`"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
		require.Equal(t, http.StatusNoContent, r.Status, r.Body)
		var handle string
		pdExec(t, env, c, `SELECT handle FROM users WHERE email IS NULL AND deleted_at IS NOT NULL`, nil, &handle)
		require.Regexp(t, `^deleted--\d+$`, handle)
		require.NotContains(t, handle, "zoe")
		require.NotContains(t, handle, "vanderquux")
		thread := h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", ideaID))
		require.NotContains(t, thread.Body, "vanderquux")
		page := h.get(t, c.DefaultHost, fmt.Sprintf("/ideas/%d", ideaID))
		requireHTML(t, page, 200)
		require.NotContains(t, page.Body, "@zoe-vanderquux")
		// Mentioning the old handle notifies no one.
		before := mentions()
		require.Equal(t, 201, comment(alice, "@zoe-vanderquux are you there?").Status)
		require.Equal(t, before, mentions())
	})

	t.Run("a mention does not reach someone who cannot see the idea", func(t *testing.T) {
		// A project for a group's members; a member mentions an outsider.
		admin, csrf := pdSession(t, env, c, "admin@example.org")
		auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
		groups := group.NewService(env.DB)
		g, err := groups.Create(tenanttest.Ctx(c), locale.Text{"en": "Residents"}, group.Manual, nil)
		require.NoError(t, err)
		memberID, member := pdCitizen(t, env, c, "member@example.org", "Mem", "Ber")
		require.NoError(t, groups.AddMember(tenanttest.Ctx(c), g.ID, memberID))
		closed, _ := pdProject(t, h, c, admin, csrf, "residents", "Residents only", "")
		r := h.call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", closed), fmt.Sprintf(`{"visibility":"groups","groups":[%d]}`, g.ID), auth...)
		require.Equal(t, 200, r.Status, r.Body)
		secret := pdIdea(t, h, c, closed, "Residents' private plan", "Authorization", member)
		requireProblem(t, h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", secret), "Authorization", bruno), 404, "not_found")
		before := pdNotices(t, h, c, bruno)
		b, _ := json.Marshal(map[string]string{"body": "@bruno-dubois should know"})
		require.Equal(t, 201, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", secret), string(b), "Authorization", member).Status)
		after := pdNotices(t, h, c, bruno)
		require.Equal(t, pdKinds(before), pdKinds(after), "no notification (with the idea's title) for an idea Bruno cannot see")
	})
}

func TestPhaseReactionRules(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, unlimited, env := ideaCity(t, "reactrules", `{}`)
	adminAuth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	_, cit := pdCitizen(t, env, c, "cit@example.org", "Cas", "Citizen")
	react := func(ideaID int64, mode string) response {
		return h.call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/reaction", ideaID), `{"mode":"`+mode+`"}`, "Authorization", cit)
	}

	t.Run("a phase without dislikes refuses them", func(t *testing.T) {
		project, _ := pdProject(t, h, c, admin, csrf, "nodislikes", "No dislikes", `"dislikes_enabled":false`)
		it := pdIdea(t, h, c, project, "Quiet streets", adminAuth...)
		requireProblem(t, react(it, "dislike"), 422, "invalid")
		require.Equal(t, 200, react(it, "like").Status)
		requireProblem(t, react(it, "dislike"), 422, "invalid")
		r := h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it))
		require.Contains(t, r.Body, `"likes_count":1,"dislikes_count":0`)
	})

	t.Run("an idea keeps the dislike rule of the phase it was posted in", func(t *testing.T) {
		project, first := pdProject(t, h, c, admin, csrf, "earlier", "Earlier", `"dislikes_enabled":false`)
		it := pdIdea(t, h, c, project, "From the first phase", adminAuth...)
		// The first phase ends; a second one, with dislikes, runs now.
		pdExec(t, env, c, `UPDATE phases SET ends_at = '2021-01-01' WHERE id = $1`, []any{first})
		r := h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", project),
			`{"title":{"en":"Second"},"method":"ideation","starts_at":"2021-01-01T00:00:00Z","posting_enabled":true,"reacting_enabled":true,"dislikes_enabled":true}`, adminAuth...)
		require.Equal(t, 201, r.Status, r.Body)
		p := requireProblem(t, react(it, "dislike"), 422, "invalid")
		require.Contains(t, p.Detail, "dislikes")
		require.Equal(t, 200, react(pdIdea(t, h, c, project, "From the second phase", adminAuth...), "dislike").Status)
	})

	t.Run("a reaction limit holds under concurrency", func(t *testing.T) {
		project, phase := pdProject(t, h, c, admin, csrf, "limited", "Limited", `"dislikes_enabled":true,"reaction_limit":3`)
		ideas := make([]int64, 10)
		for i := range ideas {
			ideas[i] = pdIdea(t, h, c, project, fmt.Sprintf("Limited idea %d", i), adminAuth...)
		}
		// One user reacts to the ten ideas at once, from ten goroutines.
		statuses := make([]int, len(ideas))
		bodies := make([]string, len(ideas))
		var wg sync.WaitGroup
		for i, id := range ideas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, err := http.NewRequest("PUT", h.ts.URL+fmt.Sprintf("/api/v1/ideas/%d/reaction", id), strings.NewReader(`{"mode":"like"}`))
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				req.Host = c.DefaultHost
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", cit)
				res, err := h.client.Do(req)
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
				requireProblem(t, response{Status: st, Header: http.Header{"Content-Type": {"application/problem+json"}}, Body: bodies[i]}, 409, "conflict")
			default:
				t.Fatalf("reaction %d: %d %s", i, st, bodies[i])
			}
		}
		require.Len(t, liked, 3, "exactly the limit is taken: %v", statuses)
		var rows, likes int
		pdExec(t, env, c, `SELECT (SELECT count(*) FROM reactions r JOIN ideas i ON i.id = r.item_id WHERE r.item_type = 'idea' AND i.phase_id = $1),
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
			if !containsID(liked, id) {
				refused = id
				break
			}
		}
		requireProblem(t, react(refused, "like"), 409, "conflict")

		// The idea page says how many are left; taking one back frees one.
		cookie, _ := pdSession(t, env, c, "cit@example.org")
		page := h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", refused), "", "Cookie", cookie)
		requireHTML(t, page, 200)
		require.Contains(t, page.Body, "You can react to 0 more ideas in this phase.")
		require.Equal(t, 200, h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/reaction", liked[1]), "", "Authorization", cit).Status)
		page = h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", refused), "", "Cookie", cookie)
		require.Contains(t, page.Body, "You can react to 1 more ideas in this phase.")
		require.Equal(t, 200, react(refused, "like").Status)
		// An unlimited phase says nothing of it.
		other := pdIdea(t, h, c, unlimited, "Unlimited idea", adminAuth...)
		page = h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/ideas/%d", other), "", "Cookie", cookie)
		requireHTML(t, page, 200)
		require.NotContains(t, page.Body, "more ideas in this phase")
	})

	t.Run("a reaction on a deleted idea does not use up the limit", func(t *testing.T) {
		project, _ := pdProject(t, h, c, admin, csrf, "one-vote", "One vote", `"reaction_limit":1`)
		_, voter := pdCitizen(t, env, c, "voter@example.org", "Vic", "Voter")
		mine := pdIdea(t, h, c, project, "My own idea", "Authorization", voter)
		other := pdIdea(t, h, c, project, "Someone else's idea", adminAuth...)
		vote := func(id int64) response {
			return h.call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/reaction", id), `{"mode":"like"}`, "Authorization", voter)
		}
		require.Equal(t, 200, vote(mine).Status)
		requireProblem(t, vote(other), 409, "conflict")
		// The idea goes, and its reaction with it: it cannot be taken back
		// any more, so it must not hold the voter's only reaction.
		require.Equal(t, 204, h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", mine), "", "Authorization", voter).Status)
		requireProblem(t, h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/reaction", mine), "", "Authorization", voter), 404, "not_found")
		r := vote(other)
		require.Equal(t, 200, r.Status, "the reaction on the deleted idea no longer counts: %s", r.Body)
	})
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

type pdStatus struct {
	Code   string            `json:"code"`
	Title  map[string]string `json:"title"`
	Custom bool              `json:"custom"`
}

func pdStatuses(t *testing.T, h *harness, c *tenant.Tenant) []pdStatus {
	t.Helper()
	return pdDecode[struct {
		Data []pdStatus `json:"data"`
	}](t, h.get(t, c.DefaultHost, "/api/v1/statuses"), 200).Data
}

func pdCodes(ss []pdStatus) []string {
	var out []string
	for _, s := range ss {
		out = append(out, s.Code)
	}
	return out
}

var pdDefaultStatuses = []string{"proposed", "viewed", "under_consideration", "accepted", "rejected", "implemented"}

func TestCustomIdeaStatuses(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, env := ideaCity(t, "statuses", `{}`)
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	_, cit := pdCitizen(t, env, c, "cit@example.org", "Cas", "Citizen")

	list := pdStatuses(t, h, c)
	require.Equal(t, pdDefaultStatuses, pdCodes(list))
	for _, s := range list {
		require.False(t, s.Custom)
		require.NotEmpty(t, s.Title["en"])
	}
	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"mine","title":{"en":"Mine"}}`, "Authorization", cit), 403, "forbidden")

	r := h.call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"on_hold","title":{"en":"On hold","fr":"En attente"},"color":"#123456"}`, auth...)
	st := pdDecode[pdStatus](t, r, 201)
	require.True(t, st.Custom)
	require.Equal(t, "on_hold", st.Code)
	require.Equal(t, "code", pdField(t, h.call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"on_hold","title":{"en":"Again"}}`, auth...), 422, "invalid"))
	list = pdStatuses(t, h, c)
	require.Equal(t, append(append([]string{}, pdDefaultStatuses...), "on_hold"), pdCodes(list))
	require.True(t, list[6].Custom)

	it := pdIdea(t, h, c, project, "Wait and see", auth...)
	r = h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", it), `{"status":"on_hold","note":"Later"}`, auth...)
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, `"status":"on_hold"`)
	require.Contains(t, r.Body, `"On hold"`)
	page := h.get(t, c.DefaultHost, fmt.Sprintf("/ideas/%d", it), "Cookie", "agora_locale=fr")
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "En attente")

	// A used status stays, even once no idea has it any more.
	requireProblem(t, h.call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/on_hold", "", auth...), 409, "conflict")
	require.Equal(t, 200, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", it), `{"status":"proposed"}`, auth...).Status)
	requireProblem(t, h.call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/on_hold", "", auth...), 409, "conflict")
	// Defaults always stay.
	requireProblem(t, h.call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/accepted", "", auth...), 403, "forbidden")
	requireProblem(t, h.call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/nothing_here", "", auth...), 404, "not_found")
	// An unused custom status goes.
	require.Equal(t, 201, h.call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"parked","title":{"en":"Parked"}}`, auth...).Status)
	requireProblem(t, h.call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/parked", "", "Authorization", cit), 403, "forbidden")
	r = h.call(t, "DELETE", c.DefaultHost, "/api/v1/statuses/parked", "", auth...)
	require.Equal(t, http.StatusNoContent, r.Status, r.Body)
	require.NotContains(t, pdCodes(pdStatuses(t, h, c)), "parked")

	t.Run("back office page", func(t *testing.T) {
		// The back office lists them with the form to add one.
		page := h.call(t, "GET", c.DefaultHost, "/admin/statuses", "", "Cookie", admin)
		requireHTML(t, page, 200)
		require.Contains(t, page.Body, `action="/admin/statuses"`)
		require.Contains(t, page.Body, "<code>on_hold</code>")
		require.NotContains(t, page.Body, "Available on the standard plan")
		r := h.callForm(t, c.DefaultHost, "/admin/statuses", "csrf_token="+csrf+"&code=from_form&title_en=From+the+form&color=%23abcdef", "Cookie", admin)
		require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
		require.Contains(t, pdCodes(pdStatuses(t, h, c)), "from_form")
	})
}

func TestParticipationFeaturesOnTheEssentialPlan(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, env := ideaCity(t, "essentials", `{}`)
	essential := tenant.PlanEssential
	c, err := env.Ops.Update(context.Background(), c.Slug, tenant.Update{Plan: &essential}) // invalidates the harness's registry
	require.NoError(t, err)
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	pdCitizen(t, env, c, "mod@example.org", "Mo", "Derator")

	t.Run("custom statuses API", func(t *testing.T) {
		r := h.call(t, "POST", c.DefaultHost, "/api/v1/statuses", `{"code":"on_hold","title":{"en":"On hold"}}`, auth...)
		p := requireProblem(t, r, 403, "feature_unavailable")
		require.Contains(t, p.Detail, "standard")
		require.Equal(t, pdDefaultStatuses, pdCodes(pdStatuses(t, h, c)), "the defaults are there on every plan")
	})

	t.Run("project moderators API", func(t *testing.T) {
		r := h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), `{"email":"mod@example.org"}`, auth...)
		requireProblem(t, r, 403, "feature_unavailable")
		page := h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/admin/projects/%d", project), "", "Cookie", admin)
		requireHTML(t, page, 200)
		require.Contains(t, page.Body, "Available on the standard plan")
		require.NotContains(t, page.Body, fmt.Sprintf(`action="/admin/projects/%d/moderators"`, project))
	})

	t.Run("statuses page", func(t *testing.T) {
		page := h.call(t, "GET", c.DefaultHost, "/admin/statuses", "", "Cookie", admin)
		requireHTML(t, page, 200)
		require.Contains(t, page.Body, "Available on the standard plan")
		require.NotContains(t, page.Body, `action="/admin/statuses"`)
		require.Contains(t, page.Body, "<code>under_consideration</code>")
		// The page form is refused the same way.
		r := h.callForm(t, c.DefaultHost, "/admin/statuses", "csrf_token="+csrf+"&code=on_hold&title_en=On+hold", "Cookie", admin)
		requireHTML(t, r, 403)
		require.Contains(t, r.Body, "Available on the standard plan")
		require.Equal(t, pdDefaultStatuses, pdCodes(pdStatuses(t, h, c)))
	})
}

// pdHomeOrder lists the slugs of the project cards on a home page, in order.
func pdHomeOrder(t *testing.T, r response) []string {
	t.Helper()
	requireHTML(t, r, 200)
	const marker = `<h3><a href="/projects/`
	var out []string
	rest := r.Body
	for {
		i := strings.Index(rest, marker)
		if i < 0 {
			return out
		}
		rest = rest[i+len(marker):]
		out = append(out, rest[:strings.IndexByte(rest, '"')])
	}
}

func TestFoldersAreasOrderingAndHomeFilters(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, ideasID, env := ideaCity(t, "folders", `{}`)
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	parks, _ := pdProject(t, h, c, admin, csrf, "parks", "Parks", "")
	streets, _ := pdProject(t, h, c, admin, csrf, "streets", "Streets", "")
	_, cit := pdCitizen(t, env, c, "cit@example.org", "Cas", "Citizen")

	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/folders", `{"title":{"en":"Mine"}}`, "Authorization", cit), 403, "forbidden")
	requireProblem(t, h.call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"Mine"}}`, "Authorization", cit), 403, "forbidden")
	folder := pdDecode[pdID](t, h.call(t, "POST", c.DefaultHost, "/api/v1/folders", `{"title":{"en":"Green city"}}`, auth...), 201).ID
	north := pdDecode[pdID](t, h.call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"North"}}`, auth...), 201).ID
	south := pdDecode[pdID](t, h.call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"South"}}`, auth...), 201).ID
	require.Equal(t, "title", pdField(t, h.call(t, "POST", c.DefaultHost, "/api/v1/folders", `{"title":{}}`, auth...), 422, "invalid"))

	patch := func(id int64, body string) response {
		return h.call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", id), body, auth...)
	}
	r := patch(parks, fmt.Sprintf(`{"folder_id":%d}`, folder))
	require.Equal(t, 200, r.Status, r.Body)
	require.Contains(t, r.Body, fmt.Sprintf(`"folder_id":%d`, folder))
	require.Equal(t, 200, patch(streets, fmt.Sprintf(`{"areas":[%d]}`, north)).Status)
	require.Equal(t, 200, patch(ideasID, fmt.Sprintf(`{"areas":[%d]}`, south)).Status)
	require.Equal(t, "folder_id", pdField(t, patch(streets, `{"folder_id":999999}`), 422, "invalid"))
	folders := h.get(t, c.DefaultHost, "/api/v1/folders")
	require.Contains(t, folders.Body, `"projects":1`)

	home := func(q string) response { return h.get(t, c.DefaultHost, "/"+q) }
	require.Equal(t, []string{"ideas", "parks", "streets"}, pdHomeOrder(t, home("")))
	require.Equal(t, []string{"parks"}, pdHomeOrder(t, home(fmt.Sprintf("?folder=%d", folder))))
	require.Equal(t, []string{"streets"}, pdHomeOrder(t, home(fmt.Sprintf("?area=%d", north))))
	require.Equal(t, []string{"ideas"}, pdHomeOrder(t, home(fmt.Sprintf("?area=%d", south))))
	require.Empty(t, pdHomeOrder(t, home(fmt.Sprintf("?area=%d&folder=%d", north, folder))))
	page := home(fmt.Sprintf("?folder=%d", folder))
	require.Contains(t, page.Body, "Green city")
	require.Contains(t, page.Body, "North")
	for _, bad := range []string{"?topic=abc", "?area=x", "?folder=-1"} {
		requireHTML(t, home(bad), 400)
	}

	// Manual order: the back office moves projects up and down.
	move := func(id int64, dir, cookie, token string) response {
		return h.callForm(t, c.DefaultHost, fmt.Sprintf("/admin/projects/%d/move", id), "csrf_token="+token+"&direction="+dir, "Cookie", cookie)
	}
	r = move(streets, "up", admin, csrf)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.Contains(t, r.Header.Get("Location"), "/admin/projects")
	require.Equal(t, []string{"ideas", "streets", "parks"}, pdHomeOrder(t, home("")))
	require.Equal(t, http.StatusSeeOther, move(ideasID, "down", admin, csrf).Status)
	require.Equal(t, []string{"streets", "ideas", "parks"}, pdHomeOrder(t, home("")))
	require.Equal(t, http.StatusSeeOther, move(streets, "up", admin, csrf).Status, "the first stays first")
	require.Equal(t, []string{"streets", "ideas", "parks"}, pdHomeOrder(t, home("")))
	citCookie, citCSRF := pdSession(t, env, c, "cit@example.org")
	requireHTML(t, move(parks, "up", citCookie, citCSRF), 403)
	require.Equal(t, []string{"streets", "ideas", "parks"}, pdHomeOrder(t, home("")))

	// Deleting a folder keeps its projects.
	require.Equal(t, http.StatusNoContent, h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/folders/%d", folder), "", auth...).Status)
	require.Contains(t, h.get(t, c.DefaultHost, "/api/v1/projects/parks").Body, `"folder_id":null`)
	require.Equal(t, []string{"streets", "ideas", "parks"}, pdHomeOrder(t, home("")))
}

func TestProjectModerators(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, env := ideaCity(t, "moderators", `{}`)
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	other, _ := pdProject(t, h, c, admin, csrf, "other", "Other", "")
	modID, mod := pdCitizen(t, env, c, "mod@example.org", "Mo", "Derator")
	goneID, _ := pdCitizen(t, env, c, "gone@example.org", "Gone", "Soon")
	pdCitizen(t, env, c, "late@example.org", "Late", "Comer")
	it := pdIdea(t, h, c, project, "Moderated idea", auth...)
	add := func(id int64, email string) response {
		return h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", id), `{"email":"`+email+`"}`, auth...)
	}
	setStatus := func(status string) response {
		return h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", it), `{"status":"`+status+`"}`, "Authorization", mod)
	}

	t.Run("a moderator answers the project's ideas", func(t *testing.T) {
		requireProblem(t, setStatus("viewed"), 403, "forbidden")
		m := pdDecode[struct {
			UserID int64  `json:"user_id"`
			Email  string `json:"email"`
		}](t, add(project, "mod@example.org"), 201)
		require.Equal(t, modID, m.UserID)
		r := setStatus("viewed")
		require.Equal(t, 200, r.Status, r.Body)
		require.Contains(t, r.Body, `"status":"viewed"`)
		require.Contains(t, h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), "", "Cookie", admin).Body, "mod@example.org")
		// Not the ideas of another project.
		elsewhere := pdIdea(t, h, c, other, "Elsewhere", auth...)
		requireProblem(t, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", elsewhere), `{"status":"viewed"}`, "Authorization", mod), 403, "forbidden")
		// Only admins add moderators.
		r = h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), `{"email":"late@example.org"}`, "Authorization", mod)
		requireProblem(t, r, 403, "forbidden")
	})

	t.Run("only existing non-admin accounts", func(t *testing.T) {
		require.Equal(t, "email", pdField(t, add(project, "nobody@example.org"), 422, "invalid"))
		require.Equal(t, "email", pdField(t, add(project, "admin@example.org"), 422, "invalid"))
		requireProblem(t, add(999999, "mod@example.org"), 404, "not_found")
	})

	t.Run("seats", func(t *testing.T) {
		require.Equal(t, 201, add(project, "gone@example.org").Status)
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
		p := requireProblem(t, add(project, "late@example.org"), 409, "conflict")
		require.Contains(t, p.Detail, "20")
		// A moderator already seated moderates another project at no cost.
		require.Equal(t, 201, add(other, "mod@example.org").Status)
		require.Equal(t, 201, add(project, "seat3@example.org").Status)
		requireProblem(t, add(other, "late@example.org"), 409, "conflict")
	})

	t.Run("removal takes the rights away", func(t *testing.T) {
		r := h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators/%d", project, modID), "", auth...)
		require.Equal(t, http.StatusNoContent, r.Status, r.Body)
		requireProblem(t, setStatus("accepted"), 403, "forbidden")
		require.NotContains(t, h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), "", "Cookie", admin).Body, "mod@example.org")
		requireProblem(t, h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators/%d", project, modID), "", auth...), 404, "not_found")
	})

	t.Run("a deleted moderator frees their seat", func(t *testing.T) {
		cookie, gcsrf := pdSession(t, env, c, "gone@example.org")
		r := h.call(t, "DELETE", c.DefaultHost, "/api/v1/me", `{"password":"`+pdPassword+`"}`, "Cookie", cookie, "X-CSRF-Token", gcsrf)
		require.Equal(t, http.StatusNoContent, r.Status, r.Body)
		list := h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), "", "Cookie", admin)
		require.NotContains(t, list.Body, fmt.Sprintf(`"user_id":%d`, goneID), "the list no longer shows them")
		r = add(project, "late@example.org")
		require.Equal(t, 201, r.Status, "19 live moderators leave a seat free: %s", r.Body)
	})
}

func TestHeaderImagesAndIdeaPictures(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, env := ideaCity(t, "pictures", `{}`)
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}

	t.Run("project header image", func(t *testing.T) {
		hp, _ := pdProject(t, h, c, admin, csrf, "headed", "Headed", "")
		put := func(field, filename string, data []byte, who ...string) response {
			body, ctype := pdUpload(t, field, filename, data)
			return h.callRaw(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/header", hp), ctype, body, who...)
		}
		img := pngBytes(t, 40, 20)
		r := put("header_image", "header.png", img, auth...)
		doc := pdDecode[struct {
			Slug        string `json:"slug"`
			HeaderImage string `json:"header_image"`
		}](t, r, 200)
		require.NotEmpty(t, doc.HeaderImage)
		url := "/projects/headed/header/" + doc.HeaderImage
		got := h.get(t, c.DefaultHost, url)
		require.Equal(t, 200, got.Status, got.Body)
		require.Equal(t, "image/png", got.Header.Get("Content-Type"))
		require.Equal(t, string(img), got.Body)
		require.Equal(t, "public, max-age=31536000, immutable", got.Header.Get("Cache-Control"), "anyone may see it: shared caches may keep it")
		require.Contains(t, h.get(t, c.DefaultHost, "/projects/headed").Body, `src="`+url+`"`)
		require.Contains(t, h.get(t, c.DefaultHost, "/").Body, `src="`+url+`"`)

		require.Equal(t, "header_image", pdField(t, put("header_image", "notes.txt", []byte("just some text, not an image"), auth...), 422, "invalid"))
		require.Equal(t, "header_image", pdField(t, put("other_field", "header.png", img, auth...), 422, "invalid"))
		_, cit := pdCitizen(t, env, c, "cit@example.org", "Cas", "Citizen")
		requireProblem(t, put("header_image", "header.png", img, "Authorization", cit), 403, "forbidden")

		// Only those who see the project see its header.
		require.Equal(t, 200, h.call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", hp), `{"visibility":"admins"}`, auth...).Status)
		requireHTML(t, h.get(t, c.DefaultHost, url), 404)
		require.Equal(t, 404, h.get(t, c.DefaultHost, url, "Authorization", cit).Status)
		staffOnly := h.get(t, c.DefaultHost, url, "Cookie", admin)
		require.Equal(t, 200, staffOnly.Status)
		require.Equal(t, "private, max-age=86400", staffOnly.Header.Get("Cache-Control"), "a restricted project's picture stays out of shared caches")
		// A new header replaces the old one.
		r = put("header_image", "header.png", pngBytes(t, 30, 30), auth...)
		require.Equal(t, 200, r.Status, r.Body)
		require.Equal(t, 404, h.get(t, c.DefaultHost, url, "Cookie", admin).Status)
	})

	t.Run("idea pictures", func(t *testing.T) {
		_, author := pdCitizen(t, env, c, "author@example.org", "Ada", "Author")
		_, other := pdCitizen(t, env, c, "other@example.org", "Otto", "Other")
		it := pdIdea(t, h, c, project, "A playground", "Authorization", author)
		add := func(data []byte, who ...string) response {
			body, ctype := pdUpload(t, "image", "picture.png", data)
			return h.callRaw(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/images", it), ctype, body, who...)
		}
		type image struct {
			ID  int64  `json:"id"`
			URL string `json:"url"`
		}
		var imgs []image
		var data [][]byte
		for i := range 5 {
			b := pngBytes(t, 10+i, 10)
			img := pdDecode[image](t, add(b, "Authorization", author), 201)
			require.NotEmpty(t, img.URL)
			imgs, data = append(imgs, img), append(data, b)
		}
		got := h.get(t, c.DefaultHost, imgs[0].URL)
		require.Equal(t, 200, got.Status, got.Body)
		require.Equal(t, string(data[0]), got.Body)
		require.Equal(t, "image/png", got.Header.Get("Content-Type"))
		require.Equal(t, "image", pdField(t, add(pngBytes(t, 9, 9), "Authorization", author), 422, "invalid"), "a sixth picture is refused")
		requireProblem(t, add(pngBytes(t, 9, 9), "Authorization", other), 403, "forbidden")
		requireProblem(t, add(pngBytes(t, 9, 9)), 401, "unauthenticated")
		require.Equal(t, "image", pdField(t, add([]byte("plain text"), "Authorization", author), 422, "invalid"))
		ideaDoc := h.get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it))
		require.Contains(t, ideaDoc.Body, imgs[4].URL)

		del := func(id int64, who ...string) response {
			return h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/images/%d", it, id), "", who...)
		}
		requireProblem(t, del(imgs[0].ID, "Authorization", other), 403, "forbidden")
		r := del(imgs[0].ID, "Authorization", author)
		require.Equal(t, http.StatusNoContent, r.Status, r.Body)
		require.Equal(t, 404, h.get(t, c.DefaultHost, imgs[0].URL).Status)
		requireProblem(t, del(imgs[0].ID, "Authorization", author), 404, "not_found")
		require.Equal(t, 201, add(pngBytes(t, 9, 9), "Authorization", author).Status, "a freed place takes a picture")
		// Another idea's URL with this picture's name is unknown.
		otherIdea := pdIdea(t, h, c, project, "Another idea", "Authorization", other)
		name := imgs[1].URL[strings.LastIndexByte(imgs[1].URL, '/')+1:]
		require.Equal(t, 404, h.get(t, c.DefaultHost, fmt.Sprintf("/ideas/%d/images/%s", otherIdea, name)).Status)

		// A hidden idea's pictures are not served.
		require.Equal(t, 204, h.call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/hidden/idea/%d", it), "", auth...).Status)
		require.Equal(t, 404, h.get(t, c.DefaultHost, imgs[1].URL).Status)
		require.Equal(t, 204, h.call(t, "DELETE", c.DefaultHost, fmt.Sprintf("/api/v1/moderation/hidden/idea/%d", it), "", auth...).Status)
		require.Equal(t, 200, h.get(t, c.DefaultHost, imgs[1].URL).Status)
	})
}

func TestIdeaPlaceAndListFilters(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, env := ideaCity(t, "places", `{}`)
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	post := func(body string) response {
		return h.call(t, "POST", c.DefaultHost, "/api/v1/ideas", body, auth...)
	}

	var placed int64
	t.Run("place", func(t *testing.T) {
		require.Equal(t, "location_lat", pdField(t, post(fmt.Sprintf(`{"project_id":%d,"title":"Half a place","location_lat":50.8}`, project)), 422, "invalid"))
		require.Equal(t, "location_lat", pdField(t, post(fmt.Sprintf(`{"project_id":%d,"title":"Off the map","location_lat":95,"location_lng":4}`, project)), 422, "invalid"))
		r := post(fmt.Sprintf(`{"project_id":%d,"title":"Flowers on the square","location_lat":50.8467,"location_lng":4.35247,"location_name":"Grand-Place"}`, project))
		it := pdDecode[struct {
			ID           int64    `json:"id"`
			LocationLat  *float64 `json:"location_lat"`
			LocationName string   `json:"location_name"`
		}](t, r, 201)
		require.NotNil(t, it.LocationLat)
		require.InDelta(t, 50.8467, *it.LocationLat, 1e-9)
		require.Equal(t, "Grand-Place", it.LocationName)
		placed = it.ID
	})

	t.Run("the idea page shows the place", func(t *testing.T) {
		require.NotZero(t, placed)
		page := h.get(t, c.DefaultHost, fmt.Sprintf("/ideas/%d", placed))
		requireHTML(t, page, 200)
		require.Contains(t, page.Body, "Grand-Place")
		require.Contains(t, page.Body, "50.84670, 4.35247")
	})

	t.Run("filters and sorts", func(t *testing.T) {
		first := pdPhaseOf(t, env, c, project)
		early := pdIdea(t, h, c, project, "Early idea", auth...)
		// The first phase ends; ideas now go into the second.
		pdExec(t, env, c, `UPDATE phases SET ends_at = '2021-01-01' WHERE id = $1`, []any{first})
		second := pdDecode[pdID](t, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/phases", project),
			`{"title":{"en":"Second"},"method":"ideation","starts_at":"2021-01-01T00:00:00Z","posting_enabled":true,"reacting_enabled":true}`, auth...), 201).ID
		late := pdIdea(t, h, c, project, "Late idea", auth...)
		lateAccepted := pdIdea(t, h, c, project, "Late accepted idea", auth...)
		lateViewed := pdIdea(t, h, c, project, "Late viewed idea", auth...)
		require.Equal(t, 200, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", lateAccepted), `{"status":"accepted"}`, auth...).Status)
		require.Equal(t, 200, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/status", lateViewed), `{"status":"viewed"}`, auth...).Status)
		// Another project, in an area.
		area := pdDecode[pdID](t, h.call(t, "POST", c.DefaultHost, "/api/v1/areas", `{"title":{"en":"Harbour"}}`, auth...), 201).ID
		harbour, _ := pdProject(t, h, c, admin, csrf, "harbour", "Harbour", "")
		require.Equal(t, 200, h.call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", harbour), fmt.Sprintf(`{"areas":[%d]}`, area), auth...).Status)
		boats := pdIdea(t, h, c, harbour, "Boats", auth...)

		ids := func(q string) []int64 {
			t.Helper()
			l := pdDecode[struct {
				Data  []pdID `json:"data"`
				Total int    `json:"total"`
			}](t, h.get(t, c.DefaultHost, "/api/v1/ideas"+q), 200)
			require.Len(t, l.Data, l.Total)
			var out []int64
			for _, d := range l.Data {
				out = append(out, d.ID)
			}
			return out
		}
		sorted := func(xs ...int64) []int64 {
			sort.Slice(xs, func(i, j int) bool { return xs[i] < xs[j] })
			return xs
		}
		require.Contains(t, ids(fmt.Sprintf("?phase=%d", first)), early)
		require.NotContains(t, ids(fmt.Sprintf("?phase=%d", first)), late)
		require.Equal(t, sorted(late, lateAccepted, lateViewed), sorted(ids(fmt.Sprintf("?phase=%d", second))...))
		require.Equal(t, []int64{boats}, ids(fmt.Sprintf("?area=%d", area)))
		require.Empty(t, ids(fmt.Sprintf("?area=%d&project=%d", area, project)))
		// By status: in the statuses' order, newest first within one.
		require.Equal(t, []int64{late, lateViewed, lateAccepted}, ids(fmt.Sprintf("?phase=%d&sort=status", second)))
	})

	t.Run("bad parameters", func(t *testing.T) {
		require.Equal(t, "sort", pdField(t, h.get(t, c.DefaultHost, "/api/v1/ideas?sort=bogus"), 422, "invalid"))
		require.Equal(t, "project", pdField(t, h.get(t, c.DefaultHost, "/api/v1/ideas?project=abc"), 422, "invalid"))
		require.Equal(t, "phase", pdField(t, h.get(t, c.DefaultHost, "/api/v1/ideas?phase=-1"), 422, "invalid"))
		require.Equal(t, "area", pdField(t, h.get(t, c.DefaultHost, "/api/v1/ideas?area=1.5"), 422, "invalid"))
		require.Equal(t, 200, h.get(t, c.DefaultHost, "/api/v1/ideas?sort=status").Status)
	})
}

func TestModerationInboxBlocksTheAuthor(t *testing.T) {
	t.Parallel()
	h, c, admin, csrf, project, env := ideaCity(t, "blockauthor", `{}`)
	auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
	authorID, author := pdCitizen(t, env, c, "rita@example.org", "Rita", "Spammer")
	_, reporter := pdCitizen(t, env, c, "rex@example.org", "Rex", "Reporter")
	pdCitizen(t, env, c, "mod@example.org", "Mo", "Derator")
	require.Equal(t, 201, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d/moderators", project), `{"email":"mod@example.org"}`, auth...).Status)
	it := pdIdea(t, h, c, project, "Cheap watches for sale", "Authorization", author)
	require.Equal(t, 201, h.call(t, "POST", c.DefaultHost, "/api/v1/reports", fmt.Sprintf(`{"item_type":"idea","item_id":%d,"reason":"spam"}`, it),
		"Authorization", reporter).Status)
	var reportID int64
	pdExec(t, env, c, `SELECT id FROM reports WHERE item_id = $1`, []any{it}, &reportID)
	blocked := func() bool {
		var b bool
		pdExec(t, env, c, `SELECT coalesce(blocked_until > now(), false) FROM users WHERE id = $1`, []any{authorID}, &b)
		return b
	}

	page := h.call(t, "GET", c.DefaultHost, "/admin/moderation", "", "Cookie", admin)
	requireHTML(t, page, 200)
	require.Contains(t, page.Body, "Cheap watches for sale")
	require.Contains(t, page.Body, "Rita Spammer")
	require.Contains(t, page.Body, `class="row-form block-author"`)
	require.Contains(t, page.Body, `name="do" value="block"`)

	// A project moderator sees the report but cannot block.
	modCookie, modCSRF := pdSession(t, env, c, "mod@example.org")
	modPage := h.call(t, "GET", c.DefaultHost, "/admin/moderation", "", "Cookie", modCookie)
	requireHTML(t, modPage, 200)
	require.Contains(t, modPage.Body, "Cheap watches for sale")
	require.NotContains(t, modPage.Body, `value="block"`)
	r := h.callForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+modCSRF+"&do=block&days=7", "Cookie", modCookie)
	requireHTML(t, r, 403)
	require.False(t, blocked())
	require.Equal(t, 201, h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it), `{"body":"Still here"}`, "Authorization", author).Status)

	// The admin blocks the author for a week.
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+csrf+"&do=block&days=7", "Cookie", admin)
	require.Equal(t, http.StatusSeeOther, r.Status, r.Body)
	require.True(t, blocked())
	var days float64
	pdExec(t, env, c, `SELECT extract(epoch FROM blocked_until - now()) / 86400 FROM users WHERE id = $1`, []any{authorID}, &days)
	require.InDelta(t, 7, days, 0.01)
	page = h.call(t, "GET", c.DefaultHost, "/admin/moderation", "", "Cookie", admin)
	require.Contains(t, page.Body, "blocked until")
	require.NotContains(t, page.Body, `value="block"`)

	// The block ends the author's credentials; logged in again, they read but do not post.
	requireProblem(t, h.call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Authorization", author), 401, "unauthenticated")
	cookie, acsrf := pdSession(t, env, c, "rita@example.org")
	r = h.call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", it), `{"body":"Let me in"}`, "Cookie", cookie, "X-CSRF-Token", acsrf)
	requireProblem(t, r, 403, "forbidden")
	require.Equal(t, 200, h.call(t, "GET", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", it), "", "Cookie", cookie).Status)
	// A bad action is refused.
	r = h.callForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+csrf+"&do=explode", "Cookie", admin)
	requireHTML(t, r, 422)

	t.Run("blocking needs a number of days", func(t *testing.T) {
		// A malformed or missing duration is refused; it does not lift the block.
		for _, form := range []string{"do=block&days=abc", "do=block"} {
			r := h.callForm(t, c.DefaultHost, fmt.Sprintf("/admin/moderation/%d", reportID), "csrf_token="+csrf+"&"+form, "Cookie", admin)
			requireHTML(t, r, 422)
			require.True(t, blocked(), "after %s the author is still blocked", form)
		}
	})
}
