package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestGraphQLOverHTTPStatus checks the status codes and media types of
// GraphQL over HTTP: with application/graphql-response+json a document
// that fails to parse or validate, or variables that do not coerce, are
// 400; with application/json (asked for, or no Accept at all) the same
// well-formed requests are 200 with the errors in the body. A request
// that is not well-formed (no query) is 400 with either. A client that
// accepts multipart/mixed and no JSON type gets the first.
func TestGraphQLOverHTTPStatus(t *testing.T) {
	g := gatewaytest.Start(t)
	const (
		modern    = "application/graphql-response+json"
		legacy    = "application/json"
		multipart = "multipart/mixed;deferSpec=20220824"
	)
	tests := []struct {
		name     string
		accept   string
		body     string
		status   int
		media    string
		wantCode string
	}{
		{"ok, modern", modern, `{"query":"{ __typename }"}`, 200, modern, ""},
		{"ok, legacy", legacy, `{"query":"{ __typename }"}`, 200, legacy, ""},
		{"ok, no Accept", "", `{"query":"{ __typename }"}`, 200, legacy, ""},
		{"ok, */*", "*/*", `{"query":"{ __typename }"}`, 200, legacy, ""},
		{"ok, both", modern + ", " + legacy, `{"query":"{ __typename }"}`, 200, modern, ""},
		{"parse error, modern", modern, `{"query":"{"}`, 400, modern, "GRAPHQL_PARSE_FAILED"},
		{"parse error, legacy", legacy, `{"query":"{"}`, 200, legacy, "GRAPHQL_PARSE_FAILED"},
		{"validation error, modern", modern, `{"query":"{ nope }"}`, 400, modern, "GRAPHQL_VALIDATION_FAILED"},
		{"validation error, legacy", legacy, `{"query":"{ nope }"}`, 200, legacy, "GRAPHQL_VALIDATION_FAILED"},
		{"validation error, no Accept", "", `{"query":"{ nope }"}`, 200, legacy, "GRAPHQL_VALIDATION_FAILED"},
		{"variables, modern", modern, `{"query":"query($n: Int) { topProducts(first: $n) { upc } }","variables":{"n":"x"}}`, 400, modern, "BAD_USER_INPUT"},
		{"variables, legacy", legacy, `{"query":"query($n: Int) { topProducts(first: $n) { upc } }","variables":{"n":"x"}}`, 200, legacy, "BAD_USER_INPUT"},
		{"no query, modern", modern, `{"variables":{}}`, 400, modern, "BAD_REQUEST"},
		{"no query, legacy", legacy, `{"variables":{}}`, 400, legacy, "BAD_REQUEST"},
		{"batch not enabled", legacy, `[{"query":"{ __typename }"}]`, 400, legacy, "BATCHING_NOT_ENABLED"},
		// A client that accepts only multipart/mixed (incremental delivery)
		// accepts neither JSON type: its errors are answered with the
		// spec's own media type and status, not the legacy 200.
		{"validation error, multipart only", multipart, `{"query":"{ nope }"}`, 400, modern, "GRAPHQL_VALIDATION_FAILED"},
		{"validation error, multipart without deferSpec", "multipart/mixed", `{"query":"{ nope }"}`, 400, modern, "GRAPHQL_VALIDATION_FAILED"},
		{"parse error, multipart only", multipart, `{"query":"{"}`, 400, modern, "GRAPHQL_PARSE_FAILED"},
		{"variables, multipart only", multipart, `{"query":"query($n: Int) { topProducts(first: $n) { upc } }","variables":{"n":"x"}}`, 400, modern, "BAD_USER_INPUT"},
		{"ok without @defer, multipart only", multipart, `{"query":"{ __typename }"}`, 200, modern, ""},
		{"validation error, multipart and json", multipart + ", " + legacy, `{"query":"{ nope }"}`, 200, legacy, "GRAPHQL_VALIDATION_FAILED"},
		{"validation error, multipart and */*", multipart + ", */*", `{"query":"{ nope }"}`, 200, legacy, "GRAPHQL_VALIDATION_FAILED"},
		{"validation error, multipart, json refused", multipart + ", " + legacy + ";q=0", `{"query":"{ nope }"}`, 400, modern, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			// CSRF prevention (on by default) wants a preflight header on
			// a GET that is not a browser navigation.
			req.Header.Set("Apollo-Require-Preflight", "true")
			resp, err := g.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status {
				t.Errorf("status %d, want %d: %s", resp.Status, tt.status, clip(resp.Body))
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.media) {
				t.Errorf("Content-Type %q, want %s", ct, tt.media)
			}
			codes := errorCodes(t, resp.Body)
			switch {
			case tt.wantCode == "" && len(codes) > 0:
				t.Errorf("errors %v: %s", codes, clip(resp.Body))
			case tt.wantCode != "" && (len(codes) == 0 || codes[0] != tt.wantCode):
				t.Errorf("codes %v, want %s", codes, tt.wantCode)
			}
		})
	}
}

// TestBatch checks batched requests when enabled: a JSON array in, an
// array of the answers in the same order out, each with its own errors.
func TestBatch(t *testing.T) {
	opts := server.DefaultOptions()
	opts.AllowBatch = true
	opts.MaxBatch = 3
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := g.Post(ctx, []byte(`[{"query":"{ me { name } }"},{"query":"{ nope }"},{"query":"{ topProducts(first: 1) { name } }"}]`))
	if err != nil {
		t.Fatal(err)
	}
	want := `[{"data":{"me":{"name":"Ada Lovelace"}}},{"errors":[{"message":"Cannot query field \"nope\" on type \"Query\".","locations":[{"line":1,"column":3}],"extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]},{"data":{"topProducts":[{"name":"Table"}]}}]`
	if resp.Status != 200 || string(resp.Body) != want {
		t.Errorf("got %d %s\nwant 200 %s", resp.Status, resp.Body, want)
	}
	resp, err = g.Post(ctx, []byte(`[{"query":"{ __typename }"},{"query":"{ __typename }"},{"query":"{ __typename }"},{"query":"{ __typename }"}]`))
	if err != nil {
		t.Fatal(err)
	}
	if codes := errorCodes(t, resp.Body); resp.Status != 400 || len(codes) != 1 || codes[0] != "BATCH_LIMIT_EXCEEDED" {
		t.Errorf("a batch over MaxBatch: %d %s", resp.Status, resp.Body)
	}
}

// TestBrowserGETWithoutPlayground: with the playground off, a browser's
// GET of the endpoint (no CSRF header, as an address bar sends it) is
// told what the address is (400 BAD_REQUEST, not a CSRF_ERROR about
// Content-Types), while a browser's GET that carries an operation, a query
// is still refused by CSRF prevention before any subgraph is called, and
// one naming a persisted query goes on to its lookup. Before, a browser
// was answered "missing query".
func TestBrowserGETWithoutPlayground(t *testing.T) {
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	g := gatewaytest.Start(t)
	persisted := url.Values{"extensions": {`{"persistedQuery":{"version":1,"sha256Hash":"ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}`}}
	for _, tt := range []struct {
		name, query string
		status      int
		code, says  string
	}{
		{"no operation", "", 400, "BAD_REQUEST", "this is a GraphQL endpoint and the request has no operation"},
		{"operationName only", "?operationName=Top", 400, "BAD_REQUEST", "the playground that answers browsers here is off (server.playground)"},
		{"a query", "?" + url.Values{"query": {"{ topProducts { name } }"}}.Encode(), 400, "CSRF_ERROR", "a GET operation must carry one of the headers"},
		{"a persisted query", "?" + persisted.Encode(), 200, "PERSISTED_QUERY_NOT_FOUND", "PersistedQueryNotFound"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, g.URL+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Accept", browser)
			resp, err := g.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			codes := errorCodes(t, resp.Body)
			if resp.Status != tt.status || len(codes) != 1 || codes[0] != tt.code || !bytes.Contains(resp.Body, []byte(tt.says)) {
				t.Errorf("%d %s, want %d %s saying %q", resp.Status, resp.Body, tt.status, tt.code, tt.says)
			}
		})
	}
	if n := g.Requests(); n != 0 {
		t.Errorf("%d subgraph requests, want none", n)
	}
}

// TestPlaygroundRouting checks which requests get the playground page and
// which stay GraphQL: the page for GET / and for browsers (Accept prefers
// text/html), GraphQL for everything a GraphQL client sends; with the
// playground off, nothing but GraphQL.
func TestPlaygroundRouting(t *testing.T) {
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
	on := server.DefaultOptions()
	on.Playground = true
	gateways := map[bool]*gatewaytest.Gateway{
		true:  gatewaytest.Start(t, gatewaytest.WithServerOptions(on)),
		false: gatewaytest.Start(t),
	}
	query := "?" + url.Values{"query": {"{ __typename }"}}.Encode()
	tests := []struct {
		name       string
		playground bool
		method     string
		path       string
		accept     string
		status     int
		media      string
		contains   string
	}{
		{"root", true, "GET", "/", "", 200, "text/html", "<title>fedgate playground</title>"},
		{"root from curl", true, "GET", "/", "*/*", 200, "text/html", "<title>fedgate playground</title>"},
		{"root from a browser", true, "GET", "/", browser, 200, "text/html", "<title>fedgate playground</title>"},
		{"root HEAD", true, "HEAD", "/", browser, 200, "text/html", ""},
		{"graphql from a browser", true, "GET", "/graphql", browser, 200, "text/html", "<title>fedgate playground</title>"},
		{"graphql query from a browser", true, "GET", "/graphql" + query, browser, 200, "text/html", "<title>fedgate playground</title>"},
		{"graphql GET from a client", true, "GET", "/graphql" + query, "application/json", 200, "application/json", `{"data":{"__typename":"Query"}}`},
		{"graphql GET from curl", true, "GET", "/graphql" + query, "*/*", 200, "application/json", `{"data":{"__typename":"Query"}}`},
		{"root query from a client", true, "GET", "/" + query, "application/graphql-response+json", 200, "application/graphql-response+json", `"Query"`},
		{"graphql GET without query", true, "GET", "/graphql", "application/json", 400, "application/json", "missing query"},
		{"asset", true, "GET", "/playground/assets/", "", 404, "text/plain", ""},
		{"off: root", false, "GET", "/", browser, 400, "application/json", "the playground that answers browsers here is off (server.playground)"},
		{"off: graphql from a browser", false, "GET", "/graphql", browser, 400, "application/json", "the playground that answers browsers here is off (server.playground)"},
		{"off: graphql from curl", false, "GET", "/graphql", "*/*", 400, "application/json", "missing query: there is no GraphQL operation to execute; send one in the `query` URL parameter"},
		{"off: asset", false, "GET", "/playground/assets/x.js", "", 400, "application/json", "missing query"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := gateways[tt.playground]
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, tt.method, g.BaseURL+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			// CSRF prevention (on by default) wants a preflight header on
			// a GET that is not a browser navigation.
			req.Header.Set("Apollo-Require-Preflight", "true")
			resp, err := g.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != tt.status {
				t.Errorf("status %d, want %d: %s", resp.Status, tt.status, clip(resp.Body))
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.media) {
				t.Errorf("Content-Type %q, want %s", ct, tt.media)
			}
			if !bytes.Contains(resp.Body, []byte(tt.contains)) {
				t.Errorf("body lacks %q: %s", tt.contains, clip(resp.Body))
			}
			if tt.media == "text/html" && !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("the page has no same-origin Content-Security-Policy: %q", resp.Header.Get("Content-Security-Policy"))
			}
		})
	}
}
