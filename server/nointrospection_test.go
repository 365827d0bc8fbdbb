package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
	"github.com/golang-jwt/jwt/v5"
)

// TestIntrospectionDisabled: with server.introspection off (the default),
// an operation that selects __schema or __type anywhere (through
// fragments too) is refused with 400 INTROSPECTION_DISABLED, not answered
// with a null that the non-null __schema spreads to the whole data;
// __typename and the other operations of the document still run. With
// introspection on, the same operations are answered.
func TestIntrospectionDisabled(t *testing.T) {
	off := gatewaytest.Start(t, gatewaytest.WithServerOptions(server.DefaultOptions()))
	on := gatewaytest.Start(t)
	cases := []struct {
		name, query, operation string
		refused                bool
	}{
		{"__schema", `{ __schema { queryType { name } } }`, "", true},
		{"__type next to data", `{ me { id } __type(name: "User") { name } }`, "", true},
		{"skipped __type", `{ me { id } __type(name: "User") @skip(if: true) { name } }`, "", true},
		{"in a nested fragment", `{ ...A } fragment A on Query { ...B } fragment B on Query { __schema { types { name } } }`, "", true},
		{"fragment spread twice", `{ ...A ...A me { id } } fragment A on Query { __typename }`, "", false},
		{"__typename only", `{ __typename me { id } }`, "", false},
		{"another operation introspects", `query A { me { id } } query B { __schema { queryType { name } } }`, "A", false},
		{"the operation that runs introspects", `query A { me { id } } query B { __schema { queryType { name } } }`, "B", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := map[string]any{"query": c.query}
			if c.operation != "" {
				body["operationName"] = c.operation
			}
			resp := postJSON(t, off, body, nil)
			got := codes(t, resp.Body)
			if c.refused {
				if resp.Status != 400 || len(got) != 1 || got[0] != "INTROSPECTION_DISABLED" {
					t.Fatalf("introspection off: %d %.300s, want 400 INTROSPECTION_DISABLED", resp.Status, resp.Body)
				}
			} else if resp.Status != 200 || len(got) != 0 {
				t.Fatalf("introspection off: %d %.300s, want 200 without errors", resp.Status, resp.Body)
			}
			resp = postJSON(t, on, body, nil)
			if got := codes(t, resp.Body); resp.Status != 200 || len(got) != 0 {
				t.Fatalf("introspection on: %d %.300s, want 200 without errors", resp.Status, resp.Body)
			}
		})
	}
}

// TestNoSuggestionsWithoutIntrospection: a validation error's "Did you
// mean ...?" names fields, arguments, types and enum values of the
// schema, close to what the client guessed: enough to rebuild the schema
// by guessing (as clairvoyance does) when introspection is off. A caller
// who may not introspect (server.introspection off, or without
// auth.authorization.introspection_scope) gets the error without the
// suggestion; one who may, gets it whole. Before, every caller got
// `Cannot query field "topProduct" on type "Query". Did you mean
// "topProducts" or "product"?`.
func TestNoSuggestionsWithoutIntrospection(t *testing.T) {
	const guess = `{ topProduct { upc } me { nam } product(up: "1") { upc } }`
	off := gatewaytest.Start(t, gatewaytest.WithServerOptions(server.DefaultOptions()))
	on := gatewaytest.Start(t)
	for _, c := range []struct {
		name    string
		g       *gatewaytest.Gateway
		suggest bool
	}{{"introspection off", off, false}, {"introspection on", on, true}} {
		t.Run(c.name, func(t *testing.T) {
			resp := postJSON(t, c.g, map[string]any{"query": guess}, nil)
			checkSuggestions(t, resp.Status, resp.Body, c.suggest, 3)
		})
	}
	t.Run("introspection scope", func(t *testing.T) {
		env := newCacheEnv(t)
		opts := server.DefaultOptions()
		opts.Introspection = true
		opts.Auth.JWT.Keys = []auth.KeyConfig{{KID: "test", Algorithms: []string{"HS256"}, Secret: testSecret}}
		opts.Auth.Authorization.IntrospectionScope = "introspect"
		g := env.rawGateway(t, opts)
		for _, c := range []struct {
			name    string
			scope   string
			suggest bool
		}{{"without the scope", "read", false}, {"with the scope", "introspect", true}} {
			token := signed(t, jwt.MapClaims{"sub": "u", "scope": c.scope})
			a := g.postWith(t, `{ produts { upc } }`, nil, map[string]string{"Authorization": "Bearer " + token})
			t.Run(c.name, func(t *testing.T) { checkSuggestions(t, a.Status, a.Body, c.suggest, 1) })
		}
	})
}

// checkSuggestions checks a 400 answer of n validation errors, with or
// without "Did you mean".
func checkSuggestions(t *testing.T, status int, body []byte, suggest bool, n int) {
	t.Helper()
	if status != http.StatusBadRequest || strings.Count(string(body), "GRAPHQL_VALIDATION_FAILED") < n {
		t.Fatalf("%d %s, want 400 with %d validation errors", status, body, n)
	}
	if got := strings.Count(string(body), "Did you mean"); suggest && got != n || !suggest && got != 0 {
		t.Errorf("%d suggestions, want %d: %s", got, map[bool]int{true: n}[suggest], body)
	}
}
