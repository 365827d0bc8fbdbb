package server

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestExactIDs: an integer beyond 2^53 in an ID position of a variable
// (alone, in lists, one item for a list, in input objects) keeps the
// digits the client sent (as does every integer in an ID position of a
// variable read again: graphql-js coerces an ID to a string too); other
// numbers stay the float64s JSON decoding
// gives, and variables without such an integer are not read again.
func TestExactIDs(t *testing.T) {
	api := gqlparser.MustLoadSchema(&ast.Source{Input: `
		scalar JSON
		input In { id: ID, f: Float, ids: [ID!], inner: In }
		type Query { q(id: ID, ids: [[ID]], f: Float, in: In, j: JSON): Int }`})
	for _, tc := range []struct {
		name, query, vars string
		want              map[string]any
	}{
		{"ID", `query($v: ID) { q(id: $v) }`, `{"v": 12345678901234567}`, map[string]any{"v": "12345678901234567"}},
		{"negative ID", `query($v: ID) { q(id: $v) }`, `{"v": -12345678901234567}`, map[string]any{"v": "-12345678901234567"}},
		{"beyond 64 bits", `query($v: ID) { q(id: $v) }`, `{"v": 123456789012345678901234567890}`, map[string]any{"v": "123456789012345678901234567890"}},
		{"within 2^53", `query($v: ID) { q(id: $v) }`, `{"v": 9007199254740991}`, map[string]any{"v": float64(9007199254740991)}},
		{"lists", `query($v: [[ID]]) { q(ids: $v) }`, `{"v": [[1, 12345678901234567], null]}`, map[string]any{"v": []any{[]any{"1", "12345678901234567"}, nil}}},
		{"one item for a list", `query($v: [[ID]]) { q(ids: $v) }`, `{"v": 12345678901234567}`, map[string]any{"v": "12345678901234567"}},
		{"input object", `query($v: In) { q(in: $v) }`, `{"v": {"f": 12345678901234567, "inner": {"ids": [12345678901234567]}}}`,
			map[string]any{"v": map[string]any{"f": float64(12345678901234567), "inner": map[string]any{"ids": []any{"12345678901234567"}}}}},
		{"a fraction stays a float", `query($v: ID, $w: ID) { q(id: $v) a: q(id: $w) }`, `{"v": 12345678901234567.0, "w": 1e17}`, map[string]any{"v": float64(12345678901234567), "w": float64(1e17)}},
		{"Float", `query($v: Float) { q(f: $v) }`, `{"v": 12345678901234567}`, map[string]any{"v": float64(12345678901234567)}},
		{"custom scalar", `query($v: JSON) { q(j: $v) }`, `{"v": {"id": 12345678901234567}}`, map[string]any{"v": map[string]any{"id": float64(12345678901234567)}}},
		{"other variables", `query($v: ID, $f: Float) { q(id: $v, f: $f) }`, `{"v": 12345678901234567, "f": 12345678901234567}`, map[string]any{"v": "12345678901234567", "f": float64(12345678901234567)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(api, tc.query)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			op := doc.Operations[0]
			vars, err := declaredVariables(op, []byte(tc.vars))
			if err != nil {
				t.Fatal(err)
			}
			exactIDs(api, op, vars, []byte(tc.vars))
			if !reflect.DeepEqual(vars, tc.want) {
				got, _ := json.Marshal(vars)
				t.Fatalf("got %s (%#v), want %#v", got, vars, tc.want)
			}
		})
	}
}
