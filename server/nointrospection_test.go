package server_test

import (
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
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
