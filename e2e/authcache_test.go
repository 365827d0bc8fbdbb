package e2e

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/golang-jwt/jwt/v5"
)

// TestResponseCacheKeepsAuthorizationApart caches public answers and
// checks that a caller never receives an answer cached for a caller who
// may see more (or fewer) fields, in either order, and that the cache is
// really used for callers with the same grants.
func TestResponseCacheKeepsAuthorizationApart(t *testing.T) {
	const query = `{ users { name email } }`
	reader := jwt.MapClaims{"sub": "reader", "scope": "read:email"}
	other := jwt.MapClaims{"sub": "other-reader", "scope": "read:email"}
	plain := jwt.MapClaims{"sub": "plain"}
	for _, tc := range []struct {
		name  string
		order []jwt.MapClaims
	}{
		{"allowed first", []jwt.MapClaims{reader, plain, nil, other}},
		{"refused first", []jwt.MapClaims{plain, nil, reader, other}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			users, reviews := authGraphs()
			opts := authOptions(func(*auth.Config) {})
			opts.Cache.Response.Enabled = true
			opts.Cache.Response.DefaultMaxAge = time.Minute
			g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
				gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
				gatewaytest.WithServerOptions(opts))
			hits := 0
			for _, claims := range tc.order {
				bearer := ""
				if claims != nil {
					bearer = token(t, claims)
				}
				resp := post(t, g, query, bearer, nil)
				body := string(resp.Body)
				allowed := claims != nil && claims["scope"] == "read:email"
				switch {
				case allowed && (!strings.Contains(body, "ada@example.com") || strings.Contains(body, "UNAUTHORIZED")):
					t.Fatalf("caller %v may see email but got %s", claims["sub"], body)
				case !allowed && (strings.Contains(body, "@example.com") || !strings.Contains(body, "UNAUTHORIZED_FIELD_OR_TYPE")):
					t.Fatalf("caller %v may not see email but got %s", claims["sub"], body)
				}
				if resp.Header.Get("Age") != "" {
					hits++
				}
				// Issue 15 item 6: the answer depends on the caller's
				// scopes, so no shared (CDN) cache may keep it.
				if cc := resp.Header.Get("Cache-Control"); strings.Contains(cc, "public") {
					t.Errorf("caller %v: Cache-Control %q on an answer that depends on grants", claims["sub"], cc)
				}
			}
			// The second caller with read:email shares the first one's entry.
			if hits != 1 {
				t.Fatalf("%d answers came from the cache, want 1 (the second reader)", hits)
			}
		})
	}
}

// TestInboundDedupeKeepsGrantsApart is issue 17 item 2: identical
// concurrent queries from callers with different grants (and from
// anonymous callers) never share an execution, while callers with the
// same token do. The users subgraph is slow, so that the requests overlap.
func TestInboundDedupeKeepsGrantsApart(t *testing.T) {
	const query = `{ users { name email } }`
	users, reviews := authGraphs()
	var calls atomic.Int64
	var gw atomic.Pointer[gatewaytest.Gateway]
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		// Hold the answer until the round's six requests are all in the
		// gateway, then 150 ms more for them to reach the dedupe: with
		// only a 150 ms sleep from the first call, a request that a
		// loaded machine started late found the execution over and
		// called again.
		for deadline := time.Now().Add(15 * time.Second); gw.Load().Handler.InFlight() < 6 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(150 * time.Millisecond)
		users.ServeHTTP(w, r)
	})
	opts := authOptions(func(*auth.Config) {})
	opts.Cache.Response.Enabled = false
	opts.Cache.Dedupe = false
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", slow), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(opts))
	gw.Store(g)
	reader := token(t, jwt.MapClaims{"sub": "reader", "scope": "read:email"})
	// The same subject without the scope: only the grants (and the token)
	// tell the two apart.
	plain := token(t, jwt.MapClaims{"sub": "reader"})
	for round := range 3 {
		var wg sync.WaitGroup
		for i, bearer := range []string{reader, plain, "", reader, plain, ""} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := string(post(t, g, query, bearer, nil).Body)
				allowed := bearer == reader
				if allowed != strings.Contains(body, "ada@example.com") {
					t.Errorf("round %d, caller %d (may see email: %v) got %s", round, i, allowed, body)
				}
			}()
		}
		wg.Wait()
	}
	// Three callers (reader, plain, anonymous) per round: at most three
	// executions per round; the repeated token shared.
	if n := calls.Load(); n > 9 {
		t.Errorf("the users subgraph was called %d times for 3 rounds of 3 distinct callers; identical requests did not share", n)
	}
}
