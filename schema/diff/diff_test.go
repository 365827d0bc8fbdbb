package diff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

const base = `
type Query { user(id: ID!, verbose: Boolean = false): User  users(first: Int): [User!]!  search: [Result] }
interface Node { id: ID! }
type User implements Node { id: ID!  name: String  role: Role! }
type Post { id: ID! }
union Result = User | Post
enum Role { ADMIN USER }
input Filter { role: Role  limit: Int! }
type Mutation { filter(f: Filter): Boolean }
`

func load(t *testing.T, sdl string) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "s.graphql", Input: sdl})
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	return s
}

func TestSchemas(t *testing.T) {
	tests := []struct {
		name    string
		replace [2]string // applied to base to get the new schema
		want    []string  // "SEVERITY KIND Coordinate"
	}{
		{"identical", [2]string{"", ""}, nil},
		{"field removed", [2]string{"  name: String", ""}, []string{"BREAKING FIELD_REMOVED User.name"}},
		{"field added", [2]string{"name: String", "name: String email: String"}, []string{"SAFE FIELD_ADDED User.email"}},
		{"type removed", [2]string{"type Post { id: ID! }", "type Post2 { id: ID! }"}, nil}, // replaced in union below
		{"output non-null to nullable", [2]string{"role: Role!", "role: Role"}, []string{"BREAKING FIELD_TYPE_CHANGED User.role"}},
		{"output nullable to non-null", [2]string{"name: String", "name: String!"}, []string{"SAFE FIELD_TYPE_CHANGED User.name"}},
		{"output list item nullable", [2]string{"[User!]!", "[User]!"}, []string{"BREAKING FIELD_TYPE_CHANGED Query.users"}},
		{"output named type changed", [2]string{"name: String", "name: Int"}, []string{"BREAKING FIELD_TYPE_CHANGED User.name"}},
		{"output list to single", [2]string{"search: [Result]", "search: Result"}, []string{"BREAKING FIELD_TYPE_CHANGED Query.search"}},
		{"argument removed", [2]string{", verbose: Boolean = false", ""}, []string{"BREAKING ARGUMENT_REMOVED Query.user(verbose:)"}},
		{"required argument added", [2]string{"users(first: Int)", "users(first: Int, after: String!)"}, []string{"BREAKING REQUIRED_ARGUMENT_ADDED Query.users(after:)"}},
		{"optional argument added", [2]string{"users(first: Int)", "users(first: Int, after: String)"}, []string{"SAFE OPTIONAL_ARGUMENT_ADDED Query.users(after:)"}},
		{"required argument with default", [2]string{"users(first: Int)", "users(first: Int, after: String! = \"\")"}, []string{"SAFE OPTIONAL_ARGUMENT_ADDED Query.users(after:)"}},
		{"input nullable to non-null", [2]string{"users(first: Int)", "users(first: Int!)"}, []string{"BREAKING ARGUMENT_TYPE_CHANGED Query.users(first:)"}},
		{"input non-null to nullable", [2]string{"user(id: ID!", "user(id: ID"}, []string{"SAFE ARGUMENT_TYPE_CHANGED Query.user(id:)"}},
		{"argument default changed", [2]string{"verbose: Boolean = false", "verbose: Boolean = true"}, []string{"DANGEROUS ARGUMENT_DEFAULT_CHANGED Query.user(verbose:)"}},
		{"argument default removed", [2]string{"verbose: Boolean = false", "verbose: Boolean"}, []string{"DANGEROUS ARGUMENT_DEFAULT_CHANGED Query.user(verbose:)"}},
		{"enum value removed", [2]string{"enum Role { ADMIN USER }", "enum Role { ADMIN }"}, []string{"BREAKING ENUM_VALUE_REMOVED Role.USER"}},
		{"enum value added", [2]string{"enum Role { ADMIN USER }", "enum Role { ADMIN USER GUEST }"}, []string{"DANGEROUS ENUM_VALUE_ADDED Role.GUEST"}},
		{"union member removed", [2]string{"union Result = User | Post", "union Result = User"}, []string{"BREAKING UNION_MEMBER_REMOVED Result"}},
		{"interface implementation removed", [2]string{"type User implements Node {", "type User {"}, []string{"BREAKING INTERFACE_IMPLEMENTATION_REMOVED User"}},
		{"input field removed", [2]string{"role: Role  limit", "limit"}, []string{"BREAKING INPUT_FIELD_REMOVED Filter.role"}},
		{"required input field added", [2]string{"limit: Int! }", "limit: Int! since: String! }"}, []string{"BREAKING REQUIRED_INPUT_FIELD_ADDED Filter.since"}},
		{"optional input field added", [2]string{"limit: Int! }", "limit: Int! since: String }"}, []string{"SAFE OPTIONAL_INPUT_FIELD_ADDED Filter.since"}},
		{"input field made optional", [2]string{"limit: Int!", "limit: Int"}, []string{"SAFE INPUT_FIELD_TYPE_CHANGED Filter.limit"}},
		{"type kind changed", [2]string{"type Post { id: ID! }", "interface Post { id: ID! }"}, []string{"BREAKING TYPE_KIND_CHANGED Post"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newSDL := base
			if tt.replace[0] != "" {
				if !strings.Contains(base, tt.replace[0]) {
					t.Fatalf("base has no %q", tt.replace[0])
				}
				newSDL = strings.Replace(base, tt.replace[0], tt.replace[1], 1)
			}
			if tt.name == "type removed" {
				newSDL = strings.Replace(newSDL, "User | Post", "User | Post2", 1)
				tt.want = []string{"BREAKING TYPE_REMOVED Post", "SAFE TYPE_ADDED Post2", "BREAKING UNION_MEMBER_REMOVED Result", "DANGEROUS UNION_MEMBER_ADDED Result"}
			}
			if tt.name == "type kind changed" {
				newSDL = strings.Replace(newSDL, "union Result = User | Post", "union Result = User", 1)
				tt.want = append(tt.want, "BREAKING UNION_MEMBER_REMOVED Result")
			}
			got := Schemas(load(t, base), load(t, newSDL))
			var gotS []string
			for _, c := range got {
				if c.Message == "" {
					t.Errorf("%s has no message", c.Coordinate)
				}
				gotS = append(gotS, fmt.Sprintf("%s %s %s", c.Severity, c.Kind, c.Coordinate))
			}
			if strings.Join(sorted(gotS), "\n") != strings.Join(sorted(tt.want), "\n") {
				t.Errorf("changes:\n got %q\nwant %q", gotS, tt.want)
			}
		})
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

func TestBreakingOnlyAndNilSchema(t *testing.T) {
	changes := Schemas(load(t, base), nil)
	if len(changes) == 0 || len(BreakingOnly(changes)) != len(changes) {
		t.Fatalf("removing every type: want all breaking, got %v", changes)
	}
	added := Schemas(nil, load(t, base))
	if len(added) == 0 || len(BreakingOnly(added)) != 0 {
		t.Fatalf("from nothing: want only safe additions, got %v", added)
	}
}

// TestDefaultRemoved: an argument or input field that is non-null and
// loses its default becomes required, so a client that left it out (as
// the default allowed) is refused: breaking. Before, it was only a
// changed default (DANGEROUS), and the registry took such a publish
// without force. A nullable one losing its default stays DANGEROUS (left
// out, it is null).
func TestDefaultRemoved(t *testing.T) {
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"non-null argument",
			`type Query { users(first: Int! = 10): [String] }`, `type Query { users(first: Int!): [String] }`,
			[]string{"BREAKING ARGUMENT_DEFAULT_REMOVED Query.users(first:)"}},
		{"nullable argument",
			`type Query { users(first: Int = 10): [String] }`, `type Query { users(first: Int): [String] }`,
			[]string{"DANGEROUS ARGUMENT_DEFAULT_CHANGED Query.users(first:)"}},
		{"non-null input field",
			`input F { limit: Int! = 10 } type Query { users(f: F): [String] }`, `input F { limit: Int! } type Query { users(f: F): [String] }`,
			[]string{"BREAKING INPUT_FIELD_DEFAULT_REMOVED F.limit"}},
		{"non-null argument, default changed",
			`type Query { users(first: Int! = 10): [String] }`, `type Query { users(first: Int! = 20): [String] }`,
			[]string{"DANGEROUS ARGUMENT_DEFAULT_CHANGED Query.users(first:)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range Schemas(load(t, tc.old), load(t, tc.new)) {
				got = append(got, string(c.Severity)+" "+c.Kind+" "+c.Coordinate)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestExecutableDirectives: the directives clients write in operations
// are compared too (before, not at all): one removed, a location it loses,
// an argument removed or made required refuses operations that used it.
// A directive only for schemas, and adding things, breaks nothing. An
// input type that becomes @oneOf refuses clients that sent several fields.
func TestExecutableDirectives(t *testing.T) {
	const q = ` type Query { a(f: F): String } input F { x: Int y: Int }`
	for _, tc := range []struct {
		name, old, new string
		want           []string
	}{
		{"removed", `directive @lower on FIELD` + q, q, []string{"BREAKING DIRECTIVE_REMOVED @lower"}},
		{"location removed", `directive @lower on FIELD | FRAGMENT_SPREAD` + q, `directive @lower on FIELD` + q,
			[]string{"BREAKING DIRECTIVE_LOCATION_REMOVED @lower"}},
		{"required argument added", `directive @cut(n: Int) on FIELD` + q, `directive @cut(n: Int, m: Int!) on FIELD` + q,
			[]string{"BREAKING REQUIRED_ARGUMENT_ADDED @cut(m:)"}},
		{"argument removed", `directive @cut(n: Int) on FIELD` + q, `directive @cut on FIELD` + q,
			[]string{"BREAKING ARGUMENT_REMOVED @cut(n:)"}},
		{"location added", `directive @lower on FIELD` + q, `directive @lower on FIELD | INLINE_FRAGMENT` + q, nil},
		{"schema-only directive removed", `directive @tag(name: String) on FIELD_DEFINITION` + q, q, nil},
		{"input becomes @oneOf", q, ` type Query { a(f: F): String } input F @oneOf { x: Int y: Int }`,
			[]string{"BREAKING ONE_OF_ADDED F"}},
		{"input no longer @oneOf", ` type Query { a(f: F): String } input F @oneOf { x: Int y: Int }`, q, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			for _, c := range Schemas(load(t, tc.old), load(t, tc.new)) {
				got = append(got, string(c.Severity)+" "+c.Kind+" "+c.Coordinate)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
