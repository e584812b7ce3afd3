package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestBenchUsage checks that agora bench refuses options a benchmark cannot
// run with as usage errors (exit 2), naming the flag, before it looks for a
// database: the one configured here does not answer.
func TestBenchUsage(t *testing.T) {
	t.Setenv("AGORA_DATABASE_URL", "postgres://postgres@127.0.0.1:1/agora?sslmode=disable")
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"tenants", "--cities", "0"}, "--cities"},
		{[]string{"auth", "--users", "0"}, "--users"},
		{[]string{"portal", "--reactions", "100", "--ideas", "2", "--users", "10"}, "--reactions"},
		{[]string{"export", "--format", "pdf"}, "--format"},
		{[]string{"digest", "--page", "0"}, "--page"},
	} {
		res := agora(t, append([]string{"bench"}, tc.args...)...)
		require.Equal(t, 2, res.code, res.stderr)
		require.Contains(t, res.stderr, tc.flag)
		require.Empty(t, res.stdout)
	}
}
