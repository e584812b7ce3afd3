package jobs_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/stretchr/testify/require"

	"agora/tenant/tenanttest"
)

// redisDB is the Redis database the jobs tests own. It is not 0, so a dev
// worker on the same Redis never sees (or steals) these tasks. Tests that use
// it must not run in parallel with each other: each one flushes it.
const redisDB = 9

func redisOpt() asynq.RedisClientOpt {
	return asynq.RedisClientOpt{Addr: tenanttest.RedisAddr(), DB: redisDB}
}

// flushRedis gives the test redisDB to itself (see exclusiveRedis): every
// test that uses it takes the lock, so two test processes never share it.
func flushRedis(t *testing.T) {
	t.Helper()
	exclusiveRedis(t)
}

// logBuffer collects JSON log lines from any goroutine.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// records returns every log record written so far.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "log line %q", line)
		out = append(out, m)
	}
	return out
}

// testLogger returns a JSON logger into a buffer whose content is printed if
// the test fails.
func testLogger(t *testing.T) (*slog.Logger, *logBuffer) {
	t.Helper()
	b := &logBuffer{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", b.String())
		}
	})
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}
