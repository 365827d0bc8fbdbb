package planner_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// shapeSDL is a small API schema with the type wrappings, enums and
// abstract types the shape pass encodes.
var shapeSDL = `
type Query {
  items: [[Item!]]!
  one: Item
  node(id: ID!): Node
  search: [Result!]
  color: Color
  colors: [Color!]!
  big: Big
  tooDeep: ` + strings.Repeat("[", 64) + "Int" + strings.Repeat("]", 64) + `
}
interface Node { id: ID! }
type Item implements Node { id: ID! name: String color: Color! }
type User implements Node { id: ID! login: String }
union Result = Item | User
enum Color { RED GREEN }
enum Big { A B C D E F G H I J K L M N }
`

func shapeSchema(t *testing.T) *ast.Schema {
	t.Helper()
	s, err := gqlparser.LoadSchema(&ast.Source{Input: shapeSDL})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func shapeOp(t *testing.T, s *ast.Schema, query string) *planner.Operation {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(s, query)
	if len(errs) > 0 {
		t.Fatalf("validate %s: %v", query, errs)
	}
	op, err := planner.Normalize(s, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	return op
}

// shapeField finds the field at a path of response keys (the first type
// of each position that has it).
func shapeField(t *testing.T, set *planner.ShapeSet, path ...string) *planner.ShapeField {
	t.Helper()
	for i, key := range path {
		var found *planner.ShapeField
		for _, tf := range set.ByType {
			for j := range tf.Fields {
				if tf.Fields[j].ResponseKey == key && found == nil {
					found = &tf.Fields[j]
				}
			}
		}
		if found == nil {
			t.Fatalf("no field %q at %v", key, path[:i])
		}
		if i == len(path)-1 {
			return found
		}
		set = found.Selection
	}
	return nil
}

// wrapping prints a field's nullability per list level, outermost first:
// "!" non-null, "?" nullable.
func wrapping(f *planner.ShapeField) string {
	var b strings.Builder
	for level := 0; level <= f.Lists(); level++ {
		if f.NonNull(level) {
			b.WriteByte('!')
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

func TestShapeFields(t *testing.T) {
	s := shapeSchema(t)
	cases := []struct {
		query, path          string
		jsonKey, dataKey     string
		wrap                 string
		kind                 planner.FieldKind
		composite, enum      bool
		parentType, name     string
		enumIn, enumOut      string
		argumentCount        int
		selectionTypeOrEmpty string
	}{
		{query: `{ items { id } }`, path: "items", jsonKey: `"items":`, dataKey: "items", wrap: "!?!", composite: true,
			parentType: "Query", name: "items", selectionTypeOrEmpty: "Item"},
		{query: `{ items { id } }`, path: "items.id", jsonKey: `"id":`, dataKey: "id", wrap: "!", parentType: "Item", name: "id"},
		{query: `{ x: color }`, path: "x", jsonKey: `"x":`, dataKey: "x", wrap: "?", enum: true, enumIn: "RED", enumOut: "BLUE",
			parentType: "Query", name: "color"},
		{query: `{ colors }`, path: "colors", jsonKey: `"colors":`, dataKey: "colors", wrap: "!!", enum: true, enumIn: "GREEN", enumOut: "green",
			parentType: "Query", name: "colors"},
		{query: `{ big }`, path: "big", jsonKey: `"big":`, dataKey: "big", wrap: "?", enum: true, enumIn: "N", enumOut: "O",
			parentType: "Query", name: "big"},
		{query: `{ t: __typename }`, path: "t", jsonKey: `"t":`, dataKey: "t", wrap: "!", kind: planner.Typename,
			parentType: "Query", name: "__typename"},
		// A client alias in the reserved namespace, or named __typename,
		// is merged under an escaped data key.
		{query: `{ _fed_k0_upc: one { id } }`, path: "_fed_k0_upc", jsonKey: `"_fed_k0_upc":`, dataKey: "_fed_c__fed_k0_upc", wrap: "?",
			composite: true, parentType: "Query", name: "one", selectionTypeOrEmpty: "Item"},
		{query: `{ one { __typename: name } }`, path: "one.__typename", jsonKey: `"__typename":`, dataKey: "_fed_c___typename", wrap: "?",
			parentType: "Item", name: "name"},
		{query: `{ __schema { queryType { name } } }`, path: "__schema", jsonKey: `"__schema":`, dataKey: "__schema", wrap: "!",
			kind: planner.Introspection, composite: true, parentType: "Query", name: "__schema", selectionTypeOrEmpty: "__Schema"},
		{query: `{ __type(name: "Item") { name } }`, path: "__type", jsonKey: `"__type":`, dataKey: "__type", wrap: "?",
			kind: planner.Introspection, composite: true, parentType: "Query", name: "__type", argumentCount: 1, selectionTypeOrEmpty: "__Type"},
		{query: `{ node(id: "1") { id } }`, path: "node", jsonKey: `"node":`, dataKey: "node", wrap: "?", composite: true,
			parentType: "Query", name: "node", argumentCount: 1, selectionTypeOrEmpty: "Node"},
	}
	for _, c := range cases {
		t.Run(c.query+"/"+c.path, func(t *testing.T) {
			shape, err := planner.BuildShape(shapeOp(t, s, c.query), nil)
			if err != nil {
				t.Fatal(err)
			}
			if shape.Kind != ast.Query || shape.RootType != "Query" || shape.Mutation() {
				t.Errorf("kind %s root %s", shape.Kind, shape.RootType)
			}
			f := shapeField(t, shape.Root, strings.Split(c.path, ".")...)
			if f.JSONKey != c.jsonKey || f.DataKey != c.dataKey || f.ParentType != c.parentType || f.Name != c.name {
				t.Errorf("keys %s %s, field %s.%s; want %s %s, %s.%s", f.JSONKey, f.DataKey, f.ParentType, f.Name,
					c.jsonKey, c.dataKey, c.parentType, c.name)
			}
			if got := wrapping(f); got != c.wrap {
				t.Errorf("wrapping %s, want %s", got, c.wrap)
			}
			if f.Kind != c.kind {
				t.Errorf("kind %d, want %d", f.Kind, c.kind)
			}
			if (f.Selection != nil) != c.composite {
				t.Errorf("selection %v, want composite %v", f.Selection, c.composite)
			}
			if f.Selection != nil && f.Selection.Type != c.selectionTypeOrEmpty {
				t.Errorf("selection type %s, want %s", f.Selection.Type, c.selectionTypeOrEmpty)
			}
			if (f.Enum != nil) != c.enum {
				t.Fatalf("enum %v, want %v", f.Enum, c.enum)
			}
			if f.Enum != nil && (!f.Enum.Has([]byte(c.enumIn)) || f.Enum.Has([]byte(c.enumOut))) {
				t.Errorf("enum: has %s %v, has %s %v", c.enumIn, f.Enum.Has([]byte(c.enumIn)), c.enumOut, f.Enum.Has([]byte(c.enumOut)))
			}
			if len(f.Arguments) != c.argumentCount {
				t.Errorf("%d arguments, want %d", len(f.Arguments), c.argumentCount)
			}
			if f.Denied {
				t.Error("denied without a denial")
			}
		})
	}
}

// TestShapePossibleTypes: an abstract position holds the fields of each
// possible type, sorted, and nothing for a type it does not have.
func TestShapePossibleTypes(t *testing.T) {
	s := shapeSchema(t)
	shape, err := planner.BuildShape(shapeOp(t, s, `{ search { __typename ... on Item { name } } node(id: "1") { id ... on User { login } } }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	keys := func(fs []planner.ShapeField) string {
		var out []string
		for _, f := range fs {
			out = append(out, f.ResponseKey)
		}
		return strings.Join(out, ",")
	}
	for _, c := range []struct {
		field, typ, want string
		nilFields        bool
	}{
		{"search", "Item", "__typename,name", false},
		{"search", "User", "__typename", false},
		{"search", "Query", "", true},
		{"node", "Item", "id", false},
		{"node", "User", "id,login", false},
	} {
		sel := shapeField(t, shape.Root, c.field).Selection
		if !sel.Abstract {
			t.Errorf("%s: not abstract", c.field)
		}
		got := sel.FieldsFor(c.typ)
		if (got == nil) != c.nilFields || keys(got) != c.want {
			t.Errorf("%s on %s: %q (nil %v), want %q", c.field, c.typ, keys(got), got == nil, c.want)
		}
		var types []string
		for _, tf := range sel.ByType {
			types = append(types, tf.Type)
		}
		if strings.Join(types, ",") != "Item,User" {
			t.Errorf("%s: possible types %v", c.field, types)
		}
	}
}

// TestShapeDenied: exactly the fields of the authorization result render
// as denied, at any depth.
func TestShapeDenied(t *testing.T) {
	s := shapeSchema(t)
	op := shapeOp(t, s, `{ one { id name } items { name } color }`)
	one := op.Selection.ByType[0].Fields[0]
	name := one.Selection.ByType[0].Fields[1]
	color := op.Selection.ByType[0].Fields[2]
	shape, err := planner.BuildShape(op, map[*planner.Field]bool{name: true, color: true})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{"one": false, "one.id": false, "one.name": true, "items": false, "items.name": false, "color": true} {
		if got := shapeField(t, shape.Root, strings.Split(path, ".")...).Denied; got != want {
			t.Errorf("%s: denied %v, want %v", path, got, want)
		}
	}
}

// TestShapeEnumSets: one set per enum type, shared by its fields.
func TestShapeEnumSets(t *testing.T) {
	s := shapeSchema(t)
	shape, err := planner.BuildShape(shapeOp(t, s, `{ color colors one { color } big }`), nil)
	if err != nil {
		t.Fatal(err)
	}
	a, b, c := shapeField(t, shape.Root, "color"), shapeField(t, shape.Root, "colors"), shapeField(t, shape.Root, "one", "color")
	if a.Enum == nil || a.Enum != b.Enum || a.Enum != c.Enum {
		t.Errorf("Color sets not shared: %p %p %p", a.Enum, b.Enum, c.Enum)
	}
	big := shapeField(t, shape.Root, "big").Enum
	for _, v := range []string{"A", "G", "N"} {
		if !big.Has([]byte(v)) {
			t.Errorf("Big lacks %s", v)
		}
	}
	for _, v := range []string{"", "a", "RED", "NN"} {
		if big.Has([]byte(v)) || (v != "RED" && a.Enum.Has([]byte(v))) {
			t.Errorf("%q accepted", v)
		}
	}
}

// TestShapeListDepthBound: a type nested deeper than the shape holds
// fails the pass with a planning error instead of wrapping around.
func TestShapeListDepthBound(t *testing.T) {
	s := shapeSchema(t)
	_, err := planner.BuildShape(shapeOp(t, s, `{ tooDeep }`), nil)
	var pe *planner.Error
	if err == nil || !errorsAs(err, &pe) || !strings.Contains(pe.Message, "Query.tooDeep") {
		t.Fatalf("got %v", err)
	}
}

func errorsAs(err error, pe **planner.Error) bool {
	e, ok := err.(*planner.Error)
	*pe = e
	return ok
}

// fingerprint prints every field of op with all its values (pointers as
// addresses), so that a change of any field, in place or by replacing a
// pointer, changes it.
func fingerprint(op *planner.Operation) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%+v\n", *op)
	var walk func(*planner.SelectionSet, string)
	walk = func(sel *planner.SelectionSet, ind string) {
		fmt.Fprintf(&b, "%s%p %+v\n", ind, sel, *sel)
		for _, tf := range sel.ByType {
			fmt.Fprintf(&b, "%s %p %+v\n", ind, tf, *tf)
			for _, f := range tf.Fields {
				fmt.Fprintf(&b, "%s  %p %+v\n", ind, f, *f)
				if f.Selection != nil {
					walk(f.Selection, ind+"   ")
				}
			}
		}
	}
	walk(op.Selection, "")
	return b.String()
}

// TestPlanLeavesOperationsUnchanged plans the demo graph with an
// authorization result and @defer: neither the client's operation nor
// the authorized one changes, the plan's shape is the shape pass of the
// client's operation with the denials (the @defer split copies, never
// edits it), and the primary shape holds no deferred field.
func TestPlanLeavesOperationsUnchanged(t *testing.T) {
	sg, err := demoSupergraph()
	if err != nil {
		t.Fatal(err)
	}
	op := normalizeDefer(t, sg, `{ me { id name } topProducts { name ... @defer(label: "d") { price inStock } } }`, nil)
	me := op.Selection.ByType[0].Fields[0]
	// The authorized operation: op without me (as auth.Authorize builds it).
	authorized := *op
	authorized.Selection = &planner.SelectionSet{Type: op.Selection.Type, ByType: []*planner.TypeFields{
		{Type: op.Selection.ByType[0].Type, Fields: op.Selection.ByType[0].Fields[1:]}}}
	denied := map[*planner.Field]bool{me: true}
	before, beforeAuth := fingerprint(op), fingerprint(&authorized)
	plan, err := planner.New(sg).Plan(op, planner.Options{Authorized: &authorized, Denied: denied})
	if err != nil {
		t.Fatal(err)
	}
	if fingerprint(op) != before || fingerprint(&authorized) != beforeAuth {
		t.Fatal("planning changed an operation")
	}
	want, err := planner.BuildShape(op, denied)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(plan.Shape, want) {
		t.Error("the plan's shape differs from the shape pass's")
	}
	if !shapeField(t, plan.Shape.Root, "me").Denied || shapeField(t, plan.Shape.Root, "topProducts").Denied {
		t.Error("denials not carried")
	}
	if plan.Defer == nil {
		t.Fatal("no defer split")
	}
	prim := plan.Defer.PrimaryShape
	if !shapeField(t, prim.Root, "me").Denied {
		t.Error("primary shape lost the denial")
	}
	tp := shapeField(t, prim.Root, "topProducts")
	if got := len(tp.Selection.FieldsFor("Product")); got != 1 {
		t.Errorf("primary topProducts renders %d fields, want 1 (name)", got)
	}
	d := plan.Defer.Defers[0]
	full := shapeField(t, plan.Shape.Root, "topProducts").Selection
	v := plan.Defer.View(d, full)
	if v == nil {
		t.Fatal("no view of the deferred fragment")
	}
	var keys []string
	for _, f := range v.FieldsFor("Product") {
		keys = append(keys, f.ResponseKey)
	}
	if strings.Join(keys, ",") != "price,inStock" {
		t.Errorf("deferred view renders %v", keys)
	}
	if plan.Defer.View(d, prim.Root) != nil {
		t.Error("a view at a position the defer is not at")
	}
}

// TestShapeSlots: BuildShape numbers every field of the shape, at every
// depth and for every possible type of an abstract position, with a
// distinct slot below Shape.Slots.
func TestShapeSlots(t *testing.T) {
	s := shapeSchema(t)
	for _, query := range []string{
		`{ one { id name } }`,
		`{ items { id name color } one { id } color }`,
		`{ node(id: "1") { id ... on Item { name } ... on User { login } } search { ... on Item { id } ... on User { id login } } }`,
	} {
		shape, err := planner.BuildShape(shapeOp(t, s, query), nil)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[int]string{}
		var walk func(set *planner.ShapeSet, path string)
		walk = func(set *planner.ShapeSet, path string) {
			for _, tf := range set.ByType {
				for i := range tf.Fields {
					f := &tf.Fields[i]
					at := path + "/" + tf.Type + "." + f.ResponseKey
					if n := f.Slot(); n < 0 || n >= shape.Slots {
						t.Errorf("%s: %s has slot %d, outside [0,%d)", query, at, n, shape.Slots)
					} else if other, ok := seen[n]; ok {
						t.Errorf("%s: %s and %s share slot %d", query, at, other, n)
					} else {
						seen[n] = at
					}
					if f.Selection != nil {
						walk(f.Selection, at)
					}
				}
			}
		}
		walk(shape.Root, "")
		if len(seen) != shape.Slots {
			t.Errorf("%s: %d fields numbered, Slots = %d", query, len(seen), shape.Slots)
		}
	}
}

// TestShapePlainLeaf: only leaves read from the data without a denial,
// enum check, list level or selection are plain (rendered as the data
// has them).
func TestShapePlainLeaf(t *testing.T) {
	s := shapeSchema(t)
	op := shapeOp(t, s, `{ one { id name __typename color } items { name } color tooDeep: one { id } search { __typename } }`)
	one := op.Selection.ByType[0].Fields[0]
	name := one.Selection.ByType[0].Fields[1]
	shape, err := planner.BuildShape(op, map[*planner.Field]bool{name: true})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]bool{
		"one": false, "one.id": true, "one.name": false, "one.__typename": false, "one.color": false,
		"items": false, "items.name": true, "color": false, "tooDeep.id": true, "search": false,
	} {
		if got := shapeField(t, shape.Root, strings.Split(path, ".")...).PlainLeaf(); got != want {
			t.Errorf("%s: plain leaf %v, want %v", path, got, want)
		}
	}
}

// TestAppendMemberKey: the comma and key are written alike whether they
// fit the stored words or not, into a buffer with room or without, and
// nothing before them changes.
func TestAppendMemberKey(t *testing.T) {
	s := shapeSchema(t)
	for _, c := range []struct{ query, key string }{
		{`{ one { id } }`, "one"},
		{`{ a: one { id } }`, "a"},
		{`{ abcdefghijkl: one { id } }`, "abcdefghijkl"},   // 16 bytes with ,"":
		{`{ abcdefghijklm: one { id } }`, "abcdefghijklm"}, // 17: appended
		{`{ averylongaliasforthefield: one { id } }`, "averylongaliasforthefield"},
	} {
		shape, err := planner.BuildShape(shapeOp(t, s, c.query), nil)
		if err != nil {
			t.Fatal(err)
		}
		f := shapeField(t, shape.Root, c.key)
		want := `{"x":1,"` + c.key + `":`
		for _, room := range []int{0, 1, 15, 16, 64} {
			buf := make([]byte, 0, len(`{"x":1`)+room)
			buf = append(buf, `{"x":1`...)
			if got := string(f.AppendMemberKey(buf)); got != want {
				t.Errorf("%s with room %d: %q, want %q", c.key, room, got, want)
			}
		}
	}
}

// TestShapeLeafAccepts: each leaf field's type, and the JSON kinds its
// values are written with as they are (the others go to the executor's
// result coercion): a string for String and ID, a small integer for Int,
// a number that cannot overflow for Float, a boolean for Boolean,
// anything but null for a custom scalar, nothing for an enum (its values
// are checked) and for composite fields.
func TestShapeLeafAccepts(t *testing.T) {
	s, err := gqlparser.LoadSchema(&ast.Source{Input: `
scalar JSON
enum Color { RED }
type Thing { name: String }
type Query { s: String i: Int! f: Float b: Boolean id: ID e: Color j: JSON t: Thing ls: [[String!]] }`})
	if err != nil {
		t.Fatal(err)
	}
	op := shapeOp(t, s, `{ s i f b id e j t { name } ls __typename }`)
	shape, err := planner.BuildShape(op, nil)
	if err != nil {
		t.Fatal(err)
	}
	all := []jsonvalue.Kind{jsonvalue.KindNull, jsonvalue.KindFalse, jsonvalue.KindTrue, jsonvalue.KindNumber, jsonvalue.KindString,
		jsonvalue.KindArray, jsonvalue.KindObject, jsonvalue.KindSmallInt, jsonvalue.KindWideNumber}
	for _, c := range []struct {
		key    string
		leaf   planner.LeafType
		accept string // the kinds accepted, by their index in all
	}{
		{"s", planner.StringLeaf, "4"}, {"id", planner.IDLeaf, "4"}, {"i", planner.IntLeaf, "7"},
		{"f", planner.FloatLeaf, "37"}, {"b", planner.BooleanLeaf, "12"}, {"e", planner.EnumLeaf, ""},
		{"j", planner.CustomLeaf, "12345678"}, {"t", planner.NoLeaf, ""}, {"ls", planner.StringLeaf, "4"},
		{"__typename", planner.NoLeaf, ""},
	} {
		f := shapeField(t, shape.Root, c.key)
		var got string
		for i, k := range all {
			if f.Accepts(k) {
				got += fmt.Sprint(i)
			}
		}
		if f.Leaf() != c.leaf || got != c.accept {
			t.Errorf("%s: leaf %d accepting kinds %q, want %d accepting %q", c.key, f.Leaf(), got, c.leaf, c.accept)
		}
	}
}
