package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"agora/tenant/tenanttest"
)

// TestBenchPortal runs `agora bench portal` on a tiny city: every request
// kind must answer (the command fails above 1% of non-2xx) and the report
// must name each of its lines. It checks what is printed, never a timing.
func TestBenchPortal(t *testing.T) {
	t.Setenv("AGORA_DATABASE_URL", tenanttest.ServerURL()) // the bench makes a database of its own there
	t.Setenv("AGORA_BASE_DOMAIN", "agora.test")
	t.Setenv("AGORA_PLATFORM_HOST", "platform.agora.test")
	t.Setenv("AGORA_ENV", "dev")
	t.Setenv("AGORA_SECRET_KEY", "")
	t.Setenv("AGORA_SHARDS", "")
	res := agora(t, "bench", "portal", "--ideas", "50", "--comments", "100", "--reactions", "100", "--users", "40",
		"--clients", "4", "--duration", "300ms")
	require.Equal(t, 0, res.code, res.stderr)
	for _, want := range []string{
		"50 ideas in one project (8 topics), 100 comments, 100 reactions, 40 citizens",
		"ceiling: bare gin, constant JSON",
		"idea list: trending, topic, 20/page",
		"idea page: JSON",
		"idea page: HTML",
		"reaction: like, dislike, remove",
		"Reads, target p99 < 50 ms",
		"Idea counters equal their reaction and comment rows after the run: yes",
	} {
		require.Contains(t, res.stdout, want)
	}
	// Each measured line reports its failures, and none failed.
	for _, line := range strings.Split(res.stdout, "\n") {
		for _, name := range []string{"ceiling:", "idea list:", "idea page:", "reaction:"} {
			if strings.HasPrefix(strings.TrimSpace(line), name) && strings.Contains(line, "%") {
				f := strings.Fields(line)
				require.Regexp(t, `^0/[1-9][0-9]*$`, f[len(f)-1], "non-2xx column of %q", line)
			}
		}
	}

	res = agora(t, "bench", "portal", "--reactions", "100", "--ideas", "2", "--users", "10")
	require.Equal(t, 2, res.code)
	require.Contains(t, res.stderr, "--reactions")
}
