package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fedgate/gateway/pkg/hooks"
)

// TestDownstreamCachesKeepCallersApart: the Cache-Control and Vary of an
// answer tell the shared caches in front of the gateway (a CDN, a
// caching proxy) which requests may share it, and say no more than the
// gateway's own cache keys by. With cache.response.vary_headers, answers
// carry Vary naming them; with a hook at a Subgraph stage, whose fetches
// may differ per caller (TestHookHeadersSplitCaches), an answer is
// private, not public. Before, both were "max-age=60, public" without
// Vary: a CDN kept one tenant's (one user's) answer for every caller.
func TestDownstreamCachesKeepCallersApart(t *testing.T) {
	t.Run("vary headers", func(t *testing.T) {
		env := newCacheEnv(t)
		opts := cacheOptions(false, nil)
		opts.Cache.Response.VaryHeaders = []string{"x-tenant", "Accept-Language"}
		g := env.gateway(t, opts)
		for i := range 2 { // computed, then from the cache
			a := g.postWith(t, productsQuery, nil, map[string]string{"X-Tenant": "a"})
			if cc := a.Header.Get("Cache-Control"); cc != "max-age=60, public" {
				t.Fatalf("answer %d: Cache-Control %q", i, cc)
			}
			vary := strings.Join(a.Header.Values("Vary"), ",")
			for _, h := range []string{"X-Tenant", "Accept-Language"} {
				if !strings.Contains(vary, h) {
					t.Errorf("answer %d: Vary %q does not name %s, which the gateway's own cache keys by", i, vary, h)
				}
			}
		}
	})
	t.Run("subgraph hooks", func(t *testing.T) {
		env := newCacheEnv(t)
		opts := cacheOptions(false, nil)
		opts.Hooks = []hooks.Hooks{userFromHeader}
		g := env.gateway(t, opts)
		for _, user := range []string{"alice", "alice"} {
			a := g.postWith(t, `{ product(upc: "1") { headerRating } }`, nil, map[string]string{"X-Client-User": user})
			if a.Status != http.StatusOK {
				t.Fatalf("%d %s", a.Status, a.Body)
			}
			if cc := a.Header.Get("Cache-Control"); strings.Contains(cc, "public") || !strings.Contains(cc, "max-age=") {
				t.Errorf("%s: Cache-Control %q, want private: the answer depends on what the hook reads of the caller", user, cc)
			}
		}
	})
}
