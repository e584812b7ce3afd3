package portal_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/domain/group"
	"agora/domain/locale"
	"agora/fixture"
	"agora/tenant"
	"agora/tenant/tenanttest"
	"agora/web/webtest"
)

type notice struct {
	Kind      string `json:"kind"`
	IdeaID    *int64 `json:"idea_id"`
	ActorName string `json:"actor_name"`
}

// notices lists the notification kinds of a user (by bearer), newest first.
func notices(t *testing.T, h *webtest.Harness, c *tenant.Tenant, bearer string) []notice {
	t.Helper()
	return webtest.Decode[struct {
		Data []notice `json:"data"`
	}](t, h.Call(t, "GET", c.DefaultHost, "/api/v1/notifications", "", "Authorization", bearer), 200).Data
}

func kinds(ns []notice) []string {
	out := []string{}
	for _, n := range ns {
		out = append(out, n.Kind)
	}
	return out
}

// handleOf is the caller's handle from GET /api/v1/me.
func handleOf(t *testing.T, h *webtest.Harness, c *tenant.Tenant, bearer string) string {
	t.Helper()
	return webtest.Decode[struct {
		Handle string `json:"handle"`
	}](t, h.Call(t, "GET", c.DefaultHost, "/api/v1/me", "", "Authorization", bearer), 200).Handle
}

func TestMentionsNotifyOnceAndHandles(t *testing.T) {
	t.Parallel()
	s := webtest.NewIdeaCity(t, "mentions", nil)
	h, c, project, env := s.H, s.City, s.Project, s.Env
	alice := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "alice@example.org", FirstName: "Alice", LastName: "Martin"}))
	bruno := fixture.Token(t, env, c, fixture.User(t, env, c, fixture.UserOpts{Email: "bruno@example.org", FirstName: "Bruno", LastName: "Dubois"}))
	ideaID := webtest.NewIdea(t, h, c.DefaultHost, project, "Benches on the square", "Authorization", alice)
	comment := func(bearer, body string) webtest.Response {
		b, _ := json.Marshal(map[string]string{"body": body})
		return h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", ideaID), string(b), "Authorization", bearer)
	}
	mentions := func() int {
		var n int
		fixture.Exec(t, env, c, `SELECT count(*) FROM notifications WHERE kind = 'mention'`, nil, &n)
		return n
	}

	t.Run("a mentioned follower hears of it once, as a mention", func(t *testing.T) {
		handle := handleOf(t, h, c, bruno)
		require.Equal(t, "bruno-dubois", handle)
		require.Equal(t, 200, h.Call(t, "PUT", c.DefaultHost, fmt.Sprintf("/api/v1/follows/idea/%d", ideaID), "", "Authorization", bruno).Status)
		require.Equal(t, 201, comment(alice, "@"+handle+" look").Status)
		ns := notices(t, h, c, bruno)
		require.Equal(t, []string{"mention"}, kinds(ns), "one mention, no second follower notification")
		require.NotNil(t, ns[0].IdeaID)
		require.Equal(t, int64(ideaID), *ns[0].IdeaID)
		require.Empty(t, notices(t, h, c, alice), "the commenter is not notified of their own comment")
		// The comment thread shows how to mention its author.
		require.Contains(t, h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", ideaID)).Body, `"author_handle":"alice-martin"`)
	})

	t.Run("an e-mail address is not a mention", func(t *testing.T) {
		// A user whose handle is "example", the host part of the address.
		var exampleID int64
		var handle string
		fixture.Exec(t, env, c, `INSERT INTO users (email, first_name, last_name, email_confirmed_at) VALUES ('org@example.net', 'Example', '', now())
			RETURNING id, handle`, nil, &exampleID, &handle)
		require.Equal(t, "example", handle)
		before := mentions()
		require.Equal(t, 201, comment(alice, "Write to x@example.org or bruno@bruno-dubois.example about it").Status)
		require.Equal(t, before, mentions(), "no one is mentioned by an e-mail address")
		var n int
		fixture.Exec(t, env, c, `SELECT count(*) FROM notifications WHERE user_id = $1`, []any{exampleID}, &n)
		require.Zero(t, n)
		// Bruno follows the idea: a follower notification, not a mention.
		require.Equal(t, []string{"comment_on_followed", "mention"}, kinds(notices(t, h, c, bruno)))
		// The same user is mentioned by @example at the start of a sentence.
		require.Equal(t, 201, comment(alice, "@example: is this your address?").Status)
		fixture.Exec(t, env, c, `SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'mention'`, []any{exampleID}, &n)
		require.Equal(t, 1, n)
	})

	t.Run("handles are unique", func(t *testing.T) {
		type doc struct {
			ID     int64
			Handle string
		}
		signUpAnn := func(addr string) doc {
			t.Helper()
			r := h.Call(t, "POST", c.DefaultHost, "/api/v1/users", `{"email":"`+addr+`","password":"`+fixture.Password+`","first_name":"Ann","last_name":"Peeters"}`)
			require.Equal(t, 202, r.Status, r.Body)
			var d doc
			fixture.Exec(t, env, c, `SELECT id, handle FROM users WHERE email = $1`, []any{addr}, &d.ID, &d.Handle)
			return d
		}
		a1, a2 := signUpAnn("ann1@example.org"), signUpAnn("ann2@example.org")
		require.Equal(t, "ann-peeters", a1.Handle)
		require.NotEqual(t, a1.Handle, a2.Handle)
		require.Regexp(t, `^ann-peeters--\d+$`, a2.Handle, "a taken handle falls back to name--id, which no name can produce")
		// A mention of the first Ann reaches her alone.
		require.Equal(t, 201, comment(alice, "Ask @ann-peeters").Status)
		var n1, n2 int
		fixture.Exec(t, env, c, `SELECT (SELECT count(*) FROM notifications WHERE user_id = $1 AND kind = 'mention'),
			(SELECT count(*) FROM notifications WHERE user_id = $2 AND kind = 'mention')`, []any{a1.ID, a2.ID}, &n1, &n2)
		require.Equal(t, 1, n1)
		require.Zero(t, n2)
	})

	t.Run("a handle that a name with a number holds does not block a registration", func(t *testing.T) {
		// The next id; the person registering after "Ann Peeters <next+1>"
		// is an Ann Peeters whose fallback handle would be ann-peeters-<next+1>.
		var next int64
		fixture.Exec(t, env, c, `SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM users_id_seq`, nil, &next)
		r := h.Call(t, "POST", c.DefaultHost, "/api/v1/users",
			fmt.Sprintf(`{"email":"ann3@example.org","password":"%s","first_name":"Ann","last_name":"Peeters %d"}`, fixture.Password, next+1))
		require.Equal(t, 202, r.Status, r.Body)
		var handle string
		fixture.Exec(t, env, c, `SELECT handle FROM users WHERE email = 'ann3@example.org'`, nil, &handle)
		require.Equal(t, fmt.Sprintf("ann-peeters-%d", next+1), handle)
		r = h.Call(t, "POST", c.DefaultHost, "/api/v1/users",
			`{"email":"ann4@example.org","password":"`+fixture.Password+`","first_name":"Ann","last_name":"Peeters"}`)
		require.Equal(t, 202, r.Status, "a third Ann Peeters can register: %s", r.Body)
		var made int
		fixture.Exec(t, env, c, `SELECT count(*) FROM users WHERE email = 'ann4@example.org'`, nil, &made)
		require.Equal(t, 1, made)
	})

	t.Run("a deleted account's handle no longer names them", func(t *testing.T) {
		zoeUser := fixture.User(t, env, c, fixture.UserOpts{Email: "zoe@example.org", FirstName: "Zoé", LastName: "Vanderquux"})
		zoe := fixture.Token(t, env, c, zoeUser)
		require.Equal(t, "zoe-vanderquux", handleOf(t, h, c, zoe))
		require.Equal(t, 201, comment(zoe, "I agree").Status)
		cookie, csrf := fixture.Session(t, env, c, zoeUser)
		r := h.Call(t, "DELETE", c.DefaultHost, "/api/v1/me", `{"password":"`+fixture.Password+`"}`, "Cookie", cookie, "X-CSRF-Token", csrf)
		require.Equal(t, http.StatusNoContent, r.Status, r.Body)
		var handle string
		fixture.Exec(t, env, c, `SELECT handle FROM users WHERE email IS NULL AND deleted_at IS NOT NULL`, nil, &handle)
		require.Regexp(t, `^deleted--\d+$`, handle)
		require.NotContains(t, handle, "zoe")
		require.NotContains(t, handle, "vanderquux")
		thread := h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", ideaID))
		require.NotContains(t, thread.Body, "vanderquux")
		page := h.Get(t, c.DefaultHost, fmt.Sprintf("/ideas/%d", ideaID))
		webtest.RequireHTML(t, page, 200)
		require.NotContains(t, page.Body, "@zoe-vanderquux")
		// Mentioning the old handle notifies no one.
		before := mentions()
		require.Equal(t, 201, comment(alice, "@zoe-vanderquux are you there?").Status)
		require.Equal(t, before, mentions())
	})

	t.Run("a mention does not reach someone who cannot see the idea", func(t *testing.T) {
		// A project for a group's members; a member mentions an outsider.
		admin, csrf := fixture.Session(t, env, c, s.Admin)
		auth := []string{"Cookie", admin, "X-CSRF-Token", csrf}
		groups := group.NewService(env.DB)
		g, err := groups.Create(tenanttest.Ctx(c), locale.Text{"en": "Residents"}, group.Manual, nil)
		require.NoError(t, err)
		memberUser := fixture.User(t, env, c, fixture.UserOpts{Email: "member@example.org", FirstName: "Mem", LastName: "Ber"})
		memberID, member := int64(memberUser.ID), fixture.Token(t, env, c, memberUser)
		require.NoError(t, groups.AddMember(tenanttest.Ctx(c), g.ID, memberID))
		closed := fixture.Project(t, env, c, fixture.ProjectOpts{Slug: "residents", Title: "Residents only", Phase: &fixture.PhaseOpts{}}).ID
		r := h.Call(t, "PATCH", c.DefaultHost, fmt.Sprintf("/api/v1/projects/%d", closed), fmt.Sprintf(`{"visibility":"groups","groups":[%d]}`, g.ID), auth...)
		require.Equal(t, 200, r.Status, r.Body)
		secret := webtest.NewIdea(t, h, c.DefaultHost, closed, "Residents' private plan", "Authorization", member)
		webtest.RequireProblem(t, h.Get(t, c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d", secret), "Authorization", bruno), 404, "not_found")
		before := notices(t, h, c, bruno)
		b, _ := json.Marshal(map[string]string{"body": "@bruno-dubois should know"})
		require.Equal(t, 201, h.Call(t, "POST", c.DefaultHost, fmt.Sprintf("/api/v1/ideas/%d/comments", secret), string(b), "Authorization", member).Status)
		after := notices(t, h, c, bruno)
		require.Equal(t, kinds(before), kinds(after), "no notification (with the idea's title) for an idea Bruno cannot see")
	})
}
