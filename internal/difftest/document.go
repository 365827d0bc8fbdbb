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
	out := &ast.QueryDocument{Operations: ast.OperationList{sel}, Fragments: opgen.UsedFragments(doc, sel.SelectionSet)}
	return opgen.Operation{Query: opgen.Print(out), OperationName: op.OperationName, Variables: op.Variables}, true
}
