package server_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/respheaders"
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
	// The Content-Type follows Accept (application/json or
	// application/graphql-response+json): a downstream cache must not hand
	// one to a client that asked for the other.
	t.Run("accept", func(t *testing.T) {
		env := newCacheEnv(t)
		g := env.gateway(t, cacheOptions(false, nil))
		for _, accept := range []string{"application/json", "application/graphql-response+json"} {
			a := g.postWith(t, productsQuery, nil, map[string]string{"Accept": accept})
			if !strings.HasPrefix(a.Header.Get("Content-Type"), accept) || a.Header.Get("Cache-Control") != "max-age=60, public" {
				t.Fatalf("Accept %s: Content-Type %q, Cache-Control %q", accept, a.Header.Get("Content-Type"), a.Header.Get("Cache-Control"))
			}
			if vary := strings.Join(a.Header.Values("Vary"), ","); !strings.Contains(vary, "Accept") {
				t.Errorf("Accept %s: Vary %q does not name Accept, by which the Content-Type is chosen", accept, vary)
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

// TestCookiesAreNeverPublic: an answer carrying a Set-Cookie that a
// response header rule propagated from a subgraph (a session, say) is
// private: a shared cache in front of the gateway would hand the cookie,
// with the answer, to every caller. Before, it was "max-age=60, public".
func TestCookiesAreNeverPublic(t *testing.T) {
	env := newCacheEnv(t)
	catalog := env.catalog
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Set-Cookie", "session=of-"+r.Header.Get("X-User"))
		catalog.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	env.urls["catalog"] = srv.URL
	opts := cacheOptions(false, nil)
	opts.ResponseHeaders = respheaders.Config{All: respheaders.Rules{Propagate: []respheaders.Rule{{Name: "Set-Cookie"}}}}
	g := env.gateway(t, opts)
	a := g.query(t, "alice", productsQuery, nil)
	if a.Status != http.StatusOK || a.Header.Get("Set-Cookie") != "session=of-alice" {
		t.Fatalf("%d, Set-Cookie %q (the test must see the cookie): %s", a.Status, a.Header.Get("Set-Cookie"), a.Body)
	}
	if cc := a.Header.Get("Cache-Control"); cc != "max-age=60, private" {
		t.Errorf("an answer with Set-Cookie has Cache-Control %q, want max-age=60, private", cc)
	}
	// The same answer from the gateway's cache carries no cookie: it may
	// be public again.
	b := g.query(t, "bob", productsQuery, nil)
	if b.Header.Get("Age") == "" || b.Header.Get("Set-Cookie") != "" {
		t.Fatalf("the second answer (Age %q, Set-Cookie %q) must come from the gateway's cache, without a cookie",
			b.Header.Get("Age"), b.Header.Get("Set-Cookie"))
	}
	if cc := b.Header.Get("Cache-Control"); cc != "max-age=60, public" {
		t.Errorf("a cached answer without a cookie: Cache-Control %q, want max-age=60, public", cc)
	}
}

// TestRewritingHooksAreNeverPublic: hooks outside the Subgraph stages that
// may make an answer differ per caller where a cache in front of the
// gateway (keying by URL and Vary) cannot see it make the answer private:
// a SupergraphResponse hook rewriting the answer (the gateway caches it
// before the rewrite, a CDN after), a SupergraphRequest hook rewriting the
// request, and a RouterRequest hook with vary headers (it may set them:
// the gateway keys by the value set, a CDN by the one sent). Hooks that
// only read stay public. Before, all of them were "max-age=60, public".
func TestRewritingHooksAreNeverPublic(t *testing.T) {
	perUser := func(_ context.Context, c *hooks.Call) error {
		c.Body = bytes.Replace(c.Body, []byte(`"data":{`), []byte(`"data":{"__user":"`+c.Header.Get("X-Client-User")+`",`), 1)
		return nil
	}
	tenantFromUser := func(_ context.Context, c *hooks.Call) error {
		c.Header.Set("X-Tenant", "of-"+c.Header.Get("X-Client-User"))
		return nil
	}
	readOnly := func(context.Context, *hooks.Call) error { return nil }
	cases := []struct {
		name   string
		hooks  hooks.Hooks
		vary   []string
		public bool
	}{
		{"response rewritten", hooks.Hooks{SupergraphResponse: perUser, Bodies: []hooks.Stage{hooks.SupergraphResponse}}, nil, false},
		{"request rewritten", hooks.Hooks{SupergraphRequest: readOnly, Bodies: []hooks.Stage{hooks.SupergraphRequest}}, nil, false},
		{"vary header set by a hook", hooks.Hooks{RouterRequest: tenantFromUser}, []string{"X-Tenant"}, false},
		{"hooks that only read", hooks.Hooks{RouterRequest: readOnly, SupergraphResponse: readOnly, RouterResponse: readOnly}, nil, true},
		{"a RouterRequest hook without vary headers", hooks.Hooks{RouterRequest: tenantFromUser}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newCacheEnv(t)
			opts := cacheOptions(false, nil)
			opts.Cache.Response.VaryHeaders = c.vary
			opts.Hooks = []hooks.Hooks{c.hooks}
			g := env.gateway(t, opts)
			for i := range 2 { // computed, then from the cache
				a := g.postWith(t, productsQuery, nil, map[string]string{"X-Client-User": "alice"})
				if a.Status != http.StatusOK {
					t.Fatalf("%d %s", a.Status, a.Body)
				}
				cc := a.Header.Get("Cache-Control")
				if want := map[bool]string{true: "max-age=60, public", false: "max-age=60, private"}[c.public]; cc != want {
					t.Errorf("answer %d: Cache-Control %q, want %q", i, cc, want)
				}
			}
		})
	}
}
