package validate

import (
	"regexp"
	"slices"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// allowedPositionRule is the name gqlparser gives its rule for variables
// used where their type does not fit (spec 5.8.5).
const allowedPositionRule = "VariablesInAllowedPosition"

// undefinedRule is the name gqlparser gives its rule for variables an
// operation does not define (spec 5.8.3).
const undefinedRule = "NoUndefinedVariables"

// undefinedMessage reads the variable and the operation's name, if any,
// from that rule's message.
var undefinedMessage = regexp.MustCompile(`^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" is not defined(?: by operation "([^"]*)")?\.$`)

// allowedPositionMessage reads the variable and its declared type from
// that rule's message.
var allowedPositionMessage = regexp.MustCompile(`^Variable "\$([_A-Za-z][_0-9A-Za-z]*)" of type "([^"]*)" used in position`)

// variableDefinitionLocations adds the locations graphql-js names and
// gqlparser does not to errors about variables. It puts the location of
// the variable's definition first in each error of gqlparser's
// VariablesInAllowedPosition rule that names only the variable's use:
// graphql-js, which the reference gateways run, names both (definition,
// then use), and a client's editor marks both. The definition is that of
// the operation whose walk reached the use: the operations are tried in
// document order, a fragment's use once per operation that spreads it, as
// the rule reports it. And it appends the operation's location to each
// error of NoUndefinedVariables, after the use's, and locates a variable
// defined twice at both names, as graphql-js does.
func (p *positions) variableDefinitionLocations(errs gqlerror.List) {
	if !slices.ContainsFunc(errs, func(e *gqlerror.Error) bool {
		return e != nil && (e.Rule == allowedPositionRule || e.Rule == undefinedRule || e.Rule == uniqueVariablesRule)
	}) {
		return
	}
	taken := map[use]bool{}
	for _, e := range errs {
		if e == nil || len(e.Locations) != 1 {
			continue
		}
		if e.Rule == undefinedRule {
			undefinedLocation(e, p.usesAt(at{e.Locations[0].Line, e.Locations[0].Column}), taken)
			continue
		}
		if e.Rule == uniqueVariablesRule {
			p.duplicateLocations(e)
			continue
		}
		if e.Rule != allowedPositionRule {
			continue
		}
		m := allowedPositionMessage.FindStringSubmatch(e.Message)
		if m == nil {
			continue
		}
		for _, u := range p.usesAt(at{e.Locations[0].Line, e.Locations[0].Column}) {
			if taken[u] || u.value.Raw != m[1] {
				continue
			}
			def := u.op.VariableDefinitions.ForName(m[1])
			if def == nil || def.Position == nil || def.Type.String() != m[2] {
				continue
			}
			taken[u] = true
			e.Locations = append([]gqlerror.Location{{Line: def.Position.Line, Column: def.Position.Column}}, e.Locations...)
			break
		}
	}
}

// uniqueVariablesRule is the name gqlparser gives its rule for a
// variable defined twice by one operation (spec 5.8.1).
const uniqueVariablesRule = "UniqueVariableNames"

// duplicateLocations locates e, an error of UniqueVariableNames at the
// repeated definition's "$", at the names of every definition of that
// variable in its operation, as graphql-js does.
func (p *positions) duplicateLocations(e *gqlerror.Error) {
	at := e.Locations[0]
	for _, op := range p.operations {
		var repeated *ast.VariableDefinition
		for _, d := range op.VariableDefinitions {
			if d.Position != nil && d.Position.Line == at.Line && d.Position.Column == at.Column {
				repeated = d
			}
		}
		if repeated == nil {
			continue
		}
		var locs []gqlerror.Location
		for _, d := range op.VariableDefinitions {
			if d.Variable != repeated.Variable {
				continue
			}
			pos := d.Position
			src := p.source(pos)
			if src == nil {
				return
			}
			b, ok := src.byteOffset(pos.Start)
			// The name follows the "$" directly in all but odd spellings
			// ("$ v"), which keep gqlparser's location.
			if !ok || b+1+len(d.Variable) > len(src.in) ||
				src.in[b] != '$' || src.in[b+1:b+1+len(d.Variable)] != d.Variable {
				return
			}
			locs = append(locs, gqlerror.Location{Line: pos.Line, Column: pos.Column + 1})
		}
		e.Locations = locs
		return
	}
}

// undefinedLocation appends to e, an error of NoUndefinedVariables, the
// location of the operation that uses the variable without defining it.
func undefinedLocation(e *gqlerror.Error, uses []use, taken map[use]bool) {
	m := undefinedMessage.FindStringSubmatch(e.Message)
	if m == nil {
		return
	}
	for _, u := range uses {
		if taken[u] || u.value.Raw != m[1] || u.op.Name != m[2] || u.op.Position == nil ||
			u.op.VariableDefinitions.ForName(m[1]) != nil {
			continue
		}
		taken[u] = true
		e.Locations = append(e.Locations, gqlerror.Location{Line: u.op.Position.Line, Column: u.op.Position.Column})
		return
	}
}
