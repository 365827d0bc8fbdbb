package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/golang-jwt/jwt/v5"
)

// rawGateway serves env with opts as given (the header rules are the
// test's), on a loopback server.
func (e *cacheEnv) rawGateway(t testing.TB, opts server.Options) *testGateway {
	t.Helper()
	client := subgraphs.NewClient(e.urls, subgraphs.Options{Timeout: 10 * time.Second})
	t.Cleanup(client.Close)
	s, err := server.New(e.sg, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &testGateway{URL: srv.URL + "/graphql", Server: s, client: srv.Client(), transport: client}
}

// postWith posts query with the given request headers.
func (g *testGateway) postWith(t testing.TB, query string, vars map[string]any, header map[string]string) *answer {
	t.Helper()
	b, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	req, _ := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	a, err := g.do(req)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// signed returns an HS256 token with claims and no "sub" unless given.
func signed(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	claims["exp"] = time.Now().Add(time.Hour).Unix()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["kid"] = "test"
	s, err := tok.SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestConcurrentCallersNeverShareAComputation is issue 15 item 2: two
// callers the gateway cannot tell apart by identity (anonymous, or tokens
// without "sub") but whose forwarded headers differ send the same query at
// the same time; the subgraph personalises on the header and answers
// Cache-Control: private. Each must get its own answer.
func TestConcurrentCallersNeverShareAComputation(t *testing.T) {
	const query = `query($upc: ID!) { product(upc: $upc) { upc headerRating } }`
	cases := []struct {
		name  string
		rules auth.HeaderRules
		// as returns the request headers of user.
		as func(t testing.TB, user string) map[string]string
	}{
		{"anonymous, forwarded header", auth.HeaderRules{Forward: []string{"X-User"}},
			func(_ testing.TB, u string) map[string]string { return map[string]string{"X-User": u} }},
		{"anonymous, renamed header", auth.HeaderRules{Rename: []auth.HeaderRename{{From: "X-Session", To: "X-User"}}},
			func(_ testing.TB, u string) map[string]string { return map[string]string{"X-Session": u} }},
		{"anonymous, session cookie forwarded", auth.HeaderRules{Forward: []string{"Cookie"}},
			func(_ testing.TB, u string) map[string]string {
				return map[string]string{"Cookie": "theme=dark; session=" + u}
			}},
		{"tokens without sub, claim header", auth.HeaderRules{Claims: []auth.ClaimHeader{{Claim: "name", Header: "X-User"}}},
			func(t testing.TB, u string) map[string]string {
				return map[string]string{"Authorization": "Bearer " + signed(t, jwt.MapClaims{"name": u})}
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := newCacheEnv(t)
			env.ratings.cacheControl = "private, max-age=60"
			env.ratings.delay = 150 * time.Millisecond
			opts := server.DefaultOptions()
			opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
			opts.Auth.Headers.All = c.rules
			g := env.rawGateway(t, opts)
			for round := range 4 {
				vars := map[string]any{"upc": fmt.Sprint(round + 10)}
				var wg sync.WaitGroup
				for _, user := range []string{"alice", "bob"} {
					wg.Add(1)
					go func() {
						defer wg.Done()
						a := g.postWith(t, query, vars, c.as(t, user))
						if a.Status != 200 || len(a.Errors) > 0 {
							t.Errorf("%s: %d %s", user, a.Status, a.Body)
							return
						}
						got := a.Data["product"].(map[string]any)["headerRating"]
						if got != float64(rating(user)) {
							t.Errorf("round %d: %s got rating %v, want %d: another caller's private answer", round, user, got, rating(user))
						}
					}()
				}
				wg.Wait()
			}
		})
	}
}
