package compose

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestDuplicateDirectives: a directive that is not repeatable applied
// twice at one location is refused as @apollo/composition 2.14 refuses it
// (INVALID_GRAPHQL; @shareable twice on one declaration
// INVALID_SHAREABLE_USAGE); repeatable ones, and @shareable on a type's
// definition and its extension, compose. Found by graphgen writing
// @inaccessible twice on one argument.
func TestDuplicateDirectives(t *testing.T) {
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@inaccessible", "@tag"])
`
	cases := []struct {
		name    string
		sdl     string
		codes   []string
		message string
	}{
		{name: "inaccessible twice on an argument",
			sdl: `type Query { x(a: Int @inaccessible @inaccessible): Int y: Int }`, codes: []string{"INVALID_GRAPHQL"}, message: `"@inaccessible" can only be used once`},
		{name: "inaccessible twice on a field",
			sdl: `type Query { x: Int @inaccessible @inaccessible y: Int }`, codes: []string{"INVALID_GRAPHQL"}},
		{name: "deprecated twice on an enum value",
			sdl: `type Query { y(c: Color): Int } enum Color { RED @deprecated @deprecated GREEN }`, codes: []string{"INVALID_GRAPHQL"}, message: `"@deprecated" can only be used once`},
		{name: "deprecated twice on an input field",
			sdl: `type Query { y(f: F): Int } input F { a: Int @deprecated @deprecated }`, codes: []string{"INVALID_GRAPHQL"}},
		{name: "a custom directive twice",
			sdl: "directive @my on FIELD_DEFINITION\n" + `type Query { y: Int @my @my }`, codes: []string{"INVALID_GRAPHQL"}},
		{name: "inaccessible on a type and its extension",
			sdl: `type Query { y: Int } type T @inaccessible { x: Int } extend type T @inaccessible { w: Int }`, codes: []string{"INVALID_GRAPHQL"}},
		{name: "shareable twice on a field",
			sdl: `type Query { x: Int @shareable @shareable y: Int }`, codes: []string{"INVALID_SHAREABLE_USAGE"}, message: `on field "Query.x"`},
		{name: "shareable twice on a type",
			sdl: `type Query { y: T } type T @shareable @shareable { x: Int }`, codes: []string{"INVALID_SHAREABLE_USAGE"}, message: `on the same type declaration of "T"`},
		{name: "shareable on a type and its extension",
			sdl: `type Query { y: T } type T @shareable { x: Int } extend type T @shareable { w: Int }`},
		{name: "a repeatable custom directive twice",
			sdl: "directive @my repeatable on FIELD_DEFINITION\n" + `type Query { y: Int @my @my }`},
		{name: "a custom directive twice on a directive definition's argument",
			sdl:   "directive @mark on ARGUMENT_DEFINITION\ndirective @custom(a: Int @mark @mark) on FIELD_DEFINITION\n" + `type Query { y: Int @custom(a: 1) }`,
			codes: []string{"INVALID_GRAPHQL"}, message: `"@mark" can only be used once`},
		{name: "deprecated twice on a directive definition's argument",
			sdl:   "directive @custom(a: Int @deprecated(reason: \"x\") @deprecated(reason: \"y\")) on FIELD_DEFINITION\n" + `type Query { y: Int @custom(a: 1) }`,
			codes: []string{"INVALID_GRAPHQL"}, message: `"@deprecated" can only be used once`},
		{name: "a custom directive once on a directive definition's argument",
			sdl: "directive @mark on ARGUMENT_DEFINITION\ndirective @custom(a: Int @mark) on FIELD_DEFINITION\n" + `type Query { y: Int @custom(a: 1) }`},
		{name: "a custom directive twice on an argument of a type extension's field",
			sdl: "directive @mark on ARGUMENT_DEFINITION\n" + `type Query { y: Int } extend type Query { g(a: Int @mark @mark): Int }`, codes: []string{"INVALID_GRAPHQL"}},
		{name: "a custom directive twice on an argument of an interface extension's field",
			sdl: "directive @mark on ARGUMENT_DEFINITION\n" + `interface I { f: Int } extend interface I { g(a: Int @mark @mark): Int } type Query { i: I }`, codes: []string{"INVALID_GRAPHQL"}},
		{name: "a custom directive twice on extend schema",
			sdl: "directive @mark on SCHEMA\nextend schema @mark @mark\n" + `type Query { y: Int }`, codes: []string{"INVALID_GRAPHQL"}},
		{name: "tag and key twice",
			sdl: `type Query { y: T @tag(name: "a") @tag(name: "a") } type T @key(fields: "x") @key(fields: "x") { x: Int }`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compose([]Subgraph{
				{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: link + c.sdl},
				{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: link + `type Query { z: Int }`},
			})
			var got []string
			if err != nil {
				var list Errors
				if !errors.As(err, &list) {
					t.Fatalf("not compose.Errors: %v", err)
				}
				got = list.Codes()
			}
			if !reflect.DeepEqual(got, c.codes) {
				t.Fatalf("codes %v, want %v (%v)", got, c.codes, err)
			}
			if c.message != "" && !strings.Contains(err.Error(), c.message) {
				t.Errorf("error %q does not say %q", err, c.message)
			}
		})
	}
}

// TestErrorListDedupe: one error per code and message, also for errors
// appended to the list directly (satisfy.go adds another list's so).
func TestErrorListDedupe(t *testing.T) {
	var l errorList
	l.add("A", "s", "", "one")
	l.add("A", "s", "", "one")
	l.add("B", "s", "", "one")
	l.list = append(l.list, &Error{Code: "C", Message: "[s] two"})
	l.add("C", "s", "", "two")
	l.add("C", "s", "", "three")
	var got []string
	for _, e := range l.list {
		got = append(got, e.Code+" "+e.Message)
	}
	want := []string{"A [s] one", "B [s] one", "C [s] two", "C [s] three"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("errors %q, want %q", got, want)
	}
}

// BenchmarkComposeDuplicateShareable composes a 1 MB subgraph whose 30,000
// fields each carry @shareable twice: one error per field, which the
// error list's dedupe took quadratic time over (5.7 s an operation with
// the list scan, 0.23 s with the map; -benchtime 3x on a loaded 2-core
// machine).
func BenchmarkComposeDuplicateShareable(b *testing.B) {
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@shareable"])
`
	var sdl strings.Builder
	sdl.WriteString(link + "type Query {\n")
	for i := 0; i < 30000; i++ {
		fmt.Fprintf(&sdl, "  f%d: Int @shareable @shareable\n", i)
	}
	sdl.WriteString("}\n")
	subs := []Subgraph{{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: sdl.String()}, {Name: "b", URL: "http://127.0.0.1:4999/b", SDL: link + "type Query { z: Int }"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compose(subs); err == nil {
			b.Fatal("composed")
		}
	}
}
