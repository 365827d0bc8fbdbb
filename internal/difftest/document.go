package difftest

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/opgen"
)

// SelectedOnly returns op with its document cut to the operation the
// request runs and the fragments that operation spreads (directly or
// through other fragments), in document order. ok is false when the
// document has one operation (nothing to cut) or does not parse. The
// other operations of a document must not change the answer (spec 6.1:
// a request executes the operation it selects), so asking a gateway both
// ways gives the same answer.
func SelectedOnly(op opgen.Operation) (only opgen.Operation, ok bool) {
	doc, err := parser.ParseQuery(&ast.Source{Input: op.Query})
	if err != nil || len(doc.Operations) < 2 {
		return op, false
	}
	sel := doc.Operations.ForName(op.OperationName)
	if sel == nil {
		return op, false
	}
	used := map[string]bool{}
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if used[s.Name] {
					continue
				}
				used[s.Name] = true
				if f := doc.Fragments.ForName(s.Name); f != nil {
					walk(f.SelectionSet)
				}
			}
		}
	}
	walk(sel.SelectionSet)
	out := &ast.QueryDocument{Operations: ast.OperationList{sel}}
	for _, f := range doc.Fragments {
		if used[f.Name] {
			out.Fragments = append(out.Fragments, f)
		}
	}
	return opgen.Operation{Query: opgen.Print(out), OperationName: op.OperationName, Variables: op.Variables}, true
}
