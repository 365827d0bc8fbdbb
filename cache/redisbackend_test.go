package cache

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/fedgate/gateway/internal/redistest"
)

// backend is a Redis deployment the shared caches run on.
type backend struct {
	name string
	url  func(t *testing.T) string
}

var backends = []backend{
	{"server", func(t *testing.T) string { return redistest.Start(t).URL() }},
	{"cluster", func(t *testing.T) string { return redistest.StartCluster(t).URL() }},
	{"sentinel", func(t *testing.T) string { return redistest.StartSentinel(t).URL() }},
}

// TestRedisBackends runs the shared caches on one server, a Redis Cluster
// and a master behind Sentinel: entities stored across many slots are
// found again and invalidated by entity, type and subgraph through the
// index sets (no SCAN), leaving neither entries nor index members behind;
// responses (public and private) and persisted queries round-trip.
func TestRedisBackends(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel() // starting a cluster or sentinel is mostly waiting
			// A generous timeout: the test is about where keys land, and
			// under a loaded machine (make test's parallel packages, the
			// race detector) one command past a second failed the whole
			// sentinel case ("0 hits after the stores").
			r, err := NewRedis(RedisOptions{URL: b.url(t), Timeout: 10 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = r.Close() })
			t.Run("entities", func(t *testing.T) { testEntityIndex(t, r) })
			t.Run("invalidation messages", func(t *testing.T) { testInvalidationMessages(t, r) })
			t.Run("responses", func(t *testing.T) { testResponses(t, r) })
			t.Run("persisted queries", func(t *testing.T) { testAPQ(t, r) })
		})
	}
}

func entityFetch(selection string) *EntityFetch {
	return &EntityFetch{Version: "v1", Subgraph: "products", Selection: []byte(selection),
		KeyFields: func(typ string) []string {
			if typ == "Review" {
				return []string{"id"}
			}
			return []string{"upc"}
		}}
}

func reps(typ, field string, n int) (reps, bodies [][]byte) {
	for i := range n {
		reps = append(reps, fmt.Appendf(nil, `{"__typename":%q,%q:"%d"}`, typ, field, i))
		bodies = append(bodies, fmt.Appendf(nil, `{"__typename":%q,"n":%d}`, typ, i))
	}
	return reps, bodies
}

func hits(es []Entity) int {
	n := 0
	for _, e := range es {
		if e.Body != nil {
			n++
		}
	}
	return n
}

// redisKeys returns the keys matching pattern on every master.
func redisKeys(t *testing.T, r *Redis, pattern string) []string {
	t.Helper()
	ctx := context.Background()
	var mu sync.Mutex
	var out []string
	scan := func(ctx context.Context, c *redis.Client) error {
		keys, err := c.Keys(ctx, pattern).Result()
		mu.Lock()
		out = append(out, keys...)
		mu.Unlock()
		return err
	}
	var err error
	switch c := r.Client().(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func testEntityIndex(t *testing.T, r *Redis) {
	ctx := context.Background()
	c, err := NewEntityCache(EntityConfig{Enabled: true, TTL: time.Minute}, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	a, b := entityFetch("{ name }"), entityFetch("{ price }")
	products, pbodies := reps("Product", "upc", 60)
	reviews, rbodies := reps("Review", "id", 10)
	c.Put(ctx, a, products, pbodies, "")
	c.Put(ctx, b, products[:1], pbodies[:1], "")
	c.Put(ctx, a, reviews, rbodies, "")
	if h := hits(c.Get(ctx, a, products)) + hits(c.Get(ctx, b, products[:1])) + hits(c.Get(ctx, a, reviews)); h != 71 {
		t.Fatalf("%d hits after the stores, want 71", h)
	}
	for _, step := range []struct {
		inv      Invalidation
		deleted  int
		products int // still cached, selection a
		reviews  int
	}{
		// Both selections of product 0 go, nothing else.
		{Invalidation{Kind: "entity", Subgraph: "products", Type: "Product", Key: json.RawMessage(`{"upc": "0"}`)}, 2, 59, 10},
		{Invalidation{Kind: "entity", Subgraph: "products", Type: "Product", Key: json.RawMessage(`{"upc":"0"}`)}, 0, 59, 10},
		{Invalidation{Kind: "type", Subgraph: "other", Type: "Product"}, 0, 59, 10},
		{Invalidation{Kind: "type", Subgraph: "products", Type: "Product"}, 59, 0, 10},
		{Invalidation{Kind: "subgraph", Subgraph: "products"}, 10, 0, 0},
	} {
		n, err := c.Invalidate(ctx, step.inv)
		if err != nil || n != step.deleted {
			t.Fatalf("%+v: deleted %d (%v), want %d", step.inv, n, err, step.deleted)
		}
		if p, rv := hits(c.Get(ctx, a, products)), hits(c.Get(ctx, a, reviews)); p != step.products || rv != step.reviews {
			t.Fatalf("after %+v: %d products and %d reviews cached, want %d and %d", step.inv, p, rv, step.products, step.reviews)
		}
	}
	if left := redisKeys(t, r, KeyPrefix+"e*"); len(left) != 0 {
		t.Fatalf("entries or indexes left after invalidating the subgraph: %v", left)
	}

	// Indexes hold only what may still be cached: a store trims members
	// whose entries expired, and an index expires shortly after its
	// longest-lived member.
	short := entityFetch("{ short }")
	short.Subgraph = "short"
	sc, err := NewEntityCache(EntityConfig{Enabled: true, TTL: 100 * time.Millisecond}, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Close()
	sc.Put(ctx, short, products[:5], pbodies[:5], "")
	for deadline := time.Now().Add(5 * time.Second); hits(sc.Get(ctx, short, products[:5])) > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("entries did not expire")
		}
	}
	sc.Put(ctx, short, products[5:6], pbodies[5:6], "")
	typeIndex := typeIndexKey("short", "Product")
	if n, err := r.Client().ZCard(ctx, typeIndex).Result(); err != nil || n != 1 {
		t.Fatalf("type index: %d members (%v), want 1 after trimming", n, err)
	}
	if ttl, err := r.Client().PTTL(ctx, typeIndex).Result(); err != nil || ttl <= 0 || ttl > 100*time.Millisecond+indexSlack {
		t.Fatalf("type index lifetime %v (%v), want in (0, ttl+%v]", ttl, err, indexSlack)
	}
}

// testInvalidationMessages: an instance keeping entities in process (L1)
// drops them when another instance invalidates, through the Redis
// channel (on a cluster, PUBLISH reaches subscribers on every node).
func testInvalidationMessages(t *testing.T, r *Redis) {
	ctx := context.Background()
	cfg := EntityConfig{Enabled: true, TTL: time.Minute, L1: true}
	a, err := NewEntityCache(cfg, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewEntityCache(cfg, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f := entityFetch("{ l1 }")
	products, bodies := reps("Product", "upc", 3)
	b.Put(ctx, f, products, bodies, "")
	b.Wait()
	if h := hits(b.Get(ctx, f, products)); h != 3 {
		t.Fatalf("%d hits before, want 3", h)
	}
	if _, err := a.InvalidateType(ctx, "products", "Product"); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); hits(b.Get(ctx, f, products)) != 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the other instance still serves invalidated entities from its L1")
		}
	}
}

func testResponses(t *testing.T, r *Redis) {
	ctx := context.Background()
	write, err := NewResponseCache(ResponseConfig{Enabled: true, MaxBytes: 1 << 20, Redis: true}, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer write.Close()
	// A second cache (another instance) has an empty L1: it reads Redis.
	read, err := NewResponseCache(ResponseConfig{Enabled: true, MaxBytes: 1 << 20, Redis: true}, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer read.Close()
	for i := range 20 {
		pub := &ResponseKey{Version: "v", OperationName: fmt.Sprint("pub", i)}
		priv := &ResponseKey{Version: "v", OperationName: fmt.Sprint("priv", i), Identity: "alice"}
		if !write.Set(ctx, pub, []byte("public"), Policy{MaxAge: time.Minute}) ||
			!write.Set(ctx, priv, []byte("private"), Policy{MaxAge: time.Minute, Scope: Private}) {
			t.Fatal("not stored")
		}
		if got, ok := read.Get(ctx, &ResponseKey{Version: "v", OperationName: fmt.Sprint("pub", i), Identity: "bob"}, false); !ok || string(got.Body) != "public" {
			t.Fatalf("public %d: %v %v", i, got, ok)
		}
		if got, ok := read.Get(ctx, priv, false); !ok || string(got.Body) != "private" {
			t.Fatalf("private %d: %v %v", i, got, ok)
		}
		if _, ok := read.Get(ctx, &ResponseKey{Version: "v", OperationName: fmt.Sprint("priv", i), Identity: "bob"}, false); ok {
			t.Fatalf("private %d served to another caller", i)
		}
	}
	if r.Stats().RedisErrors.Load() != 0 {
		t.Fatalf("%d Redis errors", r.Stats().RedisErrors.Load())
	}
}

func testAPQ(t *testing.T, r *Redis) {
	ctx := context.Background()
	cfg := APQConfig{Enabled: true, TTL: time.Hour}
	a, err := NewPersistedQueries(cfg, TrustedDocumentsConfig{}, nil, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := NewPersistedQueries(cfg, TrustedDocumentsConfig{}, nil, r, &Stats{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	const q = "{ me { name } }"
	ext := pqExt(hashOf(q))
	got, err := a.Resolve(ctx, q, ext)
	if err != nil || got.Query != q {
		t.Fatalf("register: %q %v", got.Query, err)
	}
	a.Register(ctx, got)
	a.Wait()
	if got, err := b.Resolve(ctx, "", ext); err != nil || got.Query != q {
		t.Fatalf("another instance resolves the hash: %q %v", got, err)
	}
}
