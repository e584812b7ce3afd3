package webtest

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"agora/tenant"
	"agora/tenant/tenanttest"
)

// FlushRateLimits deletes every rate-limit counter of one city.
func FlushRateLimits(t testing.TB, city tenant.ID) {
	t.Helper()
	flushKeys(t, fmt.Sprintf("agora:rl:t%d:*", city))
}

// FlushPlatformRateLimits deletes the console's rate-limit counters, which
// every test database shares (there is one platform per installation).
func FlushPlatformRateLimits(t testing.TB) {
	t.Helper()
	flushKeys(t, "agora:rl:platform:*")
}

func flushKeys(t testing.TB, pattern string) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: tenanttest.RedisAddr()})
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, pattern).Result()
	require.NoError(t, err)
	if len(keys) > 0 {
		require.NoError(t, rdb.Del(ctx, keys...).Err())
	}
}
