package limits

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// gcraScript is decide() in Lua: both limits of one key checked and, when
// both allow the request, updated in one atomic step, one round trip.
// Time comes from the Redis server (TIME), so every gateway instance
// shares one clock. The key is a hash with fields r (requests TAT) and c
// (cost TAT), in microseconds; it expires once both TATs are past.
//
// KEYS[1] the client key; ARGV: request limit, cost limit, window in
// microseconds, cost of this request.
// Returns {allowed, refused-by (0 none, 1 requests, 2 cost), retry µs,
// request remaining, request reset µs, cost remaining, cost reset µs}.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local rlimit = tonumber(ARGV[1])
local climit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'r', 'c')

local function gcra(tat, limit, n)
  if limit <= 0 then return true, 0, 0, 0, 0 end
  local interval = window / limit
  tat = math.max(tonumber(tat) or now, now)
  local nxt = tat + n * interval
  if nxt - now <= window then
    return true, nxt, math.floor((window - (nxt - now)) / interval), nxt - now, 0
  end
  return false, tat, math.floor((window - (tat - now)) / interval), tat - now, nxt - now - window
end

local rok, rtat, rrem, rreset, rretry = gcra(state[1], rlimit, 1)
local cok, ctat, crem, creset, cretry = true, 0, 0, 0, 0
if cost > 0 then
  cok, ctat, crem, creset, cretry = gcra(state[2], climit, cost)
elseif climit > 0 then
  cok, ctat, crem, creset, cretry = gcra(state[2], climit, 0)
end
if rok and cok then
  local expire = 0
  if rlimit > 0 then
    redis.call('HSET', KEYS[1], 'r', string.format('%.0f', rtat))
    expire = math.max(expire, rtat - now)
  end
  if climit > 0 and cost > 0 then
    redis.call('HSET', KEYS[1], 'c', string.format('%.0f', ctat))
    expire = math.max(expire, ctat - now)
  end
  if expire > 0 then
    redis.call('PEXPIRE', KEYS[1], math.ceil(expire / 1000) + 1)
  end
  return {1, 0, 0, rrem, math.ceil(rreset), crem, math.ceil(creset)}
end
local by = 1
if rok then by = 2 end
return {0, by, math.ceil(math.max(rretry, cretry)), rrem, math.ceil(rreset), crem, math.ceil(creset)}
`)

// RedisLimiter keeps the counters in Redis, shared by every gateway
// instance using the same Redis, with one script call per request.
//
// When Redis fails (an error or no answer within the timeout) the limiter
// logs it once and answers from its fallback: local limits in this
// process, or a refusal when it fails closed. It then tries Redis again at
// most every retryInterval, one request at a time, and logs once when
// Redis answers again; shared counting resumes from there.
type RedisLimiter struct {
	client     redis.UniversalClient
	prefix     string
	timeout    time.Duration
	local      *MemoryLimiter
	fraction   float64
	failClosed bool
	logger     *slog.Logger

	down    atomic.Bool
	retryAt atomic.Int64 // unix nanoseconds
	probing atomic.Bool
}

// RedisLimiterOptions configure a RedisLimiter.
type RedisLimiterOptions struct {
	// Prefix starts every key; default "fedgate:ratelimit:".
	Prefix string
	// Timeout bounds one call; default 50ms.
	Timeout time.Duration
	// FailClosed refuses requests (RATE_LIMIT_UNAVAILABLE, 503) while
	// Redis is unreachable instead of applying local limits.
	FailClosed bool
	// LocalFraction scales the tiers' limits for the local fallback: with
	// N instances behind a balancer, 1/N keeps a client's total near its
	// limit. <= 0 means 1.
	LocalFraction float64
	// Logger gets the down and up messages; default slog.Default().
	Logger *slog.Logger
}

// retryInterval is how long the limiter uses its fallback after Redis
// failed before it tries Redis again.
const retryInterval = 500 * time.Millisecond

// NewRedisLimiter returns a limiter on client.
func NewRedisLimiter(client redis.UniversalClient, opt RedisLimiterOptions) *RedisLimiter {
	if opt.Prefix == "" {
		opt.Prefix = "fedgate:ratelimit:"
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 50 * time.Millisecond
	}
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	return &RedisLimiter{client: client, prefix: opt.Prefix, timeout: opt.Timeout, local: NewMemoryLimiter(nil),
		fraction: opt.LocalFraction, failClosed: opt.FailClosed, logger: opt.Logger}
}

// Take implements Limiter.
func (l *RedisLimiter) Take(ctx context.Context, key string, tier Tier, cost int64) (Verdict, error) {
	if tier.unlimited() {
		return Verdict{Allowed: true}, nil
	}
	if l.down.Load() {
		if time.Now().UnixNano() < l.retryAt.Load() || !l.probing.CompareAndSwap(false, true) {
			return l.fallback(ctx, key, tier, cost)
		}
		defer l.probing.Store(false)
	}
	v, err := l.eval(ctx, key, tier, cost)
	if err != nil {
		if ctx.Err() != nil {
			// The client went away; that says nothing about Redis.
			return l.fallback(ctx, key, tier, cost)
		}
		l.retryAt.Store(time.Now().Add(retryInterval).UnixNano())
		if c, ok := l.client.(*redis.ClusterClient); ok {
			// go-redis re-reads the slot map on MOVED, or every 10 s: a
			// master that died answers nothing, so ask now (in the
			// background) whether a replica took its slots over.
			c.ReloadState(ctx)
		}
		if !l.down.Swap(true) {
			mode := "applying local limits"
			if l.failClosed {
				mode = "refusing requests (fail closed)"
			}
			l.logger.Warn("rate limits: Redis is unreachable; "+mode+" until it answers again", "error", err)
		}
		return l.fallback(ctx, key, tier, cost)
	}
	if l.down.Swap(false) {
		l.logger.Info("rate limits: Redis answers again; shared limits resume")
	}
	return v, nil
}

// Degraded reports whether the limiter is using its fallback.
func (l *RedisLimiter) Degraded() bool { return l.down.Load() }

func (l *RedisLimiter) fallback(ctx context.Context, key string, tier Tier, cost int64) (Verdict, error) {
	if l.failClosed {
		return Verdict{Code: CodeRateLimitUnavailable, RetryAfter: time.Second, Local: true}, nil
	}
	v, err := l.local.Take(ctx, key, tier.scaled(l.fraction), cost)
	v.Local = true
	return v, err
}

func (l *RedisLimiter) eval(ctx context.Context, key string, tier Tier, cost int64) (Verdict, error) {
	ctx, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	// The braces make the key its own Redis Cluster hash slot.
	k := l.prefix + "{" + tier.Name + ":" + key + "}"
	res, err := gcraScript.Run(ctx, l.client, []string{k},
		tier.Requests, tier.Cost, int64(tier.Window/time.Microsecond), max(cost, 0)).Int64Slice()
	if err != nil {
		return Verdict{}, fmt.Errorf("rate limit script: %w", err)
	}
	if len(res) != 7 {
		return Verdict{}, fmt.Errorf("rate limit script: %d results, want 7", len(res))
	}
	v := Verdict{Allowed: res[0] == 1, RetryAfter: time.Duration(res[2]) * time.Microsecond,
		Limit: tier.Requests, Remaining: res[3], Reset: time.Duration(res[4]) * time.Microsecond}
	costReport := func() {
		v.Limit, v.Remaining, v.Reset = tier.Cost, res[5], time.Duration(res[6])*time.Microsecond
	}
	switch {
	case res[1] == 1:
		v.Code = CodeRateLimited
	case res[1] == 2:
		v.Code = CodeCostLimitExceeded
		costReport()
	case tier.Requests <= 0:
		costReport()
	}
	return v, nil
}

// String describes the limiter for logs.
func (l *RedisLimiter) String() string {
	return "redis rate limiter (prefix " + strconv.Quote(l.prefix) + ")"
}
