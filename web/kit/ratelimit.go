package kit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"agora/domain/email"
	"agora/domain/user"
	"agora/tenant"
)

// Limit is one rate limit: at most Max hits per Window for one key.
type Limit struct {
	Name   string
	Max    int64
	Window time.Duration
}

// Rate limits of the identity routes, per city and client IP and per city and
// email address.
var (
	LimitLoginIP      = Limit{"login_ip", 10, 15 * time.Minute}
	LimitLoginEmail   = Limit{"login_email", 10, 15 * time.Minute}
	LimitRegisterIP   = Limit{"register_ip", 10, time.Hour}
	LimitResetIP      = Limit{"reset_ip", 10, time.Hour}
	LimitResetEmail   = Limit{"reset_email", 5, time.Hour}
	LimitConfirmUser  = Limit{"confirm_user", 10, 15 * time.Minute}
	LimitConfirmIP    = Limit{"confirm_ip", 30, 15 * time.Minute}
	LimitOperatorIP   = Limit{"operator_login_ip", 10, 15 * time.Minute}
	LimitOperatorMail = Limit{"operator_login_email", 10, 15 * time.Minute}
)

// hitScript counts a hit in a fixed window and returns the count and the
// window's remaining milliseconds.
var hitScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {n, redis.call('PTTL', KEYS[1])}`)

// rateKey builds a Redis key that names its city (or the platform), the
// limit and a hashed subject, so no personal data sits in Redis.
func rateKey(ctx context.Context, l Limit, subject string) string {
	scope := "platform"
	if t, ok := tenant.FromContext(ctx); ok {
		scope = "t" + strconv.FormatInt(int64(t.ID), 10)
	}
	sum := sha256.Sum256([]byte(strings.ToLower(subject)))
	return fmt.Sprintf("agora:rl:%s:%s:%s", scope, l.Name, hex.EncodeToString(sum[:12]))
}

// Allow records one hit for each (limit, subject) pair and reports whether
// all are within their limits; when not, it returns how long to wait. If
// Redis cannot be reached the request is allowed and the failure logged:
// losing rate limiting for a moment beats refusing every login.
func (k *Kit) Allow(c *gin.Context, checks ...RateCheck) (bool, time.Duration) {
	if k.redis == nil {
		return true, 0
	}
	ctx := c.Request.Context()
	var wait time.Duration
	ok := true
	for _, ch := range checks {
		res, err := hitScript.Run(ctx, k.redis, []string{rateKey(ctx, ch.limit, ch.subject)}, ch.limit.Window.Milliseconds()).Int64Slice()
		if err != nil || len(res) != 2 {
			_ = c.Error(fmt.Errorf("rate limit %s: %v", ch.limit.Name, err))
			continue
		}
		if res[0] > ch.limit.Max {
			ok = false
			if d := time.Duration(res[1]) * time.Millisecond; d > wait {
				wait = d
			}
		}
	}
	return ok, wait
}

// RateCheck is one limit for one subject (an address, an account, an IP).
type RateCheck struct {
	limit   Limit
	subject string
}

// ByEmail is a check of limit l for an address a person typed, in its one
// normalised form (email.Key), as the login and reset code sees it.
func ByEmail(l Limit, addr string) RateCheck { return RateCheck{l, email.Key(addr)} }

// ByIP is a check of limit l for the request's client address.
func (k *Kit) ByIP(c *gin.Context, l Limit) RateCheck { return RateCheck{l, k.ClientIP(c.Request)} }

// ByUser is a check of limit l for an account.
func ByUser(l Limit, id user.ID) RateCheck { return RateCheck{l, strconv.FormatInt(int64(id), 10)} }

// TooMany answers 429 with Retry-After, as a problem or a readable page.
func (k *Kit) TooMany(c *gin.Context, wait time.Duration) {
	secs := int(wait.Seconds() + 0.999)
	if secs < 1 {
		secs = 1
	}
	c.Header("Retry-After", strconv.Itoa(secs))
	minutes := (secs + 59) / 60
	k.Fail(c, http.StatusTooManyRequests, "rate_limited", "error.rate_limited", minutes)
}
