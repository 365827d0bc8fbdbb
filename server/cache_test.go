package server_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/internal/redistest"
)

// TestPrivateScopeNeverCrossesCallers has two callers (and anonymous
// ones) query fields whose answer differs per caller: PRIVATE by a
// @cacheControl hint, or only by the subgraph's Cache-Control header, or
// a PRIVATE root field. Whatever is cached (responses, entities, both),
// in process or in Redis (a second gateway sharing the Redis, with an
// empty L1), every caller gets its own data, and repeated requests are
// served from the cache, so the cache was really in the way.
func TestPrivateScopeNeverCrossesCallers(t *testing.T) {
	fields := []struct {
		name   string
		query  string
		header string // Cache-Control of the ratings subgraph
		get    func(map[string]any) any
		want   func(user string) any
	}{
		{"hint", `query($upc: ID!) { product(upc: $upc) { upc name myRating } }`, "",
			func(d map[string]any) any { return d["product"].(map[string]any)["myRating"] },
			func(u string) any { return float64(rating(u)) }},
		{"header", `query($upc: ID!) { product(upc: $upc) { upc name headerRating } }`, "private, max-age=60",
			func(d map[string]any) any { return d["product"].(map[string]any)["headerRating"] },
			func(u string) any { return float64(rating(u)) }},
		// The subgraph says private on a header line of its own (a
		// middleware adding to another's max-age): HTTP reads the
		// lines as one list. Before, the gateway read the first line
		// only and shared alice's rating with bob.
		{"header lines", `query($upc: ID!) { product(upc: $upc) { upc name headerRating } }`, "max-age=60\nprivate",
			func(d map[string]any) any { return d["product"].(map[string]any)["headerRating"] },
			func(u string) any { return float64(rating(u)) }},
		{"root", `{ myNote }`, "",
			func(d map[string]any) any { return d["myNote"] },
			func(u string) any { return "note of " + u }},
	}
	modes := []struct {
		name                string
		responses, entities bool
	}{
		{"responses", true, false},
		{"entities", false, true},
		{"both", true, true},
	}
	for _, f := range fields {
		for _, m := range modes {
			if f.name == "root" && !m.responses {
				continue // no entity fetch to cache
			}
			for _, redis := range []bool{false, true} {
				name := fmt.Sprintf("%s/%s/redis=%v", f.name, m.name, redis)
				t.Run(name, func(t *testing.T) {
					env := newCacheEnv(t)
					env.ratings.cacheControl = f.header
					var r1, r2 *cache.Redis
					if redis {
						srv := redistest.Start(t)
						r1, r2 = newRedis(t, srv.URL()), newRedis(t, srv.URL())
					}
					opts := cacheOptions(m.entities, r1)
					opts.Cache.Response.Enabled = m.responses
					g1 := env.gateway(t, opts)
					vars := map[string]any{"upc": "1"}
					if f.name == "root" {
						vars = nil
					}
					ask := func(g *testGateway, user string) *answer {
						t.Helper()
						a := g.query(t, user, f.query, vars)
						if a.Status != 200 || len(a.Errors) > 0 {
							t.Fatalf("%s: status %d: %s", user, a.Status, a.Body)
						}
						if got, want := f.get(a.Data), f.want(user); got != want {
							t.Fatalf("caller %q got %v, want %v (a leak if it is another caller's): %s", user, got, want, a.Body)
						}
						return a
					}
					ask(g1, "alice")
					ask(g1, "bob")
					if m.entities {
						// The in-process entity cache applies its stores
						// in the background (a loaded machine missed them).
						g1.Server.EntityCache().Wait()
					}
					before := env.ratings.calls.Load()
					for _, u := range []string{"alice", "bob", "alice", "bob"} {
						ask(g1, u)
					}
					if n := env.ratings.calls.Load() - before; n != 0 {
						t.Errorf("repeated requests called the ratings subgraph %d times; want 0 (cached)", n)
					}
					before = env.ratings.calls.Load()
					ask(g1, "")
					ask(g1, "")
					if n := env.ratings.calls.Load() - before; n != 2 {
						t.Errorf("two anonymous requests called the ratings subgraph %d times; want 2 (never cached)", n)
					}
					if !redis {
						return
					}
					opts2 := cacheOptions(m.entities, r2)
					opts2.Cache.Response.Enabled = m.responses
					g2 := env.gateway(t, opts2)
					before = env.ratings.calls.Load()
					for _, u := range []string{"bob", "alice", "bob", "alice"} {
						ask(g2, u)
					}
					if n := env.ratings.calls.Load() - before; n != 0 {
						t.Errorf("a second gateway called the ratings subgraph %d times; want 0 (served from Redis)", n)
					}
				})
			}
		}
	}
}

// newRedis connects to a test Redis. The timeout is generous: on a loaded
// test machine (the race detector, other jobs) a command may take longer
// than production's 50ms, and a timeout would make the caches skip Redis
// for a second, which the tests would read as a cache failure.
func newRedis(t testing.TB, url string) *cache.Redis {
	t.Helper()
	r, err := cache.NewRedis(cache.RedisOptions{URL: url, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// TestStampede sends 100 identical requests at once to a cold cache: the
// subgraph is called once.
func TestStampede(t *testing.T) {
	for _, redis := range []bool{false, true} {
		t.Run(fmt.Sprintf("redis=%v", redis), func(t *testing.T) {
			env := newCacheEnv(t)
			var r *cache.Redis
			if redis {
				r = newRedis(t, redistest.Start(t).URL())
			}
			g := env.gateway(t, cacheOptions(true, r))
			const n = 100
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make(chan error, n)
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					a, err := g.post(t, "", map[string]any{"query": `{ products { upc name average } }`})
					switch {
					case err != nil:
						errs <- err
					case a.Status != 200 || len(a.Errors) > 0 || len(a.Data["products"].([]any)) != 2:
						errs <- fmt.Errorf("status %d: %s", a.Status, a.Body)
					}
				}()
			}
			close(start)
			wg.Wait()
			close(errs)
			for err := range errs {
				t.Fatal(err)
			}
			if c, r := env.catalog.calls.Load(), env.ratings.calls.Load(); c != 1 || r != 1 {
				t.Fatalf("subgraph calls: catalog %d, ratings %d; want 1 each", c, r)
			}
		})
	}
}

// TestRedisOutageUnderLoad kills Redis while two gateways sharing it
// serve a bounded load that goes through every Redis path (responses,
// entities, persisted queries), then restarts it: no client request
// fails, and every answer is the right one.
func TestRedisOutageUnderLoad(t *testing.T) {
	env := newCacheEnv(t)
	srv := redistest.Start(t)
	gws := []*testGateway{
		env.gateway(t, cacheOptions(true, newRedis(t, srv.URL()))),
		env.gateway(t, cacheOptions(true, newRedis(t, srv.URL()))),
	}
	const workers, perWorker = 8, 150
	const query = `query($upc: ID!) { product(upc: $upc) { upc name average } }`
	hash := sha256Hex(query)
	var done atomic.Int64
	var failures atomic.Int64
	var firstErr sync.Once
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				g := gws[(w+i)%2]
				// Many distinct keys, each asked two or three times, on
				// either gateway: most lookups miss the in-process cache and
				// go to Redis, some of them hit there.
				upc := fmt.Sprint((w*perWorker + i) % 500)
				body := map[string]any{"query": query, "variables": map[string]any{"upc": upc},
					"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": hash}}}
				if i%3 == 1 {
					delete(body, "query") // by hash only: found in L1 or Redis, or registered just before
				}
				a, err := g.post(t, "", body)
				ok := err == nil && a.Status == 200 && len(a.Errors) == 0
				if ok {
					p, _ := a.Data["product"].(map[string]any)
					ok = p != nil && p["upc"] == upc && p["name"] == "product "+upc && p["average"] == 3.5
				}
				if !ok && err == nil && len(a.Errors) == 1 && a.Errors[0].Extensions["code"] == cache.CodePersistedQueryNotFound {
					ok = true // the client protocol: resend with the query
					body["query"] = query
					a, err = g.post(t, "", body)
					ok = err == nil && a.Status == 200 && len(a.Errors) == 0
				}
				if !ok {
					failures.Add(1)
					firstErr.Do(func() {
						if err != nil {
							t.Errorf("request failed: %v", err)
						} else {
							t.Errorf("request failed: status %d: %s", a.Status, a.Body)
						}
					})
				}
				done.Add(1)
			}
		}(w)
	}
	total := int64(workers * perWorker)
	waitFor := func(n int64) {
		deadline := time.Now().Add(60 * time.Second)
		for done.Load() < n && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
	}
	waitFor(total / 3)
	srv.Stop()
	stoppedAt := done.Load()
	waitFor(2 * total / 3)
	srv.Restart()
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d of %d requests failed", failures.Load(), total)
	}
	if stoppedAt >= 2*total/3 {
		t.Fatalf("the load ended before Redis was down for a while (%d of %d done when it stopped)", stoppedAt, total)
	}
	errs := gws[0].Server.CacheStats().RedisErrors.Load() + gws[1].Server.CacheStats().RedisErrors.Load()
	if errs == 0 {
		t.Fatal("no Redis command failed: the outage did not reach the caches")
	}
	t.Logf("%d requests, Redis down from request %d to %d, %d failed Redis commands", total, stoppedAt, 2*total/3, errs)
}

// TestSlowRedisServesUncached points the caches at a server that accepts
// connections and never answers: requests are served, uncached, instead
// of hanging on Redis.
func TestSlowRedisServesUncached(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { _ = c.Close() })
			go func() { _, _ = io.Copy(io.Discard, c) }()
		}
	}()
	env := newCacheEnv(t)
	r, err := cache.NewRedis(cache.RedisOptions{URL: "redis://" + ln.Addr().String(), Timeout: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = r.Close() })
	g := env.gateway(t, cacheOptions(true, r))
	for i := 0; i < 5; i++ {
		a := g.query(t, "", `query($upc: ID!) { product(upc: $upc) { upc name average } }`, map[string]any{"upc": fmt.Sprint(i)})
		if a.Status != 200 || len(a.Errors) > 0 {
			t.Fatalf("status %d: %s", a.Status, a.Body)
		}
	}
	if g.Server.CacheStats().RedisErrors.Load() == 0 {
		t.Fatal("no Redis command timed out")
	}
}

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
