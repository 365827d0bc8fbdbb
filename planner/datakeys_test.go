package planner

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
)

func TestClientDataKey(t *testing.T) {
	cases := []struct{ key, name, want string }{
		{"upc", "name", "upc"},
		{"__typename", "__typename", "__typename"},
		{"__typename", "name", "_fed_c___typename"},
		{"_fed_k0_upc", "name", "_fed_c__fed_k0_upc"},
		{"t", "__typename", "t"},
	}
	for _, c := range cases {
		got := clientDataKey(c.key, c.name)
		if got != c.want {
			t.Errorf("clientDataKey(%q, %q) = %q, want %q", c.key, c.name, got, c.want)
		}
		if back := ResponseKeyOf(got); back != c.key {
			t.Errorf("ResponseKeyOf(%q) = %q, want %q", got, back, c.key)
		}
	}
}

// TestResponseKeyOfNestedAliases: a conflict alias ("t") of a key the
// gateway escaped already ("c") or reserved ("k") names the client's key in
// an error path, not the inner data key (graphgen 1960, seed 18001: an
// error at [..., "_fed_c___typename"] for the client's __typename: s13).
func TestResponseKeyOfNestedAliases(t *testing.T) {
	cases := []struct{ dataKey, want string }{
		{"a1", "a1"},
		{"_fed_t0_a1", "a1"},
		{"_fed_c___typename", "__typename"},
		{"_fed_t0__fed_c___typename", "__typename"},
		{"_fed_t12__fed_c___typename", "__typename"},
		{"_fed_c__fed_x", "_fed_x"},
		{"_fed_t3__fed_c__fed_k0_upc", "_fed_k0_upc"},
		{"_fed_k2_id", "id"},
		{"_fed_t1__fed_k2_id", "id"},
		{"_fed_", "_fed_"},
	}
	for _, c := range cases {
		if got := ResponseKeyOf(c.dataKey); got != c.want {
			t.Errorf("ResponseKeyOf(%q) = %q, want %q", c.dataKey, got, c.want)
		}
	}
}

func TestPlannerDataKeys(t *testing.T) {
	op := &Operation{Selection: &SelectionSet{ByType: []*TypeFields{{Type: "Query", Fields: []*Field{
		{ResponseKey: "upc", Name: "name"},
		{ResponseKey: "sku", Name: "sku"},
		{ResponseKey: "price", Name: "price"},
	}}}}}
	d := newDataKeys(op)
	cases := []struct{ name, args, want string }{
		{"upc", "", "_fed_k0_upc"},                   // the client's upc is a name
		{"sku", "", "sku"},                           // the client's sku is the same field
		{"id", "", "id"},                             // unused by the client
		{"price", `currency:"EUR"`, "_fed_k1_price"}, // the client's price has other arguments
		{"id", "x:1", "_fed_k2_id"},                  // id is taken by id() already
		{"upc", "", "_fed_k0_upc"},                   // stable
		{"__typename", "", "__typename"},
		{"_fed_k0_upc", "", "_fed_k3__fed_k0_upc"}, // a schema field in the reserved namespace
	}
	for _, c := range cases {
		if got := d.key("Query", c.name, c.args); got != c.want {
			t.Errorf("key(%s(%s)) = %q, want %q", c.name, c.args, got, c.want)
		}
	}
}

// TestPlannerDataKeysClientAlias: a planner field whose name the client
// uses for another field shares the data key under which the client
// selects that very field, so that a subgraph error at it is reported at
// the client's key, not at the other field's.
func TestPlannerDataKeysClientAlias(t *testing.T) {
	op := &Operation{Selection: &SelectionSet{Type: "Item", Abstract: true, ByType: []*TypeFields{
		{Type: "User", Fields: []*Field{
			{ResponseKey: "locale", Name: "__typename", ParentType: "User"},
			{ResponseKey: "a2", Name: "locale", ParentType: "User"},
			{ResponseKey: "b1", Name: "region", ParentType: "User"},
			{ResponseKey: "region", Name: "id", ParentType: "User"},
			{ResponseKey: "b1", Name: "id", ParentType: "User"}, // b1 means two fields
			{ResponseKey: "price", Name: "name", ParentType: "User"},
			{ResponseKey: "p9", Name: "price", ParentType: "User", Arguments: ast.ArgumentList{{Name: "currency", Value: &ast.Value{Kind: ast.EnumValue, Raw: "EUR"}}}},
		}},
		// An alias in a fragment on another implementation.
		{Type: "Widget", Fields: []*Field{
			{ResponseKey: "code", Name: "label", ParentType: "Widget"},
			{ResponseKey: "w1", Name: "size", ParentType: "Widget"},
		}},
		{Type: "Gadget", Fields: []*Field{
			{ResponseKey: "a7", Name: "code", ParentType: "Gadget"},
			{ResponseKey: "w1", Name: "size", ParentType: "Gadget"},
		}},
	}}}
	d := newDataKeys(op)
	cases := []struct{ parent, name, args, want string }{
		{"User", "locale", "", "a2"},             // the client's locale is __typename, its a2 is locale
		{"User", "locale", "", "a2"},             // stable
		{"User", "region", "", "_fed_k0_region"}, // b1 is region and id: no alias of region alone
		{"User", "price", "", "_fed_k1_price"},   // the client's p9 has other arguments
		{"User", "price", "currency:EUR", "p9"},  // ... and is this one
		{"User", "a2", "", "_fed_k2_a2"},         // a field named a2: the client's a2 is locale
		// The client's a7 is Gadget.code: on a Widget, the planner's code
		// (a @requires input) is no field the client selects.
		{"Widget", "code", "", "_fed_k3_code"},
		{"Gadget", "code", "", "a7"},
		{"Widget", "code", "", "_fed_k3_code"}, // stable after Gadget shared a7
		{"Item", "code", "", "_fed_k3_code"},   // collected on the interface: every implementation reads it
		{"Widget", "locale", "", "_fed_k4_locale"},
		{"User", "locale", "", "a2"},
		{"Widget", "size", "", "size"}, // the client uses no key size: the field's own name
	}
	for _, c := range cases {
		if got := d.key(c.parent, c.name, c.args); got != c.want {
			t.Errorf("key(%s.%s(%s)) = %q, want %q", c.parent, c.name, c.args, got, c.want)
		}
	}
}

// TestPlannerDataKeysClientAliasEveryPosition: a client alias of the
// planner's field is shared only when the client selects it wherever it
// selects objects of the field's type: at another position the alias is
// not in the object's response, so an error there would name a key the
// client did not ask for.
func TestPlannerDataKeysClientAliasEveryPosition(t *testing.T) {
	gadget := func(fields ...*Field) *SelectionSet {
		return &SelectionSet{Type: "Gadget", ByType: []*TypeFields{{Type: "Gadget", Fields: fields}}}
	}
	cases := []struct {
		name string
		root []*Field
		want string
	}{
		{"one position", []*Field{
			{ResponseKey: "items", Name: "items", ParentType: "Query", Selection: gadget(
				&Field{ResponseKey: "code", Name: "label", ParentType: "Gadget"},
				&Field{ResponseKey: "a7", Name: "code", ParentType: "Gadget"})},
		}, "a7"},
		{"every position", []*Field{
			{ResponseKey: "items", Name: "items", ParentType: "Query", Selection: gadget(
				&Field{ResponseKey: "code", Name: "label", ParentType: "Gadget"},
				&Field{ResponseKey: "a7", Name: "code", ParentType: "Gadget"})},
			{ResponseKey: "more", Name: "items", ParentType: "Query", Selection: gadget(
				&Field{ResponseKey: "a7", Name: "code", ParentType: "Gadget"})},
		}, "a7"},
		{"another position only", []*Field{
			{ResponseKey: "items", Name: "items", ParentType: "Query", Selection: gadget(
				&Field{ResponseKey: "code", Name: "label", ParentType: "Gadget"})},
			{ResponseKey: "more", Name: "items", ParentType: "Query", Selection: gadget(
				&Field{ResponseKey: "a7", Name: "code", ParentType: "Gadget"})},
		}, "_fed_k0_code"},
	}
	for _, c := range cases {
		op := &Operation{Selection: &SelectionSet{Type: "Query", ByType: []*TypeFields{{Type: "Query", Fields: c.root}}}}
		if got := newDataKeys(op).key("Gadget", "code", ""); got != c.want {
			t.Errorf("%s: key(Gadget.code) = %q, want %q", c.name, got, c.want)
		}
	}
}

// TestPlannerDataKeysClientAliasDefer: with @defer a planner field shares
// no client alias: the client's field may be delivered in another payload
// than the one whose fetch reads the planner's.
func TestPlannerDataKeysClientAliasDefer(t *testing.T) {
	fields := []*Field{
		{ResponseKey: "code", Name: "label", ParentType: "Gadget"},
		{ResponseKey: "a7", Name: "code", ParentType: "Gadget"},
	}
	for _, deferred := range []bool{false, true} {
		op := &Operation{Selection: &SelectionSet{Type: "Gadget", ByType: []*TypeFields{{Type: "Gadget", Fields: fields}}}}
		want := "a7"
		if deferred {
			op.Defers = []*Defer{{}}
			want = "_fed_k0_code"
		}
		if got := newDataKeys(op).key("Gadget", "code", ""); got != want {
			t.Errorf("deferred %v: key(Gadget.code) = %q, want %q", deferred, got, want)
		}
	}
}
