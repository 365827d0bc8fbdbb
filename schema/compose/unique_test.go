package compose

import (
	"errors"
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
