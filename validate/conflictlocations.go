package validate

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// overlappingRule is the name gqlparser gives its rule for fields of one
// response key that cannot merge (spec 5.3.2).
const overlappingRule = "OverlappingFieldsCanBeMerged"

// conflictMessage reads the response key and the reason from that rule's
// message (the same words as graphql-js's).
var conflictMessage = regexp.MustCompile(`(?s)^Fields "([_A-Za-z][_0-9A-Za-z]*)" conflict because (.*)\. Use different aliases on the fields to fetch both if this was intentional\.$`)

// conflictLocations locates each error of OverlappingFieldsCanBeMerged as
// graphql-js, which the reference gateways run, does: at both fields of
// the conflicting pair, each followed by its subfields that conflict
// (`{ me { id: name } me { id } }`: both "me" and both "id", four
// locations); gqlparser locates it at the second field alone. The first
// field is not in the error: it is the field of the same response key
// whose conflict with the second gives the message's very reason (in
// document order, those before the second first), found by comparing the
// two as the rule does. Where none gives it, the location stays.
func (p *positions) conflictLocations(schema *ast.Schema, errs gqlerror.List) {
	if schema == nil {
		return
	}
	used := map[[2]*ast.Field]bool{}           // pairs an error was located at: a repeated error takes the next
	c := conflicts{schema: schema, doc: p.doc} // one budget for every error
	for _, e := range errs {
		if e == nil || e.Rule != overlappingRule || len(e.Locations) != 1 {
			continue
		}
		m := conflictMessage.FindStringSubmatch(e.Message)
		if m == nil {
			continue
		}
		b := p.fields[at{e.Locations[0].Line, e.Locations[0].Column}]
		if b == nil {
			continue
		}
		for _, a := range p.byKey(m[1], b) {
			if used[[2]*ast.Field{a, b}] {
				continue
			}
			reason, nodesA, nodesB, ok := c.find(false, a, b, 0)
			if !ok || reason != m[2] {
				continue
			}
			used[[2]*ast.Field{a, b}] = true
			var locs []gqlerror.Location
			for _, f := range append(nodesA, nodesB...) {
				if f.Position == nil {
					locs = nil
					break
				}
				locs = append(locs, gqlerror.Location{Line: f.Position.Line, Column: f.Position.Column})
			}
			if locs != nil {
				e.Locations = locs
			}
			break
		}
	}
}

// byKey lists the fields of response key key other than b: those before b
// in the document first, each group in document order.
func (p *positions) byKey(key string, b *ast.Field) []*ast.Field {
	var before, after []*ast.Field
	for _, f := range p.keys[key] {
		switch {
		case f == b:
		case f.Position != nil && b.Position != nil && (f.Position.Line < b.Position.Line ||
			f.Position.Line == b.Position.Line && f.Position.Column < b.Position.Column):
			before = append(before, f)
		default:
			after = append(after, f)
		}
	}
	return append(before, after...)
}

// conflicts compares fields as OverlappingFieldsCanBeMerged does, to
// rebuild the pair of an error it reported.
type conflicts struct {
	schema *ast.Schema
	doc    *ast.QueryDocument
	// steps counts the comparisons made and the fields collected for
	// them: past maxConflictSteps no more, and the errors not yet located
	// keep gqlparser's location (a hostile document of thousands of
	// fields under one key at many positions costs no more than that).
	steps int
}

// maxConflictSteps bounds the work of conflictLocations for one document.
const maxConflictSteps = 100_000

// maxConflictDepth bounds the nesting of subfields compared.
const maxConflictDepth = 32

// find returns why a and b conflict, in the rule's words, and the fields
// graphql-js names for each side: the field, then its conflicting
// subfields'; ok is false when they do not conflict.
func (c *conflicts) find(exclusive bool, a, b *ast.Field, depth int) (reason string, nodesA, nodesB []*ast.Field, ok bool) {
	c.steps++
	if c.steps > maxConflictSteps || depth > maxConflictDepth || a.ObjectDefinition == nil || b.ObjectDefinition == nil {
		return "", nil, nil, false
	}
	exclusive = exclusive || a.ObjectDefinition.Name != b.ObjectDefinition.Name &&
		a.ObjectDefinition.Kind == ast.Object && b.ObjectDefinition.Kind == ast.Object &&
		a.Definition != nil && b.Definition != nil
	leaf := func(r string) (string, []*ast.Field, []*ast.Field, bool) {
		return r, []*ast.Field{a}, []*ast.Field{b}, true
	}
	if !exclusive {
		if a.Name != b.Name {
			return leaf(fmt.Sprintf(`"%s" and "%s" are different fields`, a.Name, b.Name))
		}
		if !sameArguments(a.Arguments, b.Arguments) {
			return leaf("they have differing arguments")
		}
	}
	if a.Definition != nil && b.Definition != nil && c.typesConflict(a.Definition.Type, b.Definition.Type) {
		return leaf(fmt.Sprintf(`they return conflicting types "%s" and "%s"`, a.Definition.Type.String(), b.Definition.Type.String()))
	}
	keysA, fieldsA, n := fieldsByKey(a.SelectionSet, c.doc.Fragments.ForName, nil)
	_, fieldsB, m := fieldsByKey(b.SelectionSet, c.doc.Fragments.ForName, nil)
	if c.steps += n + m; c.steps > maxConflictSteps {
		return "", nil, nil, false
	}
	var reasons []string
	nodesA, nodesB = []*ast.Field{a}, []*ast.Field{b}
	for _, k := range keysA {
		for _, fa := range fieldsA[k] {
			for _, fb := range fieldsB[k] {
				r, na, nb, conflict := c.find(exclusive, fa, fb, depth+1)
				if !conflict {
					continue
				}
				reasons = append(reasons, `subfields "`+k+`" conflict because `+r)
				nodesA = append(nodesA, na...)
				nodesB = append(nodesB, nb...)
			}
		}
	}
	if len(reasons) == 0 {
		return "", nil, nil, false
	}
	return strings.Join(reasons, " and "), nodesA, nodesB, true
}

// typesConflict reports whether fields of types t1 and t2 cannot merge:
// lists and non-null wrappers differ, or a leaf type differs.
func (c *conflicts) typesConflict(t1, t2 *ast.Type) bool {
	if t1.NonNull != t2.NonNull || (t1.Elem == nil) != (t2.Elem == nil) {
		return true
	}
	if t1.Elem != nil {
		return c.typesConflict(t1.Elem, t2.Elem)
	}
	d1, d2 := c.schema.Types[t1.NamedType], c.schema.Types[t2.NamedType]
	if d1 == nil || d2 == nil {
		return false
	}
	if d1.IsLeafType() || d2.IsLeafType() {
		return d1.Name != d2.Name
	}
	return false
}

// sameArguments reports whether two argument lists are the same, in any
// order.
func sameArguments(a, b ast.ArgumentList) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		y := b.ForName(x.Name)
		if y == nil || !sameValue(x.Value, y.Value) {
			return false
		}
	}
	return true
}

// sameValue reports whether two values are written alike (an object's
// fields in any order).
func sameValue(a, b *ast.Value) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.Kind != b.Kind || a.Raw != b.Raw || len(a.Children) != len(b.Children) {
		return false
	}
	ca, cb := a.Children, b.Children
	if a.Kind == ast.ObjectValue {
		ca, cb = sortedByName(ca), sortedByName(cb)
	}
	for i := range ca {
		if ca[i].Name != cb[i].Name || !sameValue(ca[i].Value, cb[i].Value) {
			return false
		}
	}
	return true
}

// sortedByName is a copy of list sorted by name.
func sortedByName(list ast.ChildValueList) ast.ChildValueList {
	out := append(ast.ChildValueList(nil), list...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
