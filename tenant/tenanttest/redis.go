package tenanttest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisAddr is the Redis server tests use: the host and port of
// AGORA_REDIS_URL (its database is ignored: each test names its own), else
// the local default.
func RedisAddr() string {
	if u, err := url.Parse(os.Getenv("AGORA_REDIS_URL")); err == nil && u.Host != "" {
		return u.Host
	}
	return "127.0.0.1:6379"
}

// LockRedisDB reserves Redis database db at addr for the calling test, so
// that two test processes on one machine never share it (each flushes it,
// and a worker of one would take the other's tasks). The lock lives in
// database 0, which no test flushes; it is released at cleanup and expires
// on its own if the process dies.
func LockRedisDB(tb testing.TB, addr string, db int) {
	tb.Helper()
	rdb := redis.NewClient(&redis.Options{Addr: addr})
	key := fmt.Sprintf("agora:test:lock:redis-db:%d", db)
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	token := hex.EncodeToString(b)
	ctx := context.Background()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		ok, err := rdb.SetNX(ctx, key, token, 2*time.Minute).Result()
		if err != nil {
			tb.Fatalf("lock Redis db %d at %s (is Redis running?): %v", db, addr, err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("Redis db %d at %s stayed in use by another test process", db, addr)
		}
		time.Sleep(100 * time.Millisecond)
	}
	tb.Cleanup(func() {
		defer rdb.Close()
		_ = rdb.Eval(context.Background(), `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
			[]string{key}, token).Err()
	})
}
