package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/golang-jwt/jwt/v5"
)

// TestHeaderPropagation checks the header rules over real HTTP: the
// allowlist, renames, inserts and claims apply per subgraph; the client's
// Authorization and hop-by-hop headers are not forwarded unless named; a
// client cannot forge a claim header.
func TestHeaderPropagation(t *testing.T) {
	users, reviews := authGraphs()
	opts := authOptions(func(c *auth.Config) {
		c.Headers.All = auth.HeaderRules{
			Forward: []string{"X-Request-Id", "Connection-Id"},
			Insert:  []auth.HeaderInsert{{Name: "X-Gateway", Value: "fedgate"}},
			Claims:  []auth.ClaimHeader{{Claim: "sub", Header: "X-User-Id"}, {Claim: "org.id", Header: "X-Org"}},
		}
		c.Headers.Subgraphs = map[string]auth.HeaderRules{
			"users": {Forward: []string{"Authorization"}, Rename: []auth.HeaderRename{{From: "X-Tenant", To: "X-Users-Tenant"}}},
		}
	})
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(opts))
	tok := token(t, jwt.MapClaims{"sub": "user-7", "org": map[string]any{"id": "acme"}})
	post(t, g, `{ users { name reviews { body } } }`, tok, map[string]string{
		"X-Request-Id": "req-1", "X-Tenant": "t1", "X-User-Id": "forged", "Cookie": "a=b",
		"Connection-Id": "c1", "X-Other": "not-listed",
	})
	uh, rh := users.Headers(), reviews.Headers()
	if len(uh) != 1 || len(rh) != 1 {
		t.Fatalf("requests: users %d, reviews %d", len(uh), len(rh))
	}
	check := func(name string, h http.Header, want map[string]string) {
		t.Helper()
		for k, v := range want {
			if got := h.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", name, k, got, v)
			}
		}
	}
	check("users", uh[0], map[string]string{"X-Request-Id": "req-1", "X-Gateway": "fedgate", "X-User-Id": "user-7",
		"X-Org": "acme", "X-Users-Tenant": "t1", "Authorization": "Bearer " + tok, "Connection-Id": "c1",
		"X-Tenant": "", "Cookie": "", "X-Other": ""})
	check("reviews", rh[0], map[string]string{"X-Request-Id": "req-1", "X-Gateway": "fedgate", "X-User-Id": "user-7",
		"Authorization": "", "X-Users-Tenant": "", "Cookie": "", "X-Other": ""})

	// Anonymous: the forged claim header is dropped, not passed on.
	users.Reset()
	post(t, g, `{ publicNote }`, "", map[string]string{"X-User-Id": "forged"})
	if h := users.Headers(); len(h) != 1 || h[0].Get("X-User-Id") != "" {
		t.Errorf("anonymous request: X-User-Id %q reached the subgraph", h[0].Get("X-User-Id"))
	}
}

// TestNothingForwardedByDefault: without rules, no client header reaches a
// subgraph.
func TestNothingForwardedByDefault(t *testing.T) {
	users, reviews := authGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(authOptions(nil)))
	post(t, g, `{ publicNote }`, token(t, nil), map[string]string{"X-Request-Id": "r", "X-Other": "o"})
	h := users.Headers()
	// X-Request-ID is the gateway's own request id (accepted from the
	// client when well-formed), sent so logs line up; nothing else is.
	if len(h) != 1 || h[0].Get("Authorization") != "" || h[0].Get("X-Other") != "" {
		t.Errorf("headers reached the subgraph: %v", h)
	}
}

// TestCSRF follows Apollo Router's rule: a request a browser could send
// cross-site without a preflight is refused before anything runs.
func TestCSRF(t *testing.T) {
	g := gatewaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	get := url.Values{"query": {"{ __typename }"}}.Encode()
	for _, c := range []struct {
		name, method, contentType string
		headers                   map[string]string
		status                    int
	}{
		{"json POST", "POST", "application/json", nil, 200},
		{"text/plain POST", "POST", "text/plain", nil, 400},
		{"form POST", "POST", "application/x-www-form-urlencoded", nil, 400},
		{"multipart POST with charset", "POST", "multipart/form-data; boundary=x", nil, 400},
		{"text/plain POST with apollo-require-preflight", "POST", "text/plain", map[string]string{"Apollo-Require-Preflight": "true"}, 415},
		{"plain GET", "GET", "", nil, 400},
		{"GET with x-apollo-operation-name", "GET", "", map[string]string{"X-Apollo-Operation-Name": "Q"}, 200},
		{"GET with apollo-require-preflight", "GET", "", map[string]string{"Apollo-Require-Preflight": "1"}, 200},
	} {
		t.Run(c.name, func(t *testing.T) {
			target := g.URL
			var body *strings.Reader
			if c.method == "GET" {
				target += "?" + get
				body = strings.NewReader("")
			} else {
				body = strings.NewReader(`{"query":"{ __typename }"}`)
			}
			req, err := http.NewRequestWithContext(ctx, c.method, target, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.contentType != "" {
				req.Header.Set("Content-Type", c.contentType)
			}
			for k, v := range c.headers {
				req.Header.Set(k, v)
			}
			resp, err := g.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != c.status {
				t.Errorf("status %d, want %d: %s", resp.Status, c.status, resp.Body)
			}
			if c.status == 400 {
				if codes := errorCodes(t, resp.Body); len(codes) != 1 || codes[0] != "CSRF_ERROR" {
					t.Errorf("codes %v, want [CSRF_ERROR]", codes)
				}
			}
		})
	}
}

// TestCORS answers preflights for allowed origins only and marks answers
// for them.
func TestCORS(t *testing.T) {
	opts := authOptions(func(c *auth.Config) {
		c.CORS = auth.CORSConfig{Enabled: true, AllowOrigins: []string{"https://app.example.com"}, AllowCredentials: true, MaxAge: time.Minute}
	})
	users, reviews := authGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(authSupergraph(t)),
		gatewaytest.WithHandler("users", users), gatewaytest.WithHandler("reviews", reviews),
		gatewaytest.WithServerOptions(opts))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	preflight := func(origin string) *gatewaytest.Response {
		req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, g.URL, nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "content-type, authorization")
		resp, err := g.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	ok := preflight("https://app.example.com")
	if ok.Status != 204 || ok.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" ||
		ok.Header.Get("Access-Control-Allow-Credentials") != "true" || ok.Header.Get("Access-Control-Max-Age") != "60" ||
		!strings.Contains(ok.Header.Get("Access-Control-Allow-Headers"), "authorization") {
		t.Errorf("allowed preflight: %d %v", ok.Status, ok.Header)
	}
	bad := preflight("https://evil.example.com")
	if bad.Status != 403 || bad.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("refused preflight: %d %v", bad.Status, bad.Header)
	}
	resp := post(t, g, `{ publicNote }`, "", map[string]string{"Origin": "https://app.example.com"})
	if resp.Status != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("actual request: %d %v", resp.Status, resp.Header)
	}
	resp = post(t, g, `{ publicNote }`, "", map[string]string{"Origin": "https://evil.example.com"})
	if resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("an origin not allowed got %q", resp.Header.Get("Access-Control-Allow-Origin"))
	}
}
