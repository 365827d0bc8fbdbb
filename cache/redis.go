package cache

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// KeyPrefix starts every key this package writes to Redis; the number is
// the key format version, bumped when a format changes.
const KeyPrefix = "fedgate:1:"

// Redis is the shared L2 store. Every command is bounded by a short
// timeout; after a failure Redis is skipped for a second (lookups miss,
// stores are dropped), so a dead or slow Redis costs the gateway at most
// one timeout per second instead of one per request.
type Redis struct {
	client    *redis.Client
	timeout   time.Duration
	downUntil atomic.Int64 // unix nanoseconds
	stats     *Stats
}

// RedisOptions configure NewRedis.
type RedisOptions struct {
	// URL is a redis://, rediss:// or unix:// URL.
	URL string
	// Timeout bounds one command; 0 means 50ms.
	Timeout time.Duration
	// PoolSize is the connection pool size; 0 lets go-redis choose.
	PoolSize int
	// Stats receives RedisErrors; nil keeps them to this value.
	Stats *Stats
}

// retryAfter is how long Redis is skipped after a failure.
const retryAfter = time.Second

// NewRedis connects lazily to the Redis at o.URL.
func NewRedis(o RedisOptions) (*Redis, error) {
	opts, err := redis.ParseURL(o.URL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 50 * time.Millisecond
	}
	opts.DialTimeout = max(o.Timeout, 100*time.Millisecond)
	opts.ReadTimeout = o.Timeout
	opts.WriteTimeout = o.Timeout
	opts.MaxRetries = -1
	opts.ContextTimeoutEnabled = true
	if o.PoolSize > 0 {
		opts.PoolSize = o.PoolSize
	}
	if o.Stats == nil {
		o.Stats = &Stats{}
	}
	return &Redis{client: redis.NewClient(opts), timeout: o.Timeout, stats: o.Stats}, nil
}

// Stats returns the counters of RedisOptions.Stats; caches built on this
// Redis count into them too.
func (r *Redis) Stats() *Stats { return r.stats }

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Client returns the underlying client, for subscribers.
func (r *Redis) Client() *redis.Client { return r.client }

// available reports whether Redis is worth asking now.
func (r *Redis) available() bool {
	return r != nil && time.Now().UnixNano() >= r.downUntil.Load()
}

// failed records an error; redis.Nil (a miss) is not one.
func (r *Redis) failed(err error) {
	if err == nil || errors.Is(err, redis.Nil) {
		return
	}
	r.stats.RedisErrors.Add(1)
	r.downUntil.Store(time.Now().Add(retryAfter).UnixNano())
}

func (r *Redis) ctx(parent context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(parent), r.timeout)
}

// mget returns the values of keys; a missing key, or every key when Redis
// fails, is nil.
func (r *Redis) mget(ctx context.Context, keys ...string) [][]byte {
	out := make([][]byte, len(keys))
	if !r.available() || len(keys) == 0 {
		return out
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		r.failed(err)
		return out
	}
	for i, v := range vals {
		if s, ok := v.(string); ok {
			out[i] = []byte(s)
		}
	}
	return out
}

// set stores values under keys with their TTLs in one round trip; errors
// are recorded and dropped.
func (r *Redis) set(ctx context.Context, keys []string, values [][]byte, ttls []time.Duration) {
	if !r.available() || len(keys) == 0 {
		return
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			p.Set(ctx, k, values[i], ttls[i])
		}
		return nil
	})
	r.failed(err)
}

// deleteMatching deletes every key matching the glob pattern and returns
// how many. Invalidation is rare and may take longer than one command:
// each SCAN/DEL round gets the timeout, and the caller's context bounds
// the whole.
func (r *Redis) deleteMatching(ctx context.Context, pattern string) (int, error) {
	if r == nil {
		return 0, nil
	}
	var cursor uint64
	n := 0
	for {
		cctx, cancel := context.WithTimeout(ctx, 10*r.timeout)
		keys, next, err := r.client.Scan(cctx, cursor, pattern, 1000).Result()
		if err == nil && len(keys) > 0 {
			var d int64
			d, err = r.client.Unlink(cctx, keys...).Result()
			n += int(d)
		}
		cancel()
		if err != nil {
			return n, fmt.Errorf("redis invalidation of %s: %w", pattern, err)
		}
		if next == 0 {
			return n, nil
		}
		cursor = next
	}
}
