package server

import (
	"encoding/json"
	"testing"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestCoerceVariablesForwardsDefaults: a variable the client did not send
// is forwarded with its definition's default, empty lists included; only
// a null the client sent is forwarded as null.
func TestCoerceVariablesForwardsDefaults(t *testing.T) {
	api := gqlparser.MustLoadSchema(&ast.Source{Input: `
		input F { x: Int, y: [String] }
		type Query { a(y: [String] = ["a", "b"]): Int, b(f: F): Int, c(z: [[String]]): Int }`})
	rt := &runtime{sg: &schema.Supergraph{API: api}}
	for _, tc := range []struct {
		name, query, vars, want string
	}{
		{"empty list default", `query($v: [String] = []) { a(y: $v) }`, ``, `{"v":[]}`},
		{"empty list inside an object default", `query($v: F = {x: 4, y: []}) { b(f: $v) }`, `{}`, `{"v":{"x":4,"y":[]}}`},
		{"nested empty lists", `query($v: [[String]] = [[]]) { c(z: $v) }`, `{}`, `{"v":[[]]}`},
		{"explicit null stays null", `query($v: [String] = []) { a(y: $v) }`, `{"v":null}`, `{"v":null}`},
		{"sent empty list", `query($v: [String]) { a(y: $v) }`, `{"v":[]}`, `{"v":[]}`},
		{"sent list", `query($v: [String] = []) { a(y: $v) }`, `{"v":["c"]}`, `{"v":["c"]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(api, tc.query)
			if errs != nil {
				t.Fatal(errs)
			}
			_, forwarded, err := coerceVariables(rt, doc.Operations[0], []byte(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			var got, want any
			if err := json.Unmarshal(forwarded, &got); err != nil {
				t.Fatalf("forwarded %s: %v", forwarded, err)
			}
			_ = json.Unmarshal([]byte(tc.want), &want)
			gb, _ := json.Marshal(got)
			wb, _ := json.Marshal(want)
			if string(gb) != string(wb) {
				t.Fatalf("forwarded %s, want %s", gb, wb)
			}
		})
	}
}
