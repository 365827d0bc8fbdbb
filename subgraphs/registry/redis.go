package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by every gateway instance using one Redis:
// PREFIX:version:N holds each version, PREFIX:current the current number,
// and each commit is announced on the channel PREFIX:versions. Watch
// listens on the channel and also reads the current number every poll, so
// an instance that missed a message (a reconnect) still catches up.
type Redis struct {
	client *redis.Client
	prefix string
	poll   time.Duration
}

// NewRedis returns the store on client with keys starting with prefix
// (for example "fedgate:registry:").
func NewRedis(client *redis.Client, prefix string, poll time.Duration) *Redis {
	if poll <= 0 {
		poll = time.Second
	}
	return &Redis{client: client, prefix: prefix, poll: poll}
}

func (r *Redis) key(s string) string { return r.prefix + s }

func (r *Redis) currentNumber(ctx context.Context) (int64, error) {
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
// step in Redis.
var commitScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if cur ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[2], ARGV[3])
redis.call('SET', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[3], ARGV[2])
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
	n := strconv.FormatInt(v.Number, 10)
	ok, err := commitScript.Run(ctx, r.client,
		[]string{r.key("current"), r.key("version:" + n), r.key("versions")},
		prev, n, data).Int()
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
	sub := r.client.Subscribe(ctx, r.key("versions"))
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
