package executor_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/schema/compose"
)

// TestDeprecationReasonDefault: an enum value, argument or input field
// deprecated without a reason has the reason "No longer supported", the
// default of @deprecated(reason:), as a field has and as graphql-js
// answers (it was null for all but fields).
func TestDeprecationReasonDefault(t *testing.T) {
	res, err := compose.Compose([]compose.Subgraph{{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: `
extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query {
  f(plain: Int @deprecated, why: Int @deprecated(reason: "use f2"), kept: Int, in: In): Color
  g: Int @deprecated
}
enum Color { RED @deprecated GREEN @deprecated(reason: "too green") BLUE }
input In { plain: Int @deprecated why: Int @deprecated(reason: "gone") kept: Int }
`}})
	if err != nil {
		t.Fatal(err)
	}
	gw := gatewaytest.Start(t, gatewaytest.WithSupergraph(res.SDL), gatewaytest.WithHandler("a", http.NotFoundHandler()))
	ask := func(query string) map[string]any {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"query": query})
		resp, err := gw.Post(context.Background(), body)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Data map[string]any `json:"data"`
		}
		if err := json.Unmarshal(resp.Body, &out); err != nil {
			t.Fatal(err)
		}
		return out.Data
	}
	reasons := func(list any) map[string]any {
		out := map[string]any{}
		for _, x := range list.([]any) {
			m := x.(map[string]any)
			out[m["name"].(string)] = m["deprecationReason"]
		}
		return out
	}
	q := ask(`{ __type(name: "Query") { fields(includeDeprecated: true) { name deprecationReason args(includeDeprecated: true) { name deprecationReason } } } }`)
	fields := q["__type"].(map[string]any)["fields"].([]any)
	args := map[string]any{}
	for _, f := range fields {
		if m := f.(map[string]any); m["name"] == "f" {
			args = reasons(m["args"])
		}
	}
	enum := reasons(ask(`{ __type(name: "Color") { enumValues(includeDeprecated: true) { name deprecationReason } } }`)["__type"].(map[string]any)["enumValues"])
	input := reasons(ask(`{ __type(name: "In") { inputFields(includeDeprecated: true) { name deprecationReason } } }`)["__type"].(map[string]any)["inputFields"])
	cases := []struct {
		what string
		got  any
		want any
	}{
		{"field without a reason", reasons(fields)["g"], "No longer supported"},
		{"field not deprecated", reasons(fields)["f"], nil},
		{"argument without a reason", args["plain"], "No longer supported"},
		{"argument with a reason", args["why"], "use f2"},
		{"argument not deprecated", args["kept"], nil},
		{"enum value without a reason", enum["RED"], "No longer supported"},
		{"enum value with a reason", enum["GREEN"], "too green"},
		{"enum value not deprecated", enum["BLUE"], nil},
		{"input field without a reason", input["plain"], "No longer supported"},
		{"input field with a reason", input["why"], "gone"},
		{"input field not deprecated", input["kept"], nil},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("%s: deprecationReason %v, want %v", c.what, c.got, c.want)
		}
	}
}
