package e2e

import (
	"strings"
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
			}
			// The second caller with read:email shares the first one's entry.
			if hits != 1 {
				t.Fatalf("%d answers came from the cache, want 1 (the second reader)", hits)
			}
		})
	}
}
