package validate

import (
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator/core"
)

// DeferStreamLabelRule is the incremental delivery draft's rule for the
// label argument of @defer and @stream (graphql-js 17 names it
// DeferStreamDirectiveLabelRule): a label is a static string, never a
// variable or null (graphql-js 17 and Hive Gateway refuse `label: null`
// though the argument's type is a nullable String), and no two of these directives in the document carry the same
// label, since a client tells the parts of an answer apart by their label.
// A directive in a fragment spread at several places is one directive:
// the walker enters a fragment once per spread, so the rule remembers
// the directives it has seen.
var DeferStreamLabelRule = core.Rule{Name: "DeferStreamLabel", RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
	seen := map[*ast.Directive]bool{}
	labels := map[string]*ast.Directive{}
	observers.OnDirective(func(_ *core.Walker, d *ast.Directive) {
		if d.Name != "defer" && d.Name != "stream" || seen[d] {
			return
		}
		seen[d] = true
		a := d.Arguments.ForName("label")
		if a == nil || a.Value == nil {
			return
		}
		switch a.Value.Kind {
		case ast.Variable, ast.NullValue:
			addError(core.Message(`Directive "%s"'s label argument must be a static string.`, d.Name), core.At(a.Value.Position))
		case ast.StringValue, ast.BlockValue:
			if first, dup := labels[a.Value.Raw]; dup {
				addError(core.Message("Defer/Stream directive label argument must be unique."), core.At(first.Position), core.At(d.Position))
				return
			}
			labels[a.Value.Raw] = d
		}
	})
}}
