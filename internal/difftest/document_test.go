package difftest

import (
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/opgen"
)

func TestSelectedOnly(t *testing.T) {
	for _, tc := range []struct {
		name, query, operation string
		// ok: the document is cut; ops and frags: what is left, in order.
		ok         bool
		ops, frags []string
	}{
		{name: "one operation", query: `query A { me { id } }`, operation: "A"},
		{name: "anonymous", query: `{ me { id } }`},
		{name: "no such operation", query: `query A { me { id } } query B { me { id } }`, operation: "C"},
		{name: "does not parse", query: `query A { me { id }`, operation: "A"},
		{
			name: "fragments of the others left out, nested ones kept in document order",
			query: `query A($v: Int) { me { ...F2 } } query B($v: String) { me { ...F1 ...F3 } }
fragment F1 on User { id } fragment F2 on User { ... on User { ...F3 } name } fragment F3 on User { id }`,
			operation: "A", ok: true, ops: []string{"A"}, frags: []string{"F2", "F3"},
		},
		{
			name:      "the last operation, a fragment spread twice",
			query:     `query A { me { id } } mutation B { x { ...F1 y: x { ...F1 } } } fragment F1 on X { id }`,
			operation: "B", ok: true, ops: []string{"B"}, frags: []string{"F1"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := opgen.Operation{Query: tc.query, OperationName: tc.operation, Variables: map[string]any{"v": 1}}
			out, ok := SelectedOnly(in)
			if ok != tc.ok {
				t.Fatalf("ok = %v, want %v", ok, tc.ok)
			}
			if !ok {
				if out.Query != in.Query {
					t.Fatalf("the query changed although nothing was cut:\n%s", out.Query)
				}
				return
			}
			if out.OperationName != tc.operation || out.Variables["v"] != 1 {
				t.Errorf("operation name %q, variables %v: want them kept", out.OperationName, out.Variables)
			}
			doc, err := parser.ParseQuery(&ast.Source{Input: out.Query})
			if err != nil {
				t.Fatalf("the cut document does not parse: %v\n%s", err, out.Query)
			}
			var ops, frags []string
			for _, o := range doc.Operations {
				ops = append(ops, o.Name)
			}
			for _, f := range doc.Fragments {
				frags = append(frags, f.Name)
			}
			if strings.Join(ops, ",") != strings.Join(tc.ops, ",") || strings.Join(frags, ",") != strings.Join(tc.frags, ",") {
				t.Errorf("operations %v and fragments %v, want %v and %v\n%s", ops, frags, tc.ops, tc.frags, out.Query)
			}
		})
	}
}
