package varerrors

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

const sdl = `
type Query { f(a: Int, b: String, c: ID, d: Boolean, e: Float, g: Color, h: In, i: [Int!]): Int }
enum Color { RED GREEN }
input In { x: Int! y: String = "y" z: [In!] }
`

// TestExplain: each want is graphql-js 16's coerceVariableValues error
// for the variables (message and the variable definition's location).
func TestExplain(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: sdl})
	for _, tc := range []struct {
		name, query, vars string
		want              []string
	}{
		{"required variable missing", `query ($v: Int!) { f(a: $v) }`, `{}`,
			[]string{`1:8 Variable "$v" of required type "Int!" was not provided.`}},
		{"non-null variable null", `query ($v: Int!) { f(a: $v) }`, `{"v":null}`,
			[]string{`1:8 Variable "$v" of non-null type "Int!" must not be null.`}},
		{"missing with a default is fine", `query ($v: Int! = 1) { f(a: $v) }`, `{}`, nil},
		{"Int from a string", `query ($v: Int) { f(a: $v) }`, `{"v":"x"}`,
			[]string{`1:8 Variable "$v" got invalid value "x"; Int cannot represent non-integer value: "x"`}},
		{"Int beyond 32 bits", `query ($v: Int) { f(a: $v) }`, `{"v":3000000000}`,
			[]string{`1:8 Variable "$v" got invalid value 3000000000; Int cannot represent non 32-bit signed integer value: 3000000000`}},
		{"Int from a fraction", `query ($v: Int) { f(a: $v) }`, `{"v":1.5}`,
			[]string{`1:8 Variable "$v" got invalid value 1.5; Int cannot represent non-integer value: 1.5`}},
		{"String from a number", `query ($v: String) { f(b: $v) }`, `{"v":3}`,
			[]string{`1:8 Variable "$v" got invalid value 3; String cannot represent a non string value: 3`}},
		{"ID from a boolean", `query ($v: ID) { f(c: $v) }`, `{"v":true}`,
			[]string{`1:8 Variable "$v" got invalid value true; ID cannot represent value: true`}},
		{"ID from an integer is fine", `query ($v: ID) { f(c: $v) }`, `{"v":7}`, nil},
		{"Boolean from a string", `query ($v: Boolean) { f(d: $v) }`, `{"v":"yes"}`,
			[]string{`1:8 Variable "$v" got invalid value "yes"; Boolean cannot represent a non boolean value: "yes"`}},
		{"Float from an object", `query ($v: Float) { f(e: $v) }`, `{"v":{"a":[1,[2,[3]]]}}`,
			[]string{`1:8 Variable "$v" got invalid value { a: [1, [Array]] }; Float cannot represent non numeric value: { a: [1, [Array]] }`}},
		{"unknown enum value", `query ($v: Color) { f(g: $v) }`, `{"v":"BLUE"}`,
			[]string{`1:8 Variable "$v" got invalid value "BLUE"; Value "BLUE" does not exist in "Color" enum.`}},
		{"a key of a megabyte: no suggestion (the length filter skips the distance), the value cut at maxShown bytes", `query ($v: In) { f(h: $v) }`, `{"v":{"x":1,"` + strings.Repeat("y", 1<<20) + `":1}}`,
			[]string{`1:8 Variable "$v" got invalid value { x: 1, ` + strings.Repeat("y", maxShown-len("{ x: 1, ")) + `...; Field "` + strings.Repeat("y", 1<<20) + `" is not defined by type "In".`}},
		{"unknown enum value close to one", `query ($v: Color) { f(g: $v) }`, `{"v":"GREN"}`,
			[]string{`1:8 Variable "$v" got invalid value "GREN"; Value "GREN" does not exist in "Color" enum. Did you mean the enum value "GREEN" or "RED"?`}},
		{"enum from a number", `query ($v: Color) { f(g: $v) }`, `{"v":1}`,
			[]string{`1:8 Variable "$v" got invalid value 1; Enum "Color" cannot represent non-string value: 1.`}},
		{"input object: not an object", `query ($v: In) { f(h: $v) }`, `{"v":[1]}`,
			[]string{`1:8 Variable "$v" got invalid value [1]; Expected type "In" to be an object.`}},
		{"input object: field missing, unknown, nested null", "query Q(\n  $v: In\n) { f(h: $v) }", `{"v":{"w":1,"z":[{"x":null}]}}`,
			[]string{
				`2:3 Variable "$v" got invalid value { w: 1, z: [[Object]] }; Field "x" of required type "Int!" was not provided.`,
				`2:3 Variable "$v" got invalid value null at "v.z[0].x"; Expected non-nullable type "Int!" not to be null.`,
				`2:3 Variable "$v" got invalid value { w: 1, z: [[Object]] }; Field "w" is not defined by type "In". Did you mean "x", "y", or "z"?`,
			}},
		{"list items", `query ($v: [Int!]) { f(i: $v) }`, `{"v":[1,null,"a",4,5,6,7,8,9,10,11,12]}`,
			[]string{
				`1:8 Variable "$v" got invalid value null at "v[1]"; Expected non-nullable type "Int!" not to be null.`,
				`1:8 Variable "$v" got invalid value "a" at "v[2]"; Int cannot represent non-integer value: "a"`,
			}},
		{"more than fifty problems: fifty, then graphql-js's last error", `query ($v: [Int!]) { f(i: $v) }`, `{"v":[` + strings.Repeat(`"a",`, 100000) + `"a"]}`,
			append(repeatf(50, `1:8 Variable "$v" got invalid value "a" at "v[%d]"; Int cannot represent non-integer value: "a"`),
				`0:0 Too many errors processing variables, error limit reached. Execution aborted.`)},
		{"a single value for a list", `query ($v: [Int!]) { f(i: $v) }`, `{"v":"a"}`,
			[]string{`1:8 Variable "$v" got invalid value "a"; Int cannot represent non-integer value: "a"`}},
		{"JavaScript number forms", `query ($v: String) { f(b: $v) }`, `{"v":[1e21,1.5e-7,0.000001,-0,123456789012]}`,
			[]string{`1:8 Variable "$v" got invalid value [1e+21, 1.5e-7, 0.000001, 0, 123456789012]; String cannot represent a non string value: [1e+21, 1.5e-7, 0.000001, 0, 123456789012]`}},
		{"strings as JSON.stringify quotes them", `query ($v: Int) { f(a: $v) }`, `{"v":"<é>\n"}`,
			[]string{`1:8 Variable "$v" got invalid value "<é>\n"; Int cannot represent non-integer value: "<é>\n"`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tc.query)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			var vars map[string]any
			if err := json.Unmarshal([]byte(tc.vars), &vars); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range Explain(schema, doc.Operations[0], vars, false) {
				got = append(got, fmt.Sprintf("%d:%d %s", e.Line, e.Column, e.Message))
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// repeatf formats format with 0..n-1.
func repeatf(n int, format string) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

// TestExplainBoundsHugeValues: graphql-js prints the whole value in each
// of its errors; an input object with 60 unknown fields of 30,000 bytes
// each (1.8 MB, under the request body limit) gave 51 errors and 90 MB of
// messages. Each printed value is now at most maxShown bytes, and the
// object is printed once for all of its errors.
func TestExplainBoundsHugeValues(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: sdl})
	doc, err := gqlparser.LoadQuery(schema, `query ($v: In) { f(h: $v) }`)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		value any
	}{
		{"object of long strings", func() any {
			obj := map[string]any{"x": 1.0}
			for i := range 60 {
				obj[fmt.Sprintf("k%d", i)] = strings.Repeat("é", 15000)
			}
			return obj
		}()},
		{"object of many keys", func() any {
			obj := map[string]any{"x": 1.0}
			for i := range 100_000 {
				obj[fmt.Sprintf("k%d", i)] = 1.0
			}
			return obj
		}()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			errs := Explain(schema, doc.Operations[0], map[string]any{"v": tc.value}, true)
			total := 0
			for _, e := range errs {
				total += len(e.Message)
				if !utf8.ValidString(e.Message) {
					t.Fatalf("message is not valid UTF-8: %.80q", e.Message)
				}
			}
			if len(errs) != maxErrors+1 {
				t.Errorf("%d errors, want %d and the last %q", len(errs), maxErrors+1, tooMany)
			}
			if limit := (maxErrors + 1) * (maxShown + 200); total > limit {
				t.Errorf("%d bytes of messages, want at most %d", total, limit)
			}
			if !strings.Contains(errs[0].Message, `got invalid value { k0: `) || !strings.Contains(errs[0].Message, `...; Field "k`) {
				t.Errorf("first message %.200q, want the value printed and cut", errs[0].Message)
			}
		})
	}
}
