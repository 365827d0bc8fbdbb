package planner

import (
	"sort"

	"github.com/vektah/gqlparser/v2/ast"
)

// Tree pass: fetch groups and their dependencies become the plan's
// Sequence / Parallel / Flatten tree (emit.go prints each fetch).

// nodes turns the fetch groups into a plan tree: a tree of Sequence and
// Parallel nodes when every fetch waits for one other, and a Sequence of
// Parallel levels when some fetch waits for several.
func (b *builder) nodes() (Node, int) {
	var roots []*group
	for _, g := range b.groups {
		if len(g.deps) == 0 {
			roots = append(roots, g)
		}
	}
	if len(roots) == 0 {
		return nil, 0
	}
	fetches := map[*group]*Fetch{}
	b.fetchOf = fetches
	for _, g := range b.groups {
		rewrites := b.resolveConflicts(g.graph, g.sel, nil, nil)
		fetches[g] = b.fetch(g)
		fetches[g].OutputRewrites = rewrites
	}
	if b.op.Kind == ast.Mutation {
		sort.SliceStable(roots, func(i, j int) bool { return roots[i].step < roots[j].step })
		seq := &Sequence{}
		for _, r := range roots {
			seq.Nodes = appendSeq(seq.Nodes, b.subtree([]*group{r}, fetches))
		}
		return renumber(single(seq)), len(b.groups)
	}
	return renumber(b.subtree(roots, fetches)), len(b.groups)
}

func single(s *Sequence) Node {
	if len(s.Nodes) == 1 {
		return s.Nodes[0]
	}
	return s
}

func appendSeq(nodes []Node, n Node) []Node {
	if s, ok := n.(*Sequence); ok {
		return append(nodes, s.Nodes...)
	}
	return append(nodes, n)
}

// subtree builds the node for roots and every group that depends on them.
func (b *builder) subtree(roots []*group, fetches map[*group]*Fetch) Node {
	members := map[*group]bool{}
	var order []*group
	var visit func(g *group)
	visit = func(g *group) {
		if members[g] {
			return
		}
		members[g] = true
		order = append(order, g)
		for _, c := range b.groups {
			for _, d := range c.deps {
				if d == g {
					visit(c)
				}
			}
		}
	}
	for _, r := range roots {
		visit(r)
	}
	// Each fetch hangs under the dependency that finishes last: one whose
	// other dependencies are all its ancestors. When some fetch has no such
	// dependency the plan falls back to levels.
	treeParent := map[*group]*group{}
	isAncestor := func(a, g *group) bool {
		for p := treeParent[g]; p != nil; p = treeParent[p] {
			if p == a {
				return true
			}
		}
		return false
	}
	tree := true
	done := map[*group]bool{}
	var place func(g *group)
	place = func(g *group) {
		if done[g] || !tree {
			return
		}
		done[g] = true
		for _, d := range g.deps {
			place(d)
		}
		if len(g.deps) == 0 {
			return
		}
		var parent *group
		for _, d := range g.deps {
			ok := true
			for _, o := range g.deps {
				if o != d && !isAncestor(o, d) {
					ok = false
					break
				}
			}
			if ok {
				parent = d
				break
			}
		}
		if parent == nil {
			tree = false
			return
		}
		treeParent[g] = parent
	}
	for _, g := range b.groups {
		if members[g] {
			place(g)
		}
	}
	if tree {
		var node func(g *group) Node
		node = func(g *group) Node {
			var kids []Node
			for _, c := range b.groups {
				if members[c] && treeParent[c] == g {
					kids = append(kids, node(c))
				}
			}
			self := fetchNode(g, fetches[g])
			switch len(kids) {
			case 0:
				return self
			case 1:
				return &Sequence{Nodes: appendSeq([]Node{self}, kids[0])}
			}
			return &Sequence{Nodes: []Node{self, &Parallel{Nodes: kids}}}
		}
		if len(roots) == 1 {
			return node(roots[0])
		}
		par := &Parallel{}
		for _, r := range roots {
			par.Nodes = append(par.Nodes, node(r))
		}
		return par
	}
	level := levels(b.groups, members)
	max := 0
	for _, l := range level {
		if l > max {
			max = l
		}
	}
	seq := &Sequence{}
	for l := 0; l <= max; l++ {
		par := &Parallel{}
		for _, g := range b.groups {
			if members[g] && level[g] == l {
				par.Nodes = append(par.Nodes, fetchNode(g, fetches[g]))
			}
		}
		if len(par.Nodes) == 1 {
			seq.Nodes = append(seq.Nodes, par.Nodes[0])
		} else if len(par.Nodes) > 1 {
			seq.Nodes = append(seq.Nodes, par)
		}
	}
	return single(seq)
}

func fetchNode(g *group, f *Fetch) Node {
	if g.entity {
		fl := &Flatten{Path: g.path, Node: f}
		if len(g.paths) > 1 {
			fl.Paths = g.paths
		}
		return fl
	}
	return f
}
