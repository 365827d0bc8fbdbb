package planner

import (
	"encoding/json"
	"fmt"
	"sort"
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
// primary). Plan.Root is planned as if there were no @defer: a client that
// does not accept incremental delivery gets one response from it. Plan
// then plans the operation again with the builder's deferAware set: a
// field delivered with a Defer other than its fetch group's is placed in
// a group of its own part through an entity jump keyed by what the
// enclosing group fetches (route.go, deferJump), also to the same
// subgraph, so no primary fetch waits for a deferred field. splitDefer
// makes the primary part of the groups of no part and the groups they
// depend on, and one DeferredPart per Defer: the deferred fetches its
// fields need (each run by the first part that needs it) and the earlier
// parts it reads from, also those whose fields its payload renders
// without delivering them (repeated, or leading to fields of its own). Deferred entity fetches read their
// representations from what the primary fetches wrote, so nothing the
// primary fetched is fetched again. A Defer that delivers no field of
// its own at a position still has a view there (delivered): the fields
// it selects, repeated, so its payload has an entry for each object.

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
	// types holds the object types the fragment applies to at Path.
	types map[string]bool
	// via holds, per step of Path, the object types the step's field is
	// selected on on the way to the fragment: a response key may name a
	// different field on another type of an abstract position (a1:
	// products on Bundle, a1: reviews on Product), where the fragment is
	// not.
	via []map[string]bool
}

// Via reports whether step (an index of Path) leads to the fragment from
// objects of type typeName: the field at that step was selected on it.
func (d *Defer) Via(step int, typeName string) bool {
	return step < len(d.via) && d.via[step][typeName]
}

// addVia records the types of the steps of path (the response path of
// one selection set the fragment is collected in) on d.
func (d *Defer) addVia(path []PathKey) {
	if d.via == nil {
		d.via = make([]map[string]bool, len(path))
	}
	for i, p := range path {
		if i >= len(d.via) {
			break
		}
		if d.via[i] == nil {
			d.via[i] = map[string]bool{}
		}
		d.via[i][p.Type] = true
	}
}

// AppliesTo reports whether the fragment applies to objects of type
// typeName at its path (its type condition matches them).
func (d *Defer) AppliesTo(typeName string) bool {
	return d.types[typeName]
}

// appliesTo returns d, the @defer of a fragment collected for the object
// type obj in a selection under in, and records on d, when it is a
// fragment's own Defer, that it applies to obj.
func appliesTo(d, in *Defer, obj *ast.Definition) *Defer {
	if d != nil && d != in {
		if d.types == nil {
			d.types = map[string]bool{}
		}
		d.types[obj.Name] = true
	}
	return d
}

// selectedIn is the distinct @defer fragments of defers (nil entries,
// the primary, left out).
func selectedIn(defers []*Defer) []*Defer {
	var out []*Defer
	for _, d := range defers {
		if d == nil {
			continue
		}
		seen := false
		for _, o := range out {
			seen = seen || o == d
		}
		if !seen {
			out = append(out, d)
		}
	}
	return out
}

// PathKey is one step of a Defer's path: the field's response key and
// the data key its value is merged under.
type PathKey struct {
	ResponseKey string
	DataKey     string
	List        bool
	// Type is the object type the field is selected on; a Defer keeps
	// every type a step of its path is taken from (Defer.Via).
	Type string
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
		got.addVia(path)
		return got
	}
	if len(n.defers.order) >= MaxDefers {
		return in
	}
	out := &Defer{ID: len(n.defers.order), Path: path, Parent: in}
	out.addVia(path)
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
// renders PrimaryShape; each Part then runs its fetches (on the primary's
// data, once the parts it Depends on have run theirs) and its Defer's
// payload renders View(d, ...) at d.Path as soon as they are done (after
// its parent's payload, for a nested @defer).
type DeferPlan struct {
	Primary Node
	// PrimaryShape is the plan's shape without the deferred fields.
	PrimaryShape *Shape
	Defers       []*Defer
	// Parts holds one entry per Defer, in the same order.
	Parts []*DeferredPart
	views map[*Defer]map[*ShapeSet]*ShapeSet
}

// DeferredPart is what one @defer fragment's payload waits for: the
// fetches of Node (nil: nothing to fetch, every field it delivers was
// fetched before), which no earlier part runs, and the parts (indexes of
// DeferPlan.Parts, all earlier ones) whose fetches it reads from too.
type DeferredPart struct {
	Defer   *Defer
	Node    Node
	Depends []int
}

// View returns the shape delivered with d at the position sel of the
// plan's shape found at d.Path; nil when d delivers nothing there.
func (p *DeferPlan) View(d *Defer, sel *ShapeSet) *ShapeSet {
	return p.views[d][sel]
}

// splitDefer builds p.Defer for an operation with @defer from the fetch
// groups of b, whose tree is root; p.Shape is built.
func (b *builder) splitDefer(p *Plan, defers []*Defer, root Node) {
	shape := p.Shape
	dp := &DeferPlan{Defers: defers, views: map[*Defer]map[*ShapeSet]*ShapeSet{}}
	prim := *shape
	prim.Root = view(shape.Root, nil)
	dp.PrimaryShape = &prim
	index := map[*Defer]int{}
	// readers maps a Defer to the other parts whose payloads render some
	// of the fields delivered with it (see reads).
	readers := map[*Defer][]*Defer{}
	for i, d := range defers {
		index[d] = i
		m := map[*ShapeSet]*ShapeSet{}
		read := map[*Defer]bool{}
		for _, sel := range positions(shape.Root, d, 0) {
			v := delivered(sel, d)
			m[sel] = v
			reads(v, d, read)
		}
		dp.views[d] = m
		for _, o := range defers {
			if read[o] {
				readers[o] = append(readers[o], d)
			}
		}
	}
	// Fetches: primary when they fetch a primary client field (planned
	// apart, when they are of the primary part) or a primary fetch
	// depends on them.
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
		switch {
		case b.deferAware && g.part == nil:
			mark(g)
		case !b.deferAware && (len(g.paths) > 1 || hasPrimaryField(g.sel)):
			// A fetch merged from several paths (merge.go) keeps the
			// client fields of one of them only: it stays primary, as
			// one of its paths may be.
			mark(g)
		}
	}
	// Each deferred fetch serves the parts whose fields it fetches (and
	// its own part); a part needs those and what they depend on.
	needs := make([]map[*group]bool, len(defers))
	for i := range needs {
		needs[i] = map[*group]bool{}
	}
	var need func(i int, g *group)
	need = func(i int, g *group) {
		if primary[g] || needs[i][g] {
			return
		}
		needs[i][g] = true
		for _, d := range g.deps {
			need(i, d)
		}
	}
	for _, g := range b.groups {
		if primary[g] {
			continue
		}
		served := map[*Defer]bool{}
		if g.part != nil {
			served[g.part] = true
		}
		partsOf(g.sel, served)
		// A part whose payload renders a field delivered with another
		// part (one it echoes, or one leading to its own fields) needs
		// the fetch of that field as well: its payload must not be
		// rendered before that fetch is done.
		var readBy []*Defer
		for d := range served {
			readBy = append(readBy, readers[d]...)
		}
		for _, r := range readBy {
			served[r] = true
		}
		if len(served) == 0 && len(defers) > 0 {
			// Nothing the client asked for (inputs of another fetch):
			// the first part runs it, unless a part needs it anyway.
			served[defers[0]] = true
		}
		for d := range served {
			if i, ok := index[d]; ok {
				need(i, g)
			}
		}
	}
	// A fetch is run by the first part that needs it.
	owner := map[*Fetch]int{}
	for i := range defers {
		for g := range needs[i] {
			f := b.fetchOf[g]
			if o, ok := owner[f]; !ok || i < o {
				owner[f] = i
			}
		}
	}
	dp.Primary = prune(root, func(f *Fetch) bool { _, deferred := owner[f]; return !deferred })
	for i, d := range defers {
		part := &DeferredPart{Defer: d, Node: prune(root, func(f *Fetch) bool { o, ok := owner[f]; return ok && o == i })}
		deps := map[int]bool{}
		for g := range needs[i] {
			if o := owner[b.fetchOf[g]]; o != i {
				deps[o] = true
			}
		}
		for j := range deps {
			part.Depends = append(part.Depends, j)
		}
		sort.Ints(part.Depends)
		dp.Parts = append(dp.Parts, part)
	}
	p.Defer = dp
}

// partsOf adds the @defer parts of the client fields s fetches to out.
func partsOf(s *subSel, out map[*Defer]bool) {
	if s == nil {
		return
	}
	for _, ts := range s.types {
		for _, f := range ts.fields {
			if f.field != nil && f.field.Defer != nil && !f.field.internal {
				out[f.field.Defer] = true
			}
			partsOf(f.sub, out)
		}
	}
}

// reads adds to out the @defer fragments, other than d and its
// ancestors, that deliver fields of v, the view d's payload renders:
// their fetches are run by other parts (the primary's and the ancestors'
// are done before d's payload is rendered).
func reads(v *ShapeSet, d *Defer, out map[*Defer]bool) {
	if v == nil {
		return
	}
	for _, tf := range v.ByType {
		for i := range tf.Fields {
			f := &tf.Fields[i]
			if o := f.Defer; o != nil && o != d && !o.encloses(d) {
				out[o] = true
			}
			reads(f.Selection, d, out)
		}
	}
}

// encloses reports whether d is nested, at some depth, in a.
func (a *Defer) encloses(d *Defer) bool {
	for p := d.Parent; p != nil; p = p.Parent {
		if p == a {
			return true
		}
	}
	return false
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

// positions returns the shape's selections at d.Path from step on
// (several when it crosses an abstract position), following each step
// only on the types d's fragment is reached through.
func positions(sel *ShapeSet, d *Defer, step int) []*ShapeSet {
	if sel == nil {
		return nil
	}
	if step == len(d.Path) {
		return []*ShapeSet{sel}
	}
	var out []*ShapeSet
	for _, tf := range sel.ByType {
		if !d.Via(step, tf.Type) {
			// The same response key on another type is another field.
			continue
		}
		for i := range tf.Fields {
			f := &tf.Fields[i]
			if f.ResponseKey == d.Path[step].ResponseKey && f.Selection != nil {
				out = append(out, positions(f.Selection, d, step+1)...)
			}
		}
	}
	return out
}

// view is the part of sel delivered with d (nil: the primary part): the
// fields delivered with d, and the fields that lead to some; nil when
// there is none. Fields are copied with their denial, types with their
// null condition.
func view(sel *ShapeSet, d *Defer) *ShapeSet {
	out := &ShapeSet{Type: sel.Type, Abstract: sel.Abstract, ByType: make([]ShapeType, 0, len(sel.ByType))}
	any := false
	for _, tf := range sel.ByType {
		// Fields is never nil: the renderer reads a nil list at an
		// abstract position as a type the client cannot see.
		ntf := ShapeType{Type: tf.Type, Fields: []ShapeField{}, NullCondition: tf.NullCondition}
		out.NullConditions = out.NullConditions || tf.NullCondition
		for _, f := range tf.Fields {
			if f.Defer == d {
				if f.Selection != nil {
					sub := view(f.Selection, d)
					if sub == nil {
						sub = &ShapeSet{Type: f.Selection.Type, Abstract: f.Selection.Abstract}
						for _, t := range f.Selection.ByType {
							sub.ByType = append(sub.ByType, ShapeType{Type: t.Type, Fields: []ShapeField{}})
						}
					}
					f.Selection = sub
				}
				ntf.Fields = append(ntf.Fields, f)
				continue
			}
			if d == nil || f.Selection == nil {
				continue
			}
			if sub := view(f.Selection, d); sub != nil {
				f.Selection = sub
				ntf.Fields = append(ntf.Fields, f)
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

// delivered is what d's payload renders at the position sel of its path:
// view(sel, d), where d delivers fields of its own for a type; for a type
// the fragment applies to and delivers nothing new for (every field it
// selects was sent before, with the primary or its parent, or @skip left
// none), the fields it selects (echo), so the fragment still gets its
// labelled entry, "data":{} when it selects none. The incremental format
// the gateway speaks (deferSpec=20220824) has a fragment's entry hold
// the fragment's data, and a client waiting for its label waits until
// it sees that entry.
func delivered(sel *ShapeSet, d *Defer) *ShapeSet {
	v := view(sel, d)
	out := &ShapeSet{Type: sel.Type, Abstract: sel.Abstract, ByType: make([]ShapeType, len(sel.ByType))}
	for i, tf := range sel.ByType {
		if v != nil && len(v.ByType[i].Fields) > 0 {
			out.ByType[i] = v.ByType[i]
			out.NullConditions = out.NullConditions || v.ByType[i].NullCondition
			continue
		}
		out.ByType[i] = ShapeType{Type: tf.Type, Fields: echo(tf.Fields, d)}
	}
	return out
}

// echo is the fields of fields selected in d (its nested fragments' own
// fields left out), with their selections likewise; never nil.
func echo(fields []ShapeField, d *Defer) []ShapeField {
	out := []ShapeField{}
	for _, f := range fields {
		in := false
		for _, s := range f.selectedIn {
			in = in || s == d
		}
		if !in {
			continue
		}
		if f.Selection != nil {
			sub := &ShapeSet{Type: f.Selection.Type, Abstract: f.Selection.Abstract, ByType: make([]ShapeType, len(f.Selection.ByType))}
			for i, tf := range f.Selection.ByType {
				// An object nulled by a null condition is null here too;
				// the payload that delivered it reports the error.
				echoed := tf.NullCondition || tf.NullEchoed
				sub.ByType[i] = ShapeType{Type: tf.Type, Fields: echo(tf.Fields, d), NullEchoed: echoed}
				sub.NullConditions = sub.NullConditions || echoed
			}
			f.Selection = sub
		}
		out = append(out, f)
	}
	return out
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

// deferJSON is the Defer node in the shape of Apollo Router's plans: one
// deferred entry per @defer, with the entries it depends on.
func (p *DeferPlan) deferJSON() any {
	type dep struct {
		ID int `json:"id"`
	}
	type deferredNode struct {
		ID      int    `json:"id"`
		Label   string `json:"label,omitempty"`
		Path    string `json:"path"`
		Parent  *int   `json:"parent,omitempty"`
		Depends []dep  `json:"depends"`
		Node    Node   `json:"node,omitempty"`
	}
	type primary struct {
		Node Node `json:"node,omitempty"`
	}
	ds := make([]deferredNode, 0, len(p.Parts))
	for _, part := range p.Parts {
		d := part.Defer
		n := deferredNode{ID: d.ID, Label: d.Label, Path: d.PathString(), Depends: []dep{}, Node: part.Node}
		if d.Parent != nil {
			id := d.Parent.ID
			n.Parent = &id
		}
		for _, j := range part.Depends {
			n.Depends = append(n.Depends, dep{p.Parts[j].Defer.ID})
		}
		ds = append(ds, n)
	}
	return struct {
		Kind     string         `json:"kind"`
		Primary  primary        `json:"primary"`
		Deferred []deferredNode `json:"deferred"`
	}{"Defer", primary{p.Primary}, ds}
}

// marshalDefer writes the plan with its Defer node.
func (p *Plan) marshalDefer() ([]byte, error) {
	return json.Marshal(struct {
		Kind string `json:"kind"`
		Node any    `json:"node"`
	}{"QueryPlan", p.Defer.deferJSON()})
}

// write prints the Defer node in Apollo's text form.
func (p *DeferPlan) write(b *strings.Builder) {
	b.WriteString("  Defer {\n    Primary {\n")
	if p.Primary != nil {
		writeNode(b, p.Primary, 3)
	}
	b.WriteString("    }, [\n")
	for _, part := range p.Parts {
		d := part.Defer
		s := fmt.Sprintf("%d path: %q", d.ID, d.PathString())
		if d.Label != "" {
			s += fmt.Sprintf(" label: %q", d.Label)
		}
		if d.Parent != nil {
			s += fmt.Sprintf(" parent: %d", d.Parent.ID)
		}
		if len(part.Depends) > 0 {
			ids := make([]string, len(part.Depends))
			for i, j := range part.Depends {
				ids[i] = fmt.Sprint(p.Parts[j].Defer.ID)
			}
			s += " depends: [" + strings.Join(ids, ", ") + "]"
		}
		fmt.Fprintf(b, "      Deferred(%s) {\n", s)
		if part.Node != nil {
			writeNode(b, part.Node, 4)
		}
		b.WriteString("      },\n")
	}
	b.WriteString("    ]\n  },\n")
}
