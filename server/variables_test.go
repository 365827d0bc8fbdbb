package server

import (
	"encoding/json"
	"fmt"
	"strings"
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
			_, forwarded, err := coerceVariables(rt, doc.Operations[0], []byte(tc.vars), true)
			if err != nil {
				t.Fatal(err)
			}
			checkForwarded(t, forwarded, tc.want)
		})
	}
}

// TestCoerceVariablesOneItemLists: an Int list variable given as one item
// (spec 3.11 input coercion, at any list depth, in the request or in the
// definition's default) is accepted and forwarded, and its items are still
// checked to 32 bits. gqlparser's coercion wraps such a value in a typed
// slice ([]float64, []int64), not a []any.
func TestCoerceVariablesOneItemLists(t *testing.T) {
	api := gqlparser.MustLoadSchema(&ast.Source{Input: `
		input F { n: [Int] }
		type Query { m(seed: [[Int]]): Int, l(n: [Int!]): Int, f(f: [F]): Int }`})
	rt := &runtime{sg: &schema.Supergraph{API: api}}
	for _, tc := range []struct {
		name, query, vars, want, wantErr string
	}{
		{"default one item for a list of lists", `query($v: [[Int]] = [4]) { m(seed: $v) }`, ``, `{"v":[[4]]}`, ""},
		{"default scalar for a list of lists", `query($v: [[Int]] = 4) { m(seed: $v) }`, ``, `{"v":[4]}`, ""},
		{"sent one item for a list of lists", `query($v: [[Int]]) { m(seed: $v) }`, `{"v":[4, [5]]}`, `{"v":[[4],[5]]}`, ""},
		{"sent scalar for a list of lists", `query($v: [[Int]]) { m(seed: $v) }`, `{"v":4}`, `{"v":[4]}`, ""},
		{"sent scalar for a list", `query($v: [Int!]) { l(n: $v) }`, `{"v":4}`, `{"v":[4]}`, ""},
		{"one item in an input object", `query($v: [F]) { f(f: $v) }`, `{"v":{"n":3}}`, `{"v":[{"n":[3]}]}`, ""},
		{"one item out of range", `query($v: [[Int]]) { m(seed: $v) }`, `{"v":2147483648}`, "", "Int cannot represent non 32-bit signed integer value: 2147483648"},
		{"one nested item not a number", `query($v: [[Int]]) { m(seed: $v) }`, `{"v":[[1.5]]}`, "", "Int"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkCoerced(t, rt, tc.query, tc.vars, tc.want, tc.wantErr)
		})
	}
}

// checkCoerced coerces vars for the operation of query and checks the
// forwarded variables against want (no variables forwarded reads as {}),
// or the error against wantErr when it is set.
func checkCoerced(t *testing.T, rt *runtime, query, vars, want, wantErr string) {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(rt.sg.API, query)
	if errs != nil {
		t.Fatal(errs)
	}
	_, forwarded, err := coerceVariables(rt, doc.Operations[0], []byte(vars), true)
	if wantErr != "" {
		if err == nil || !strings.Contains(err.Error(), wantErr) {
			t.Fatalf("error %v, want one with %q", err, wantErr)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(forwarded) == 0 {
		forwarded = []byte(`{}`)
	}
	checkForwarded(t, forwarded, want)
}

// checkForwarded compares the forwarded variables with want as JSON
// values (key order and spacing aside).
func checkForwarded(t *testing.T, forwarded []byte, want string) {
	t.Helper()
	var got, wanted any
	if err := json.Unmarshal(forwarded, &got); err != nil {
		t.Fatalf("forwarded %s: %v", forwarded, err)
	}
	if err := json.Unmarshal([]byte(want), &wanted); err != nil {
		t.Fatalf("want %s: %v", want, err)
	}
	gb, _ := json.Marshal(got)
	wb, _ := json.Marshal(wanted)
	if string(gb) != string(wb) {
		t.Fatalf("forwarded %s, want %s", gb, wb)
	}
}

// TestCoerceVariablesSkipsUndeclared: variables the operation does not
// declare are neither decoded nor forwarded. A client sending 150,000
// of them (or one list of 900,000 numbers) in a 2 MiB body cost
// 160–200 ms of CPU per request decoding values nothing reads, 7× a
// 2 MiB string.
func TestCoerceVariablesSkipsUndeclared(t *testing.T) {
	api := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { a(n: Int): Int, b: Int }`})
	rt := &runtime{sg: &schema.Supergraph{API: api}}
	junk := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, `"k%d":[1,"x",{"y":null}],`, i)
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, query, vars, want, wantErr string
	}{
		{"declared and undeclared", `query($n: Int) { a(n: $n) }`, `{` + junk(3) + `"n":4}`, `{"n":4}`, ""},
		{"undeclared only", `query($n: Int) { a(n: $n) }`, `{` + junk(3) + `"z":1}`, `{}`, ""},
		{"no declared variables", `{ b }`, `{` + junk(3) + `"z":1}`, `{}`, ""},
		{"null", `query($n: Int) { a(n: $n) }`, `null`, `{}`, ""},
		{"declared with an escaped name", `query($n: Int) { a(n: $n) }`, `{"\u006e":5}`, `{"n":5}`, ""},
		{"declared of the wrong type", `query($n: Int) { a(n: $n) }`, `{"z":1,"n":"x"}`, "", "Int"},
		{"not an object", `query($n: Int) { a(n: $n) }`, `[1]`, "", "variables must be a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			checkCoerced(t, rt, tc.query, tc.vars, tc.want, tc.wantErr)
		})
	}
	// Nothing is built per undeclared variable (before: 10 allocations
	// each).
	doc, errs := gqlparser.LoadQuery(api, `query($n: Int) { a(n: $n) }`)
	if errs != nil {
		t.Fatal(errs)
	}
	allocs := func(vars string) float64 {
		return testing.AllocsPerRun(5, func() {
			if _, _, err := coerceVariables(rt, doc.Operations[0], []byte(vars), true); err != nil {
				t.Fatal(err)
			}
		})
	}
	base, many := allocs(`{"n":4}`), allocs(`{`+junk(10000)+`"n":4}`)
	if many > base+100 {
		t.Fatalf("10,000 undeclared variables: %.0f allocations, %.0f without them", many, base)
	}
}
