package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every gateway instance using one Redis (a
// single server, a master behind Sentinel, or a Redis Cluster): with the
// prefix "fedgate:registry:", {fedgate:registry}:version:N holds each
// version and {fedgate:registry}:current the current number; the braces
// are a Redis Cluster hash tag, so all of them live in one slot and a
// commit is one atomic script. Each commit is announced on the channel
// PREFIXversions. Watch listens on the channel and also reads the current
// number every poll, so an instance that missed a message (a reconnect)
// still catches up.
//
// Versions stored by earlier releases under PREFIXcurrent and
// PREFIXversion:N (no hash tag) are copied to the new keys the first time
// the store finds no current number there.
type Redis struct {
	client redis.UniversalClient
	prefix string
	tag    string
	poll   time.Duration

	migrated atomic.Bool
}

// NewRedis returns the store on client with keys starting with prefix
// (for example "fedgate:registry:").
func NewRedis(client redis.UniversalClient, prefix string, poll time.Duration) *Redis {
	if poll <= 0 {
		poll = time.Second
	}
	return &Redis{client: client, prefix: prefix, tag: "{" + strings.TrimSuffix(prefix, ":") + "}:", poll: poll}
}

// key names a stored key: all of them share one hash slot.
func (r *Redis) key(s string) string { return r.tag + s }

// channel is where commits are announced.
func (r *Redis) channel() string { return r.prefix + "versions" }

// migrate copies versions stored under the keys of earlier releases (no
// hash tag) once, when the current number is missing under the new keys.
// It runs before the first read; it is idempotent, so instances starting
// together may all run it.
func (r *Redis) migrate(ctx context.Context) error {
	if r.migrated.Load() {
		return nil
	}
	n, err := r.client.Exists(ctx, r.key("current")).Result()
	if err != nil {
		return fmt.Errorf("registry: redis current: %w", err)
	}
	if n == 0 {
		old, err := r.client.Get(ctx, r.prefix+"current").Int64()
		switch {
		case errors.Is(err, redis.Nil):
		case err != nil:
			return fmt.Errorf("registry: redis legacy current: %w", err)
		default:
			for v := int64(1); v <= old; v++ {
				num := strconv.FormatInt(v, 10)
				data, err := r.client.Get(ctx, r.prefix+"version:"+num).Bytes()
				if errors.Is(err, redis.Nil) {
					continue
				}
				if err != nil {
					return fmt.Errorf("registry: redis legacy version %d: %w", v, err)
				}
				if err := r.client.SetNX(ctx, r.key("version:"+num), data, 0).Err(); err != nil {
					return fmt.Errorf("registry: redis copy of version %d: %w", v, err)
				}
			}
			// The number last, so a reader never sees it before its versions.
			if err := r.client.SetNX(ctx, r.key("current"), old, 0).Err(); err != nil {
				return fmt.Errorf("registry: redis copy of current: %w", err)
			}
		}
	}
	r.migrated.Store(true)
	return nil
}

func (r *Redis) currentNumber(ctx context.Context) (int64, error) {
	if err := r.migrate(ctx); err != nil {
		return 0, err
	}
	n, err := r.client.Get(ctx, r.key("current")).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("registry: redis current: %w", err)
	}
	return n, nil
}

// Current implements Store.
func (r *Redis) Current(ctx context.Context) (*Version, error) {
	n, err := r.currentNumber(ctx)
	if err != nil || n == 0 {
		return nil, err
	}
	return r.Get(ctx, n)
}

// Get implements Store.
func (r *Redis) Get(ctx context.Context, n int64) (*Version, error) {
	if err := r.migrate(ctx); err != nil {
		return nil, err
	}
	data, err := r.client.Get(ctx, r.key("version:"+strconv.FormatInt(n, 10))).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("registry: redis version %d: %w", n, err)
	}
	var v Version
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("registry: version %d: %w", n, err)
	}
	return &v, nil
}

// History implements Store.
func (r *Redis) History(ctx context.Context) ([]*Version, error) {
	cur, err := r.currentNumber(ctx)
	if err != nil || cur == 0 {
		return nil, err
	}
	keys := make([]string, 0, cur)
	for n := int64(1); n <= cur; n++ {
		keys = append(keys, r.key("version:"+strconv.FormatInt(n, 10)))
	}
	vals, err := r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("registry: redis history: %w", err)
	}
	out := make([]*Version, 0, len(vals))
	for i, val := range vals {
		s, ok := val.(string)
		if !ok {
			continue
		}
		var v Version
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			return nil, fmt.Errorf("registry: version %d: %w", i+1, err)
		}
		out = append(out, &v)
	}
	return out, nil
}

// commitScript sets the version and the current number only when the
// current number is still the expected one, then announces it: one atomic
// step in Redis. Both keys share a hash slot; the channel is not a key.
var commitScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PUBLISH', ARGV[4], ARGV[2])
return 1
`)

// Commit implements Store.
func (r *Redis) Commit(ctx context.Context, prev int64, v *Version) error {
	if v.Number != prev+1 {
		return ErrConflict
	}
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("registry: encode version: %w", err)
	}
	if err := r.migrate(ctx); err != nil {
		return err
	}
	n := strconv.FormatInt(v.Number, 10)
	ok, err := commitScript.Run(ctx, r.client,
		[]string{r.key("current"), r.key("version:" + n)},
		prev, n, data, r.channel()).Int()
	if err != nil {
		return fmt.Errorf("registry: redis commit: %w", err)
	}
	if ok == 0 {
		return ErrConflict
	}
	return nil
}

// Watch implements Store: pub/sub messages, and a poll of the current
// number as a fallback.
func (r *Redis) Watch(ctx context.Context, notify func(int64)) {
	sub := r.client.Subscribe(ctx, r.channel())
	defer sub.Close()
	msgs := sub.Channel()
	t := time.NewTicker(r.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if n, err := strconv.ParseInt(m.Payload, 10, 64); err == nil {
				notify(n)
			}
		case <-t.C:
			qctx, cancel := context.WithTimeout(ctx, r.poll)
			n, err := r.currentNumber(qctx)
			cancel()
			if err == nil && n > 0 {
				notify(n)
			}
		}
	}
}
