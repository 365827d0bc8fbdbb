package planner

import "testing"

// entityGroupOf builds an entity group for typ selecting fields (key:name).
func entityGroupOf(graph, typ string, path []string, fields ...string) *group {
	g := &group{graph: graph, entity: true, path: path, paths: [][]string{path}, sel: &subSel{abstract: true},
		reqs: map[string][]*RequiredField{typ: {{Name: "id", Key: "id"}}}, reqOrder: []string{typ}, repType: map[string]string{typ: typ},
		present: map[string]bool{typ: true}, collects: map[string]bool{typ: true}}
	ts := g.sel.forType(typ)
	for _, f := range fields {
		ts.add(f, f, nil, nil)
	}
	return g
}

// onInterface is an entity group for the representations of typ that
// selects fields on the interface iface (an interface entity).
func onInterface(typ, iface string, fields ...string) *group {
	g := entityGroupOf("s", typ, []string{"a"})
	g.sel.types = nil
	ts := g.sel.forType(iface)
	for _, f := range fields {
		ts.add(f, f, nil, nil)
	}
	return g
}

func TestMergeable(t *testing.T) {
	cases := []struct {
		name string
		a, b *group
		want bool
	}{
		{"same type, same selection", entityGroupOf("s", "P", []string{"a"}, "x"), entityGroupOf("s", "P", []string{"b"}, "x"), true},
		{"same type, other selection", entityGroupOf("s", "P", []string{"a"}, "include"), entityGroupOf("s", "P", []string{"b"}, "neverCalledInclude"), false},
		{"same type, one selects more", entityGroupOf("s", "P", []string{"a"}, "x"), entityGroupOf("s", "P", []string{"b"}, "x", "y"), false},
		{"different types", entityGroupOf("s", "P", []string{"a"}, "x"), entityGroupOf("s", "Q", []string{"b"}, "y"), true},
	}
	other := entityGroupOf("s", "P", []string{"b"}, "x")
	other.reqs["P"] = []*RequiredField{{Name: "upc", Key: "upc"}}
	cases = append(cases, struct {
		name string
		a, b *group
		want bool
	}{"other representation", entityGroupOf("s", "P", []string{"a"}, "x"), other, false})
	// A path of an abstract type holds objects of both types: a fetch
	// merged there would collect its Q objects too.
	both := entityGroupOf("s", "P", []string{"a"}, "x")
	both.present["Q"] = true
	unknown := entityGroupOf("s", "P", []string{"a"}, "x")
	unknown.present = nil
	for _, c := range []struct {
		name string
		a, b *group
		want bool
	}{
		{"different types, the other type present at a's path", both, entityGroupOf("s", "Q", []string{"b"}, "y"), false},
		{"different types, the other type present at b's path", entityGroupOf("s", "Q", []string{"b"}, "y"), both, false},
		{"different types, what a's path holds unknown", unknown, entityGroupOf("s", "Q", []string{"b"}, "y"), false},
		{"same interface selection type, other selections", onInterface("P", "I", "x"), onInterface("P", "I", "y"), false},
		{"same interface selection type, same selection", onInterface("P", "I", "x"), onInterface("P", "I", "x"), true},
	} {
		cases = append(cases, c)
	}
	for _, c := range cases {
		if got := mergeable(c.a, c.b); got != c.want {
			t.Errorf("%s: mergeable = %v, want %v", c.name, got, c.want)
		}
	}
}

// TestLevels: a group's level is one more than its latest dependency.
func TestLevels(t *testing.T) {
	a := &group{id: 0}
	b := &group{id: 1, deps: []*group{a}}
	c := &group{id: 2, deps: []*group{a}}
	d := &group{id: 3, deps: []*group{b, c}}
	e := &group{id: 4, deps: []*group{d, a}}
	got := levels([]*group{a, b, c, d, e}, nil)
	want := map[*group]int{a: 0, b: 1, c: 1, d: 2, e: 3}
	for g, l := range want {
		if got[g] != l {
			t.Errorf("group %d: level %d, want %d", g.id, got[g], l)
		}
	}
}
