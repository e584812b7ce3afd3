package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/lib/pq"

	"agora/domain/locale"
	"agora/domain/password"
	"agora/domain/project"
	"agora/domain/user"
	"agora/tenant"
)

// PortalOptions size the portal benchmark (agora bench portal's flags).
type PortalOptions struct {
	Ideas     int           // ideas in the city's project
	Comments  int           // comments on them (30% are replies)
	Reactions int           // likes and dislikes on them (one per citizen and idea)
	Users     int           // citizens who post, comment and react; at least Clients, each client reacting as one of them
	Clients   int           // concurrent HTTP clients, each on its own keep-alive connection
	Conns     int           // the web server's PostgreSQL pool size
	Duration  time.Duration // measured time of each request kind
	// Cities is how many small cities the catalog-cache line picks from at
	// random per request (each with a project of cityIdeas ideas).
	Cities int
	Keep   bool // keep the benchmark database afterwards (to EXPLAIN its queries)
	// CPUProfile, when set, is the file a CPU profile of the measured
	// requests is written to (go tool pprof FILE).
	CPUProfile string
}

// Validate reports, as a *UsageError, options the benchmark cannot run with.
func (o PortalOptions) Validate() error {
	switch {
	case o.Ideas < 1 || o.Users < 1 || o.Clients < 1 || o.Conns < 1 || o.Cities < 1:
		return usagef("--ideas, --users, --clients, --conns and --cities must be positive")
	case o.Comments < 0 || o.Reactions < 0:
		return usagef("--comments and --reactions cannot be negative")
	case o.Duration <= 0:
		return usagef("--duration must be positive")
	case float64(o.Reactions) > float64(o.Users)*float64(o.Ideas)/2:
		return usagef("--reactions: at most half of --users × --ideas (one reaction per citizen and idea)")
	}
	return nil
}

// cityIdeas, cityComments, cityReactions and cityUsers fill each of the
// catalog-cache line's small cities.
const cityIdeas, cityComments, cityReactions, cityUsers = 200, 400, 400, 40

// portalCostTarget is how many times the cost of its counterpart (the
// anonymous page, the list in one city) a personal page or a list in a
// random city may have.
const portalCostTarget = 2.0

// portalReadTarget is the p99 the portal's reads must stay under.
const portalReadTarget = 50 * time.Millisecond

// portalMaxFailed is the share of non-2xx answers above which the figures
// are worthless: the benchmark, not the portal, is broken.
const portalMaxFailed = 0.01

// Portal fills one city, in a database of its own, with a project of
// many ideas, comments and reactions, serves the real web stack on a loopback
// port and drives its busiest requests with o.Clients concurrent clients.
// Rate limits are off (no Redis). The same clients first drive a bare gin
// engine answering a constant JSON: the machine's own ceiling, which every
// figure is compared with.
func (r *Runner) Portal(ctx context.Context, o PortalOptions) error {
	if err := o.Validate(); err != nil {
		return err
	}
	o.Users = max(o.Users, o.Clients) // each client reacts with a citizen of its own
	env, closeEnv, err := r.open(ctx, o.Keep, tenant.PoolOptions{MaxConns: o.Conns, ConnMaxLifetime: 30 * time.Minute})
	if err != nil {
		return err
	}
	defer closeEnv()
	cfg, pool, db, reg := env.cfg, env.pool, env.db, env.reg
	city, err := env.city(ctx, tenant.Spec{
		Slug: "portalbench", Name: "Portal bench", Plan: tenant.PlanStandard, Lifecycle: tenant.Active,
		Locales: []string{"en"}, TimeZone: "Europe/Brussels"})
	if err != nil {
		return err
	}
	began := time.Now()
	seeded, err := seedPortal(tenant.WithTenant(ctx, city), db, o, r.Progress)
	if err != nil {
		return fmt.Errorf("seed the city: %w", err)
	}
	seedTime := time.Since(began)
	began = time.Now()
	others, err := seedCities(ctx, env, o.Cities, r)
	if err != nil {
		return err
	}
	citiesTime := time.Since(began)

	srv, err := webStack(cfg, db, reg)
	if err != nil {
		return err
	}
	counter := &queryCounter{next: srv, done: make(chan int64, 1)}
	cityBase, stopCity, err := serveLoopback(counter)
	if err != nil {
		return err
	}
	defer stopCity()
	ceiling := gin.New()
	ceiling.GET("/ping", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok", "service": "agora"}) })
	ceilingBase, stopCeiling, err := serveLoopback(ceiling)
	if err != nil {
		return err
	}
	defer stopCeiling()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: o.Clients * 4, MaxIdleConnsPerHost: o.Clients * 2,
		IdleConnTimeout: time.Minute}}
	at := func(base string) portalHTTP {
		return portalHTTP{ctx: ctx, client: client, base: base, host: city.DefaultHost}
	}
	cityHTTP := at(cityBase)

	seeded.host = city.DefaultHost
	if err := checkPortal(cityHTTP, seeded); err != nil {
		return fmt.Errorf("the benchmark's requests do not do what they should: %w", err)
	}
	if o.CPUProfile != "" {
		f, err := os.Create(o.CPUProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	if err := checkPages(cityHTTP, seeded); err != nil {
		return fmt.Errorf("the benchmark's requests do not do what they should: %w", err)
	}
	for _, other := range others {
		if err := checkList(at(cityBase).on(other.host), other); err != nil {
			return fmt.Errorf("the benchmark's requests do not do what they should, in %s: %w", other.host, err)
		}
	}
	listPath := func(c *portalCity, rng *mrand.Rand) string {
		return fmt.Sprintf("/api/v1/ideas?project=%d&topic=%d&sort=trending", c.project, c.topics[rng.IntN(len(c.topics))])
	}
	randomIdea := func(rng *mrand.Rand) int64 { return seeded.ideas[rng.IntN(len(seeded.ideas))] }
	// Each client reacts as its own citizen and walks an idea through like,
	// dislike and no reaction, then moves on: every request changes a row.
	type reacting struct {
		idea int64
		step int
	}
	state := make([]reacting, o.Clients)
	react := func(c int, rng *mrand.Rand) (int, error) {
		st := &state[c]
		if st.step%3 == 0 {
			st.idea = randomIdea(rng)
		}
		path := fmt.Sprintf("/api/v1/ideas/%d/reaction", st.idea)
		auth := "Bearer " + seeded.tokens[c]
		step := st.step % 3
		st.step++
		switch step {
		case 0:
			return cityHTTP.do(http.MethodPut, path, `{"mode":"like"}`, "Authorization", auth)
		case 1:
			return cityHTTP.do(http.MethodPut, path, `{"mode":"dislike"}`, "Authorization", auth)
		default:
			return cityHTTP.do(http.MethodDelete, path, "", "Authorization", auth)
		}
	}
	cityHosts := make([]portalHTTP, len(others))
	for i, other := range others {
		cityHosts[i] = at(cityBase).on(other.host)
	}
	// counterpart is the index of the line a line's cost is compared with
	// (-1: none).
	phases := []struct {
		name        string
		read        bool
		counterpart int
		do          func(c int, rng *mrand.Rand) (int, error)
	}{
		{"ceiling: bare gin, constant JSON", false, -1, func(int, *mrand.Rand) (int, error) {
			return at(ceilingBase).do(http.MethodGet, "/ping", "")
		}},
		{"idea list: trending, topic, 20/page", true, -1, func(_ int, rng *mrand.Rand) (int, error) {
			return cityHTTP.do(http.MethodGet, listPath(seeded, rng), "")
		}},
		{"idea page: JSON", true, -1, func(_ int, rng *mrand.Rand) (int, error) {
			return cityHTTP.do(http.MethodGet, fmt.Sprintf("/api/v1/ideas/%d", randomIdea(rng)), "")
		}},
		{"idea page: HTML", true, -1, func(_ int, rng *mrand.Rand) (int, error) {
			return cityHTTP.do(http.MethodGet, fmt.Sprintf("/ideas/%d", randomIdea(rng)), "")
		}},
		{"reaction: like, dislike, remove", false, -1, react},
		{"home page: HTML", true, -1, func(int, *mrand.Rand) (int, error) {
			return cityHTTP.do(http.MethodGet, "/", "")
		}},
		{"project page: HTML", true, -1, func(int, *mrand.Rand) (int, error) {
			return cityHTTP.do(http.MethodGet, "/projects/"+seeded.slug, "")
		}},
		{"idea page: HTML, logged in", true, 3, func(c int, rng *mrand.Rand) (int, error) {
			return cityHTTP.do(http.MethodGet, fmt.Sprintf("/ideas/%d", randomIdea(rng)), "", "Cookie", "agora_session="+seeded.sessions[c])
		}},
		{fmt.Sprintf("idea list: %d cities at random", len(others)), true, 1, func(_ int, rng *mrand.Rand) (int, error) {
			i := rng.IntN(len(others))
			return cityHosts[i].do(http.MethodGet, listPath(others[i], rng), "")
		}},
	}
	warm := min(2*time.Second, o.Duration/5)
	results := make([]portalResult, len(phases))
	for i, ph := range phases {
		// One request alone first, counting its queries through the door.
		counter.armed.Store(true)
		if st, err := ph.do(0, mrand.New(mrand.NewPCG(1, 1))); err != nil || st != http.StatusOK {
			if err == nil {
				err = fmt.Errorf("answered %d", st)
			}
			return fmt.Errorf("%s: %w", ph.name, err)
		}
		counter.armed.Store(false)
		if i > 0 { // the ceiling is not a request to the city's server
			results[i].queries = <-counter.done
		}
		fmt.Fprintf(r.Progress, "phase %d/%d: %s (%s warm-up, %s measured)\n", i+1, len(phases), ph.name, warm, o.Duration)
		portalLoad(o.Clients, warm, ph.do)
		queries := results[i].queries
		results[i] = portalLoad(o.Clients, o.Duration, ph.do)
		results[i].name, results[i].queries = ph.name, queries
	}
	consistent, err := countersMatch(tenant.WithTenant(ctx, city), db)
	if err != nil {
		return err
	}

	w := r.Out
	fmt.Fprintf(w, "\nAgora portal benchmark: one city, %d ideas in one project (%d topics), %d comments, %d reactions, %d citizens\n",
		seeded.counts.ideas, len(seeded.topics), seeded.counts.comments, seeded.counts.reactions, seeded.counts.users)
	fmt.Fprintf(w, "%d CPU cores, %s, PostgreSQL %s, web pool %d connections, rate limits off (no Redis)\n",
		runtime.NumCPU(), runtime.Version(), serverVersion(ctx, pool), o.Conns)
	fmt.Fprintf(w, "Seeding (bulk SQL through the city's transaction, then ANALYZE): %.1f s; %d more cities of %d ideas each: %.1f s\n",
		seedTime.Seconds(), len(others), cityIdeas, citiesTime.Seconds())
	fmt.Fprintf(w, "\n%d clients over keep-alive connections, %s per line after a %s warm-up; the city's host in Host\n", o.Clients, o.Duration, warm)
	fmt.Fprintf(w, "  %-36s %9s %8s %8s %11s %8s %9s\n", "request", "req/s", "p50 ms", "p99 ms", "of ceiling", "queries", "non-2xx")
	for _, res := range results {
		queries := "-"
		if res.queries > 0 {
			queries = strconv.FormatInt(res.queries, 10)
		}
		fmt.Fprintf(w, "  %-36s %9.0f %8.2f %8.2f %10.2f%% %8s %9s\n", res.name, res.rps, ms(res.lat.p50), ms(res.lat.p99),
			100*res.rps/results[0].rps, queries, fmt.Sprintf("%d/%d", res.failed, res.total))
	}
	fmt.Fprintf(w, "\n  queries:  statements and transactions through the city's door for one request of the kind, alone\n")
	fmt.Fprintf(w, "  ceiling:  GET /ping on a bare gin engine (no middleware, no database)\n")
	fmt.Fprintf(w, "  list:     GET /api/v1/ideas?project=%d&topic=T&sort=trending, T one of the %d topics at random (about %d ideas each)\n",
		seeded.project, len(seeded.topics), seeded.perTopic)
	fmt.Fprintf(w, "  pages:    GET /api/v1/ideas/{id} and GET /ideas/{id}, anonymous, random ideas; logged in: a citizen's session per client\n")
	fmt.Fprintf(w, "  home, project: GET / and GET /projects/%s, anonymous\n", seeded.slug)
	fmt.Fprintf(w, "  cities:   the list request in one of %d other cities at random, its host in Host (the host and catalog caches)\n", len(others))
	fmt.Fprintf(w, "  reaction: PUT /api/v1/ideas/{id}/reaction {\"mode\":\"like\"}, then \"dislike\", then DELETE, one citizen per client (Bearer token)\n")
	fmt.Fprintf(w, "\nReads, target p99 < %d ms:\n", portalReadTarget.Milliseconds())
	for i, res := range results {
		if !phases[i].read {
			continue
		}
		verdict := "met"
		if res.lat.p99 >= portalReadTarget {
			verdict = "missed"
		}
		fmt.Fprintf(w, "  %-36s p99 %7.2f ms   %s\n", res.name, ms(res.lat.p99), verdict)
	}
	fmt.Fprintf(w, "\nCost against its counterpart (its req/s over this line's), target ≤ %.0f×:\n", portalCostTarget)
	for i, res := range results {
		if cp := phases[i].counterpart; cp >= 0 {
			cost := results[cp].rps / res.rps
			verdict := "met"
			if cost > portalCostTarget {
				verdict = "missed"
			}
			fmt.Fprintf(w, "  %-36s %5.2f× %-36s %s\n", res.name, cost, "of "+results[cp].name, verdict)
		}
	}
	fmt.Fprintf(w, "\nIdea counters equal their reaction and comment rows after the run: %s\n", map[bool]string{true: "yes", false: "NO"}[consistent])

	for _, res := range results {
		if res.total == 0 {
			return fmt.Errorf("%s: no request completed", res.name)
		}
		if float64(res.failed) > portalMaxFailed*float64(res.total) {
			return fmt.Errorf("%s: %d of %d requests failed (more than %.0f%%: the benchmark is broken), first: %s",
				res.name, res.failed, res.total, 100*portalMaxFailed, res.first)
		}
	}
	if !consistent {
		return fmt.Errorf("idea counters differ from their rows after the run")
	}
	return nil
}

// portalCity is what seedPortal made.
type portalCity struct {
	host     string
	slug     string // the project's
	project  int64
	topics   []int64
	ideas    []int64
	tokens   []string // one citizen's API token per client
	sessions []string // one citizen's session per client (the agora_session cookie)
	perTopic int
	counts   struct{ ideas, comments, reactions, users int }
}

// seedPortal creates, in the city of ctx, a published project with a current
// ideation phase open to every citizen, then the citizens, ideas, topics,
// comments, reactions and follows in bulk SQL, with each idea's counters
// equal to its rows, and one API token per client.
func seedPortal(ctx context.Context, db *tenant.DB, o PortalOptions, progress io.Writer) (*portalCity, error) {
	out := &portalCity{}
	step := func(name string, began time.Time) {
		fmt.Fprintf(progress, "seeding: %-44s %6.2f s\n", name, time.Since(began).Seconds())
	}
	err := db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.SelectContext(ctx, &out.topics, `SELECT id FROM topics ORDER BY position, id`)
	})
	if err != nil {
		return nil, err
	}
	if len(out.topics) == 0 {
		return nil, fmt.Errorf("the city has no topics")
	}
	projects := project.NewService(db)
	out.slug = "ideas-for-the-city"
	p, err := projects.Create(ctx, 0, project.Project{Slug: out.slug, Title: locale.Text{"en": "Ideas for the city"},
		Status: project.Published, Topics: out.topics})
	if err != nil {
		return nil, err
	}
	out.project = int64(p.ID)
	ph, err := projects.AddPhase(ctx, 0, p.ID, project.Phase{Title: locale.Text{"en": "Share your ideas"}, Method: "ideation",
		StartsAt: time.Now().AddDate(0, 0, -90), PostingEnabled: true, CommentingEnabled: true, ReactingEnabled: true,
		DislikesEnabled: true})
	if err != nil {
		return nil, err
	}

	var users []int64
	err = db.InTx(ctx, func(tx *tenant.Tx) error {
		began := time.Now()
		if err := tx.SelectContext(ctx, &users, `INSERT INTO users (email, first_name, last_name, locale, role, email_confirmed_at, created_at)
			SELECT 'citizen' || g || '@example.org', 'Citizen', 'N' || g, 'en', 'citizen', now(), now() - interval '90 days'
			  FROM generate_series(1, $1) g
			RETURNING id`, o.Users); err != nil {
			return fmt.Errorf("citizens: %w", err)
		}
		step(fmt.Sprintf("%d citizens", len(users)), began)

		// Ideas, comments and reactions are drawn first, in temporary tables,
		// with idea ids taken from the ideas' own identity sequence: each idea
		// is then written once with its counters already equal to its rows
		// (no UPDATE leaving 10,000 dead rows for autovacuum to chase while
		// the benchmark runs). Popularity is skewed (random()²): a few ideas
		// draw most of the comments and reactions, as on a real portal.
		began = time.Now()
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE seed_ideas ON COMMIT DROP AS
			 SELECT nextval(pg_get_serial_sequence('ideas', 'id')) AS id, g,
			        ($1::bigint[])[1 + floor(random() * cardinality($1::bigint[]))::int] AS author,
			        now() - random() * interval '60 days' AS created_at
			   FROM generate_series(1, $2) g`, pq.Int64Array(users), o.Ideas); err != nil {
			return fmt.Errorf("draw ideas: %w", err)
		}
		if err := tx.SelectContext(ctx, &out.ideas, `SELECT id FROM seed_ideas ORDER BY id`); err != nil {
			return err
		}
		ideas := pq.Int64Array(out.ideas)
		top := o.Comments - o.Comments*3/10
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE seed_comments ON COMMIT DROP AS
			 SELECT nextval(pg_get_serial_sequence('comments', 'id')) AS id, i.id AS idea_id, NULL::bigint AS parent_id, p.author,
			        i.created_at + p.r * (now() - i.created_at) AS created_at
			   FROM (SELECT ($1::bigint[])[1 + floor(cardinality($1::bigint[]) * random() ^ 2)::int] AS idea,
			                ($2::bigint[])[1 + floor(random() * cardinality($2::bigint[]))::int] AS author, random() AS r
			           FROM generate_series(1, $3) OFFSET 0) p
			   JOIN seed_ideas i ON i.id = p.idea
			  ORDER BY 1`, ideas, pq.Int64Array(users), top); err != nil {
			return fmt.Errorf("draw comments: %w", err)
		}
		if top > 0 {
			// Parents are drawn by number, joined to the numbered top-level
			// comments: indexing an array of them row by row would copy it
			// for every row.
			if _, err := tx.ExecContext(ctx, `INSERT INTO seed_comments (id, idea_id, parent_id, author, created_at)
				 SELECT nextval(pg_get_serial_sequence('comments', 'id')), c.idea_id, c.id, p.author, c.created_at + p.r * (now() - c.created_at)
				   FROM (SELECT 1 + floor(random() * $3)::int AS n, ($1::bigint[])[1 + floor(random() * cardinality($1::bigint[]))::int] AS author,
				                random() AS r
				           FROM generate_series(1, $2) OFFSET 0) p
				   JOIN (SELECT id, idea_id, created_at, row_number() OVER (ORDER BY id) AS n FROM seed_comments) c ON c.n = p.n`,
				pq.Int64Array(users), o.Comments-top, top); err != nil {
				return fmt.Errorf("draw replies: %w", err)
			}
		}
		// Reactions: distinct (citizen, idea) pairs, drawn with a margin for
		// the duplicates, then cut to the number asked for at random.
		if _, err := tx.ExecContext(ctx, `CREATE TEMP TABLE seed_reactions ON COMMIT DROP AS
			 WITH pairs AS MATERIALIZED (
			     SELECT DISTINCT ($2::bigint[])[1 + floor(random() * cardinality($2::bigint[]))::int] AS user_id,
			            ($1::bigint[])[1 + floor(cardinality($1::bigint[]) * random() ^ 2)::int] AS idea_id
			       FROM generate_series(1, $3 + $3 / 4 + 10))
			 SELECT p.user_id, p.idea_id, CASE WHEN random() < 0.8 THEN 'like' ELSE 'dislike' END AS mode,
			        i.created_at + random() * (now() - i.created_at) AS created_at
			   FROM (SELECT user_id, idea_id FROM pairs ORDER BY random() LIMIT $3) p
			   JOIN seed_ideas i ON i.id = p.idea_id`, ideas, pq.Int64Array(users), o.Reactions); err != nil {
			return fmt.Errorf("draw reactions: %w", err)
		}
		step("draw ideas, comments and reactions", began)

		began = time.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO ideas (id, project_id, phase_id, author_id, title, body, body_text, status_id, lang,
			    likes_count, dislikes_count, comments_count, created_at, updated_at)
			 OVERRIDING SYSTEM VALUE
			 SELECT s.id, $1, $2, s.author, t.title, '<p>' || t.body || '</p>', t.body,
			        CASE WHEN random() < 0.7 THEN st.ids[1] ELSE st.ids[1 + floor(random() * cardinality(st.ids))::int] END,
			        'english', coalesce(r.likes, 0), coalesce(r.dislikes, 0), coalesce(c.n, 0), s.created_at, s.created_at
			   FROM seed_ideas s
			  CROSS JOIN (SELECT array_agg(id ORDER BY position) AS ids FROM idea_statuses) st
			  CROSS JOIN LATERAL (SELECT
			        (ARRAY['More', 'Safer', 'Greener', 'Quieter', 'Better', 'New', 'Wider', 'Shaded'])[1 + s.g % 8] || ' ' ||
			        (ARRAY['bike lanes', 'playgrounds', 'trees', 'benches', 'bus stops', 'street lights', 'parks', 'crossings', 'markets', 'libraries'])[1 + s.g / 8 % 10] ||
			        ' ' || (ARRAY['in the centre', 'near the station', 'in the old town', 'along the river', 'in the north', 'by the schools'])[1 + s.g / 80 % 6] ||
			        ' (#' || s.g || ')' AS title,
			        'Our neighbourhood would gain a lot from this. ' || repeat('Residents walk and cycle here every day, and children play nearby. ', 1 + s.g % 5) ||
			        'Idea number ' || s.g || '.' AS body) t
			   LEFT JOIN (SELECT idea_id, count(*) FILTER (WHERE mode = 'like') AS likes, count(*) FILTER (WHERE mode = 'dislike') AS dislikes
			                FROM seed_reactions GROUP BY idea_id) r ON r.idea_id = s.id
			   LEFT JOIN (SELECT idea_id, count(*) AS n FROM seed_comments GROUP BY idea_id) c ON c.idea_id = s.id
			  ORDER BY s.id`, p.ID, ph.ID); err != nil {
			return fmt.Errorf("ideas: %w", err)
		}
		// Every idea has a topic, about a third a second one.
		if _, err := tx.ExecContext(ctx, `INSERT INTO idea_topics (idea_id, topic_id)
			 SELECT id, ($1::bigint[])[1 + floor(random() * cardinality($1::bigint[]))::int] FROM seed_ideas
			 UNION
			 SELECT id, ($1::bigint[])[1 + floor(random() * cardinality($1::bigint[]))::int] FROM seed_ideas WHERE random() < 0.35
			 ON CONFLICT DO NOTHING`, pq.Int64Array(out.topics)); err != nil {
			return fmt.Errorf("idea topics: %w", err)
		}
		// Authors follow their ideas, as posting one does.
		if _, err := tx.ExecContext(ctx, `INSERT INTO follows (user_id, item_type, item_id, created_at)
			 SELECT author, 'idea', id, created_at FROM seed_ideas`); err != nil {
			return fmt.Errorf("follows: %w", err)
		}
		step(fmt.Sprintf("%d ideas with topics and follows", len(out.ideas)), began)

		began = time.Now()
		// Top-level comments first, then replies: the trigger checks that a
		// reply's parent is a top-level comment of the same idea.
		if _, err := tx.ExecContext(ctx, `INSERT INTO comments (id, idea_id, parent_id, author_id, body, created_at, updated_at)
			 OVERRIDING SYSTEM VALUE
			 SELECT id, idea_id, parent_id, author,
			        '<p>' || (ARRAY['Great idea, I support it.', 'Not sure this is the right place for it.', 'We asked for this for years!',
			                        'What would it cost?', 'Please think of people with reduced mobility.', 'Yes, and add more light.'])[1 + id % 6] ||
			        ' (' || id || ')</p>', created_at, created_at
			   FROM seed_comments WHERE parent_id IS NULL ORDER BY id`); err != nil {
			return fmt.Errorf("comments: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO comments (id, idea_id, parent_id, author_id, body, created_at, updated_at)
			 OVERRIDING SYSTEM VALUE
			 SELECT id, idea_id, parent_id, author, '<p>I agree with you (' || id || ').</p>', created_at, created_at
			   FROM seed_comments WHERE parent_id IS NOT NULL ORDER BY id`); err != nil {
			return fmt.Errorf("replies: %w", err)
		}
		step(fmt.Sprintf("%d comments", o.Comments), began)

		began = time.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO reactions (user_id, item_type, item_id, mode, created_at)
			 SELECT user_id, 'idea', idea_id, mode, created_at FROM seed_reactions ORDER BY idea_id, user_id`); err != nil {
			return fmt.Errorf("reactions: %w", err)
		}
		step(fmt.Sprintf("%d reactions", o.Reactions), began)
		return nil
	})
	if err != nil {
		return nil, err
	}
	began := time.Now()
	err = db.InTx(ctx, func(tx *tenant.Tx) error {
		for _, t := range []string{"users", "ideas", "idea_listing", "idea_topics", "comments", "reactions", "follows"} {
			if _, err := tx.ExecContext(ctx, "ANALYZE "+t); err != nil {
				return fmt.Errorf("analyze %s: %w", t, err)
			}
		}
		return tx.QueryRowxContext(ctx, `SELECT (SELECT count(*) FROM ideas), (SELECT count(*) FROM comments),
			(SELECT count(*) FROM reactions), (SELECT count(*) FROM users),
			(SELECT count(*) / greatest(count(DISTINCT topic_id), 1) FROM idea_topics)`).
			Scan(&out.counts.ideas, &out.counts.comments, &out.counts.reactions, &out.counts.users, &out.perTopic)
	})
	if err != nil {
		return nil, err
	}
	step("ANALYZE", began)

	began = time.Now()
	users1 := user.NewService(db)
	for c := range o.Clients {
		tok, err := users1.CreateToken(ctx, user.ID(users[c]), "bench")
		if err != nil {
			return nil, err
		}
		out.tokens = append(out.tokens, tok.Token)
	}
	step(fmt.Sprintf("%d API tokens", len(out.tokens)), began)

	// Sessions as the login form opens them: one password hash (argon2id
	// is slow on purpose) shared by the clients' citizens.
	began = time.Now()
	if o.Clients > 0 {
		hash, err := password.Hash(benchPassword)
		if err != nil {
			return nil, err
		}
		if err := db.InTx(ctx, func(tx *tenant.Tx) error {
			_, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = ANY($2)`, hash, pq.Int64Array(users[:o.Clients]))
			return err
		}); err != nil {
			return nil, err
		}
	}
	for c := range o.Clients {
		sess, err := users1.Login(ctx, fmt.Sprintf("citizen%d@example.org", c+1), benchPassword, "agora bench", "127.0.0.1")
		if err != nil {
			return nil, fmt.Errorf("log citizen %d in: %w", c+1, err)
		}
		out.sessions = append(out.sessions, sess.Token)
	}
	step(fmt.Sprintf("%d sessions", len(out.sessions)), began)
	return out, nil
}

// benchPassword is the password of the citizens who log in.
const benchPassword = "a bench citizen's password"

// seedCities creates n small cities next to the benchmark's own, each with
// a project of cityIdeas ideas, for the line that picks a city at random.
func seedCities(ctx context.Context, e *env, n int, r *Runner) ([]*portalCity, error) {
	bar := r.bar(n, "creating cities")
	defer bar.Finish()
	out := make([]*portalCity, 0, n)
	for i := range n {
		city, err := e.city(ctx, tenant.Spec{
			Slug: fmt.Sprintf("city%03d", i+1), Name: fmt.Sprintf("City %d", i+1), Plan: tenant.PlanStandard, Lifecycle: tenant.Active,
			Locales: []string{"en"}, TimeZone: "Europe/Brussels"})
		if err != nil {
			return nil, fmt.Errorf("city %d: %w", i+1, err)
		}
		seeded, err := seedPortal(tenant.WithTenant(ctx, city), e.db, PortalOptions{Ideas: cityIdeas, Comments: cityComments,
			Reactions: cityReactions, Users: cityUsers}, io.Discard)
		if err != nil {
			return nil, fmt.Errorf("seed city %d: %w", i+1, err)
		}
		seeded.host = city.DefaultHost
		out = append(out, seeded)
		_ = bar.Add(1)
	}
	return out, nil
}

// countersMatch reports whether every idea's counters equal its reaction
// and comment rows.
func countersMatch(ctx context.Context, db *tenant.DB) (bool, error) {
	var off int
	err := db.InReadTx(ctx, func(tx *tenant.Tx) error {
		return tx.GetContext(ctx, &off, `SELECT count(*) FROM ideas i
			 LEFT JOIN (SELECT item_id, count(*) FILTER (WHERE mode = 'like') AS likes, count(*) FILTER (WHERE mode = 'dislike') AS dislikes
			              FROM reactions WHERE item_type = 'idea' GROUP BY item_id) r ON r.item_id = i.id
			 LEFT JOIN (SELECT idea_id, count(*) AS n FROM comments GROUP BY idea_id) c ON c.idea_id = i.id
			 WHERE (i.likes_count, i.dislikes_count, i.comments_count) <> (coalesce(r.likes, 0), coalesce(r.dislikes, 0), coalesce(c.n, 0))`)
	})
	return off == 0, err
}

// checkList asks for the city's trending list of its first topic and
// checks that it is a full first page of that topic.
func checkList(h portalHTTP, city *portalCity) error {
	topic := city.topics[0]
	var list struct {
		Data []struct {
			ID     int64   `json:"id"`
			Topics []int64 `json:"topics"`
		} `json:"data"`
		Total int `json:"total"`
	}
	if err := h.getJSON(fmt.Sprintf("/api/v1/ideas?project=%d&topic=%d&sort=trending", city.project, topic), &list); err != nil {
		return err
	}
	if list.Total == 0 || len(list.Data) != min(20, list.Total) {
		return fmt.Errorf("idea list: %d ideas of %d on the first page", len(list.Data), list.Total)
	}
	for _, it := range list.Data {
		if !slices.Contains(it.Topics, topic) {
			return fmt.Errorf("idea list: idea %d lacks topic %d", it.ID, topic)
		}
	}
	return nil
}

// checkPages fetches the home page, the project page and an idea page for
// a logged-in citizen, and checks each is the page it names.
func checkPages(h portalHTTP, city *portalCity) error {
	for _, c := range []struct{ name, path, cookie, want string }{
		{"home page", "/", "", "/projects/" + city.slug},
		{"project page", "/projects/" + city.slug, "", "Ideas for the city"},
		{"idea page, logged in", fmt.Sprintf("/ideas/%d", city.ideas[0]), "agora_session=" + city.sessions[0], `action="/logout"`},
	} {
		page, err := h.html(c.path, c.cookie)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if !strings.Contains(page, c.want) {
			return fmt.Errorf("%s: %q is not on the page", c.name, c.want)
		}
	}
	return nil
}

// html fetches an HTML page (with the session cookie, when not "") and
// returns it, or an error unless it is a 200 text/html answer.
func (h portalHTTP) html(path, cookie string) (string, error) {
	req, _ := http.NewRequestWithContext(h.ctx, http.MethodGet, h.base+path, nil)
	req.Host = h.host
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return "", err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		return "", fmt.Errorf("GET %s: %s %s", path, resp.Status, resp.Header.Get("Content-Type"))
	}
	return string(page), nil
}

// checkPortal makes each kind of request once and checks its answer, so
// that the figures measure the pages they name and not an error page.
func checkPortal(h portalHTTP, city *portalCity) error {
	if err := checkList(h, city); err != nil {
		return err
	}
	id := city.ideas[len(city.ideas)/2]
	var it struct {
		ID         int64  `json:"id"`
		MyReaction string `json:"my_reaction"`
	}
	if err := h.getJSON(fmt.Sprintf("/api/v1/ideas/%d", id), &it); err != nil {
		return err
	}
	if it.ID != id {
		return fmt.Errorf("idea page: asked for idea %d, got %d", id, it.ID)
	}
	page, err := h.html(fmt.Sprintf("/ideas/%d", id), "")
	if err != nil {
		return fmt.Errorf("idea page (HTML): %w", err)
	}
	if !strings.Contains(page, "(#") {
		return fmt.Errorf("idea page (HTML): the idea's title is not on the page")
	}
	for _, want := range []struct{ method, body, mode string }{
		{http.MethodPut, `{"mode":"like"}`, "like"}, {http.MethodPut, `{"mode":"dislike"}`, "dislike"}, {http.MethodDelete, "", ""},
	} {
		req, _ := http.NewRequestWithContext(h.ctx, want.method, h.base+fmt.Sprintf("/api/v1/ideas/%d/reaction", id), strings.NewReader(want.body))
		req.Host = h.host
		req.Header.Set("Authorization", "Bearer "+city.tokens[0])
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.client.Do(req)
		if err != nil {
			return err
		}
		it.MyReaction = ""
		err = json.NewDecoder(resp.Body).Decode(&it)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || it.MyReaction != want.mode {
			return fmt.Errorf("reaction %s %s: %s, my_reaction %q (%v)", want.method, want.body, resp.Status, it.MyReaction, err)
		}
	}
	return nil
}

// portalHTTP sends requests to one server with one city's host.
type portalHTTP struct {
	ctx    context.Context
	client *http.Client
	base   string
	host   string
}

// on is h with another city's host.
func (h portalHTTP) on(host string) portalHTTP {
	h.host = host
	return h
}

// do sends a request with header pairs (name, value) and reads its answer
// to the end (so the connection is reused), returning the status.
func (h portalHTTP) do(method, path, body string, header ...string) (int, error) {
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(h.ctx, method, h.base+path, r)
	if err != nil {
		return 0, err
	}
	req.Host = h.host
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := h.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (h portalHTTP) getJSON(path string, v any) error {
	req, _ := http.NewRequestWithContext(h.ctx, http.MethodGet, h.base+path, nil)
	req.Host = h.host
	resp, err := h.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 500))
		return fmt.Errorf("GET %s: %s %s", path, resp.Status, b)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// portalResult is one request kind's figures: throughput and latency of
// the 2xx answers, and the requests that failed (non-2xx or no answer).
type portalResult struct {
	name          string
	rps           float64
	lat           latencies
	total, failed int
	first         string // the first failure
	queries       int64  // through the door, for one request alone
}

// queryCounter counts the queries of a request through the city's door
// while armed (one request at a time, outside the measured runs).
type queryCounter struct {
	next  http.Handler
	armed atomic.Bool
	// done receives the count of the armed request once its handler
	// returned (the client may have read the answer before that).
	done chan int64
}

func (q *queryCounter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !q.armed.Load() {
		q.next.ServeHTTP(w, r)
		return
	}
	var n atomic.Int64
	q.next.ServeHTTP(w, r.WithContext(tenant.CountQueries(r.Context(), &n)))
	select {
	case q.done <- n.Load():
	default: // a second armed request (none is made): its count is dropped
	}
}

// portalLoad runs clients goroutines calling do in a loop for d. Unlike
// load, a failed call does not end the run: failures are counted, and the
// caller decides whether there were too many.
func portalLoad(clients int, d time.Duration, do func(c int, rng *mrand.Rand) (int, error)) portalResult {
	r := drive(clients, d, func(c int, rng *mrand.Rand) error {
		status, err := do(c, rng)
		if err == nil && (status < 200 || status > 299) {
			err = fmt.Errorf("HTTP %d", status)
		}
		return err
	})
	out := portalResult{rps: r.rps, lat: r.lat, failed: r.failed, total: r.done + r.failed}
	if r.first != nil {
		out.first = r.first.Error()
	}
	return out
}
