package compose

import (
	"errors"
	"fmt"
	"reflect"
	"sort"
	"testing"
)

// TestDirectivePlacement: access control on interfaces and @interfaceObject
// types, @cost on interface fields and @listSize where no list is are
// refused with @apollo/composition's codes; the places those directives do
// belong compose.
func TestDirectivePlacement(t *testing.T) {
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@interfaceObject", "@authenticated", "@requiresScopes", "@policy", "@cost", "@listSize"])
`
	cases := []struct {
		name  string
		a, b  string
		codes []string
	}{
		{name: "authenticated on an interface",
			a:     `type Query { n: Node } interface Node @authenticated { id: ID! } type T implements Node { id: ID! }`,
			codes: []string{"AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE"}},
		{name: "requiresScopes on an interface field",
			a:     `type Query { n: Node } interface Node { id: ID! x: Int @requiresScopes(scopes: [["s"]]) } type T implements Node { id: ID! x: Int }`,
			codes: []string{"AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE"}},
		{name: "policy on an interface object",
			a:     `type Query { n: Node } interface Node @key(fields: "id") { id: ID! } type T implements Node @key(fields: "id") { id: ID! }`,
			b:     `type Node @key(fields: "id") @interfaceObject @policy(policies: [["p"]]) { id: ID! y: Int }`,
			codes: []string{"AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE"}},
		{name: "access control on implementations and interface object fields",
			a: `type Query { n: Node } interface Node @key(fields: "id") { id: ID! x: Int } type T implements Node @key(fields: "id") @authenticated { id: ID! x: Int @policy(policies: [["p"]]) }`,
			b: `type Node @key(fields: "id") @interfaceObject { id: ID! y: Int @requiresScopes(scopes: [["s"]]) }`},
		{name: "cost on an interface field",
			a:     `type Query { n: Node } interface Node { id: ID! x: Int @cost(weight: 2) } type T implements Node { id: ID! x: Int }`,
			codes: []string{"COST_APPLIED_TO_INTERFACE_FIELD"}},
		{name: "cost on an implementation's field and an argument of an interface field",
			a: `type Query { n: Node } interface Node { id: ID! x(a: Int @cost(weight: 1)): Int } type T implements Node @cost(weight: 3) { id: ID! x(a: Int): Int @cost(weight: 2) }`},
		{name: "listSize on a field that is no list",
			a:     `type Query { n: Int @listSize(assumedSize: 3) }`,
			codes: []string{"LIST_SIZE_APPLIED_TO_NON_LIST"}},
		{name: "listSize with a negative assumed size",
			a:     `type Query { n: [Int] @listSize(assumedSize: -1) }`,
			codes: []string{"LIST_SIZE_INVALID_ASSUMED_SIZE"}},
		{name: "listSize slicing by no argument and by a String",
			a:     `type Query { n(first: Int, after: String): [Int] @listSize(slicingArguments: ["last", "after"], requireOneSlicingArgument: false) }`,
			codes: []string{"LIST_SIZE_INVALID_SLICING_ARGUMENT"}},
		{name: "listSize sized fields that are missing or no lists",
			a:     `type Query { page(first: Int!): Page @listSize(slicingArguments: ["first"], sizedFields: ["items", "count", "nope"]) } type Page { items: [Int!]! count: Int }`,
			codes: []string{"LIST_SIZE_APPLIED_TO_NON_LIST", "LIST_SIZE_INVALID_SIZED_FIELD"}},
		{name: "listSize sized fields on a leaf type",
			a:     `type Query { n: Int @listSize(sizedFields: ["x"]) }`,
			codes: []string{"LIST_SIZE_INVALID_SIZED_FIELD"}},
		{name: "listSize where it belongs",
			a: `type Query { page(first: Int!, last: Int): Page @listSize(slicingArguments: ["first", "last"], sizedFields: ["items"]) list: [[Int]]! @listSize(assumedSize: 0) } type Page { items: [Int!]! }`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			subs := []Subgraph{{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: link + c.a}}
			if c.b != "" {
				subs = append(subs, Subgraph{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: link + c.b})
			}
			_, err := Compose(subs)
			var got []string
			if err != nil {
				var list Errors
				if !errors.As(err, &list) {
					t.Fatalf("not compose.Errors: %v", err)
				}
				got = list.Codes()
				sort.Strings(got)
			}
			if !reflect.DeepEqual(got, c.codes) {
				t.Errorf("codes %v, want %v (%v)", got, c.codes, err)
			}
		})
	}
}

// TestMergedDirectiveOnExternal: a directive composition merges, on an
// @external copy of a field another subgraph resolves, is refused
// (MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL); on the resolving copy, and
// directives composition does not merge on the external one, compose.
func TestMergedDirectiveOnExternal(t *testing.T) {
	const link = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.9", import: ["@key", "@external", "@requires", "@provides", "@shareable", "@inaccessible", "@tag", "@cost", "@authenticated"])
`
	const owner = `type Query { p: P } type P @key(fields: "id") { id: ID! name: String @shareable %s }`
	const user = `type P @key(fields: "id") { id: ID! name: String @external %s up: String @requires(fields: "name") }`
	const merged = "MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL"
	cases := []struct {
		name            string
		onOwner, onUser string
		codes           []string
	}{
		{"tag", "", `@tag(name: "x")`, []string{merged}},
		{"deprecated", "", "@deprecated", []string{merged}},
		{"inaccessible", "", "@inaccessible", []string{merged}},
		{"cost", "", "@cost(weight: 2)", []string{merged}},
		{"authenticated", "@authenticated", "@authenticated", []string{merged}},
		{"merged directives on the resolving copy", `@tag(name: "x") @deprecated @cost(weight: 2)`, "", nil},
		{"nothing on the external copy", "", "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Compose([]Subgraph{
				{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: link + fmt.Sprintf(owner, c.onOwner)},
				{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: link + fmt.Sprintf(user, c.onUser)},
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
				t.Errorf("codes %v, want %v (%v)", got, c.codes, err)
			}
		})
	}
}
