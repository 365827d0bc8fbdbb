package validate

import (
	"fmt"
	"regexp"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// knownArgumentsRule is the name gqlparser gives its rule for arguments
// a field or directive does not define (spec 5.4.1).
const knownArgumentsRule = "KnownArgumentNames"

// unknownArgument reads the argument's name from that rule's message.
var unknownArgument = regexp.MustCompile(`^Unknown argument "([_A-Za-z][_0-9A-Za-z]*)" on (?:field|directive) `)

// argumentLocations locates each error of KnownArgumentNames at the
// unknown argument, as graphql-js, which the reference gateways run,
// does; gqlparser locates it at the field or directive. Run it before
// directiveLocations, which moves what is left at a directive's name to
// its "@".
func (p *positions) argumentLocations(errs gqlerror.List) {
	for _, e := range errs {
		if e == nil || e.Rule != knownArgumentsRule || len(e.Locations) != 1 {
			continue
		}
		m := unknownArgument.FindStringSubmatch(e.Message)
		if m == nil {
			continue
		}
		if a := p.args[at{e.Locations[0].Line, e.Locations[0].Column}].ForName(m[1]); a != nil && a.Position != nil {
			e.Locations[0] = gqlerror.Location{Line: a.Position.Line, Column: a.Position.Column}
		}
	}
}

// hasRule reports whether one of errs comes from the rule named rule.
func hasRule(errs gqlerror.List, rule string) bool {
	for _, e := range errs {
		if e != nil && e.Rule == rule {
			return true
		}
	}
	return false
}

// Unique returns errs without repetitions: an error of the same rule,
// message and locations as an earlier one (gqlparser walks a fragment's
// selections once per spread and reports a problem in it each time), and
// a NoUnusedVariables error for a repeated definition of a variable the
// operation uses (gqlparser binds uses to the first definition only).
// graphql-js, which the reference gateways run, reports neither.
func Unique(doc *ast.QueryDocument, errs gqlerror.List) gqlerror.List {
	if len(errs) < 2 {
		return errs
	}
	usedTwin := map[at]bool{} // a definition whose name another, used, definition has
	if doc != nil && hasRule(errs, "NoUnusedVariables") {
		for _, op := range doc.Operations {
			for _, d := range op.VariableDefinitions {
				if d.Used || d.Position == nil {
					continue
				}
				for _, o := range op.VariableDefinitions {
					if o != d && o.Used && o.Variable == d.Variable {
						usedTwin[at{d.Position.Line, d.Position.Column}] = true
					}
				}
			}
		}
	}
	seen := make(map[string]bool, len(errs))
	out := errs[:0:0]
	for _, e := range errs {
		if e == nil {
			continue
		}
		if e.Rule == "NoUnusedVariables" && len(e.Locations) == 1 && usedTwin[at{e.Locations[0].Line, e.Locations[0].Column}] {
			continue
		}
		key := fmt.Sprint(e.Rule, "\x00", e.Message, "\x00", e.Locations)
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, e)
	}
	return out
}
