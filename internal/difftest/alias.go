package difftest

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/opgen"
)

// RenameAliases returns op with every alias renamed to a fresh name
// (the same alias to the same name throughout the document), and the map
// from the fresh names back to the aliases. ok is false when op has no
// alias. An answer must not depend on alias names: renaming them and
// renaming the response keys back gives the same answer.
func RenameAliases(op opgen.Operation) (renamed opgen.Operation, back map[string]string, ok bool) {
	doc, err := parser.ParseQuery(&ast.Source{Input: op.Query})
	if err != nil {
		return op, nil, false
	}
	to := map[string]string{}
	back = map[string]string{}
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if s.Alias != "" && s.Alias != s.Name {
					fresh, seen := to[s.Alias]
					if !seen {
						fresh = "zzAlias" + strconv.Itoa(len(to)+1)
						to[s.Alias] = fresh
						back[fresh] = s.Alias
					}
					s.Alias = fresh
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	for _, o := range doc.Operations {
		walk(o.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	if len(to) == 0 {
		return op, nil, false
	}
	return opgen.Operation{Query: opgen.Print(doc), OperationName: op.OperationName, Variables: op.Variables}, back, true
}
