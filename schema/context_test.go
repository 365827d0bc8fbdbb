package schema

import (
	"strings"
	"testing"
)

// contextSupergraph is a supergraph whose Post.title has the contextual
// argument contextArguments (the text of the list).
func contextSupergraph(contextArguments string) string {
	return `schema
  @link(url: "https://specs.apollo.dev/link/v1.0")
  @link(url: "https://specs.apollo.dev/join/v0.5", for: EXECUTION)
  @link(url: "https://specs.apollo.dev/context/v0.1", for: SECURITY)
{
  query: Query
}

directive @context(name: String!) repeatable on INTERFACE | OBJECT | UNION
directive @join__field(graph: join__Graph, requires: join__FieldSet, provides: join__FieldSet, type: String, external: Boolean, override: String, usedOverridden: Boolean, overrideLabel: String, contextArguments: [join__ContextArgument!]) repeatable on FIELD_DEFINITION | INPUT_FIELD_DEFINITION
directive @join__graph(name: String!, url: String!) on ENUM_VALUE
directive @join__type(graph: join__Graph!, key: join__FieldSet, extension: Boolean! = false, resolvable: Boolean! = true, isInterfaceObject: Boolean! = false) repeatable on OBJECT | INTERFACE | UNION | ENUM | INPUT_OBJECT | SCALAR
directive @link(url: String, as: String, for: link__Purpose, import: [link__Import]) repeatable on SCHEMA

input join__ContextArgument {
  name: String!
  type: String!
  context: String!
  selection: join__FieldValue!
}
scalar join__FieldSet
scalar join__FieldValue
scalar link__Import
enum link__Purpose { SECURITY EXECUTION }
enum join__Graph {
  A @join__graph(name: "a", url: "http://a")
  B @join__graph(name: "b", url: "http://b")
}

interface Node @join__type(graph: B) @context(name: "b__node") { id: ID! }

type Query @join__type(graph: A) @join__type(graph: B) {
  users: [User!]! @join__field(graph: A)
}

type User implements Node @join__type(graph: A, key: "id") @join__type(graph: B, key: "id") @context(name: "b__user") {
  id: ID!
  locale: String
  posts: [Post!]! @join__field(graph: B)
}

type Post @join__type(graph: B, key: "id") {
  id: ID!
  title: String @join__field(graph: B, contextArguments: ` + contextArguments + `)
}
`
}

// TestLoadContextArguments reads contextArguments: a valid list gives the
// arguments, their parsed types and selections and the types that set each
// context (an interface's implementations too); a malformed one is a
// load error naming the field, never a panic.
func TestLoadContextArguments(t *testing.T) {
	cases := []struct {
		name, args, err string
	}{
		{name: "one argument", args: `[{context: "b__user", name: "locale", type: "String", selection: " { locale }"}]`},
		{name: "one item for a list", args: `{context: "b__node", name: "locale", type: "[String]", selection: "... on User { locale }"}`},
		{name: "unknown context", args: `[{context: "b__nope", name: "locale", type: "String", selection: "{ locale }"}]`, err: `reads context "b__nope", which no type sets`},
		{name: "no selection", args: `[{context: "b__user", name: "locale", type: "String", selection: " "}]`, err: "needs context, name, type and selection"},
		{name: "bad selection", args: `[{context: "b__user", name: "locale", type: "String", selection: "{ locale"}]`, err: "Post.title: argument locale: selection"},
		{name: "fragment spread", args: `[{context: "b__user", name: "locale", type: "String", selection: "{ ...F } fragment F on User { locale }"}]`, err: "is not a selection set"},
		{name: "bad type", args: `[{context: "b__user", name: "locale", type: "String!!", selection: "{ locale }"}]`, err: "is not a type"},
		{name: "not a string", args: `[{context: "b__user", name: "locale", type: 3, selection: "{ locale }"}]`, err: "type is not a string"},
		{name: "not an object", args: `["x"]`, err: "not a join__ContextArgument"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sg, err := Load(contextSupergraph(c.args))
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want one with %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			fg := sg.Types["Post"].Fields["title"].Graphs["B"]
			if len(fg.ContextArguments) != 1 {
				t.Fatalf("%d context arguments", len(fg.ContextArguments))
			}
			ca := fg.ContextArguments[0]
			if ca.Name != "locale" || ca.ArgType == nil || ca.ArgType.String() != ca.Type || len(ca.Selection) != 1 {
				t.Errorf("argument %+v", ca)
			}
			if got := strings.Join(sg.Contexts[ca.Context], ","); got != "User" {
				t.Errorf("context %s set by %q, want User", ca.Context, got)
			}
			if v := sg.ContextVariable("B", "Post", "title", "locale"); v != "contextualArgument_2_0" {
				t.Errorf("variable %q", v)
			}
			if sg.API.Types["Post"].Fields.ForName("title").Arguments != nil {
				t.Errorf("the API schema has title's arguments")
			}
		})
	}
}
