package schema

import (
	"sort"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2/ast"
)

// QueryGraph is the supergraph seen as a graph, built once per supergraph
// version (Supergraph.QueryGraph). A node is a type as one subgraph
// defines it; its edges are the fields that subgraph resolves there (with
// their @requires, @provides and @override conditions) and key jumps to
// the same type in the other subgraphs that have a resolvable key (with
// the key as condition, and whether the node itself resolves the key's
// fields). The planner asks it which jumps are local and which subgraphs
// a type reaches by keys.
type QueryGraph struct {
	nodes map[NodeKey]*Node
	// reach caches ReachableByKeys.
	mu    sync.Mutex
	reach map[NodeKey][]string
}

// NodeKey names a node: a type in a subgraph (graph ID).
type NodeKey struct{ Type, Graph string }

// Node is one type in one subgraph.
type Node struct {
	Type, Graph     string
	InterfaceObject bool
	// Keys are the node's resolvable keys: jumps arrive through them.
	Keys []*Key
	// Fields are the field edges the subgraph resolves at this node
	// (@external fields are not edges, except where a key of the node
	// brings them in; overridden fields are not edges).
	Fields map[string]*Edge
	// Jumps are the key jumps from this node, in subgraph name order.
	Jumps []*Jump
}

// Edge is a field the subgraph resolves at a node.
type Edge struct {
	Field string
	// Target is the named type the field returns in this subgraph.
	Target   string
	Requires ast.SelectionSet
	Provides ast.SelectionSet
	// Label, when set, is a progressive @override label: the edge exists
	// only while the label is on (LabelOn) or off (!LabelOn).
	Label   string
	LabelOn bool
	// KeyOnly marks an @external field that is part of one of the node's
	// own keys: it is there where the node was reached by an entity fetch.
	KeyOnly bool
}

// Jump is a key jump from a node to the same type in another subgraph.
type Jump struct {
	To  *Node
	Key *Key
	// Local is true when the source node resolves every field of Key by
	// itself, whatever the override labels and however it was reached.
	Local bool
	// LocalAtEntityRoot is true when it does so where the node was reached
	// by an entity fetch: @external key fields of its own keys are then in
	// the representation it received.
	LocalAtEntityRoot bool
	// LabelDependent is true when whether the node resolves the key's
	// fields depends on a progressive @override label.
	LabelDependent bool
}

// QueryGraph returns the supergraph's query graph, built on first use.
func (s *Supergraph) QueryGraph() *QueryGraph {
	s.qgOnce.Do(func() { s.qg = buildQueryGraph(s) })
	return s.qg
}

// Node returns the node of typ in graph, or nil.
func (q *QueryGraph) Node(typ, graph string) *Node { return q.nodes[NodeKey{typ, graph}] }

// Jump returns the jump from typ in graph from to graph to through key k,
// or nil.
func (q *QueryGraph) Jump(typ, from, to string, k *Key) *Jump {
	n := q.Node(typ, from)
	if n == nil {
		return nil
	}
	for _, j := range n.Jumps {
		if j.To.Graph == to && j.Key == k {
			return j
		}
	}
	return nil
}

// ReachableByKeys lists the subgraphs (from first, then by name) that
// objects of typ fetched from graph from reach through local key jumps,
// one after the other: the subgraphs a plan can always go to for them.
func (q *QueryGraph) ReachableByKeys(typ, from string) []string {
	k := NodeKey{typ, from}
	q.mu.Lock()
	defer q.mu.Unlock()
	if r, ok := q.reach[k]; ok {
		return r
	}
	seen := map[string]bool{from: true}
	queue := []string{from}
	for i := 0; i < len(queue); i++ {
		n := q.nodes[NodeKey{typ, queue[i]}]
		if n == nil {
			continue
		}
		for _, j := range n.Jumps {
			if j.Local && !seen[j.To.Graph] {
				seen[j.To.Graph] = true
				queue = append(queue, j.To.Graph)
			}
		}
	}
	out := append([]string{from}, queue[1:]...)
	sort.Strings(out[1:])
	q.reach[k] = out
	return out
}

func buildQueryGraph(s *Supergraph) *QueryGraph {
	q := &QueryGraph{nodes: map[NodeKey]*Node{}, reach: map[NodeKey][]string{}}
	names := make([]string, 0, len(s.Types))
	for name := range s.Types {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t := s.Types[name]
		for _, gid := range t.GraphIDs {
			tg := t.Graphs[gid]
			n := &Node{Type: name, Graph: gid, InterfaceObject: tg.InterfaceObject, Fields: map[string]*Edge{}}
			keyFields := map[string]bool{}
			for _, k := range tg.Keys {
				if k.Resolvable {
					n.Keys = append(n.Keys, k)
				}
				for _, sel := range k.Selection {
					if f, ok := sel.(*ast.Field); ok {
						keyFields[f.Name] = true
					}
				}
			}
			for fname, f := range t.Fields {
				e := &Edge{Field: fname, Target: f.Def.Type.Name()}
				if f.Graphs != nil {
					fg := f.Graphs[gid]
					if fg == nil || fg.UsedOverridden {
						continue
					}
					if fg.External {
						if !keyFields[fname] {
							continue
						}
						e.KeyOnly = true
					}
					if fg.Type != "" {
						e.Target = strings.Trim(fg.Type, "[]!")
					}
					e.Requires, e.Provides = fg.Requires, fg.Provides
					if fg.OverrideLabel != "" {
						e.Label, e.LabelOn = fg.OverrideLabel, fg.Override != ""
					}
				}
				n.Fields[fname] = e
			}
			q.nodes[NodeKey{name, gid}] = n
		}
	}
	for _, name := range names {
		t := s.Types[name]
		for _, from := range t.GraphIDs {
			src := q.nodes[NodeKey{name, from}]
			for _, to := range t.GraphIDs {
				if to == from {
					continue
				}
				dst := q.nodes[NodeKey{name, to}]
				for _, k := range dst.Keys {
					local, labels := q.resolves(src, k.Selection, false)
					atRoot, _ := q.resolves(src, k.Selection, true)
					src.Jumps = append(src.Jumps, &Jump{To: dst, Key: k, Local: local && !labels,
						LocalAtEntityRoot: atRoot && !labels, LabelDependent: labels})
				}
			}
		}
	}
	return q
}

// resolves reports whether node n resolves the field set by itself (with
// its own @external key fields when keyOnly), and whether a progressive
// override label decides it.
func (q *QueryGraph) resolves(n *Node, set ast.SelectionSet, keyOnly bool) (ok, labels bool) {
	ok = true
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			e := n.Fields[s.Name]
			if e == nil || (e.KeyOnly && !keyOnly) {
				return false, labels
			}
			if e.Label != "" {
				labels = true
			}
			if len(s.SelectionSet) > 0 {
				child := q.nodes[NodeKey{e.Target, n.Graph}]
				if child == nil {
					return false, labels
				}
				cok, cl := q.resolves(child, s.SelectionSet, keyOnly)
				labels = labels || cl
				if !cok {
					return false, labels
				}
			}
		case *ast.InlineFragment:
			target := n
			if s.TypeCondition != "" && s.TypeCondition != n.Type {
				target = q.nodes[NodeKey{s.TypeCondition, n.Graph}]
				if target == nil {
					return false, labels
				}
			}
			cok, cl := q.resolves(target, s.SelectionSet, keyOnly)
			labels = labels || cl
			if !cok {
				return false, labels
			}
		}
	}
	return ok, labels
}
