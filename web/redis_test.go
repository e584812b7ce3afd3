package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"agora/tenant"
)

type tenantTx = tenant.Tx

// flushRateLimits deletes every rate-limit counter of one city.
func flushRateLimits(t *testing.T, cityID int64) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, fmt.Sprintf("agora:rl:t%d:*", cityID)).Result()
	require.NoError(t, err)
	if len(keys) > 0 {
		require.NoError(t, rdb.Del(ctx, keys...).Err())
	}
}

// flushPlatformRateLimits deletes the console's rate-limit counters, which
// every test database shares (there is one platform per installation).
func flushPlatformRateLimits(t *testing.T) {
	t.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
	defer rdb.Close()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "agora:rl:platform:*").Result()
	require.NoError(t, err)
	if len(keys) > 0 {
		require.NoError(t, rdb.Del(ctx, keys...).Err())
	}
}
