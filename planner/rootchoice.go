package planner

import (
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Root choice (part of the route pass): the subgraph that answers each
// root field of a query. A field goes to a subgraph that delivers its
// whole selection with the fewest jumps; among those, the root fields of
// one operation are chosen together so that they share as few root
// fetches as they can (a subgraph another root field needs anyway comes
// first), and what is still open goes to the subgraph that answers most
// of it by itself and on the interfaces the client selected, as the
// references' plans do (their cost grows with each fetch and with the
// size of each subgraph query, where a field missing on a subgraph's
// interface is asked in a fragment per implementation). Choosing field by
// field in document order let the first field pin a subgraph the others
// then followed although all could share the one that the later ones
// answer better.

// rootOption is one subgraph that delivers a root field's selection with
// the fewest jumps, with the scores that break ties between such
// subgraphs.
type rootOption struct {
	graph string
	// local counts the fields below the root field the subgraph resolves
	// by itself; onIface those of an abstract selection it resolves on
	// the interface the client selected them on.
	local, onIface int
}

// better reports whether o wins a tie against p.
func (o rootOption) better(p rootOption) bool {
	if o.local != p.local {
		return o.local > p.local
	}
	return o.onIface > p.onIface
}

// chooseRootGraphs returns, per field of a query or subscription root,
// the subgraph it is asked of: "" for the introspection fields and for a
// field no subgraph resolves. Fields of different @defer parts never
// share a fetch, so each part is chosen apart.
func (b *builder) chooseRootGraphs(rc routeCtx, rootType *schema.Type, fields []*Field) []string {
	out := make([]string, len(fields))
	options := make([][]rootOption, len(fields))
	parts := map[*Defer][]int{}
	var order []*Defer
	for i, f := range fields {
		if f.answeredByGateway() {
			continue
		}
		options[i] = b.rootOptions(rc, rootType, f)
		p := b.partOf(f)
		if _, ok := parts[p]; !ok {
			order = append(order, p)
		}
		parts[p] = append(parts[p], i)
	}
	for _, p := range order {
		chooseShared(rootType.GraphIDs, parts[p], options, out)
	}
	return out
}

// rootOptions lists the subgraphs that deliver f's selection with the
// fewest jumps, in the supergraph's order of subgraphs; none when no
// subgraph can deliver it.
func (b *builder) rootOptions(rc routeCtx, rootType *schema.Type, f *Field) []rootOption {
	var out []rootOption
	best := inf
	for _, gid := range rootType.GraphIDs {
		if !b.resolvable(gid, rootType.Name, f.Name, nil) {
			continue
		}
		c := b.fieldCost(rc.cost, gid, rootType.Name, f, nil, 0)
		if c >= inf || c > best {
			continue
		}
		if c < best {
			best, out = c, out[:0]
		}
		out = append(out, rootOption{graph: gid})
	}
	if len(out) > 1 {
		// Scores only break ties.
		for i := range out {
			out[i].local, out[i].onIface = b.localFields(out[i].graph, rootType.Name, f, nil, 0), b.onAbstractType(out[i].graph, rootType.Name, f)
		}
	}
	return out
}

// chooseShared fills out[i] for the fields idx from their options: a
// field with one option takes it; a field that can go to a subgraph
// already chosen goes there (the best of them on a tie); of the fields
// left, the subgraph that the most of them can go to is chosen next (on a
// tie, the one with the better summed scores, then the first in graphs),
// until every field has its subgraph.
func chooseShared(graphs []string, idx []int, options [][]rootOption, out []string) {
	used := map[string]bool{}
	for _, i := range idx {
		if len(options[i]) == 1 {
			out[i] = options[i][0].graph
			used[out[i]] = true
		}
	}
	for {
		open := 0
		for _, i := range idx {
			if out[i] != "" || len(options[i]) == 0 {
				continue
			}
			var pick *rootOption
			for k := range options[i] {
				if o := &options[i][k]; used[o.graph] && (pick == nil || o.better(*pick)) {
					pick = o
				}
			}
			if pick != nil {
				out[i] = pick.graph
				continue
			}
			open++
		}
		if open == 0 {
			return
		}
		var best string
		var bestSum rootSum
		for _, g := range graphs {
			if used[g] {
				continue
			}
			var s rootSum
			for _, i := range idx {
				if out[i] != "" {
					continue
				}
				for _, o := range options[i] {
					if o.graph == g {
						s.add(o)
					}
				}
			}
			if s.fields > 0 && (best == "" || s.better(bestSum)) {
				best, bestSum = g, s
			}
		}
		used[best] = true
	}
}

// rootSum totals the options of the open fields one subgraph can take.
type rootSum struct {
	fields, local, onIface int
}

func (s *rootSum) add(o rootOption) {
	s.fields++
	s.local += o.local
	s.onIface += o.onIface
}

func (s rootSum) better(t rootSum) bool {
	if s.fields != t.fields {
		return s.fields > t.fields
	}
	if s.local != t.local {
		return s.local > t.local
	}
	return s.onIface > t.onIface
}

// chooseMutationGraph picks the subgraph of one mutation root field:
// mutation fields run in document order, so a field only joins the fetch
// of the field just before it.
func (b *builder) chooseMutationGraph(rc routeCtx, rootType *schema.Type, f *Field, last *group) string {
	best, bestCost := rootOption{}, inf
	for _, gid := range rootType.GraphIDs {
		if !b.resolvable(gid, rootType.Name, f.Name, nil) {
			continue
		}
		// Jumps below the field add sequential steps; another root fetch
		// runs after the one before: a jump weighs more than a new fetch.
		c := sat(2 * b.fieldCost(rc.cost, gid, rootType.Name, f, nil, 0))
		if last == nil || last.graph != gid {
			c++
		}
		if c >= inf || c > bestCost {
			continue
		}
		o := rootOption{graph: gid, local: b.localFields(gid, rootType.Name, f, nil, 0), onIface: b.onAbstractType(gid, rootType.Name, f)}
		if c < bestCost || o.better(best) {
			best, bestCost = o, c
		}
	}
	return best.graph
}

// onAbstractType counts the fields of f's abstract selection that graph
// answers on the interface itself, of those the client selected on an
// interface (0 for an object selection). A subgraph that lacks such a
// field on its interface is asked it in a fragment on each
// implementation; a field the client selected in a fragment on an
// object type is asked so of every subgraph.
func (b *builder) onAbstractType(graph, typ string, f *Field) int {
	sel := f.Selection
	if sel == nil || !sel.Abstract || len(sel.ByType) == 0 {
		return 0
	}
	t := b.sg.Types[sel.Type]
	if t == nil || t.Kind != ast.Interface {
		return 0
	}
	prov := b.provFor(b.providedBy(graph, typ, f.Name, nil), sel, sel.ByType[0])
	n := 0
	for _, sf := range sel.ByType[0].Fields {
		if sf.onInterface && sf.Name != "__typename" && t.Fields[sf.Name] != nil && b.resolvable(graph, sel.Type, sf.Name, prov) {
			if _, ok := b.answersItself(graph, sel.Type, sf, prov, 1); ok {
				n++
			}
		}
	}
	return n
}
