package planner_test

import (
	"sort"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2"
)

// TestNullCondition: @skip/@include whose if: is a nullable variable with a
// default, given an explicit null, is a field error of the object whose
// selection holds it (spec 6.4.1, CoerceArgumentValues; graphql-js raises it
// while collecting that object's fields): the shape marks those positions
// and types, the selection there keeps only __typename. As graphql-js's
// shouldIncludeNode, @skip is evaluated before @include; as the spec's
// CollectFields, the directives of a fragment spread are evaluated before
// the spread is found already visited; a variable not sent at all is no
// null (coercion gives it its default).
func TestNullCondition(t *testing.T) {
	s := shapeSchema(t)
	for _, tc := range []struct {
		name, query string
		vars        map[string]any
		want        string // the marked positions as path:type, sorted; "" none
	}{
		{"field below an object", `query($s: Boolean = true) { one { id name @skip(if: $s) } }`, map[string]any{"s": nil}, "one:Item"},
		{"include at the root", `query($s: Boolean = true) { one { id } ... @include(if: $s) { color } }`, map[string]any{"s": nil}, ":Query"},
		{"only one member of a union", `query($s: Boolean = false) { search { ... on User { login @include(if: $s) } ... on Item { id } } }`, map[string]any{"s": nil}, "search:User"},
		{"inline fragment on an interface", `query($s: Boolean = false) { node(id: "1") { ... on Node @skip(if: $s) { id } } }`, map[string]any{"s": nil}, "node:Item node:User"},
		{"fragment spread in a list", `query($s: Boolean = true) { items { ...F @include(if: $s) } } fragment F on Item { name }`, map[string]any{"s": nil}, "items:Item"},
		{"skip true first", `query($s: Boolean = true) { one { id name @skip(if: true) @include(if: $s) } }`, map[string]any{"s": nil}, ""},
		{"fragment spread twice", `query($s: Boolean = true) { one { ...F ...F @include(if: $s) } } fragment F on Item { name }`, map[string]any{"s": nil}, "one:Item"},
		{"not sent", `query($s: Boolean = true) { one { id name @skip(if: $s) } }`, map[string]any{}, ""},
		{"false", `query($s: Boolean = true) { one { id name @skip(if: $s) } }`, map[string]any{"s": false}, ""},
		{"in a fragment that does not apply", `query($s: Boolean = true) { search { ... on User { login @skip(if: $s) } } }`, map[string]any{"s": nil}, "search:User"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(s, tc.query)
			if len(errs) > 0 {
				t.Fatal(errs)
			}
			op, err := planner.Normalize(s, doc, "", tc.vars)
			if err != nil {
				t.Fatal(err)
			}
			shape, err := planner.BuildShape(op, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			var walk func(set *planner.ShapeSet, path string)
			walk = func(set *planner.ShapeSet, path string) {
				for _, st := range set.ByType {
					if null, report := set.NullCondition(st.Type); null != st.NullCondition || report != st.NullCondition {
						t.Errorf("%s:%s: NullCondition() disagrees with the entry", path, st.Type)
					}
					if st.NullCondition {
						got = append(got, path+":"+st.Type)
						if len(st.Fields) != 1 || st.Fields[0].Name != "__typename" {
							t.Errorf("%s:%s: fields %v, want __typename alone", path, st.Type, st.Fields)
						}
					}
					for _, f := range st.Fields {
						if f.Selection != nil {
							walk(f.Selection, strings.TrimPrefix(path+"."+f.ResponseKey, "."))
						}
					}
				}
			}
			walk(shape.Root, "")
			sort.Strings(got)
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("null conditions at %q, want %q", g, tc.want)
			}
		})
	}
}
