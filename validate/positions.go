package validate

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Locations moves and adds the locations of validation errors to where
// graphql-js, which the reference gateways run, puts them, and drops the
// repetitions it does not report (Unique). The document is walked once,
// and only when there are errors: a valid document costs nothing.
func Locations(doc *ast.QueryDocument, errs gqlerror.List) gqlerror.List {
	if doc == nil || len(errs) == 0 {
		return errs
	}
	p := collect(doc)
	p.variableDefinitionLocations(errs)
	p.argumentLocations(errs)
	p.directiveLocations(errs) // after argumentLocations: see there
	p.tokenLocations(errs)
	return Unique(doc, errs)
}

// at is a line and column of the document, as gqlparser's positions and
// errors' locations give them.
type at struct{ line, column int }

// atOf is the line and column of p.
func atOf(p *ast.Position) at { return at{p.Line, p.Column} }

// positions is what the location post-processors read of a document,
// gathered by collect in one walk of its definitions: every operation and
// every fragment once, in document order.
type positions struct {
	args       map[at]ast.ArgumentList // a field's or directive's name -> its arguments
	atSign     map[at]at               // a directive's name -> its "@"
	firstTwin  map[at]at               // a repeated directive's name -> the first one's of its list
	strs       map[at]int              // a string literal's content -> columns back to its quote
	spreads    map[at]int              // a spread's name or an inline fragment's "on" -> columns back to "..."
	operations []definitionSteps       // per operation of the document, in its order
	fragments  map[string][]step       // per fragment name (the first fragment of that name)
}

// definitionSteps is an operation with the variables it uses and the
// fragments it spreads, in document order.
type definitionSteps struct {
	op    *ast.OperationDefinition
	steps []step
}

// step is a variable used in a definition (value set) or a fragment it
// spreads (spread set), in the order walkUses expands them.
type step struct {
	value  *ast.Value
	spread string
}

// collect walks doc once and gathers its positions.
func collect(doc *ast.QueryDocument) *positions {
	p := &positions{
		args:      map[at]ast.ArgumentList{},
		atSign:    map[at]at{},
		firstTwin: map[at]at{},
		strs:      map[at]int{},
		spreads:   map[at]int{},
		fragments: map[string][]step{},
	}
	for _, op := range doc.Operations {
		var steps []step
		p.directives(op.Directives, &steps)
		for _, v := range op.VariableDefinitions {
			p.value(v.DefaultValue, nil)
			p.directives(v.Directives, nil) // constant: no variable is used there
		}
		p.selections(op.SelectionSet, &steps)
		p.operations = append(p.operations, definitionSteps{op: op, steps: steps})
	}
	for _, f := range doc.Fragments {
		var steps []step
		p.directives(f.Directives, &steps)
		p.selections(f.SelectionSet, &steps)
		if _, dup := p.fragments[f.Name]; !dup { // as doc.Fragments.ForName finds it
			p.fragments[f.Name] = steps
		}
	}
	return p
}

// selections gathers the positions of ss and appends its variables and
// spreads to steps.
func (p *positions) selections(ss ast.SelectionSet, steps *[]step) {
	for _, sel := range ss {
		switch s := sel.(type) {
		case *ast.Field:
			p.arguments(s.Position, s.Arguments, steps)
			p.directives(s.Directives, steps)
			p.selections(s.SelectionSet, steps)
		case *ast.InlineFragment:
			p.spread(s.Position)
			p.directives(s.Directives, steps)
			p.selections(s.SelectionSet, steps)
		case *ast.FragmentSpread:
			p.spread(s.Position)
			p.directives(s.Directives, steps)
			*steps = append(*steps, step{spread: s.Name})
		}
	}
}

// directives gathers the positions of one list of directives: where each
// one's "@" is, which repeats an earlier one of the list, its arguments.
func (p *positions) directives(list ast.DirectiveList, steps *[]step) {
	var seen map[string]at
	for _, d := range list {
		if d.Position != nil {
			name := atOf(d.Position)
			if line, col, ok := atSignOf(d.Position); ok {
				p.atSign[name] = at{line, col}
			}
			if first, dup := seen[d.Name]; dup {
				p.firstTwin[name] = first
			} else {
				if seen == nil {
					seen = map[string]at{}
				}
				seen[d.Name] = name
			}
		}
		p.arguments(d.Position, d.Arguments, steps)
	}
}

// arguments gathers the arguments of the field or directive at pos and
// the positions of their values.
func (p *positions) arguments(pos *ast.Position, list ast.ArgumentList, steps *[]step) {
	if pos != nil && len(list) > 0 {
		p.args[atOf(pos)] = list
	}
	for _, a := range list {
		p.value(a.Value, steps)
	}
}

// value gathers where the string literals of v start and appends the
// variables it uses to steps (nil: a constant value).
func (p *positions) value(v *ast.Value, steps *[]step) {
	if v == nil {
		return
	}
	switch v.Kind {
	case ast.Variable:
		if steps != nil {
			*steps = append(*steps, step{value: v})
		}
	case ast.StringValue, ast.BlockValue:
		quote := 1
		if v.Kind == ast.BlockValue {
			quote = 3
		}
		// gqlparser's Start is the quote's offset, its Column the
		// content's.
		if q := v.Position; q != nil && q.Src != nil && q.Start >= 0 && q.Start+quote <= len(q.Src.Input) &&
			strings.Count(q.Src.Input[q.Start:q.Start+quote], `"`) == quote && q.Column-quote >= 1 {
			p.strs[atOf(q)] = quote
		}
	}
	for _, c := range v.Children {
		p.value(c.Value, steps)
	}
}

// spread notes how far before pos, a fragment spread's name or an inline
// fragment's "on" (or its selection set), its "..." starts, when only
// spaces, tabs or commas on the same line are between.
func (p *positions) spread(pos *ast.Position) {
	if pos == nil || pos.Src == nil {
		return
	}
	in := pos.Src.Input
	n := 0
	for i := pos.Start - 1; i >= 0 && i < len(in); i-- {
		switch in[i] {
		case ' ', '\t', ',':
			n++
			continue
		}
		if i >= 2 && pos.Column-(n+3) >= 1 && in[i-2:i+1] == "..." {
			p.spreads[atOf(pos)] = n + 3
		}
		return
	}
}

// use is a variable used in an operation, directly or through fragments.
type use struct {
	op    *ast.OperationDefinition
	value *ast.Value
}

// uses lists the variables every operation uses, operations in document
// order, each fragment expanded where an operation first spreads it.
func (p *positions) uses() []use {
	var out []use
	for _, d := range p.operations {
		seen := map[string]bool{}
		var expand func(steps []step)
		expand = func(steps []step) {
			for _, s := range steps {
				if s.value != nil {
					out = append(out, use{op: d.op, value: s.value})
					continue
				}
				if seen[s.spread] {
					continue
				}
				seen[s.spread] = true
				expand(p.fragments[s.spread])
			}
		}
		expand(d.steps)
	}
	return out
}
