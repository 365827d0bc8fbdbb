package server_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// TestIntrospectionNullCondition: a @skip/@include condition that is null
// (a Boolean variable with a default, sent as null) in the selection of an
// introspection object is a field error there (spec 6.4.1,
// CoerceArgumentValues; graphql-js raises it while collecting the object's
// fields): the object is null, the error at its path, and the null goes up
// to the nearest nullable position, as for any other object (__schema is
// non-null, so data is null; __type is nullable; the items of
// __Type.fields are non-null in a nullable list). fedgate rendered
// introspection without looking at the condition (the difftest's
// iface_object_shareable_field, seed 13102, operation 8).
func TestIntrospectionNullCondition(t *testing.T) {
	g := gatewaytest.Start(t)
	for _, tc := range []struct {
		name, query string
		vars        string
		// data is the answer's data; paths its error paths.
		data  string
		paths []string
	}{
		{"__schema: non-null, data is null",
			`query ($s: Boolean = true) { __schema { queryType { name } ... @skip(if: $s) { types { name } } } }`,
			`{"s":null}`, `null`, []string{"__schema"}},
		{"below __schema: the non-null queryType, then __schema",
			`query ($s: Boolean = true) { __schema { queryType { name @include(if: $s) } } }`,
			`{"s":null}`, `null`, []string{"__schema.queryType"}},
		{"__type: nullable",
			`query ($s: Boolean = true) { __type(name: "Query") { name ... @include(if: $s) { kind } } }`,
			`{"s":null}`, `{"__type":null}`, []string{"__type"}},
		{"next to data fields",
			`query ($s: Boolean = true) { __typename __type(name: "Query") { name @skip(if: $s) } t: __type(name: "Query") { name } }`,
			`{"s":null}`, `{"__typename":"Query","__type":null,"t":{"name":"Query"}}`, []string{"__type"}},
		{"a non-null item of a nullable list: the list, one error at the first item",
			`query ($s: Boolean = true) { __type(name: "Query") { name fields { name @skip(if: $s) } } }`,
			`{"s":null}`, `{"__type":{"name":"Query","fields":null}}`, []string{"__type.fields.0"}},
		{"a nullable object: mutationType",
			`query ($s: Boolean = true) { __schema { mutationType { name @include(if: $s) } } }`,
			`{"s":null}`, `{"__schema":{"mutationType":null}}`, []string{"__schema.mutationType"}},
		{"a non-null list of non-null items: up to __schema",
			`query ($s: Boolean = true) { __schema { directives { name ... @skip(if: $s) { args { name } } } } }`,
			`{"s":null}`, `null`, []string{"__schema.directives.0"}},
		{"below an input value",
			`query ($s: Boolean = true) { __type(name: "Query") { fields { args { type { name @skip(if: $s) } } } } }`,
			`{"s":null}`, `{"__type":{"fields":null}}`, []string{"__type.fields.1.args.0.type"}}, // the first field has no arguments
		{"a named fragment",
			`query ($s: Boolean = true) { __type(name: "Query") { ...F } } fragment F on __Type { name kind @include(if: $s) }`,
			`{"s":null}`, `{"__type":null}`, []string{"__type"}},
		{"true: no error",
			`query ($s: Boolean = true) { __type(name: "Query") { name ... @include(if: $s) { kind } } }`,
			`{"s":true}`, `{"__type":{"name":"Query","kind":"OBJECT"}}`, nil},
		{"the default: no error",
			`query ($s: Boolean = true) { __type(name: "Query") { name ... @skip(if: $s) { kind } } }`,
			`{}`, `{"__type":{"name":"Query"}}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var vars map[string]any
			_ = json.Unmarshal([]byte(tc.vars), &vars)
			resp := postJSON(t, g, map[string]any{"query": tc.query, "variables": vars}, nil)
			var got struct {
				Data   json.RawMessage `json:"data"`
				Errors []struct {
					Path       []any          `json:"path"`
					Extensions map[string]any `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(resp.Body, &got); err != nil {
				t.Fatalf("%d %s", resp.Status, resp.Body)
			}
			var paths []string
			for _, e := range got.Errors {
				parts := make([]string, len(e.Path))
				for i, p := range e.Path {
					b, _ := json.Marshal(p)
					parts[i] = strings.Trim(string(b), `"`)
				}
				paths = append(paths, strings.Join(parts, "."))
				if e.Extensions["code"] != "BAD_USER_INPUT" {
					t.Errorf("error code %v, want BAD_USER_INPUT: %s", e.Extensions["code"], resp.Body)
				}
			}
			if string(got.Data) != tc.data || !slices.Equal(paths, tc.paths) {
				t.Errorf("answer %s\nwant data %s, error paths %v", resp.Body, tc.data, tc.paths)
			}
		})
	}
}
