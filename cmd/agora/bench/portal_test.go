package bench_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"agora/cmd/agora/bench"
	"agora/config"
	"agora/tenant/tenanttest"
)

// runner is a Runner on the test server (it makes a database of its own
// there) that writes its report and its progress to buffers.
func runner(t *testing.T) (r *bench.Runner, out, progress *bytes.Buffer) {
	t.Helper()
	env := map[string]string{
		"AGORA_DATABASE_URL":  tenanttest.ServerURL(),
		"AGORA_BASE_DOMAIN":   "agora.test",
		"AGORA_PLATFORM_HOST": "platform.agora.test",
		"AGORA_ENV":           "dev",
	}
	cfg, err := config.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	out, progress = &bytes.Buffer{}, &bytes.Buffer{}
	return &bench.Runner{Config: cfg, Out: out, Progress: progress}, out, progress
}

// TestPortal runs the portal benchmark on a tiny city: every request kind
// must answer (the benchmark fails above 1% of non-2xx) and the report must
// name each of its lines. It checks what is printed, never a timing.
func TestPortal(t *testing.T) {
	r, out, progress := runner(t)
	err := r.Portal(context.Background(), bench.PortalOptions{Ideas: 50, Comments: 100, Reactions: 100, Users: 40,
		Clients: 4, Conns: 16, Cities: 3, Duration: 300 * time.Millisecond})
	t.Logf("--- report:\n%s--- progress:\n%s", out, progress)
	require.NoError(t, err)
	for _, want := range []string{
		"50 ideas in one project (8 topics), 100 comments, 100 reactions, 40 citizens",
		"ceiling: bare gin, constant JSON",
		"idea list: trending, topic, 20/page",
		"idea page: JSON",
		"idea page: HTML",
		"reaction: like, dislike, remove",
		"home page: HTML",
		"project page: HTML",
		"idea page: HTML, logged in",
		"idea list: 3 cities at random",
		"Reads, target p99 < 50 ms",
		"Cost against its counterpart (its req/s over this line's), target ≤ 2×:",
		"Idea counters equal their reaction and comment rows after the run: yes",
	} {
		require.Contains(t, out.String(), want)
	}
	// Each measured line reports its failures, and none failed.
	for _, line := range strings.Split(out.String(), "\n") {
		for _, name := range []string{"ceiling:", "idea list:", "idea page:", "reaction:", "home page:", "project page:"} {
			if strings.HasPrefix(strings.TrimSpace(line), name) && strings.Contains(line, "%") {
				f := strings.Fields(line)
				require.Regexp(t, `^0/[1-9][0-9]*$`, f[len(f)-1], "non-2xx column of %q", line)
			}
		}
	}

	// More reactions than citizens × ideas allow (agora bench portal's
	// defaults for the rest) is refused before any work.
	r, out, _ = runner(t)
	err = r.Portal(context.Background(), bench.PortalOptions{Reactions: 100, Ideas: 2, Users: 10,
		Comments: 50000, Clients: 50, Conns: 16, Cities: 100, Duration: 10 * time.Second})
	var ue *bench.UsageError
	require.ErrorAs(t, err, &ue)
	require.Contains(t, err.Error(), "--reactions")
	require.Empty(t, out.String())
}
