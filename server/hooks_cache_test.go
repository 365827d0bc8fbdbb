package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fedgate/gateway/pkg/hooks"
)

// userFromHeader keeps the caller's X-Client-User header in the hook
// Context and sends it to subgraphs as X-User, which the ratings
// subgraph of the cache env answers headerRating by (alice 5, bob 1).
var userFromHeader = hooks.Hooks{
	RouterRequest: func(_ context.Context, c *hooks.Call) error {
		c.Context["user"] = c.Header.Get("X-Client-User")
		return nil
	},
	SubgraphRequest: func(_ context.Context, c *hooks.Call) error {
		if u, _ := c.Context["user"].(string); u != "" {
			c.Header.Set("X-User", u)
		}
		return nil
	},
}

// TestHookHeadersSplitCaches: two anonymous callers whose fetches differ
// only in a header a SubgraphRequest hook adds (from what the hooks read
// of the request) never share a cached answer: neither the response
// cache's entry nor the entity cache's. Before, the public entry the
// first caller's answer was stored under served the second caller (bob
// got alice's rating). The same caller still hits the cache.
func TestHookHeadersSplitCaches(t *testing.T) {
	const q = `{ product(upc: "1") { headerRating } }`
	for _, tc := range []struct {
		name               string
		responses, entites bool
	}{
		{"response cache", true, false},
		{"entity cache", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newCacheEnv(t)
			opts := cacheOptions(tc.entites, nil)
			opts.Cache.Response.Enabled = tc.responses
			opts.Cache.InboundDedupe = false
			opts.Hooks = []hooks.Hooks{userFromHeader}
			g := env.gateway(t, opts)
			askEachUserTwice(t, g, q, tc.entites)
			// Each caller's first request fetched its rating; the repeats
			// were served from the cache.
			if n := env.ratings.calls.Load(); n != 2 {
				t.Errorf("the ratings subgraph served %d requests, want 2", n)
			}
		})
	}
}

// TestHookVaryDeclaredSharesCaches: hooks that declare what their
// Subgraph hooks read (hooks.Vary) are cached by those values only. The
// RouterRequest hook here also keeps a value of its own per request in
// Context, which the Subgraph hook never reads: undeclared, that made
// every request a caller of its own for the caches (4 fetches for 4
// requests); declared, callers with the same user share entries (2),
// and a caller of another user still gets its own rating.
func TestHookVaryDeclaredSharesCaches(t *testing.T) {
	const q = `{ product(upc: "1") { headerRating } }`
	var seq atomic.Int64
	perRequest := hooks.Hooks{
		RouterRequest: func(ctx context.Context, c *hooks.Call) error {
			c.Context["seq"] = seq.Add(1)
			return userFromHeader.RouterRequest(ctx, c)
		},
		SubgraphRequest: userFromHeader.SubgraphRequest,
	}
	declared := perRequest
	declared.Vary = &hooks.Vary{Context: []string{"user"}}
	for _, tc := range []struct {
		name               string
		hooks              []hooks.Hooks
		responses, entites bool
		fetches            int64
	}{
		{"undeclared, response cache", []hooks.Hooks{perRequest}, true, false, 4},
		{"declared, response cache", []hooks.Hooks{declared}, true, false, 2},
		{"declared, entity cache", []hooks.Hooks{declared}, false, true, 2},
		// One hook set that declares nothing keeps every caller apart.
		{"declared and undeclared", []hooks.Hooks{declared, {SubgraphResponse: func(context.Context, *hooks.Call) error { return nil }}}, true, false, 4},
		// The declaration of one set covers only what it names.
		{"declared without the entry read", []hooks.Hooks{func() hooks.Hooks {
			h := perRequest
			h.Vary = &hooks.Vary{Context: []string{"seq"}}
			return h
		}()}, true, false, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := newCacheEnv(t)
			opts := cacheOptions(tc.entites, nil)
			opts.Cache.Response.Enabled = tc.responses
			opts.Cache.InboundDedupe = false
			opts.Hooks = tc.hooks
			g := env.gateway(t, opts)
			askEachUserTwice(t, g, q, tc.entites)
			if n := env.ratings.calls.Load(); n != tc.fetches {
				t.Errorf("the ratings subgraph served %d requests, want %d", n, tc.fetches)
			}
		})
	}
}

// askEachUserTwice sends q as alice, bob, alice and bob (X-Client-User),
// waiting for the entity cache's writes when entities are cached, and
// checks that each caller gets its own rating.
func askEachUserTwice(t *testing.T, g *testGateway, q string, entities bool) {
	t.Helper()
	want := map[string]string{"alice": `"headerRating":5`, "bob": `"headerRating":1`}
	for _, user := range []string{"alice", "bob", "alice", "bob"} {
		req, _ := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(`{"query":`+fmt.Sprintf("%q", q)+`}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Client-User", user)
		a, err := g.do(req)
		if err != nil {
			t.Fatal(err)
		}
		if entities {
			g.Server.EntityCache().Wait()
		}
		if got := string(a.Body); !strings.Contains(got, want[user]) {
			t.Fatalf("%s got %s, want its own rating (%s)", user, got, want[user])
		}
	}
}
