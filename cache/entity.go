package cache

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/redis/go-redis/v9"
	"github.com/valyala/fastjson"
)

// EntityFetch describes one _entities fetch to the entity cache.
type EntityFetch struct {
	// Version is the supergraph version.
	Version string
	// Subgraph is the subgraph name.
	Subgraph string
	// Selection is the subgraph operation plus its variables other than
	// the representations: what is asked of each entity.
	Selection []byte
	// KeyFields returns the top-level fields of the @key field sets of a
	// type in this subgraph; the representation's values of those fields
	// are the entity's key.
	KeyFields func(typeName string) []string
	// Identity is the caller's identity, "" for anonymous callers.
	Identity string
	// Vary is what else may change the subgraph's answer: the values of
	// the vary headers and, with hooks at a Subgraph stage, what they may
	// read of the request. Entities are keyed by it.
	Vary string
	// Private is true when the selection has PRIVATE fields: entities are
	// then cached only per identity.
	Private bool
}

// Entity is one entity cache hit.
type Entity struct {
	Body []byte
	// Policy is the time the entity has left and its scope.
	Policy Policy
}

// EntityCache caches _entities answers per (subgraph, type, key,
// selection): in Redis when one is given, and in process (always when
// there is no Redis, else when EntityConfig.L1 is set).
//
// Invalidation (by subgraph, type, or type and key) deletes the matching
// Redis keys, found through index entries (see entityindex.go), and marks the scope invalid in process; with Redis, the
// other gateway instances learn it through a Redis channel.
type EntityCache struct {
	cfg   EntityConfig
	l1    *ristretto.Cache[string, *entityEntry]
	redis *Redis
	stats *Stats

	mu          sync.RWMutex
	invalidated map[string]time.Time // scope -> when
	// pruneAt is the count of marks from which markInvalid drops those
	// older than any lifetime: twice what the last pass kept (at least
	// minPruneAt), so that a pass is paid for by as many new marks.
	pruneAt int
	// prunedAt is when the last pass ran: a pass also runs once the
	// longest TTL has gone by since, so that marks left from a burst go
	// even when few new ones come.
	prunedAt time.Time
	// prunes counts the passes.
	prunes int

	// instance tells this cache's invalidation messages from others'.
	instance string
	stop     func()
}

type entityEntry struct {
	body   []byte
	policy Policy
	stored time.Time
	scopes [3]string
}

// invalidationChannel is the Redis channel invalidations are published on.
const invalidationChannel = KeyPrefix + "invalidate"

// NewEntityCache returns an entity cache; r may be nil.
func NewEntityCache(cfg EntityConfig, r *Redis, stats *Stats) (*EntityCache, error) {
	var id [12]byte
	_, _ = rand.Read(id[:])
	c := &EntityCache{cfg: cfg, redis: r, stats: stats, invalidated: map[string]time.Time{}, stop: func() {},
		instance: hex.EncodeToString(id[:])}
	if r == nil || cfg.L1 {
		maxBytes := cfg.MaxBytes
		if maxBytes <= 0 {
			maxBytes = 32 << 20
		}
		l1, err := ristretto.NewCache(&ristretto.Config[string, *entityEntry]{NumCounters: 1e5, MaxCost: maxBytes, BufferItems: 64})
		if err != nil {
			return nil, fmt.Errorf("entity cache: %w", err)
		}
		c.l1 = l1
	}
	if r != nil && c.l1 != nil {
		ctx, cancel := context.WithCancel(context.Background())
		c.stop = cancel
		sub := r.client.Subscribe(ctx, invalidationChannel)
		// Subscribe does not wait for Redis; wait (briefly) for the
		// confirmation, so an invalidation published once this instance
		// serves is not missed. Without Redis now, go-redis subscribes when
		// it is back.
		rctx, rcancel := context.WithTimeout(ctx, time.Second)
		_, _ = sub.Receive(rctx)
		rcancel()
		go c.listen(ctx, sub)
	}
	return c, nil
}

// Close stops the in-process cache and the invalidation listener.
func (c *EntityCache) Close() {
	c.stop()
	if c.l1 != nil {
		c.l1.Close()
	}
}

// Enabled reports whether subgraph's entities are cached.
func (c *EntityCache) Enabled(subgraph string) bool {
	on, _ := c.cfg.EntitySubgraph(subgraph)
	return on
}

// entityRef is the parsed identity of one representation.
type entityRef struct {
	typ     string
	keyHash string
	public  string
	private string
}

func (c *EntityCache) ref(f *EntityFetch, rep []byte) (entityRef, bool) {
	p := parserPool.Get()
	defer parserPool.Put(p)
	v, err := p.ParseBytes(rep)
	if err != nil || v.Type() != fastjson.TypeObject {
		return entityRef{}, false
	}
	typ := string(v.GetStringBytes("__typename"))
	if !isName(typ) {
		return entityRef{}, false
	}
	key := make([]byte, 0, 64)
	key = append(key, '{')
	if f.KeyFields != nil {
		names := append([]string(nil), f.KeyFields(typ)...)
		sort.Strings(names)
		n := 0
		for _, name := range names {
			fv := v.Get(name)
			if fv == nil {
				continue
			}
			if n > 0 {
				key = append(key, ',')
			}
			n++
			key = strconv.AppendQuote(key, name)
			key = append(key, ':')
			key = appendCanonical(key, fv)
		}
	}
	key = append(key, '}')
	sum := sha256.Sum256(key)
	keyHash := hex.EncodeToString(sum[:12])
	h := sha256.New()
	h.Write(f.Selection)
	h.Write([]byte{0})
	h.Write(rep)
	if f.Vary != "" {
		h.Write([]byte{0})
		h.Write([]byte(f.Vary))
	}
	r := entityRef{typ: typ, keyHash: keyHash}
	r.public = entityDataPrefix(f.Subgraph, typ, keyHash) + f.Version + ":" + hex.EncodeToString(h.Sum(nil)[:16])
	if f.Identity != "" {
		r.private = r.public + ":p:" + identityHash(f.Identity)
	}
	return r, true
}

var parserPool fastjson.ParserPool

// appendCanonical writes v with object keys sorted and no spaces, so the
// same key hashes alike however it was written.
func appendCanonical(buf []byte, v *fastjson.Value) []byte {
	switch v.Type() {
	case fastjson.TypeObject:
		o := v.GetObject()
		type kv struct {
			k string
			v *fastjson.Value
		}
		var fields []kv
		o.Visit(func(k []byte, x *fastjson.Value) { fields = append(fields, kv{string(k), x}) })
		sort.Slice(fields, func(i, j int) bool { return fields[i].k < fields[j].k })
		buf = append(buf, '{')
		for i, f := range fields {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = strconv.AppendQuote(buf, f.k)
			buf = append(buf, ':')
			buf = appendCanonical(buf, f.v)
		}
		return append(buf, '}')
	case fastjson.TypeArray:
		buf = append(buf, '[')
		for i, x := range v.GetArray() {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendCanonical(buf, x)
		}
		return append(buf, ']')
	case fastjson.TypeString:
		return strconv.AppendQuote(buf, string(v.GetStringBytes()))
	}
	return v.MarshalTo(buf)
}

// keyHash is the hash of an entity key given as a JSON object: the same
// for the same fields and values, whatever their order and spacing.
func keyHash(key []byte) (string, error) {
	p := parserPool.Get()
	defer parserPool.Put(p)
	v, err := p.ParseBytes(key)
	if err != nil {
		return "", err
	}
	if v.Type() != fastjson.TypeObject || v.GetObject().Len() == 0 {
		return "", errors.New("not a JSON object of key fields")
	}
	sum := sha256.Sum256(appendCanonical(nil, v))
	return hex.EncodeToString(sum[:12]), nil
}

func isName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' && i > 0) {
			return false
		}
	}
	return true
}

func (e *entityEntry) fresh(now time.Time) bool {
	return now.Sub(e.stored) < e.policy.MaxAge
}

// Get returns one Entity per representation, nil Body for a miss. A
// fetch with PRIVATE fields looks only at the caller's private entries
// (none for an anonymous caller); otherwise the public entry is tried
// first, then the caller's private one.
func (c *EntityCache) Get(ctx context.Context, f *EntityFetch, reps [][]byte) []Entity {
	out := make([]Entity, len(reps))
	if f.Private && f.Identity == "" {
		c.stats.EntityMisses.Add(int64(len(reps)))
		return out
	}
	now := time.Now()
	refs := make([]entityRef, len(reps))
	valid := make([]bool, len(reps))
	var redisKeys []string
	var redisIdx []int
	hits := 0
	for i, rep := range reps {
		r, ok := c.ref(f, rep)
		if !ok {
			continue
		}
		refs[i], valid[i] = r, true
		keys := r.lookupKeys(f.Private)
		found := false
		if c.l1 != nil {
			for _, k := range keys {
				if e, ok := c.l1.Get(k); ok && e.fresh(now) && !c.isInvalidated(e) {
					out[i] = Entity{Body: e.body, Policy: Policy{MaxAge: e.policy.MaxAge - now.Sub(e.stored), Scope: e.policy.Scope}}
					found = true
					break
				}
			}
		}
		if found {
			hits++
			continue
		}
		for _, k := range keys {
			redisKeys = append(redisKeys, k)
			redisIdx = append(redisIdx, i)
		}
	}
	if c.redis != nil && len(redisKeys) > 0 {
		for j, v := range c.redis.mget(ctx, redisKeys...) {
			i := redisIdx[j]
			if out[i].Body != nil || v == nil {
				continue
			}
			e, ok := decodeEntity(v)
			if !ok || !e.fresh(now) || (redisKeys[j] == refs[i].private) != (e.policy.Scope == Private) {
				continue
			}
			out[i] = Entity{Body: e.body, Policy: Policy{MaxAge: e.policy.MaxAge - now.Sub(e.stored), Scope: e.policy.Scope}}
			hits++
			if c.l1 != nil {
				e.scopes = scopesOf(f.Subgraph, refs[i])
				c.l1.SetWithTTL(redisKeys[j], e, int64(len(e.body))+128, e.policy.MaxAge-now.Sub(e.stored))
			}
		}
	}
	c.stats.EntityHits.Add(int64(hits))
	c.stats.EntityMisses.Add(int64(len(reps) - hits))
	return out
}

func (r entityRef) lookupKeys(private bool) []string {
	switch {
	case private:
		return []string{r.private}
	case r.private != "":
		return []string{r.public, r.private}
	}
	return []string{r.public}
}

func scopesOf(subgraph string, r entityRef) [3]string {
	return [3]string{subgraph, subgraph + "|" + r.typ, subgraph + "|" + r.typ + "|" + r.keyHash}
}

// Put stores the entities answered for reps (nil entries are skipped),
// for the subgraph's TTL or the max-age of its Cache-Control if shorter.
// Nothing is stored when the subgraph said no-store, or when the answer
// is private (by the header or the schema) and the caller is anonymous.
func (c *EntityCache) Put(ctx context.Context, f *EntityFetch, reps, entities [][]byte, cacheControl string) {
	_, ttl := c.cfg.EntitySubgraph(f.Subgraph)
	p := Policy{MaxAge: ttl}
	if hp, ok := ParseCacheControl(cacheControl); ok {
		p = p.Restrict(hp)
	}
	if f.Private {
		p.Scope = Private
	}
	if !p.Cacheable() || p.Scope == Private && f.Identity == "" {
		return
	}
	now := time.Now()
	var keys []string
	var values [][]byte
	var ttls []time.Duration
	var index []indexEntry
	for i, rep := range reps {
		if i >= len(entities) || entities[i] == nil {
			continue
		}
		r, ok := c.ref(f, rep)
		if !ok {
			continue
		}
		key := r.public
		if p.Scope == Private {
			key = r.private
		}
		e := &entityEntry{body: entities[i], policy: p, stored: now, scopes: scopesOf(f.Subgraph, r)}
		if c.l1 != nil {
			c.l1.SetWithTTL(key, e, int64(len(e.body))+128, p.MaxAge)
		}
		keys = append(keys, key)
		values = append(values, encodeEntity(e))
		ttls = append(ttls, p.MaxAge)
		index = append(index, indexEntry{typ: r.typ, keyHash: r.keyHash, key: key})
	}
	if c.redis != nil && len(keys) > 0 {
		c.redis.setIndexed(ctx, f.Subgraph, index, keys, values, now, p.MaxAge)
	}
	c.stats.EntityStores.Add(int64(len(keys)))
}

// Wait applies buffered in-process stores; tests call it before
// asserting.
func (c *EntityCache) Wait() {
	if c.l1 != nil {
		c.l1.Wait()
	}
}

func encodeEntity(e *entityEntry) []byte {
	b := make([]byte, 17, 17+len(e.body))
	binary.LittleEndian.PutUint64(b[0:], uint64(e.stored.UnixMilli()))
	binary.LittleEndian.PutUint64(b[8:], uint64(e.policy.MaxAge.Milliseconds()))
	b[16] = byte(e.policy.Scope)
	return append(b, e.body...)
}

func decodeEntity(b []byte) (*entityEntry, bool) {
	if len(b) < 17 || b[16] > byte(Private) {
		return nil, false
	}
	return &entityEntry{
		stored: time.UnixMilli(int64(binary.LittleEndian.Uint64(b[0:]))),
		policy: Policy{MaxAge: time.Duration(binary.LittleEndian.Uint64(b[8:])) * time.Millisecond, Scope: Scope(b[16])},
		body:   b[17:],
	}, true
}

// Invalidation selects cached entities to drop, in the shape of Apollo
// Router's invalidation requests.
type Invalidation struct {
	// Kind is "subgraph", "type" or "entity".
	Kind string `json:"kind"`
	// Subgraph is the subgraph name; always required.
	Subgraph string `json:"subgraph"`
	// Type is the entity type, for kinds "type" and "entity".
	Type string `json:"type,omitempty"`
	// Key is the entity's key fields as a JSON object, for kind "entity".
	Key json.RawMessage `json:"key,omitempty"`
}

// scope returns the in-process scope and the entity index selection.
func (inv Invalidation) scope() (string, indexScope, error) {
	if !isName(inv.Subgraph) && !validSubgraphName(inv.Subgraph) {
		return "", indexScope{}, errors.New("subgraph: must be a subgraph name")
	}
	switch inv.Kind {
	case "subgraph":
		return inv.Subgraph, indexScope{subgraph: inv.Subgraph}, nil
	case "type":
		if !isName(inv.Type) {
			return "", indexScope{}, errors.New("type: must be a type name")
		}
		return inv.Subgraph + "|" + inv.Type, indexScope{subgraph: inv.Subgraph, typ: inv.Type}, nil
	case "entity":
		if !isName(inv.Type) {
			return "", indexScope{}, errors.New("type: must be a type name")
		}
		h, err := keyHash(inv.Key)
		if err != nil {
			return "", indexScope{}, errors.New("key: must be a JSON object of the key fields")
		}
		return inv.Subgraph + "|" + inv.Type + "|" + h, indexScope{subgraph: inv.Subgraph, typ: inv.Type, keyHash: h}, nil
	}
	return "", indexScope{}, fmt.Errorf("kind: %q is not one of subgraph, type, entity", inv.Kind)
}

// validSubgraphName accepts the names subgraphs get in supergraphs:
// letters, digits, '_' and '-', nothing a Redis pattern would read.
func validSubgraphName(s string) bool {
	return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == ""
}

// Invalidate drops the entities inv selects, here and in Redis, and tells
// the other instances. It returns the number of Redis keys deleted.
func (c *EntityCache) Invalidate(ctx context.Context, inv Invalidation) (int, error) {
	scope, sel, err := inv.scope()
	if err != nil {
		return 0, err
	}
	c.markInvalid(scope, time.Now())
	if c.redis == nil {
		return 0, nil
	}
	n, err := c.redis.invalidate(ctx, sel)
	if err != nil {
		return n, err
	}
	if perr := c.redis.client.Publish(ctx, invalidationChannel, c.instance+" "+scope).Err(); perr != nil {
		return n, fmt.Errorf("publishing the invalidation: %w", perr)
	}
	return n, nil
}

// InvalidateSubgraph drops every cached entity of subgraph.
func (c *EntityCache) InvalidateSubgraph(ctx context.Context, subgraph string) (int, error) {
	return c.Invalidate(ctx, Invalidation{Kind: "subgraph", Subgraph: subgraph})
}

// InvalidateType drops every cached entity of one type of subgraph.
func (c *EntityCache) InvalidateType(ctx context.Context, subgraph, typeName string) (int, error) {
	return c.Invalidate(ctx, Invalidation{Kind: "type", Subgraph: subgraph, Type: typeName})
}

// InvalidateEntity drops one entity, given by its key fields as a JSON
// object such as {"upc":"1"}.
func (c *EntityCache) InvalidateEntity(ctx context.Context, subgraph, typeName string, key json.RawMessage) (int, error) {
	return c.Invalidate(ctx, Invalidation{Kind: "entity", Subgraph: subgraph, Type: typeName, Key: key})
}

// minPruneAt is the fewest marks from which old ones are dropped.
const minPruneAt = 10000

func (c *EntityCache) markInvalid(scope string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.invalidated[scope] = at
	if n := len(c.invalidated); n > minPruneAt && (n > c.pruneAt || at.Sub(c.prunedAt) > c.maxTTL()) {
		// Marks older than any lifetime can go. Before, every mark past
		// 10,000 scanned them all under the lock that every in-process
		// hit takes: with more marks younger than the TTL (per-entity
		// invalidations at a few hundred a second under the default
		// minute), each cost milliseconds, and 100,000 marks took
		// minutes of CPU.
		horizon := at.Add(-c.maxTTL())
		for s, t := range c.invalidated {
			if t.Before(horizon) {
				delete(c.invalidated, s)
			}
		}
		c.pruneAt = 2 * len(c.invalidated)
		c.prunedAt = at
		c.prunes++
	}
}

func (c *EntityCache) maxTTL() time.Duration {
	ttl := c.cfg.TTL
	for _, s := range c.cfg.Subgraphs {
		ttl = max(ttl, s.TTL)
	}
	return ttl
}

func (c *EntityCache) isInvalidated(e *entityEntry) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	if len(c.invalidated) == 0 {
		return false
	}
	for _, s := range e.scopes {
		if t, ok := c.invalidated[s]; ok && !e.stored.After(t) {
			return true
		}
	}
	return false
}

// listen applies the invalidations other instances publish, until ctx
// ends; go-redis resubscribes by itself after a Redis outage.
func (c *EntityCache) listen(ctx context.Context, sub *redis.PubSub) {
	go func() {
		<-ctx.Done()
		_ = sub.Close()
	}()
	for msg := range sub.Channel() {
		from, scope, ok := strings.Cut(msg.Payload, " ")
		if ok && from != c.instance {
			c.markInvalid(scope, time.Now())
		}
	}
}
