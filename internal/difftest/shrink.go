package difftest

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/opgen"
)

// Shrink minimizes op while still(op) holds: it keeps only the operation
// that runs, then drops selections, directives and optional arguments one
// at a time, keeping each edit after which the document still validates
// against schema and still reports true. It calls still at most budget
// times.
func Shrink(schema *ast.Schema, op opgen.Operation, still func(opgen.Operation) bool, budget int) opgen.Operation {
	if only, ok := tidy(schema, op, func(*ast.QueryDocument) bool { return true }); ok && only.Query != op.Query {
		budget--
		if still(only) {
			op = only
		}
	}
	for budget > 0 {
		progress := false
		for k := 0; budget > 0; k++ {
			cand, ok, exhausted := edit(schema, op, k)
			if exhausted {
				break
			}
			if !ok {
				continue
			}
			budget--
			if still(cand) {
				op, progress = cand, true
				k--
			}
		}
		if !progress {
			break
		}
	}
	return op
}

// edit applies the k-th possible edit to op. exhausted says there is no
// k-th edit; ok is false when the edit gives an invalid document.
func edit(schema *ast.Schema, op opgen.Operation, k int) (out opgen.Operation, ok, exhausted bool) {
	applied := false
	out, ok = tidy(schema, op, func(doc *ast.QueryDocument) bool {
		n := 0
		var visit func(set *ast.SelectionSet)
		removeDirective := func(list *ast.DirectiveList) bool {
			for i := range *list {
				if n == k {
					*list = append((*list)[:i:i], (*list)[i+1:]...)
					return true
				}
				n++
			}
			return false
		}
		visit = func(set *ast.SelectionSet) {
			for i := 0; i < len(*set) && !applied; i++ {
				if n == k {
					*set = append((*set)[:i:i], (*set)[i+1:]...)
					applied = true
					return
				}
				n++
				switch s := (*set)[i].(type) {
				case *ast.Field:
					if applied = removeDirective(&s.Directives); applied {
						return
					}
					for j := range s.Arguments {
						if n == k {
							s.Arguments = append(s.Arguments[:j:j], s.Arguments[j+1:]...)
							applied = true
							return
						}
						n++
					}
					visit(&s.SelectionSet)
				case *ast.InlineFragment:
					if applied = removeDirective(&s.Directives); applied {
						return
					}
					if s.TypeCondition != "" && n == k {
						// Hoist the fragment's selections into the parent.
						rest := append(ast.SelectionSet{}, (*set)[i+1:]...)
						*set = append(append((*set)[:i:i], s.SelectionSet...), rest...)
						applied = true
						return
					}
					if s.TypeCondition != "" {
						n++
					}
					visit(&s.SelectionSet)
				case *ast.FragmentSpread:
					if applied = removeDirective(&s.Directives); applied {
						return
					}
				}
			}
		}
		for _, o := range doc.Operations {
			if !applied {
				visit(&o.SelectionSet)
			}
		}
		for _, f := range doc.Fragments {
			if !applied {
				visit(&f.SelectionSet)
			}
		}
		return applied
	})
	if !applied {
		return op, false, true
	}
	return out, ok, false
}

// tidy parses op, applies change, keeps only the operation that runs and
// what it uses (fragments, variables and their values), and validates.
func tidy(schema *ast.Schema, op opgen.Operation, change func(*ast.QueryDocument) bool) (opgen.Operation, bool) {
	doc, err := parser.ParseQuery(&ast.Source{Input: op.Query})
	if err != nil {
		return op, false
	}
	if !change(doc) {
		return op, false
	}
	var run *ast.OperationDefinition
	if op.OperationName == "" {
		if len(doc.Operations) != 1 {
			return op, false
		}
		run = doc.Operations[0]
	} else if run = doc.Operations.ForName(op.OperationName); run == nil {
		return op, false
	}
	doc.Operations = ast.OperationList{run}
	used := map[string]bool{} // the fragments run spreads
	vars := map[string]bool{}
	directiveVariables(run.Directives, vars)
	usedVariables(doc, run.SelectionSet, vars, used)
	var frags ast.FragmentDefinitionList
	for _, f := range doc.Fragments {
		if used[f.Name] {
			frags = append(frags, f)
		}
	}
	doc.Fragments = frags
	var defs ast.VariableDefinitionList
	values := map[string]any{}
	for _, d := range run.VariableDefinitions {
		if vars[d.Variable] {
			defs = append(defs, d)
			if v, ok := op.Variables[d.Variable]; ok {
				values[d.Variable] = v
			}
		}
	}
	run.VariableDefinitions = defs
	out := opgen.Operation{Query: opgen.Print(doc), OperationName: op.OperationName, Variables: values}
	if opgen.Validate(schema, out) != nil {
		return op, false
	}
	return out, true
}
