package server_test

import (
	"fmt"
	"sync"
	"testing"

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

func newRedis(t testing.TB, url string) *cache.Redis {
	t.Helper()
	r, err := cache.NewRedis(cache.RedisOptions{URL: url})
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
