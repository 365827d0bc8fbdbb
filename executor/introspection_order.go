package executor

import (
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Introspection list order. The spec leaves the order of __Schema.types
// and __Schema.directives to the implementation; clients show them in the
// order they get them, and gateways built on graphql-js 16 agree on it:
// directives as graphql-js specifies them (include, skip, deprecated,
// specifiedBy, oneOf) and then the others; types as graphql-js collects
// its type map when given the schema's named types sorted by name (as
// Apollo Gateway does): each type in turn, each built-in scalar where a
// field, argument or input field first refers to it, then what the
// directives' arguments refer to, then the introspection types from
// __Schema down.

// specifiedDirectives are graphql-js 16's, in its order.
var specifiedDirectives = []string{"include", "skip", "deprecated", "specifiedBy", "oneOf"}

// introspectionTypes are the introspection types in the order graphql-js
// reaches them from __Schema.
var introspectionTypes = []string{"__Schema", "__Type", "__TypeKind", "__Field", "__InputValue", "__EnumValue", "__Directive", "__DirectiveLocation"}

// directiveOrder returns the names of the advertised directives of schema
// in the order introspection lists them.
func directiveOrder(schema *ast.Schema) []string {
	var out []string
	for _, name := range specifiedDirectives {
		if schema.Directives[name] != nil {
			out = append(out, name)
		}
	}
	var rest []string
	for name := range schema.Directives {
		if !unadvertised[name] && !slices.Contains(specifiedDirectives, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// typeOrder returns the names of schema's types in the order
// introspection lists them (unused built-in scalars included: the caller
// leaves them out).
func typeOrder(schema *ast.Schema) []string {
	var names []string
	for name, def := range schema.Types {
		if !def.BuiltIn && !strings.HasPrefix(name, "__") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	seen := make(map[string]bool, len(schema.Types))
	out := make([]string, 0, len(schema.Types))
	add := func(name string) {
		if !seen[name] && schema.Types[name] != nil {
			seen[name] = true
			out = append(out, name)
		}
	}
	// Only built-in scalars are reached from the sorted types: every
	// other named type is one of them.
	scalar := func(t *ast.Type) {
		if def := schema.Types[t.Name()]; def != nil && def.BuiltIn && !strings.HasPrefix(def.Name, "__") {
			add(def.Name)
		}
	}
	for _, name := range names {
		add(name)
		for _, f := range schema.Types[name].Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			scalar(f.Type)
			for _, a := range f.Arguments {
				scalar(a.Type)
			}
		}
	}
	for _, name := range directiveOrder(schema) {
		for _, a := range schema.Directives[name].Arguments {
			scalar(a.Type)
		}
	}
	for _, name := range introspectionTypes {
		add(name)
	}
	// Anything else the schema holds (none in a schema gqlparser built),
	// so that no type goes missing.
	var rest []string
	for name := range schema.Types {
		if !seen[name] {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}
