//go:build attack

package attack

import (
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// postAge is post returning the answer's Age header too ("" for an answer
// not served from the response cache).
func (g *gateway) postAge(t *testing.T, body string, header ...string) (string, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, g.url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), resp.Header.Get("Age")
}

// TestResponseCacheKeys: requests that differ only in what selects the
// answer (the operation of a document, the values of variables, which
// variables) must never share a response cache entry, and requests that
// mean the same (variables in another order, white space) may. The
// gateway runs with the response cache on (default_max_age 10s); each
// pair is asked after its first request was cached.
func TestResponseCacheKeys(t *testing.T) {
	g := start(t, "", false)
	const twoOps = `query A { topProducts(first: 1) { name } } query B { topProducts(first: 2) { name } }`
	const vars = `query($a: Int, $b: String!) { topProducts(first: $a) { name } product(upc: $b) { name } }`
	// raw is a request body of query with variables as written.
	raw := func(query, variables string) string {
		q, _ := json.Marshal(query)
		return `{"query":` + string(q) + `,"variables":` + variables + `}`
	}
	enc := func(m map[string]any) string {
		b, _ := json.Marshal(m)
		return string(b)
	}
	for _, tc := range []struct {
		name         string
		first, other string
		share        bool
	}{
		{"another operation of the document", enc(map[string]any{"query": twoOps, "operationName": "A"}), enc(map[string]any{"query": twoOps, "operationName": "B"}), false},
		{"swapped variable values", raw(vars, `{"a":1,"b":"2"}`), raw(vars, `{"b":"1","a":2}`), false},
		{"a string variable that reads like the JSON of two", raw(vars, `{"a":1,"b":"2"}`), raw(vars, `{"a":1,"b":"2\",\"a\":1"}`), false},
		{"variables in another order", raw(vars, `{"a":2,"b":"1"}`), raw(vars, `{"b":"1","a":2}`), true},
		{"an undeclared variable more", raw(vars, `{"a":2,"b":"2"}`), raw(vars, `{"a":2,"b":"2","c":"x"}`), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want, _ := g.postAge(t, tc.first)
			if _, age := g.postAge(t, tc.first); age == "" {
				t.Fatalf("the first request was not cached: %s", want)
			}
			got, age := g.postAge(t, tc.other)
			if !tc.share && age != "" {
				t.Errorf("served from the cache entry of another request: %s (Age %s)", got, age)
			}
			if tc.share && (age == "" || got != want) {
				t.Errorf("not shared (Age %q) or not the same answer: %s vs %s", age, got, want)
			}
			if !tc.share && got == want {
				t.Errorf("the same answer for different requests: %s", got)
			}
		})
	}
}

// echoProducts answers topProducts with the request's headers that a
// subgraph might read (host and scheme, language, forwarded address) in
// the product's name, cacheable by anyone for a minute, without Vary: a
// subgraph that builds links or localizes from what it is sent.
func echoProducts() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var names []string
		for name, vs := range r.Header {
			switch strings.ToLower(name) {
			case "content-type", "content-length", "accept", "accept-encoding", "user-agent", "x-request-id", "traceparent":
				continue
			}
			names = append(names, name+"="+strings.Join(vs, ","))
		}
		sort.Strings(names)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=60")
		b, _ := json.Marshal(map[string]any{"data": map[string]any{"topProducts": []any{map[string]any{"upc": "1", "name": strings.Join(names, ";")}}}})
		_, _ = w.Write(b)
	})
}

// TestCachePoisoningByHeaders: an attacker asks first, with headers a
// subgraph may build its answer from (where it is reached, in what
// language, from where) and which the response cache does not key by;
// then a victim asks the same operation without them. Proxy headers
// (Forwarded, X-Forwarded-*, and their underscore spellings) are never
// forwarded by "*", so they cannot reach the subgraph and poison the
// shared entry. A header "*" forwards that the subgraph varies by without
// saying so (Accept-Language here) is shared by the cache: a known gap
// (docs/security.md), reported.
func TestCachePoisoningByHeaders(t *testing.T) {
	g := startServe(t, map[string]http.Handler{"products": echoProducts()}, `
auth:
  headers:
    all:
      forward: ["*"]
cache:
  response: {default_max_age: 60s}
`)
	const q = `{"query":"{ topProducts(first: 1) { upc name } }"}`
	attack := []string{
		"X-Forwarded-Host", "evil.example", "X-Forwarded-Proto", "evilproto", "Forwarded", "for=6.6.6.6;host=evil.example",
		"X-Forwarded-For", "6.6.6.6", "X-Original-Url", "/evil", "X-Rewrite-Url", "/evil", "X_Forwarded_Host", "evil.example",
		"X-Host", "evil.example", "X-Forwarded-Server", "evil.example",
	}
	st, poisoned := g.post(t, q, attack...)
	if st != 200 {
		t.Fatalf("%d %s", st, poisoned)
	}
	victim, age := g.postAge(t, q)
	t.Logf("FIGURE cache poisoning by proxy headers: the subgraph saw %q; the victim got %q (Age %q)", poisoned, victim, age)
	if strings.Contains(poisoned, "evil") || strings.Contains(victim, "evil") {
		t.Errorf("a proxy header reached the subgraph: %s, victim %s", poisoned, victim)
	}
	_, _ = g.post(t, `{"query":"{ topProducts(first: 1) { name upc } }"}`, "Accept-Language", "xx-POISON")
	victim, age = g.postAge(t, `{"query":"{ topProducts(first: 1) { name upc } }"}`)
	t.Logf("FIGURE cache poisoning by Accept-Language (forwarded by \"*\", not a vary header, no Vary from the subgraph): the victim got %q (Age %q): the documented gap", victim, age)
}
