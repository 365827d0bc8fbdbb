package validate

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Locations moves and adds the locations of validation errors of doc,
// validated against schema, to where graphql-js, which the reference
// gateways run, puts them, prints values in messages as it does, and drops
// the repetitions it does not report (Unique). The document is walked once,
// and only when there are errors: a valid document costs nothing.
func Locations(schema *ast.Schema, doc *ast.QueryDocument, errs gqlerror.List) gqlerror.List {
	if doc == nil || len(errs) == 0 {
		return errs
	}
	p := collect(doc)
	p.variableDefinitionLocations(errs)
	p.argumentLocations(errs)
	p.conflictLocations(schema, errs)
	p.directiveLocations(errs) // after argumentLocations: see there
	p.valueMessages(errs)      // before tokenLocations: see there
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
	args      map[at]ast.ArgumentList // a field's or directive's name -> its arguments
	fields    map[at]*ast.Field       // each field, by its position
	keys      map[string][]*ast.Field // each field, by its response key
	atSign    map[at]at               // a directive's name -> its "@"
	firstTwin map[at]at               // a repeated directive's name -> the first one's of its list
	values    map[at]*ast.Value       // each value, by its position
	strs      map[at]at               // a string literal's position -> its opening quote's
	src       *source                 // the document's text (by source)
	spreads   map[at]int              // a spread's name or an inline fragment's "on" -> columns back to "..."

	doc        *ast.QueryDocument
	operations []*ast.OperationDefinition // the document's, in its order
	variables  map[at]variable            // each variable used in a selection set or a directive
	opSpreads  [][]string                 // per operation, the fragments it spreads itself
	fragSpread map[string][]string        // per fragment name, the fragments it spreads itself
	spreadBy   map[string][]string        // per fragment name, the fragments that spread it (built by usedBy)
	reachers   map[string][]int           // per fragment name, the operations that reach it (memo of usedBy)
}

// variable is a use of a variable: in the operation numbered op, or in
// the fragment named fragment (op is then -1).
type variable struct {
	value    *ast.Value
	op       int
	fragment string
}

// collect walks doc once and gathers its positions.
func collect(doc *ast.QueryDocument) *positions {
	p := &positions{
		args:       map[at]ast.ArgumentList{},
		fields:     map[at]*ast.Field{},
		keys:       map[string][]*ast.Field{},
		atSign:     map[at]at{},
		firstTwin:  map[at]at{},
		values:     map[at]*ast.Value{},
		strs:       map[at]at{},
		spreads:    map[at]int{},
		doc:        doc,
		operations: doc.Operations,
		variables:  map[at]variable{},
		opSpreads:  make([][]string, len(doc.Operations)),
		fragSpread: map[string][]string{},
	}
	for i, op := range doc.Operations {
		in := &definition{op: i}
		p.directives(op.Directives, in)
		for _, v := range op.VariableDefinitions {
			p.value(v.DefaultValue, nil)
			p.directives(v.Directives, nil) // constant: no variable is used there
		}
		p.selections(op.SelectionSet, in)
		p.opSpreads[i] = in.spreads
	}
	for _, f := range doc.Fragments {
		in := &definition{op: -1, fragment: f.Name}
		if _, dup := p.fragSpread[f.Name]; dup {
			// A fragment named twice: what spreads the name reaches
			// the first (doc.Fragments.ForName); this one's variables
			// are used nowhere.
			in = nil
		}
		p.directives(f.Directives, in)
		p.selections(f.SelectionSet, in)
		if in != nil {
			p.fragSpread[f.Name] = in.spreads
		}
	}
	return p
}

// definition is the operation or fragment being walked: its variables go
// to positions.variables, the fragments it spreads to spreads (each once).
// A nil *definition (a constant value, a fragment named twice) records
// neither.
type definition struct {
	op       int
	fragment string
	spreads  []string
	spread   map[string]bool
}

// spreadOf notes that the definition spreads the fragment named name.
func (d *definition) spreadOf(name string) {
	if d == nil || d.spread[name] {
		return
	}
	if d.spread == nil {
		d.spread = map[string]bool{}
	}
	d.spread[name] = true
	d.spreads = append(d.spreads, name)
}

// selections gathers the positions of ss, and its variables and spreads
// as in's.
func (p *positions) selections(ss ast.SelectionSet, in *definition) {
	for _, sel := range ss {
		switch s := sel.(type) {
		case *ast.Field:
			if s.Position != nil {
				p.fields[atOf(s.Position)] = s
			}
			key := s.Alias
			if key == "" {
				key = s.Name
			}
			p.keys[key] = append(p.keys[key], s)
			p.arguments(s.Position, s.Arguments, in)
			p.directives(s.Directives, in)
			p.selections(s.SelectionSet, in)
		case *ast.InlineFragment:
			p.spread(s.Position)
			p.directives(s.Directives, in)
			p.selections(s.SelectionSet, in)
		case *ast.FragmentSpread:
			p.spread(s.Position)
			p.directives(s.Directives, in)
			in.spreadOf(s.Name)
		}
	}
}

// directives gathers the positions of one list of directives: where each
// one's "@" is, which repeats an earlier one of the list, its arguments.
func (p *positions) directives(list ast.DirectiveList, in *definition) {
	var seen map[string]at
	for _, d := range list {
		if d.Position != nil {
			name := atOf(d.Position)
			if sign, ok := p.atSignOf(d.Position); ok {
				p.atSign[name] = sign
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
		p.arguments(d.Position, d.Arguments, in)
	}
}

// arguments gathers the arguments of the field or directive at pos and
// the positions of their values.
func (p *positions) arguments(pos *ast.Position, list ast.ArgumentList, in *definition) {
	if pos != nil && len(list) > 0 {
		p.args[atOf(pos)] = list
	}
	for _, a := range list {
		p.value(a.Value, in)
	}
}

// value gathers where the string literals of v start and the variables
// it uses, as in's.
func (p *positions) value(v *ast.Value, in *definition) {
	if v == nil {
		return
	}
	if v.Position != nil {
		p.values[atOf(v.Position)] = v
	}
	switch v.Kind {
	case ast.Variable:
		if in != nil && v.Position != nil {
			p.variables[atOf(v.Position)] = variable{value: v, op: in.op, fragment: in.fragment}
		}
	case ast.StringValue, ast.BlockValue:
		p.quote(v)
	}
	for _, c := range v.Children {
		p.value(c.Value, in)
	}
}

// quote notes where the opening quote of the string literal v is. Its
// position is, for gqlparser, its content's (one column after a quote,
// three after a block string's), and a block string's spanning lines has
// the line of its end; its Start is the quote's, in runes.
func (p *positions) quote(v *ast.Value) {
	q := v.Position
	src := p.source(q)
	if src == nil {
		return
	}
	quote := 1
	if v.Kind == ast.BlockValue {
		quote = 3
	}
	b, ok := src.byteOffset(q.Start)
	if !ok || b+quote > len(src.in) || strings.Count(src.in[b:b+quote], `"`) != quote {
		return
	}
	if v.Kind == ast.StringValue { // on one line
		if q.Column-quote >= 1 {
			p.strs[atOf(q)] = at{q.Line, q.Column - quote}
		}
		return
	}
	line, column := src.lineColumn(q.Start)
	p.strs[atOf(q)] = at{line, column}
}

// spread notes how far before pos, a fragment spread's name or an inline
// fragment's "on" (or its selection set), its "..." starts, when only
// spaces, tabs or commas on the same line are between.
func (p *positions) spread(pos *ast.Position) {
	src := p.source(pos)
	if src == nil {
		return
	}
	b, ok := src.byteOffset(pos.Start)
	if !ok {
		return
	}
	in := src.in
	n := 0
	for i := b - 1; i >= 0; i-- {
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

// atSignOf finds the line and column of the "@" before the directive
// name at pos, with only white space, line breaks and commas between.
func (p *positions) atSignOf(pos *ast.Position) (at, bool) {
	src := p.source(pos)
	if src == nil {
		return at{}, false
	}
	b, ok := src.byteOffset(pos.Start)
	if !ok {
		return at{}, false
	}
	in := src.in
	newline := false
	i := b - 1
	for ; i >= 0 && in[i] != '@'; i-- {
		switch in[i] {
		case ' ', '\t', ',':
		case '\n', '\r':
			newline = true
		default:
			return at{}, false
		}
	}
	if i < 0 {
		return at{}, false
	}
	if !newline {
		return at{pos.Line, pos.Column - (b - i)}, true
	}
	// Only ASCII between the "@" and the name: as many runes as bytes.
	line, column := src.lineColumn(pos.Start - (b - i))
	return at{line, column}, true
}

// source is the text of the document pos is in, indexed on first use.
func (p *positions) source(pos *ast.Position) *source {
	if pos == nil || pos.Src == nil {
		return nil
	}
	if p.src == nil || p.src.in != pos.Src.Input {
		p.src = newSource(pos.Src.Input)
	}
	return p.src
}

// use is a variable used in an operation, directly or through fragments.
type use struct {
	op    *ast.OperationDefinition
	value *ast.Value
}

// usesAt lists the uses of the variable at pos: by the operation that
// holds it, or by every operation that reaches the fragment that holds it
// (spreads it, or a fragment that does, ...), in document order. It
// costs the fragments' spreads, not their expansion into every operation
// (which is the operations times their fragments' variables).
func (p *positions) usesAt(pos at) []use {
	v, ok := p.variables[pos]
	if !ok {
		return nil
	}
	if v.op >= 0 {
		return []use{{op: p.operations[v.op], value: v.value}}
	}
	var out []use
	for _, i := range p.usedBy(v.fragment) {
		out = append(out, use{op: p.operations[i], value: v.value})
	}
	return out
}

// usedBy lists the operations, in document order, that reach the
// fragment named name.
func (p *positions) usedBy(name string) []int {
	if ops, ok := p.reachers[name]; ok {
		return ops
	}
	// The fragments that reach name: the spreads read backwards.
	if p.spreadBy == nil {
		p.spreadBy = map[string][]string{}
		for f, spreads := range p.fragSpread {
			for _, s := range spreads {
				p.spreadBy[s] = append(p.spreadBy[s], f)
			}
		}
	}
	reach := map[string]bool{name: true}
	for queue := []string{name}; len(queue) > 0; queue = queue[1:] {
		for _, f := range p.spreadBy[queue[0]] {
			if !reach[f] {
				reach[f] = true
				queue = append(queue, f)
			}
		}
	}
	var ops []int
	for i, spreads := range p.opSpreads {
		for _, s := range spreads {
			if reach[s] {
				ops = append(ops, i)
				break
			}
		}
	}
	if p.reachers == nil {
		p.reachers = map[string][]int{}
	}
	p.reachers[name] = ops
	return ops
}
