package planner

import (
	"strings"
	"testing"
)

// TestChooseShared chooses root subgraphs from given options: "a1.2"
// is subgraph a with local=1, onIface=2; a field's options are
// separated by spaces, fields by "|".
func TestChooseShared(t *testing.T) {
	parse := func(s string) [][]rootOption {
		var out [][]rootOption
		for _, field := range strings.Split(s, "|") {
			var opts []rootOption
			for _, o := range strings.Fields(field) {
				ro := rootOption{graph: o[:1]}
				if len(o) > 1 {
					ro.local, ro.onIface = int(o[1]-'0'), int(o[3]-'0')
				}
				opts = append(opts, ro)
			}
			out = append(out, opts)
		}
		return out
	}
	cases := []struct {
		name, options, want string
	}{
		{"one field, first subgraph", "a b", "a"},
		{"one field, more local fields win", "a1.0 b2.0", "b"},
		{"one field, fields on the interface win", "a1.0 b1.1", "b"},
		{"a subgraph another field needs comes first", "a | a1.0 b1.1", "a a"},
		{"whatever the document order", "a1.0 b1.1 | a", "a a"},
		{"open fields share the subgraph that answers them better", "a0.0 b0.0 | a0.0 b0.1", "b b"},
		{"the subgraph most open fields can take", "a b | b c | c b", "b b b"},
		{"a field with one option pins its subgraph", "a b | b c | c", "a c c"},
		{"most fields before better scores", "a0.0 b0.1 | a | a0.0 c0.5", "a a a"},
		{"a field no subgraph delivers stays open", " | a", " a"},
		{"two subgraphs needed, the tie joins the better", "a | b | a0.0 b0.1", "a b b"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			opts := parse(c.options)
			idx := make([]int, len(opts))
			for i := range idx {
				idx[i] = i
			}
			out := make([]string, len(opts))
			chooseShared([]string{"a", "b", "c"}, idx, opts, out)
			if got := strings.Join(out, " "); got != c.want {
				t.Errorf("options %q: got %q, want %q", c.options, got, c.want)
			}
		})
	}
}
