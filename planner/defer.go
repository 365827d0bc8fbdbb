package planner

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Defer pass: @defer(if:, label:) on inline fragments and fragment
// spreads of a query.
//
// Normalize records every @defer in force as a Defer (one per fragment
// and response path) and gives each Field the Defer it is delivered with:
// nil when some selection of the field is not deferred (a field present
// in the primary part and in a deferred one is sent once, with the
// primary). Plan then splits the fetches of the unsplit plan: a fetch is
// primary when it fetches a primary field or when a primary fetch depends
// on it; every other fetch is deferred. Deferred entity fetches read their
// representations from what the primary fetches wrote, so nothing the
// primary fetched is fetched again. Plan.Root stays the unsplit plan: a
// client that does not accept incremental delivery gets the operation
// answered as one response from it.

// MaxDefers is the most @defer fragments of one operation that are
// honoured; further ones are delivered with their enclosing part (the
// spec lets a server ignore @defer), so a document with thousands of
// @defer costs what the same document without them costs.
const MaxDefers = 32

// Defer is one @defer fragment at one response path.
type Defer struct {
	// ID numbers the defers of an operation in document order.
	ID int
	// Label is the label argument, "" when there is none.
	Label string
	// Path is the response path of the selection set the fragment is in.
	Path []PathKey
	// Parent is the enclosing @defer, nil when the fragment is in the
	// primary part.
	Parent *Defer
}

// PathKey is one step of a Defer's path: the field's response key and
// the data key its value is merged under.
type PathKey struct {
	ResponseKey string
	DataKey     string
	List        bool
}

// PathString is the path as Apollo's plans print it ("a/b/@").
func (d *Defer) PathString() string {
	parts := make([]string, 0, len(d.Path))
	for _, p := range d.Path {
		parts = append(parts, p.ResponseKey)
		if p.List {
			parts = append(parts, "@")
		}
	}
	return strings.Join(parts, "/")
}

// ctxSet is a selection set and the @defer it is selected under.
type ctxSet struct {
	set ast.SelectionSet
	in  *Defer
}

type deferKey struct {
	node any
	path string
}

type deferCollector struct {
	index map[deferKey]*Defer
	order []*Defer
}

// deferOf returns the @defer a fragment's selections are delivered with:
// a new Defer when the fragment has @defer in force, else in.
func (n *normalizer) deferOf(node any, dirs ast.DirectiveList, path []PathKey, in *Defer) *Defer {
	if n.defers == nil {
		return in
	}
	d := dirs.ForName("defer")
	if d == nil || !n.deferIf(d) {
		return in
	}
	var sb strings.Builder
	for _, p := range path {
		sb.WriteString(p.ResponseKey)
		sb.WriteByte(0)
	}
	key := deferKey{node: node, path: sb.String()}
	if got := n.defers.index[key]; got != nil {
		return got
	}
	if len(n.defers.order) >= MaxDefers {
		return in
	}
	out := &Defer{ID: len(n.defers.order), Path: path, Parent: in}
	if a := d.Arguments.ForName("label"); a != nil && a.Value != nil && a.Value.Kind == ast.StringValue {
		out.Label = a.Value.Raw
	}
	n.defers.index[key] = out
	n.defers.order = append(n.defers.order, out)
	return out
}

// deferIf evaluates @defer's if argument, true by default.
func (n *normalizer) deferIf(d *ast.Directive) bool {
	a := d.Arguments.ForName("if")
	if a == nil || a.Value == nil {
		return true
	}
	if a.Value.Kind == ast.Variable {
		v, ok := n.vars[a.Value.Raw].(bool)
		return !ok || v
	}
	return a.Value.Raw != "false"
}

// firstDelivered is the Defer a field selected under defers is delivered
// with: nil (primary) when one selection is not deferred, else the
// outermost one.
func firstDelivered(defers []*Defer) *Defer {
	var best *Defer
	bestDepth := 0
	for _, d := range defers {
		if d == nil {
			return nil
		}
		depth := 0
		for p := d.Parent; p != nil; p = p.Parent {
			depth++
		}
		if best == nil || depth < bestDepth {
			best, bestDepth = d, depth
		}
	}
	return best
}

// DeferPlan is the split of a query with @defer: Primary runs first and
// answers PrimaryOperation; Deferred (nil when the primary fetches already
// fetch everything) runs next, on the primary's data, and each Defer's
// payload renders View(d, ...) at d.Path.
type DeferPlan struct {
	Primary          Node
	Deferred         Node
	PrimaryOperation *Operation
	Defers           []*Defer
	// Denied is Plan.Denied for the selections of the parts.
	Denied map[*Field]bool
	views  map[*Defer]map[*SelectionSet]*SelectionSet
}

// View returns the selection delivered with d at the selection set sel
// found at d.Path; nil when d delivers nothing there.
func (p *DeferPlan) View(d *Defer, sel *SelectionSet) *SelectionSet {
	return p.views[d][sel]
}

// splitDefer builds p.Defer for an operation with @defer.
func (b *builder) splitDefer(p *Plan) {
	render := p.Operation
	if len(render.Defers) == 0 || render.Kind != ast.Query {
		return
	}
	dp := &DeferPlan{Defers: render.Defers, views: map[*Defer]map[*SelectionSet]*SelectionSet{}, Denied: map[*Field]bool{}}
	for f := range p.Denied {
		dp.Denied[f] = true
	}
	prim := *render
	prim.Selection = view(render.Selection, nil, dp.Denied)
	dp.PrimaryOperation = &prim
	for _, d := range render.Defers {
		m := map[*SelectionSet]*SelectionSet{}
		for _, sel := range positions(render.Selection, d.Path) {
			if v := view(sel, d, dp.Denied); v != nil {
				m[sel] = v
			}
		}
		dp.views[d] = m
	}
	// Fetches: primary when they fetch a primary client field or a
	// primary fetch depends on them.
	primary := map[*group]bool{}
	var mark func(g *group)
	mark = func(g *group) {
		if primary[g] {
			return
		}
		primary[g] = true
		for _, d := range g.deps {
			mark(d)
		}
	}
	for _, g := range b.groups {
		// A fetch merged from several paths (merge.go) keeps the client
		// fields of one of them only: it stays primary, as one of its
		// paths may be.
		if len(g.paths) > 1 || hasPrimaryField(g.sel) {
			mark(g)
		}
	}
	keep := map[*Fetch]bool{}
	for g, f := range b.fetchOf {
		keep[f] = primary[g]
	}
	dp.Primary = prune(p.Root, func(f *Fetch) bool { return keep[f] })
	dp.Deferred = prune(p.Root, func(f *Fetch) bool { return !keep[f] })
	p.Defer = dp
}

// hasPrimaryField reports whether a subgraph selection answers a client
// field of the primary part.
func hasPrimaryField(s *subSel) bool {
	if s == nil {
		return false
	}
	for _, ts := range s.types {
		for _, f := range ts.fields {
			if f.field != nil && f.field.Defer == nil && !f.field.internal {
				return true
			}
			if f.field == nil || f.field.Defer == nil {
				// Keys, requirements and fragments: look inside.
				if hasPrimaryField(f.sub) {
					return true
				}
			}
		}
	}
	return false
}

// positions returns the selection sets at path (several when it crosses
// an abstract position).
func positions(sel *SelectionSet, path []PathKey) []*SelectionSet {
	if sel == nil {
		return nil
	}
	if len(path) == 0 {
		return []*SelectionSet{sel}
	}
	var out []*SelectionSet
	for _, tf := range sel.ByType {
		for _, f := range tf.Fields {
			if f.ResponseKey == path[0].ResponseKey && f.Selection != nil {
				out = append(out, positions(f.Selection, path[1:])...)
			}
		}
	}
	return out
}

// view is the part of sel delivered with d (nil: the primary part): the
// fields delivered with d, and the fields that lead to some; nil when
// there is none.
func view(sel *SelectionSet, d *Defer, denied map[*Field]bool) *SelectionSet {
	out := &SelectionSet{Type: sel.Type, Abstract: sel.Abstract}
	any := false
	for _, tf := range sel.ByType {
		// Fields is never nil: the renderer reads a nil list at an
		// abstract position as a type the client cannot see.
		ntf := &TypeFields{Type: tf.Type, Fields: []*Field{}}
		for _, f := range tf.Fields {
			if f.Defer == d {
				if f.Selection == nil {
					ntf.Fields = append(ntf.Fields, f)
					continue
				}
				sub := view(f.Selection, d, denied)
				if sub == nil {
					sub = &SelectionSet{Type: f.Selection.Type, Abstract: f.Selection.Abstract}
					for _, t := range f.Selection.ByType {
						sub.ByType = append(sub.ByType, &TypeFields{Type: t.Type, Fields: []*Field{}})
					}
				}
				ntf.Fields = append(ntf.Fields, deferCopy(f, sub, denied))
				continue
			}
			if d == nil || f.Selection == nil {
				continue
			}
			if sub := view(f.Selection, d, denied); sub != nil {
				ntf.Fields = append(ntf.Fields, deferCopy(f, sub, denied))
			}
		}
		if len(ntf.Fields) > 0 {
			any = true
		}
		out.ByType = append(out.ByType, ntf)
	}
	if !any && d != nil {
		return nil
	}
	return out
}

// deferCopy copies f with the selection sub; the copy is denied
// when f is.
func deferCopy(f *Field, sub *SelectionSet, denied map[*Field]bool) *Field {
	nf := *f
	nf.Selection = sub
	if denied[f] {
		denied[&nf] = true
	}
	return &nf
}

// prune returns n with only the fetches keep accepts, nil when none is.
func prune(n Node, keep func(*Fetch) bool) Node {
	switch n := n.(type) {
	case *Sequence:
		var out []Node
		for _, c := range n.Nodes {
			if c = prune(c, keep); c != nil {
				out = appendSeq(out, c)
			}
		}
		return collapse(&Sequence{Nodes: out}, len(out))
	case *Parallel:
		var out []Node
		for _, c := range n.Nodes {
			if c = prune(c, keep); c != nil {
				out = append(out, c)
			}
		}
		return collapse(&Parallel{Nodes: out}, len(out))
	case *Flatten:
		if keep(n.Node) {
			return n
		}
	case *Fetch:
		if keep(n) {
			return n
		}
	}
	return nil
}

func collapse(n Node, count int) Node {
	switch count {
	case 0:
		return nil
	case 1:
		switch n := n.(type) {
		case *Sequence:
			return n.Nodes[0]
		case *Parallel:
			return n.Nodes[0]
		}
	}
	return n
}

// deferJSON is the Defer node in the shape of Apollo Router's plans.
func (p *DeferPlan) deferJSON() any {
	type deferred struct {
		Label string `json:"label,omitempty"`
		Path  string `json:"path"`
		ID    int    `json:"id"`
	}
	type deferredNode struct {
		Defers []deferred `json:"defers"`
		Node   Node       `json:"node,omitempty"`
	}
	type primary struct {
		Node Node `json:"node,omitempty"`
	}
	ds := make([]deferred, 0, len(p.Defers))
	for _, d := range p.Defers {
		ds = append(ds, deferred{Label: d.Label, Path: d.PathString(), ID: d.ID})
	}
	return struct {
		Kind     string         `json:"kind"`
		Primary  primary        `json:"primary"`
		Deferred []deferredNode `json:"deferred"`
	}{"Defer", primary{p.Primary}, []deferredNode{{Defers: ds, Node: p.Deferred}}}
}

// marshalDefer writes the plan with its Defer node.
func (p *Plan) marshalDefer() ([]byte, error) {
	return json.Marshal(struct {
		Kind string `json:"kind"`
		Node any    `json:"node"`
	}{"QueryPlan", p.Defer.deferJSON()})
}

// writeDefer prints the Defer node in Apollo's text form.
func (p *DeferPlan) write(b *strings.Builder) {
	b.WriteString("  Defer {\n    Primary {\n")
	if p.Primary != nil {
		writeNode(b, p.Primary, 3)
	}
	b.WriteString("    }, [\n")
	var ds []string
	for _, d := range p.Defers {
		s := fmt.Sprintf("%d path: %q", d.ID, d.PathString())
		if d.Label != "" {
			s += fmt.Sprintf(" label: %q", d.Label)
		}
		ds = append(ds, s)
	}
	fmt.Fprintf(b, "      Deferred(%s) {\n", strings.Join(ds, ", "))
	if p.Deferred != nil {
		writeNode(b, p.Deferred, 4)
	}
	b.WriteString("      },\n    ]\n  },\n")
}
