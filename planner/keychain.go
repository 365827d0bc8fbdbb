package planner

import "github.com/fedgate/gateway/schema"

// Key chains: a subgraph that knows an entity only by a key the source
// lacks may still be reached through other subgraphs, each jump giving the
// next one's key (a: id -> b: id, sn -> d: sn, code -> c: code). The plain
// key estimate (keyCostIn) looks one jump ahead; where it finds no way,
// chainCost gives the fewest fetches over chains of any length, a
// shortest-path search over "subgraph X, once reached, gives key field f"
// edges made once per source, type and avoided set in a plan.

// keyNet is one shortest-path problem: nodes are the subgraphs that may be
// reached (in the type's subgraph order), fields the key fields any of
// them needs.
type keyNet struct {
	// keys lists per node its resolvable keys, each as field indexes.
	keys [][][]int
	// free marks a node the source reaches by a key it resolves itself
	// (no fetch before the jump).
	free []bool
	// atSource is per field what the source pays to give it itself
	// (notAtSource when it does not resolve it; inf when it resolves it but
	// not its sub-selection).
	atSource []int
	// gives lists per node the fields it resolves once reached, with what
	// its own sub-selection costs.
	gives [][]keySupply
}

// keySupply is a key field a node gives and the extra fetches it needs.
type keySupply struct {
	field, cost int
}

const notAtSource = -1

// shortestKeys returns per node of net the fewest fetches before a fetch
// to it can start (inf when none can). It is Knuth's generalization of
// Dijkstra's algorithm to AND-nodes: a key's cost is the sum of what each
// of its fields costs (at the source, or from the cheapest reached node
// giving it: that node's distance plus its own cost) plus one fetch per
// distinct node those fields come from, as costFields counts. That cost is
// never below any distance it uses, so the cheapest node not yet settled
// is final. Ties go to the first node, as costFields's strict comparison
// in subgraph order does. spend is called once per key evaluation; when it
// refuses, the rest stays inf. Work: at most nodes² × key fields.
func shortestKeys(net keyNet, spend func() bool) []int {
	n := len(net.keys)
	dist := make([]int, n)
	settled := make([]bool, n)
	for i := range dist {
		dist[i] = inf
	}
	best := make([]int, len(net.atSource))
	from := make([]int, len(net.atSource))
	for f := range best {
		best[f], from[f] = inf, -1
	}
	var used []int
	keyCost := func(key []int) int {
		total := 0
		used = used[:0]
		for _, f := range key {
			if c := net.atSource[f]; c != notAtSource {
				total = sat(total + c)
				continue
			}
			if from[f] < 0 {
				return inf
			}
			total = sat(total + best[f])
			used = appendInt(used, from[f])
		}
		return sat(total + len(used))
	}
	for {
		next, nextCost := -1, inf
		for i := range n {
			if settled[i] {
				continue
			}
			c := inf
			if net.free[i] {
				c = 0
			} else {
				for _, key := range net.keys[i] {
					if !spend() {
						return dist
					}
					c = min(c, keyCost(key))
				}
			}
			if c < nextCost {
				next, nextCost = i, c
			}
		}
		if next < 0 {
			return dist
		}
		settled[next], dist[next] = true, nextCost
		for _, s := range net.gives[next] {
			if c := sat(nextCost + s.cost); c < best[s.field] || (c == best[s.field] && next < from[s.field]) {
				best[s.field], from[s.field] = c, next
			}
		}
	}
}

func appendInt(list []int, x int) []int {
	for _, y := range list {
		if y == x {
			return list
		}
	}
	return append(list, x)
}

// chainKey names one shortest-path search of a plan.
type chainKey struct {
	source, typ, avoid string
}

// chainCost estimates the fetches source needs before a fetch to target
// for typ can start, over key chains of any length (inf when none leads
// there). The search is made once per source, type and avoided set and
// counts against the planning budget.
func (b *builder) chainCost(avoid *avoidSet, source, target, typ string, depth int) int {
	t := b.sg.Types[typ]
	if t == nil || depth > 32 {
		return inf
	}
	if b.chainMemo == nil {
		b.chainMemo = map[chainKey]map[string]int{}
	}
	ck := chainKey{source, typ, avoid.key()}
	dist, ok := b.chainMemo[ck]
	if !ok {
		// In progress: a search that needs itself (through a key field's
		// sub-selection) finds no way there.
		b.chainMemo[ck] = nil
		nodes, net := b.keyNetFor(avoid, source, t, depth)
		dist = make(map[string]int, len(nodes))
		for i, d := range shortestKeys(net, b.spend) {
			dist[nodes[i]] = d
		}
		b.chainMemo[ck] = dist
	}
	if c, ok := dist[target]; ok {
		return c
	}
	return inf
}

// keyNetFor builds the shortest-path problem of jumps from source for t:
// every subgraph of t but source and the avoided ones is a node.
func (b *builder) keyNetFor(avoid *avoidSet, source string, t *schema.Type, depth int) ([]string, keyNet) {
	sc := costScope{avoid: avoid}
	var (
		nodes  []string
		net    keyNet
		fields []*Field
		index  = map[string]int{}
	)
	fieldIndex := func(f *Field) int {
		name := f.Name
		if f.Selection != nil {
			// A key field with a sub-selection is its own field: another
			// key may select other fields below the same name.
			name = ""
		}
		if i, ok := index[name]; ok && name != "" {
			return i
		}
		fields = append(fields, f)
		at := notAtSource
		if b.resolvable(source, t.Name, f.Name, nil) {
			at = b.fieldCost(sc, source, t.Name, f, nil, depth+1)
			if fg := b.fieldIn(source, t.Name, f.Name); fg != nil && len(fg.Requires) > 0 {
				at = sat(at + 1)
			}
		}
		net.atSource = append(net.atSource, at)
		index[name] = len(fields) - 1
		return len(fields) - 1
	}
	for _, gid := range t.GraphIDs {
		if gid == source || avoid.has(gid) {
			continue
		}
		nodes = append(nodes, gid)
		free := false
		var keys [][]int
		for _, k := range b.keysIn(gid, t.Name) {
			if b.localKey(source, gid, t.Name, k, nil) {
				free = true
				break
			}
			var key []int
			for _, f := range b.keyFields(t.Name, k) {
				key = append(key, fieldIndex(f))
			}
			keys = append(keys, key)
		}
		net.keys = append(net.keys, keys)
		net.free = append(net.free, free)
	}
	net.gives = make([][]keySupply, len(nodes))
	for i, gid := range nodes {
		kp := b.keysProvided(gid, t.Name)
		for fi, f := range fields {
			if f.Name != "__typename" && b.resolvable(gid, t.Name, f.Name, kp) {
				net.gives[i] = append(net.gives[i], keySupply{fi, b.fieldCost(sc, gid, t.Name, f, kp, depth+1)})
			}
		}
	}
	return nodes, net
}
