package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/server"
)

// TestInvalidValuesOverHTTP: a subgraph answering a value the API schema
// cannot represent (an Int beyond 32 bits) gets null in its place; by
// default the value is listed in extensions.valueCompletion, the first
// member of the body, with "errors" left out, and the extensions the
// server adds (cost, the plan) join that one extensions object instead of
// starting a second (which JSON parsers resolve to the last, losing
// valueCompletion); with subgraphs.invalid_values: errors
// (Options.InvalidValuesAsErrors) it is a field error and nothing is in
// extensions but what was asked for.
func TestInvalidValuesOverHTTP(t *testing.T) {
	accounts := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"data":{"me":{"id":"1","birthYear":99999999999}}}`))
	})
	const q = `{"query":"{ me { id birthYear } }"}`
	const entry = `{"message":"Int cannot represent non 32-bit signed integer value: 99999999999","path":["me","birthYear"],"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}}`
	cases := []struct {
		name     string
		asErrors bool
		header   map[string]string
		// extensions: the members of the body's extensions, in order.
		extensions []string
		errors     int
	}{
		{name: "extensions", extensions: []string{"valueCompletion"}},
		{name: "extensions with cost and plan", header: map[string]string{"Fedgate-Include-Cost": "true", "Fedgate-Include-Plan": "true"},
			extensions: []string{"queryPlan", "cost", "valueCompletion"}},
		{name: "errors", asErrors: true, errors: 1},
		{name: "errors with cost and plan", asErrors: true, header: map[string]string{"Fedgate-Include-Cost": "true", "Fedgate-Include-Plan": "true"},
			extensions: []string{"queryPlan", "cost"}, errors: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := server.DefaultOptions()
			opts.Policy = limits.NewPolicy(limits.DefaultConfig(), limits.PolicyOptions{})
			opts.ExposePlan = true
			opts.InvalidValuesAsErrors = c.asErrors
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("accounts", accounts))
			resp, a := post(t, g, q, c.header)
			if resp.Status != http.StatusOK || string(a.Data) != `{"me":{"id":"1","birthYear":null}}` {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
			if n := bytes.Count(resp.Body, []byte(`"extensions":{"`)) - bytes.Count(resp.Body, []byte(`"extensions":{"code"`)); n > 1 {
				t.Errorf("%d extensions objects: %s", n, resp.Body)
			}
			var keys []string
			dec := json.NewDecoder(bytes.NewReader(resp.Body))
			var top map[string]json.RawMessage
			if err := dec.Decode(&top); err != nil {
				t.Fatal(err)
			}
			if ext, ok := top["extensions"]; ok {
				d := json.NewDecoder(bytes.NewReader(ext))
				_, _ = d.Token()
				for d.More() {
					k, _ := d.Token()
					keys = append(keys, k.(string))
					var skip json.RawMessage
					_ = d.Decode(&skip)
				}
			}
			if len(keys) != len(c.extensions) {
				t.Fatalf("extensions %v, want %v: %s", keys, c.extensions, resp.Body)
			}
			for i := range keys {
				if keys[i] != c.extensions[i] {
					t.Fatalf("extensions %v, want %v: %s", keys, c.extensions, resp.Body)
				}
			}
			if len(a.Errors) != c.errors {
				t.Errorf("%d errors, want %d: %s", len(a.Errors), c.errors, resp.Body)
			}
			if !c.asErrors && string(a.Extensions["valueCompletion"]) != "["+entry+"]" {
				t.Errorf("valueCompletion %s, want [%s]", a.Extensions["valueCompletion"], entry)
			}
		})
	}
}

// TestInvalidValuesAreNotCached: an answer that holds a value the API
// schema cannot represent (by default with no error in "errors") is not
// stored in the response cache, and says no-store: asked again, the
// subgraph is asked again. The same operation with valid values is
// served from the cache (the control).
func TestInvalidValuesAreNotCached(t *testing.T) {
	for _, c := range []struct {
		name   string
		value  any
		cached bool
	}{{"a String answered as a number", 5, false}, {"a valid String", "product 1", true}} {
		t.Run(c.name, func(t *testing.T) {
			env := newCacheEnv(t)
			env.catalog.root = func(name string, _ map[string]any, _ string) any {
				return []map[string]any{{"__typename": "Product", "upc": "1", "name": c.value}}
			}
			g := env.gateway(t, cacheOptions(false, nil))
			first := g.query(t, "", productsQuery, nil)
			second := g.query(t, "", productsQuery, nil)
			if cached := env.catalog.calls.Load() == 1; cached != c.cached {
				t.Errorf("catalog called %d times for two requests; cached %v, want %v: %s", env.catalog.calls.Load(), cached, c.cached, second.Body)
			}
			if cc := first.Header.Get("Cache-Control"); !c.cached && cc != "no-store" {
				t.Errorf("Cache-Control %q for an answer with an invalid value: %s", cc, first.Body)
			}
		})
	}
}
