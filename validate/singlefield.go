package validate

import (
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
)

// SingleFieldSubscriptionsRule replaces gqlparser's rule of that name
// (spec 5.2.3.1, Single Root Field) with graphql-js's reading of it, which
// the reference gateways run: the root fields of a subscription are
// grouped by response key, as CollectFields groups them (fragments whose
// type condition applies expanded, each named fragment once, a field
// under @skip(if: true) or @include(if: false) left out), and more than one
// key is an error located at every field of the keys after the first; a
// key whose first field is an introspection field is an error located at
// its fields. gqlparser groups by field name, so two aliases of one field
// passed validation (and over HTTP the request was refused for the
// transport, SUBSCRIPTIONS_NOT_SUPPORTED, where the references answer the
// validation error), and it counts skipped fields.
//
// A condition on a variable cannot be decided without the variables: such
// a field counts neither way here (graphql-js throws on it), and the
// subscription's plan is checked again once the variables are known.
var SingleFieldSubscriptionsRule = core.Rule{
	Name: "SingleFieldSubscriptions",
	RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
		observers.OnOperation(func(walker *core.Walker, op *ast.OperationDefinition) {
			root := walker.Schema.Subscription
			if root == nil || op.Operation != ast.Subscription {
				return
			}
			keys, fields := rootFields(walker.Schema, walker.Document, root, op.SelectionSet)
			name := "Anonymous Subscription"
			if op.Name != "" {
				name = `Subscription "` + op.Name + `"`
			}
			if len(keys) > 1 {
				opts := []core.ErrorOption{core.Message("%s must select only one top level field.", name)}
				for _, k := range keys[1:] {
					for _, f := range fields[k] {
						opts = append(opts, core.At(f.Position))
					}
				}
				addError(opts...)
			}
			for _, k := range keys {
				if len(fields[k]) == 0 || len(fields[k][0].Name) < 2 || fields[k][0].Name[:2] != "__" {
					continue
				}
				opts := []core.ErrorOption{core.Message("%s must not select an introspection top level field.", name)}
				for _, f := range fields[k] {
					opts = append(opts, core.At(f.Position))
				}
				addError(opts...)
			}
		})
	},
}

// rootFields groups the fields of set on the object type root by
// response key, as CollectFields does without variables (see
// SingleFieldSubscriptionsRule): the keys in the order they are met.
func rootFields(schema *ast.Schema, doc *ast.QueryDocument, root *ast.Definition, set ast.SelectionSet) ([]string, map[string][]*ast.Field) {
	applies := func(condition string) bool {
		if condition == "" || condition == root.Name {
			return true
		}
		def := schema.Types[condition]
		return def != nil && def.IsAbstractType() && slices.ContainsFunc(schema.GetPossibleTypes(def), func(d *ast.Definition) bool { return d.Name == root.Name })
	}
	keys, fields, _ := fieldsByKey(set, doc.Fragments.ForName, func(condition string, directives ast.DirectiveList) bool {
		return included(directives) && applies(condition)
	})
	return keys, fields
}

// included reports whether a selection with directives runs, as far as
// literal @skip and @include conditions tell: a condition on a variable
// (undecided) leaves it out.
func included(directives ast.DirectiveList) bool {
	for _, d := range directives {
		if d.Name != "skip" && d.Name != "include" {
			continue
		}
		a := d.Arguments.ForName("if")
		if a == nil || a.Value == nil || a.Value.Kind != ast.BooleanValue {
			return false
		}
		if (a.Value.Raw == "true") == (d.Name == "skip") {
			return false
		}
	}
	return true
}
