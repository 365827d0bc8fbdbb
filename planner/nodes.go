package planner

import (
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

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

// fetch prints the subgraph operation of a group.
func (b *builder) fetch(g *group) *Fetch {
	var body strings.Builder
	vars := map[string]bool{}
	var usages []string
	collect := func(v *ast.Value) {}
	collect = func(v *ast.Value) {
		if v == nil {
			return
		}
		if v.Kind == ast.Variable && !vars[v.Raw] {
			vars[v.Raw] = true
			usages = append(usages, v.Raw)
		}
		for _, c := range v.Children {
			collect(c.Value)
		}
	}
	var printSel func(s *subSel)
	var printInner func(s *subSel)
	printFields := func(ts *typeSel) {
		for i, f := range ts.fields {
			if i > 0 {
				body.WriteByte(' ')
			}
			if f.fragment {
				printInner(f.sub)
				continue
			}
			if f.key != f.name {
				body.WriteString(f.key)
				body.WriteByte(':')
			}
			body.WriteString(f.name)
			if len(f.args) > 0 {
				body.WriteByte('(')
				for j, a := range f.args {
					if j > 0 {
						body.WriteByte(',')
					}
					body.WriteString(a.Name)
					body.WriteByte(':')
					body.WriteString(a.Value.String())
					collect(a.Value)
				}
				body.WriteByte(')')
			}
			if f.sub != nil {
				printSel(f.sub)
			}
		}
	}
	printInner = func(s *subSel) {
		if !s.abstract {
			if len(s.types) > 0 && len(s.types[0].fields) > 0 {
				printFields(s.types[0])
			} else {
				body.WriteString("__typename")
			}
			return
		}
		body.WriteString("__typename")
		for _, ts := range s.types {
			if len(ts.fields) == 0 {
				continue
			}
			body.WriteString(" ...on ")
			body.WriteString(ts.typ)
			body.WriteByte('{')
			printFields(ts)
			body.WriteByte('}')
		}
	}
	printSel = func(s *subSel) {
		body.WriteByte('{')
		printInner(s)
		body.WriteByte('}')
	}
	kind := "query"
	if !g.entity {
		switch b.op.Kind {
		case ast.Mutation:
			kind = "mutation"
		case ast.Subscription:
			kind = "subscription"
		}
		printSel(g.sel)
	} else {
		body.WriteString("{_entities(representations:$representations){")
		first := true
		for _, ts := range g.sel.types {
			if len(ts.fields) == 0 {
				continue
			}
			if !first {
				body.WriteByte(' ')
			}
			first = false
			body.WriteString("...on ")
			body.WriteString(ts.typ)
			body.WriteByte('{')
			printFields(ts)
			body.WriteByte('}')
		}
		body.WriteString("}}")
	}
	var head strings.Builder
	head.WriteString(kind)
	name := ""
	if b.op.Name != "" {
		name = b.op.Name + "__" + b.sg.Graph(g.graph).Name + "__" + itoa(g.id)
		head.WriteByte(' ')
		head.WriteString(name)
	}
	if g.entity || len(usages) > 0 {
		head.WriteByte('(')
		n := 0
		if g.entity {
			head.WriteString("$representations:[_Any!]!")
			n++
		}
		for _, u := range usages {
			def := b.op.Variables.ForName(u)
			if def == nil {
				continue
			}
			if n > 0 {
				head.WriteByte(',')
			}
			n++
			head.WriteString("$" + u + ":" + def.Type.String())
			if def.DefaultValue != nil {
				head.WriteString("=" + def.DefaultValue.String())
			}
		}
		head.WriteByte(')')
	}
	f := &Fetch{ID: g.id, Subgraph: b.sg.Graph(g.graph).Name, Operation: head.String() + body.String(),
		OperationName: name, OperationKind: kind, VariableUsages: usages}
	if g.entity {
		seen := map[string]bool{}
		for _, typ := range g.reqOrder {
			seen[typ] = true
			f.Requires = append(f.Requires, &Requirement{TypeName: typ, RepresentationType: g.repType[typ], Fields: g.reqs[typ]})
		}
		// Objects reached as an interface may already carry their concrete
		// type from an earlier fetch: the same representation applies.
		for _, typ := range g.reqOrder {
			for _, p := range b.sg.Full.PossibleTypes[typ] {
				if !seen[p.Name] && p.Name != typ {
					seen[p.Name] = true
					f.Requires = append(f.Requires, &Requirement{TypeName: p.Name, RepresentationType: g.repType[typ], Fields: g.reqs[typ]})
				}
			}
		}
	}
	return f
}

func itoa(i int) string {
	if i == 0 {
		return "0"
	}
	var buf [20]byte
	n := len(buf)
	for i > 0 {
		n--
		buf[n] = byte('0' + i%10)
		i /= 10
	}
	return string(buf[n:])
}

// renumber gives the fetches IDs in the order the plan lists them, so that
// operation names (Op__subgraph__N) read in execution order in logs and
// traces.
func renumber(root Node) Node {
	next := 0
	var walk func(Node)
	walk = func(n Node) {
		switch n := n.(type) {
		case *Sequence:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *Parallel:
			for _, c := range n.Nodes {
				walk(c)
			}
		case *Flatten:
			walk(n.Node)
		case *Fetch:
			n.ID = next
			next++
			if n.OperationName != "" {
				i := strings.LastIndex(n.OperationName, "__")
				name := n.OperationName[:i+2] + itoa(n.ID)
				n.Operation = strings.Replace(n.Operation, n.OperationName, name, 1)
				n.OperationName = name
			}
		}
	}
	walk(root)
	return root
}
