package executor

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestJSNumber checks numbers against JavaScript's String(number), the
// expected texts printed by Node.js 20.
func TestJSNumber(t *testing.T) {
	for _, c := range []struct {
		in   float64
		want string
	}{
		{1, "1"},
		{-1, "-1"},
		{0.1, "0.1"},
		{1500, "1500"},
		{1e21, "1e+21"},
		{1e20, "100000000000000000000"},
		{1.5e-7, "1.5e-7"},
		{0.000001, "0.000001"},
		{1e-7, "1e-7"},
		{123456789012345678901234567890, "1.2345678901234568e+29"},
		{-2.5e-10, "-2.5e-10"},
		{3.141592653589793, "3.141592653589793"},
		{5e-324, "5e-324"},
		{1.7976931348623157e308, "1.7976931348623157e+308"},
		{123.456, "123.456"},
		{-1234.5e30, "-1.2345e+33"},
		{0.30000000000000004, "0.30000000000000004"},
	} {
		if got := jsNumber(c.in); got != c.want {
			t.Errorf("jsNumber(%v) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPrintDefaultCycle checks that a default value filling in a field
// whose own default is of the same input type ends: graphql-js overflows
// its stack on such a schema; fedgate fills each field's default in once
// per path.
func TestPrintDefaultCycle(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
input A { a: A = {} b: [A] = {} x: Int = 1 }
type Query { f(a: A = {}): Int }`})
	arg := schema.Query.Fields.ForName("f").Arguments.ForName("a")
	got, _ := printDefault(schema, arg.DefaultValue, arg.Type)
	want := "{a: {b: [{x: 1}], x: 1}, b: [{a: {x: 1}, x: 1}], x: 1}"
	if got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// TestPrintDefaultIsBounded: a schema whose defaults fill in input
// objects whose fields have defaults of their own can make the printed
// default grow exponentially: a binary tree of defaulted input types
// (2^depth leaves), or one input type with n fields each defaulting to
// {} of itself (each field filled once per path: n! paths). Each
// introspection request printed it again: depth 30 or n = 12 was more
// than a gigabyte per request. A default whose print would pass
// maxPrintedDefault bytes prints as written in the schema; a small one
// is printed in full as before.
func TestPrintDefaultIsBounded(t *testing.T) {
	tree := &strings.Builder{}
	const depth = 16
	for i := range depth {
		fmt.Fprintf(tree, "input T%d { a: T%d = {} b: T%d = {} }\n", i, i+1, i+1)
	}
	fmt.Fprintf(tree, "input T%d { x: Int = 1 }\ntype Query { f(a: T0 = {}): Int }", depth)
	self := "input A { "
	for i := range 9 {
		self += fmt.Sprintf("f%d: A = {} ", i)
	}
	self += "}\ntype Query { f(a: A = {}): Int }"
	for _, tc := range []struct {
		name, sdl, want string
	}{
		{"small tree", "input B { a: C = {} b: C = {} }\ninput C { x: Int = 1 }\ntype Query { f(a: B = {}): Int }", "{a: {x: 1}, b: {x: 1}}"},
		{"binary tree of defaults", tree.String(), "{}"},
		{"self-referential fields", self, "{}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			schema := gqlparser.MustLoadSchema(&ast.Source{Input: tc.sdl})
			arg := schema.Query.Fields.ForName("f").Arguments.ForName("a")
			got, _ := printDefault(schema, arg.DefaultValue, arg.Type)
			if len(got) > maxPrintedDefault {
				t.Fatalf("printed %d bytes, more than %d", len(got), maxPrintedDefault)
			}
			if got != tc.want {
				t.Errorf("got %.200s, want %s", got, tc.want)
			}
		})
	}
}

// TestPrintDefaultNotAccepted: a literal its built-in type does not
// accept has no printed default (graphql-js's valueFromAST is undefined,
// its defaultValue null), wherever it stands in the value; an input
// field's own such default is left out where it would be filled in.
func TestPrintDefaultNotAccepted(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
enum E { A }
input W { small: Int = 1 big: Int = 2147483648 }
type Query {
  int33(x: Int = 4294967296): Int
  intBelow(x: Int = -2147483649): Int
  intMax(x: Int = 2147483647): Int
  list(l: [Int] = [1, 2147483648]): Int
  object(w: W = {small: 2147483648}): Int
  filled(w: W = {}): Int
  enum(e: E = A): Int
}`})
	for _, tc := range []struct {
		field string
		want  string
		ok    bool
	}{
		{"int33", "", false},
		{"intBelow", "", false},
		{"intMax", "2147483647", true},
		{"list", "", false},
		{"object", "", false},
		{"filled", "{small: 1}", true},
		{"enum", "A", true},
	} {
		arg := schema.Query.Fields.ForName(tc.field).Arguments[0]
		got, ok := printDefault(schema, arg.DefaultValue, arg.Type)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %q %v, want %q %v", tc.field, got, ok, tc.want, tc.ok)
		}
	}
}
