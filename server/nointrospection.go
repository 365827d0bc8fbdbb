package server

import (
	"net/http"

	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/vektah/gqlparser/v2/ast"
)

// errIntrospectionDisabled answers an operation that selects __schema or
// __type while server.introspection is off: a clear refusal before
// execution (as Apollo Server's rule refuses it), instead of a null for
// the non-null __schema that nulls the whole answer.
var errIntrospectionDisabled = &reqerr.Error{Code: "INTROSPECTION_DISABLED",
	Message: "introspection is disabled (server.introspection): the operation selects __schema or __type", Status: http.StatusBadRequest}

// introspectingOperations returns the operations of a validated document
// that select __schema or __type anywhere, through fragments too; nil
// when none does. Each fragment is walked once per operation, so a
// document that spreads fragments many times over costs its size.
func introspectingOperations(doc *ast.QueryDocument) map[*ast.OperationDefinition]bool {
	var out map[*ast.OperationDefinition]bool
	for _, op := range doc.Operations {
		seen := map[string]bool{}
		if selectsIntrospection(op.SelectionSet, seen) {
			if out == nil {
				out = map[*ast.OperationDefinition]bool{}
			}
			out[op] = true
		}
	}
	return out
}

func selectsIntrospection(set ast.SelectionSet, seen map[string]bool) bool {
	for _, sel := range set {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" || selectsIntrospection(s.SelectionSet, seen) {
				return true
			}
		case *ast.InlineFragment:
			if selectsIntrospection(s.SelectionSet, seen) {
				return true
			}
		case *ast.FragmentSpread:
			if seen[s.Name] || s.Definition == nil {
				continue
			}
			seen[s.Name] = true
			if selectsIntrospection(s.Definition.SelectionSet, seen) {
				return true
			}
		}
	}
	return false
}
