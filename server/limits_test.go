package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"github.com/golang-jwt/jwt/v5"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/server"
)

// gatewayWith starts the demo gateway with policy and the given options.
func gatewayWith(t *testing.T, cfg limits.Config, popt limits.PolicyOptions, change func(*server.Options)) *gatewaytest.Gateway {
	t.Helper()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	opts := server.DefaultOptions()
	opts.Policy = limits.NewPolicy(cfg, popt)
	if change != nil {
		change(&opts)
	}
	return gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
}

type gqlAnswer struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
	Extensions map[string]json.RawMessage `json:"extensions"`
}

func post(t *testing.T, g *gatewaytest.Gateway, body string, header map[string]string) (*gatewaytest.Response, gqlAnswer) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var a gqlAnswer
	if resp.Body[0] == '{' {
		if err := json.Unmarshal(resp.Body, &a); err != nil {
			t.Fatalf("%s: %v", resp.Body, err)
		}
	}
	return resp, a
}

func code(a gqlAnswer) string {
	if len(a.Errors) == 0 {
		return ""
	}
	c, _ := a.Errors[0].Extensions["code"].(string)
	return c
}

func TestRateLimited(t *testing.T) {
	cfg := limits.DefaultConfig()
	cfg.Tiers = map[string]limits.TierConfig{"default": {Requests: 3, Window: time.Hour}}
	g := gatewayWith(t, cfg, limits.PolicyOptions{}, nil)
	const q = `{"query":"{ me { name } }"}`
	for i := range 3 {
		resp, a := post(t, g, q, nil)
		if resp.Status != 200 || len(a.Errors) > 0 {
			t.Fatalf("request %d: %d %s", i, resp.Status, resp.Body)
		}
		if got := resp.Header.Get("RateLimit-Remaining"); got != []string{"2", "1", "0"}[i] {
			t.Fatalf("request %d: RateLimit-Remaining %q", i, got)
		}
	}
	before := g.Requests()
	resp, a := post(t, g, q, nil)
	if resp.Status != http.StatusTooManyRequests || code(a) != limits.CodeRateLimited {
		t.Fatalf("over the limit: %d %s", resp.Status, resp.Body)
	}
	for _, h := range []string{"Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if resp.Header.Get("RateLimit-Limit") != "3" || resp.Header.Get("Retry-After") == "0" {
		t.Errorf("headers %v", resp.Header)
	}
	if g.Requests() != before {
		t.Fatal("a refused request reached a subgraph")
	}
	// Another client (API key) has its own allowance.
	cfg.Clients.APIKeys = map[string]limits.APIKey{"app": {Key: "k1"}}
	g2 := gatewayWith(t, cfg, limits.PolicyOptions{}, nil)
	for range 3 {
		post(t, g2, q, nil)
	}
	if resp, _ := post(t, g2, q, map[string]string{"X-API-Key": "k1"}); resp.Status != 200 {
		t.Fatalf("the API key client was limited by the address client: %d", resp.Status)
	}
}

func TestCostEnforced(t *testing.T) {
	cfg := limits.DefaultConfig()
	cfg.Cost.Mode, cfg.Cost.Max = limits.CostEnforce, 100
	var mu sync.Mutex
	var outcomes []limits.Outcome
	observe := func(_ context.Context, o limits.Outcome) {
		mu.Lock()
		outcomes = append(outcomes, o)
		mu.Unlock()
	}
	g := gatewayWith(t, cfg, limits.PolicyOptions{Observe: observe}, nil)

	// 10 products × (1 + 10 reviews × 1) = 110 > 100.
	resp, a := post(t, g, `{"query":"{ topProducts { name reviews { body } } }"}`, nil)
	if resp.Status != 400 || code(a) != limits.CodeCostEstimatedTooExpensive {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	cost, _ := a.Errors[0].Extensions["cost"].(map[string]any)
	if cost["estimated"] != 110.0 || cost["max"] != 100.0 {
		t.Fatalf("cost extension %v", cost)
	}
	if g.Requests() != 0 {
		t.Fatal("a refused operation reached a subgraph")
	}
	// 10 × (1 + 1 reviews... ) : topProducts { name } costs 10.
	resp, a = post(t, g, `{"query":"{ topProducts { name } }"}`, map[string]string{"Fedgate-Include-Cost": "true"})
	if resp.Status != 200 || len(a.Errors) > 0 {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
	var ext struct {
		Estimated, Actual, Max float64
		Result                 string
	}
	if err := json.Unmarshal(a.Extensions["cost"], &ext); err != nil {
		t.Fatalf("%s: %v", resp.Body, err)
	}
	// The demo returns 5 products (first defaults to 5, which no
	// @listSize declares a slicing argument): actual 5.
	if ext.Estimated != 10 || ext.Actual != 5 || ext.Max != 100 || ext.Result != limits.CostOK {
		t.Fatalf("cost extension %s", a.Extensions["cost"])
	}
	// Without the header the cost is not exposed.
	_, a = post(t, g, `{"query":"{ me { name } }"}`, nil)
	if a.Extensions != nil {
		t.Fatalf("extensions without asking: %v", a.Extensions)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(outcomes) != 3 || outcomes[0].Result != limits.CodeCostEstimatedTooExpensive || outcomes[0].Estimated != 110 ||
		outcomes[1].Result != limits.CostOK || outcomes[1].Actual != 5 || outcomes[2].Estimated != 1 {
		t.Fatalf("outcomes %+v", outcomes)
	}
}

func TestCostAndPlanExtensions(t *testing.T) {
	cfg := limits.DefaultConfig()
	g := gatewayWith(t, cfg, limits.PolicyOptions{}, func(o *server.Options) { o.ExposePlan = true })
	resp, a := post(t, g, `{"query":"{ me { name } }"}`, map[string]string{"Fedgate-Include-Cost": "true", "Fedgate-Include-Plan": "true"})
	if resp.Status != 200 || a.Extensions["cost"] == nil || a.Extensions["queryPlan"] == nil {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
}

func TestCostPointsPerWindow(t *testing.T) {
	cfg := limits.DefaultConfig()
	cfg.Tiers = map[string]limits.TierConfig{"default": {Cost: 25, Window: time.Hour}}
	g := gatewayWith(t, cfg, limits.PolicyOptions{}, nil)
	const q = `{"query":"{ topProducts { name } }"}` // cost 10
	for i := range 2 {
		if resp, _ := post(t, g, q, nil); resp.Status != 200 {
			t.Fatalf("request %d: %d %s", i, resp.Status, resp.Body)
		}
	}
	resp, a := post(t, g, q, nil)
	if resp.Status != 429 || code(a) != limits.CodeCostLimitExceeded || resp.Header.Get("RateLimit-Limit") != "25" || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("%d %v %s", resp.Status, resp.Header, resp.Body)
	}
	// A cheaper operation still fits the 5 points left.
	if resp, _ := post(t, g, `{"query":"{ me { name } }"}`, nil); resp.Status != 200 {
		t.Fatalf("cheap operation: %d", resp.Status)
	}
	// An operation over the whole allowance can never pass: 400.
	resp, a = post(t, g, `{"query":"{ topProducts { reviews { body } } }"}`, nil)
	if resp.Status != 400 || code(a) != limits.CodeCostEstimatedTooExpensive {
		t.Fatalf("%d %s", resp.Status, resp.Body)
	}
}

func TestBatchLimits(t *testing.T) {
	cfg := limits.DefaultConfig()
	cfg.Tiers = map[string]limits.TierConfig{"default": {Requests: 3, Window: time.Hour}}
	g := gatewayWith(t, cfg, limits.PolicyOptions{}, func(o *server.Options) { o.AllowBatch, o.MaxBatch = true, 2 })
	one := `{"query":"{ me { name } }"}`
	resp, a := post(t, g, "["+one+","+one+","+one+"]", nil)
	if resp.Status != 400 || code(a) != "BATCH_LIMIT_EXCEEDED" || g.Requests() != 0 {
		t.Fatalf("batch over the limit: %d %s", resp.Status, resp.Body)
	}
	// Each operation of a batch counts: of 2 + 2, the fourth is refused.
	var answers []gqlAnswer
	for range 2 {
		resp, _ := post(t, g, "["+one+","+one+"]", nil)
		var batch []gqlAnswer
		if err := json.Unmarshal(resp.Body, &batch); err != nil || len(batch) != 2 {
			t.Fatalf("%s: %v", resp.Body, err)
		}
		answers = append(answers, batch...)
	}
	for i, want := range []string{"", "", "", limits.CodeRateLimited} {
		if code(answers[i]) != want {
			t.Fatalf("operation %d: code %q, want %q", i, code(answers[i]), want)
		}
	}
}

// TestRateLimitByJWTClaim counts clients by the caller that the auth stage
// verified from a real HS256 token, with the tier from a claim.
func TestRateLimitByJWTClaim(t *testing.T) {
	cfg := limits.DefaultConfig()
	cfg.Clients.TierClaim = "plan"
	cfg.Tiers = map[string]limits.TierConfig{
		"default": {Requests: 1, Window: time.Hour},
		"pro":     {Requests: 3, Window: time.Hour},
	}
	const secret = "a-test-secret-of-at-least-32-bytes!!"
	g := gatewayWith(t, cfg, limits.PolicyOptions{}, func(o *server.Options) {
		o.Auth.JWT.Keys = []auth.KeyConfig{{KID: "k", Algorithms: []string{"HS256"}, Secret: secret}}
	})
	token := func(claims jwt.MapClaims) string {
		claims["exp"] = time.Now().Add(time.Hour).Unix()
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
		tok.Header["kid"] = "k"
		s, err := tok.SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	send := func(tok string) int { return sendMe(t, g.Handler, tok) }
	alice := token(jwt.MapClaims{"sub": "alice", "plan": "pro"})
	bob := token(jwt.MapClaims{"sub": "bob"})
	var got []int
	for range 4 {
		got = append(got, send(alice))
	}
	got = append(got, send(bob), send(bob))
	want := []int{200, 200, 200, 429, 200, 429} // alice: pro (3), bob: default (1)
	if !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}

// TestRateLimitKeepsIssuersApart: with two identity providers, each
// with a user "alice", the rate limit and the tier are each alice's of
// her issuer. Before, both were client "jwt:alice": b's alice used up a's
// allowance, and an assignment of one took the other with it.
func TestRateLimitKeepsIssuersApart(t *testing.T) {
	cfg := limits.DefaultConfig()
	cfg.Tiers = map[string]limits.TierConfig{
		"default": {Requests: 1, Window: time.Hour},
		"pro":     {Requests: 3, Window: time.Hour},
	}
	cfg.Clients.AssignJWT = []limits.JWTAssignment{{Issuer: "https://a.example", Sub: "alice", Tier: "pro"}}
	secrets := map[string]string{"https://a.example": "secret-of-a-of-at-least-32-bytes!!", "https://b.example": "secret-of-b-of-at-least-32-bytes!!"}
	g := gatewayWith(t, cfg, limits.PolicyOptions{}, func(o *server.Options) {
		o.Auth.JWT.Keys = []auth.KeyConfig{
			{KID: "a", Algorithms: []string{"HS256"}, Secret: secrets["https://a.example"], Issuers: []string{"https://a.example"}},
			{KID: "b", Algorithms: []string{"HS256"}, Secret: secrets["https://b.example"], Issuers: []string{"https://b.example"}},
		}
	})
	token := func(iss, kid string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iss": iss, "sub": "alice", "exp": time.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = kid
		s, err := tok.SignedString([]byte(secrets[iss]))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	send := func(tok string) int { return sendMe(t, g.Handler, tok) }
	aliceOfA, aliceOfB := token("https://a.example", "a"), token("https://b.example", "b")
	var got []int
	for _, tok := range []string{aliceOfB, aliceOfB, aliceOfA, aliceOfA, aliceOfA, aliceOfA} {
		got = append(got, send(tok))
	}
	want := []int{200, 429, 200, 200, 200, 429} // b's alice: default (1), a's alice: pro (3)
	if !slices.Equal(got, want) {
		t.Fatalf("statuses %v, want %v", got, want)
	}
}

// TestRateLimitedClientRefusedBeforeParsing is issue 15 item 4: once the
// rate limit refused a client, its next requests are refused from their
// headers until its window refills: an unparsable document gets
// RATE_LIMITED, not a parse error, and another client is not affected.
func TestRateLimitedClientRefusedBeforeParsing(t *testing.T) {
	cfg := limits.DefaultConfig()
	cfg.Tiers = map[string]limits.TierConfig{"default": {Requests: 2, Window: time.Hour}}
	cfg.Clients.APIKeys = map[string]limits.APIKey{"app": {Key: "k1"}}
	g := gatewayWith(t, cfg, limits.PolicyOptions{}, nil)
	const q = `{"query":"{ me { name } }"}`
	for range 2 {
		post(t, g, q, nil)
	}
	if resp, a := post(t, g, q, nil); resp.Status != http.StatusTooManyRequests || code(a) != limits.CodeRateLimited {
		t.Fatalf("over the limit: %d %s", resp.Status, resp.Body)
	}
	resp, a := post(t, g, `{"query":"{ me { `+strings.Repeat("x ", 5000)+`"}`, nil)
	if resp.Status != http.StatusTooManyRequests || code(a) != limits.CodeRateLimited || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("an unparsable document from a refused client: %d %.200s", resp.Status, resp.Body)
	}
	if resp, _ := post(t, g, q, map[string]string{"X-API-Key": "k1"}); resp.Status != 200 {
		t.Fatalf("another client: %d", resp.Status)
	}
}

// A client that sends only documents the gateway refuses (unparsable,
// invalid, unknown operation, bad variables) spends its rate limit like
// any other: the gateway's parse and validation work is not free.
func TestInvalidDocumentsChargeTheRateLimit(t *testing.T) {
	cases := []struct {
		name, body, code string
	}{
		{"unparsable", `{"query":"{ me { "}`, "GRAPHQL_PARSE_FAILED"},
		{"invalid", `{"query":"{ me { noSuchField } }"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"unknown operation", `{"query":"query A { me { name } }","operationName":"B"}`, "GRAPHQL_VALIDATION_FAILED"},
		{"bad variables", `{"query":"query($n: Int!) { topProducts(first: $n) { name } }","variables":{"n":"x"}}`, "BAD_USER_INPUT"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := limits.DefaultConfig()
			cfg.Tiers = map[string]limits.TierConfig{"default": {Requests: 3, Window: time.Hour}}
			g := gatewayWith(t, cfg, limits.PolicyOptions{}, nil)
			for i := range 3 {
				resp, a := post(t, g, tc.body, nil)
				if code(a) != tc.code || resp.Status == http.StatusTooManyRequests {
					t.Fatalf("request %d: %d %s", i, resp.Status, resp.Body)
				}
				if got := resp.Header.Get("RateLimit-Remaining"); got != []string{"2", "1", "0"}[i] {
					t.Fatalf("request %d: RateLimit-Remaining %q", i, got)
				}
			}
			resp, a := post(t, g, tc.body, nil)
			if resp.Status != http.StatusTooManyRequests || code(a) != limits.CodeRateLimited {
				t.Fatalf("fourth refused document: %d %s", resp.Status, resp.Body)
			}
			// The client is now walled: a valid document is refused too.
			if resp, a := post(t, g, `{"query":"{ me { name } }"}`, nil); resp.Status != http.StatusTooManyRequests || code(a) != limits.CodeRateLimited {
				t.Fatalf("valid document after the limit: %d %s", resp.Status, resp.Body)
			}
		})
	}
}

// TestAliasLimitPerOperation: the alias and root-field limits measure the
// operation the request runs; another operation of the document over
// them does not refuse it, and running that one is refused (400).
func TestAliasLimitPerOperation(t *testing.T) {
	g := gatewaytest.Start(t)
	var big, roots strings.Builder
	for i := 0; i < 31; i++ {
		fmt.Fprintf(&big, " a%d: name", i)
		fmt.Fprintf(&roots, " t%d: __typename", i)
	}
	doc := "query Small { me { name } } query Big { me {" + big.String() + " } } query Roots {" + roots.String() + " }"
	tests := []struct {
		op, code string
		status   int
	}{
		{"Small", "", 200},
		{"Big", limits.CodeMaxAliasesExceeded, 400},
		{"Roots", limits.CodeMaxRootFieldsExceeded, 400},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			body, _ := json.Marshal(map[string]any{"query": doc, "operationName": tt.op})
			resp, a := post(t, g, string(body), nil)
			if resp.Status != tt.status || code(a) != tt.code {
				t.Fatalf("status %d code %q (%s), want %d %q", resp.Status, code(a), resp.Body, tt.status, tt.code)
			}
			if tt.code == "" && !strings.Contains(string(a.Data), `"name"`) {
				t.Fatalf("no data: %s", resp.Body)
			}
		})
	}
}

// sendMe asks h for `{ me { name } }` with the bearer token tok and
// returns the status; a token refused fails the test.
func sendMe(t *testing.T, h http.Handler, tok string) int {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ me { name } }"}`))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code == http.StatusUnauthorized {
		t.Fatalf("token refused: %s", w.Body)
	}
	return w.Code
}
