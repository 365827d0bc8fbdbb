package cache

import (
	"context"
	"errors"
	"fmt"
	"strings"
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
	client    redis.UniversalClient
	cluster   bool
	timeout   time.Duration
	downUntil atomic.Int64 // unix nanoseconds
	stats     *Stats
}

// RedisOptions configure NewRedis.
type RedisOptions struct {
	// URL is a redis://, rediss:// or unix:// URL for one server, a
	// redis+cluster:// (rediss+cluster://) URL for a Redis Cluster, or a
	// redis+sentinel:// (rediss+sentinel://) URL for a master behind
	// Sentinel; see OpenRedisClient.
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
	if o.Timeout <= 0 {
		o.Timeout = 50 * time.Millisecond
	}
	client, err := OpenRedisClient(o.URL, ClientOptions{Timeout: o.Timeout, PoolSize: o.PoolSize})
	if err != nil {
		return nil, err
	}
	if o.Stats == nil {
		o.Stats = &Stats{}
	}
	_, cluster := client.(*redis.ClusterClient)
	return &Redis{client: client, cluster: cluster, timeout: o.Timeout, stats: o.Stats}, nil
}

// ClientOptions tune the client OpenRedisClient returns.
type ClientOptions struct {
	// Timeout bounds one command (read and write); 0 keeps go-redis'
	// defaults. Dialing gets at least 100ms.
	Timeout time.Duration
	// PoolSize is the connection pool size (per node of a cluster); 0
	// lets go-redis choose.
	PoolSize int
}

// The URL schemes OpenRedisClient reads besides redis://, rediss:// and
// unix://.
const (
	clusterScheme  = "+cluster://"
	sentinelScheme = "+sentinel://"
)

// OpenRedisClient returns a client for the Redis deployment rawURL names:
//
//	redis://[user:password@]host:port[/db]        one server (rediss:// for TLS)
//	unix:///path/to/redis.sock[?db=N]              one server on a socket
//	redis+cluster://[user:password@]host:port?addr=host2:port&addr=host3:port
//	                                               a Redis Cluster: any reachable
//	                                               nodes seed the slot map
//	redis+sentinel://[user:password@]host:port[/db]?master_name=NAME&addr=host2:port[&password=P]
//	                                               the master NAME, found through
//	                                               Sentinel (the user and password in
//	                                               the URL are the sentinels'; the
//	                                               master's go in the query)
//
// The +cluster and +sentinel forms also take rediss+ for TLS and go-redis'
// option query parameters (for example dial_timeout). Commands are not
// retried: callers treat a failure as a miss or fall back.
func OpenRedisClient(rawURL string, o ClientOptions) (redis.UniversalClient, error) {
	tune := func(dial, read, write *time.Duration) {
		if o.Timeout > 0 {
			*dial = max(o.Timeout, 100*time.Millisecond)
			*read, *write = o.Timeout, o.Timeout
		}
	}
	scheme, rest, _ := strings.Cut(rawURL, "://")
	switch {
	case scheme == "redis+cluster" || scheme == "rediss+cluster":
		opts, err := redis.ParseClusterURL(strings.TrimSuffix(scheme, "+cluster") + "://" + rest)
		if err != nil {
			return nil, fmt.Errorf("redis url (cluster): %w", err)
		}
		tune(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout)
		opts.MaxRetries = -1
		opts.ContextTimeoutEnabled = true
		if o.PoolSize > 0 {
			opts.PoolSize = o.PoolSize
		}
		return redis.NewClusterClient(opts), nil
	case scheme == "redis+sentinel" || scheme == "rediss+sentinel":
		opts, err := redis.ParseFailoverURL(strings.TrimSuffix(scheme, "+sentinel") + "://" + rest)
		if err != nil {
			return nil, fmt.Errorf("redis url (sentinel): %w", err)
		}
		if opts.MasterName == "" {
			return nil, errors.New("redis url (sentinel): needs master_name=NAME")
		}
		tune(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout)
		opts.MaxRetries = -1
		opts.ContextTimeoutEnabled = true
		if o.PoolSize > 0 {
			opts.PoolSize = o.PoolSize
		}
		return redis.NewFailoverClient(opts), nil
	}
	opts, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	tune(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout)
	opts.MaxRetries = -1
	opts.ContextTimeoutEnabled = true
	if o.PoolSize > 0 {
		opts.PoolSize = o.PoolSize
	}
	return redis.NewClient(opts), nil
}

// ValidRedisURL reports whether rawURL has a scheme OpenRedisClient reads.
func ValidRedisURL(rawURL string) bool {
	for _, s := range []string{"redis://", "rediss://", "unix://", "redis" + clusterScheme, "rediss" + clusterScheme,
		"redis" + sentinelScheme, "rediss" + sentinelScheme} {
		if strings.HasPrefix(rawURL, s) {
			return true
		}
	}
	return false
}

// Stats returns the counters of RedisOptions.Stats; caches built on this
// Redis count into them too.
func (r *Redis) Stats() *Stats { return r.stats }

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Client returns the underlying client (one server, a failover client
// behind Sentinel, or a cluster client), for the rate limiter, the
// registry and subscribers.
func (r *Redis) Client() redis.UniversalClient { return r.client }

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
	if c, ok := r.client.(*redis.ClusterClient); ok {
		// go-redis re-reads the slot map on MOVED, or every 10 s; a dead
		// master answers nothing, so look for its successor now (in the
		// background).
		c.ReloadState(context.Background())
	}
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
	if r.cluster && len(keys) > 1 {
		// Keys of one MGET must share a slot in a cluster; a pipeline of
		// GETs is split by node and sent in parallel, one round trip each.
		cmds := make([]*redis.StringCmd, len(keys))
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, k := range keys {
				cmds[i] = p.Get(ctx, k)
			}
			return nil
		})
		if err != nil && !errors.Is(err, redis.Nil) {
			r.failed(err)
			return out
		}
		for i, c := range cmds {
			if b, err := c.Bytes(); err == nil {
				out[i] = b
			}
		}
		return out
	}
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
// incrWithExpiry adds n to the counter at key, which expires ttl after
// it was created, and returns its new value; ok is false when Redis is
// unavailable or failed.
func (r *Redis) incrWithExpiry(ctx context.Context, key string, n int64, ttl time.Duration) (total int64, ok bool) {
	if !r.available() {
		return 0, false
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	var incr *redis.IntCmd
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		// SET NX EX creates it with its expiry (EXPIRE NX needs Redis 7).
		p.SetNX(ctx, key, 0, ttl)
		incr = p.IncrBy(ctx, key, n)
		return nil
	})
	r.failed(err)
	if err != nil {
		return 0, false
	}
	return incr.Val(), true
}

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
