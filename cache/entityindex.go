package cache

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Entity keys in Redis, laid out so that invalidation never scans the
// keyspace and works on a Redis Cluster:
//
//	fedgate:1:e:{SUB:TYPE:KEYHASH}:VERSION:SELECTION[:p:IDENTITY]  an entry
//	fedgate:1:ei:{SUB:TYPE:KEYHASH}  sorted set: the entries of one entity
//	fedgate:1:et:{SUB:TYPE}          sorted set: the key hashes of one type
//	fedgate:1:es:{SUB}               sorted set: the types of one subgraph
//
// The braces are Redis Cluster hash tags: an entity's entries and its
// index share a slot, so one command deletes them. Each index member's
// score is the time (unix ms) its entry expires; every store trims the
// members already expired and keeps the index alive only as long as its
// longest-lived member, so an index holds what may still be cached and no
// more. Invalidating an entity costs one read and one delete on its slot;
// a type, that per entity of the type still cached (pipelined, batches of
// indexBatch); a subgraph, that per type.

// indexBatch is how many index members one invalidation round reads.
const indexBatch = 500

// indexSlack keeps an index a little longer than its entries, so an
// index never expires before what it lists.
const indexSlack = 5 * time.Second

func entityTag(subgraph, typ, keyHash string) string {
	return "{" + subgraph + ":" + typ + ":" + keyHash + "}"
}

// entityDataPrefix starts the keys of one entity's entries.
func entityDataPrefix(subgraph, typ, keyHash string) string {
	return KeyPrefix + "e:" + entityTag(subgraph, typ, keyHash) + ":"
}

func entityIndexKey(subgraph, typ, keyHash string) string {
	return KeyPrefix + "ei:" + entityTag(subgraph, typ, keyHash)
}

func typeIndexKey(subgraph, typ string) string {
	return KeyPrefix + "et:{" + subgraph + ":" + typ + "}"
}

func subgraphIndexKey(subgraph string) string {
	return KeyPrefix + "es:{" + subgraph + "}"
}

// indexEntry is one stored entity entry, for the indexes.
type indexEntry struct {
	typ, keyHash, key string
}

// indexScope is what one invalidation selects: a subgraph, a type of it,
// or one entity (a key hash) of that type.
type indexScope struct {
	subgraph, typ, keyHash string
}

// setIndexed stores entity entries of subgraph (keys[i] = values[i], all
// with ttl) and records them in the indexes, in one pipeline: on a
// cluster go-redis sends each node its part in parallel. Errors are
// recorded and dropped, like set's.
//
// now is when the entries were stored, as their values say: an index
// member expires when the cache stops serving its entry.
func (r *Redis) setIndexed(ctx context.Context, subgraph string, entries []indexEntry, keys []string, values [][]byte, now time.Time, ttl time.Duration) {
	if !r.available() || len(keys) == 0 {
		return
	}
	ctx, cancel := r.ctx(ctx)
	defer cancel()
	expires := float64(now.Add(ttl).UnixMilli())
	// Members whose entry is no longer served: score <= now.
	trimBelow := strconv.FormatInt(time.Now().UnixMilli(), 10)
	keep := ttl + indexSlack
	index := func(p redis.Pipeliner, key string, members []redis.Z) {
		// GT: a member's expiry only moves later, never back.
		p.ZAddGT(ctx, key, members...)
		p.ZRemRangeByScore(ctx, key, "-inf", trimBelow)
		// NX sets the lifetime of a new index, GT extends an old one.
		p.ExpireNX(ctx, key, keep)
		p.ExpireGT(ctx, key, keep)
	}
	_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
		byType := map[string][]redis.Z{}
		var types []redis.Z
		for i, e := range entries {
			index(p, entityIndexKey(subgraph, e.typ, e.keyHash), []redis.Z{{Score: expires, Member: e.key}})
			p.Set(ctx, keys[i], values[i], ttl)
			if _, ok := byType[e.typ]; !ok {
				types = append(types, redis.Z{Score: expires, Member: e.typ})
			}
			byType[e.typ] = append(byType[e.typ], redis.Z{Score: expires, Member: e.keyHash})
		}
		for typ, members := range byType {
			index(p, typeIndexKey(subgraph, typ), members)
		}
		index(p, subgraphIndexKey(subgraph), types)
		return nil
	})
	r.failed(err)
}

// invalidate deletes the entries sel selects, found through the indexes,
// and returns how many it deleted. Invalidation is rare and may take more
// than one command: each round gets ten times the command timeout, and
// the caller's context bounds the whole.
func (r *Redis) invalidate(ctx context.Context, sel indexScope) (int, error) {
	if r == nil {
		return 0, nil
	}
	switch {
	case sel.keyHash != "":
		n, err := r.invalidateEntities(ctx, sel.subgraph, sel.typ, []string{sel.keyHash})
		if err != nil {
			return n, err
		}
		return n, r.round(ctx, func(ctx context.Context) error {
			return r.client.ZRem(ctx, typeIndexKey(sel.subgraph, sel.typ), sel.keyHash).Err()
		})
	case sel.typ != "":
		return r.invalidateType(ctx, sel.subgraph, sel.typ)
	}
	key := subgraphIndexKey(sel.subgraph)
	var types []string
	if err := r.round(ctx, func(ctx context.Context) (err error) {
		types, err = r.client.ZRange(ctx, key, 0, -1).Result()
		return err
	}); err != nil {
		return 0, fmt.Errorf("redis invalidation of subgraph %s: %w", sel.subgraph, err)
	}
	total := 0
	for _, typ := range types {
		n, err := r.invalidateType(ctx, sel.subgraph, typ)
		total += n
		if err != nil {
			return total, err
		}
	}
	if len(types) > 0 {
		if err := r.round(ctx, func(ctx context.Context) error {
			return r.client.ZRem(ctx, key, toAny(types)...).Err()
		}); err != nil {
			return total, fmt.Errorf("redis invalidation of subgraph %s: %w", sel.subgraph, err)
		}
	}
	return total, nil
}

// invalidateType deletes the entries of every entity the type index
// lists, a batch at a time. It stops after as many members as the index
// held when it started, so stores racing with it cannot keep it going.
func (r *Redis) invalidateType(ctx context.Context, subgraph, typ string) (int, error) {
	key := typeIndexKey(subgraph, typ)
	var size int64
	if err := r.round(ctx, func(ctx context.Context) (err error) {
		size, err = r.client.ZCard(ctx, key).Result()
		return err
	}); err != nil {
		return 0, fmt.Errorf("redis invalidation of %s.%s: %w", subgraph, typ, err)
	}
	total := 0
	for done := int64(0); done < size; {
		var hashes []string
		if err := r.round(ctx, func(ctx context.Context) (err error) {
			hashes, err = r.client.ZRange(ctx, key, 0, indexBatch-1).Result()
			return err
		}); err != nil {
			return total, fmt.Errorf("redis invalidation of %s.%s: %w", subgraph, typ, err)
		}
		if len(hashes) == 0 {
			break
		}
		n, err := r.invalidateEntities(ctx, subgraph, typ, hashes)
		total += n
		if err != nil {
			return total, err
		}
		// Only what was read leaves the index: an entity stored meanwhile
		// stays listed for the next invalidation.
		if err := r.round(ctx, func(ctx context.Context) error {
			return r.client.ZRem(ctx, key, toAny(hashes)...).Err()
		}); err != nil {
			return total, fmt.Errorf("redis invalidation of %s.%s: %w", subgraph, typ, err)
		}
		done += int64(len(hashes))
	}
	return total, nil
}

// invalidateEntities deletes the entries of the entities with the given
// key hashes: one pipeline reads their indexes, one deletes what they
// list (each UNLINK on one entity's slot) and takes it out of the index.
func (r *Redis) invalidateEntities(ctx context.Context, subgraph, typ string, hashes []string) (int, error) {
	reads := make([]*redis.StringSliceCmd, len(hashes))
	if err := r.round(ctx, func(ctx context.Context) error {
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, h := range hashes {
				reads[i] = p.ZRange(ctx, entityIndexKey(subgraph, typ, h), 0, -1)
			}
			return nil
		})
		return err
	}); err != nil {
		return 0, fmt.Errorf("redis invalidation of %s.%s: %w", subgraph, typ, err)
	}
	var dels []*redis.IntCmd
	if err := r.round(ctx, func(ctx context.Context) error {
		_, err := r.client.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, h := range hashes {
				keys := reads[i].Val()
				if len(keys) == 0 {
					continue
				}
				dels = append(dels, p.Unlink(ctx, keys...))
				p.ZRem(ctx, entityIndexKey(subgraph, typ, h), toAny(keys)...)
			}
			return nil
		})
		return err
	}); err != nil {
		return 0, fmt.Errorf("redis invalidation of %s.%s: %w", subgraph, typ, err)
	}
	n := 0
	for _, d := range dels {
		n += int(d.Val())
	}
	return n, nil
}

// round runs one step of an invalidation with its own timeout.
func (r *Redis) round(ctx context.Context, f func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, 10*r.timeout)
	defer cancel()
	return f(ctx)
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
