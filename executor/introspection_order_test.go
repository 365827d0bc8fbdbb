package executor

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestIntrospectionOrder checks the order of __Schema.types and
// __Schema.directives: types sorted by name with each built-in scalar
// where a field (type, then arguments) or input field first refers to it,
// then the directives' argument types, then the introspection types;
// graphql-js's specified directives first, the others after them by name.
func TestIntrospectionOrder(t *testing.T) {
	cases := []struct {
		name, sdl, types, directives string
	}{
		{"one root type", `type Query { a: Int }`,
			"Query Int Boolean String " + strings.Join(introspectionTypes, " ") + " Float ID",
			"include skip deprecated specifiedBy oneOf defer"},
		{"scalars where first referred to", `type Query { b(x: ID): String z: Zed } type Zed { f: Float } directive @lowercase on FIELD`,
			"Query String ID Zed Float Boolean " + strings.Join(introspectionTypes, " ") + " Int",
			"include skip deprecated specifiedBy oneOf defer lowercase"},
		{"sorted by name, not by definition", `type Query { u: U } union U = B | A type B { n: Int } type A { s: String } input In { x: Boolean } type Mutation { m(i: In): ID }`,
			"A String B Int In Boolean Mutation ID Query U " + strings.Join(introspectionTypes, " ") + " Float",
			"include skip deprecated specifiedBy oneOf defer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			schema := gqlparser.MustLoadSchema(&ast.Source{Input: c.sdl})
			if got := strings.Join(typeOrder(schema), " "); got != c.types {
				t.Errorf("types\n got %s\nwant %s", got, c.types)
			}
			if got := strings.Join(directiveOrder(schema), " "); got != c.directives {
				t.Errorf("directives\n got %s\nwant %s", got, c.directives)
			}
		})
	}
}
