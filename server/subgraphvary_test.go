package server_test

import (
	"testing"
)

// TestSubgraphVaryKeepsCallersApart: a subgraph whose answer depends on a
// request header and says so with Vary, under a public Cache-Control,
// never has one caller's answer served to another by the response or the
// entity cache. Here the ratings subgraph answers by X-User, which the
// gateway sets from each caller's token (a claim header), with
// "Cache-Control: max-age=60" and "Vary: X-User". Before, the caches kept
// alice's answer as public and served it to bob; now such an answer is
// not stored. A Vary naming only headers the request did not carry keeps
// the answer cached.
func TestSubgraphVaryKeepsCallersApart(t *testing.T) {
	const query = `query($upc: ID!) { product(upc: $upc) { upc name headerRating } }`
	vars := map[string]any{"upc": "1"}
	for _, tc := range []struct {
		name, vary string
		cached     bool
	}{
		{"the claim header", "X-User", false},
		{"among others, another case", "Accept-Encoding, x-user", false},
		{"star", "*", false},
		{"headers the request did not carry", "Accept-Language, Origin", true},
	} {
		for _, m := range []struct {
			name                string
			responses, entities bool
		}{{"responses", true, false}, {"entities", false, true}} {
			t.Run(tc.name+"/"+m.name, func(t *testing.T) {
				env := newCacheEnv(t)
				env.ratings.cacheControl = "max-age=60"
				env.ratings.vary = tc.vary
				opts := cacheOptions(m.entities, nil)
				opts.Cache.Response.Enabled = m.responses
				g := env.gateway(t, opts)
				ask := func(user string) {
					t.Helper()
					a := g.query(t, user, query, vars)
					if a.Status != 200 || len(a.Errors) > 0 {
						t.Fatalf("%s: status %d: %s", user, a.Status, a.Body)
					}
					got := a.Data["product"].(map[string]any)["headerRating"]
					if want := float64(rating(user)); got != want && !tc.cached {
						t.Fatalf("caller %q got %v, want %v (another caller's): %s", user, got, want, a.Body)
					}
				}
				ask("alice")
				if m.entities {
					g.Server.EntityCache().Wait()
				}
				before := env.ratings.calls.Load()
				ask("bob")
				ask("alice")
				calls := env.ratings.calls.Load() - before
				if tc.cached && calls != 0 {
					t.Errorf("%d calls to the ratings subgraph; want 0 (cached: the request carried no header the answer varies by)", calls)
				}
				if !tc.cached && calls != 2 {
					t.Errorf("%d calls to the ratings subgraph; want 2 (not stored)", calls)
				}
			})
		}
	}
}
