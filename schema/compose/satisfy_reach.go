package compose

import (
	"sort"
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Reachability over the query graph: key-jump closures, key conditions,
// the subgraphs resolving a field (with @requires, @provides and
// @interfaceObject), where an abstract type's runtime type continues.

// entryGraphs lists where an object of type name, returned by subgraph gid
// for an abstract type, can be continued: gid itself when it has a node
// for the type; from an @interfaceObject node, the subgraphs defining the
// interface with a resolvable @key (reached by a key jump) and the type,
// which tell the actual type; else the subgraphs with a resolvable key of
// the type.
func (c *satChecker) entryGraphs(abstract *schema.Type, name, gid string, provided ast.SelectionSet) []string {
	if c.qg.Node(name, gid) != nil {
		return []string{gid}
	}
	t := c.sg.Types[name]
	if t == nil {
		return nil
	}
	var out []string
	if src := c.qg.Node(abstract.Name, gid); src != nil && src.InterfaceObject {
		from := c.closure(abstract.Name, gid, provided)
		for _, j := range abstract.GraphIDs {
			n := c.qg.Node(abstract.Name, j)
			if n == nil || n.InterfaceObject || t.Graphs[j] == nil {
				continue
			}
			for _, k := range n.Keys {
				if c.canProvide(abstract.Name, k.Selection, from, gid, provided) {
					out = append(out, j)
					break
				}
			}
		}
		return out
	}
	for _, j := range t.GraphIDs {
		if n := c.qg.Node(name, j); n != nil && len(n.Keys) > 0 {
			out = append(out, j)
		}
	}
	return out
}

// closure lists the subgraphs an object of typ held in gid reaches by key
// jumps: a jump's key fields may come from any subgraph reached so far,
// nested entity fields of a key through jumps of their own. provided is
// what a @provides made available in gid.
func (c *satChecker) closure(typ, gid string, provided ast.SelectionSet) []string {
	ck := closureKey{typ, gid, c.selKey(provided)}
	if r, ok := c.closures[ck]; ok {
		return r
	}
	t := c.sg.Types[typ]
	if t == nil {
		return []string{gid}
	}
	if c.roots[typ] {
		r := append([]string(nil), t.GraphIDs...)
		c.closures[ck] = r
		return r
	}
	if c.computing[ck] || (t.Kind != ast.Object && t.Kind != ast.Interface) {
		return []string{gid}
	}
	c.computing[ck] = true
	defer delete(c.computing, ck)
	reached := []string{gid}
	for changed := true; changed; {
		changed = false
		for _, j := range t.GraphIDs {
			n := c.qg.Node(typ, j)
			if n == nil || containsString(reached, j) {
				continue
			}
			for _, k := range n.Keys {
				if c.canProvide(typ, k.Selection, reached, gid, provided) {
					reached = append(reached, j)
					changed = true
					break
				}
			}
		}
	}
	c.closures[ck] = reached
	return reached
}

// canProvide reports whether the subgraphs from can together resolve
// every field of a selection on typ (with what a @provides made available
// in graph pg).
func (c *satChecker) canProvide(typ string, sel ast.SelectionSet, from []string, pg string, provided ast.SelectionSet) bool {
	for _, x := range sel {
		switch x := x.(type) {
		case *ast.Field:
			if x.Name == "__typename" {
				continue
			}
			ok := false
			for _, g := range from {
				var target string
				var sub ast.SelectionSet
				if e := c.edge(typ, g, x.Name); e != nil {
					target = e.Target
				} else if ps, found := providedField(provided, typ, x.Name); found && g == pg {
					target, sub = c.fieldType(typ, x.Name), ps
				} else {
					continue
				}
				if len(x.SelectionSet) == 0 {
					ok = true
					break
				}
				reach := []string{g}
				if c.sg.Types[target] != nil {
					reach = c.closure(target, g, sub)
				}
				if c.canProvide(target, x.SelectionSet, reach, g, sub) {
					ok = true
					break
				}
			}
			if !ok {
				return false
			}
		case *ast.InlineFragment:
			cond := x.TypeCondition
			if cond == "" {
				cond = typ
			}
			known := false
			for _, g := range from {
				if c.qg.Node(cond, g) != nil {
					known = true
				}
			}
			if known && !c.canProvide(cond, x.SelectionSet, from, pg, narrowProvided(provided, cond)) {
				return false
			}
		}
	}
	return true
}

// fieldType is the named type of a supergraph field.
func (c *satChecker) fieldType(typ, field string) string {
	if t := c.sg.Types[typ]; t != nil {
		if f := t.Fields[field]; f != nil {
			return f.Def.Type.Name()
		}
	}
	return ""
}

// resolver is a subgraph resolving a field, with what a @provides on the
// field makes available below it.
type resolver struct {
	graph    string
	provided ast.SelectionSet
}

// fieldResolvers is resolvers from gid's key-jump closure, memoized.
func (c *satChecker) fieldResolvers(t *schema.Type, field, gid string, provided ast.SelectionSet) []resolver {
	closure := c.closure(t.Name, gid, provided)
	k := fieldMemoKey{typ: t.Name, field: field, closure: c.closureID(t.Name, gid, provided, closure)}
	if len(provided) > 0 {
		// What gid was given by a @provides counts in gid only. When the
		// @provides does not name the field nor change the closure, the
		// answer is the one without it - unless that is empty (an
		// @interfaceObject key might use provided fields).
		if _, named := providedField(provided, t.Name, field); !named {
			plain := c.closure(t.Name, gid, nil)
			if id := c.closureID(t.Name, gid, nil, plain); id == k.closure {
				if r := c.fieldResolvers(t, field, gid, nil); len(r) > 0 {
					return r
				}
			}
		}
		k.graph, k.provided = gid, c.selKey(provided)
	}
	if r, ok := c.fieldMemo[k]; ok {
		return r
	}
	r := c.resolvers(t, field, gid, closure, provided)
	c.fieldMemo[k] = r
	return r
}

// closureID names a closure by its sorted subgraphs.
func (c *satChecker) closureID(typ, gid string, provided ast.SelectionSet, closure []string) string {
	ck := closureKey{typ, gid, c.selKey(provided)}
	id, ok := c.closureIDs[ck]
	if !ok {
		sorted := append([]string(nil), closure...)
		sort.Strings(sorted)
		id = strings.Join(sorted, ",")
		c.closureIDs[ck] = id
	}
	return id
}

// resolvers lists the subgraphs of a closure (reached from gid) that
// resolve field of t, with their @requires satisfiable.
func (c *satChecker) resolvers(t *schema.Type, field, gid string, closure []string, provided ast.SelectionSet) []resolver {
	var out []resolver
	if sub, ok := providedField(provided, t.Name, field); ok {
		out = append(out, resolver{graph: gid, provided: sub})
	}
	for _, g := range closure {
		e := c.edge(t.Name, g, field)
		if e == nil {
			continue
		}
		if len(e.Requires) > 0 {
			// The required fields come from the subgraphs reached from
			// this one (as Apollo resolves the conditions from the node of
			// the @requires, not from where the path was before), and the
			// query resumes in this one through one of its keys.
			tg := t.Graphs[g]
			if tg == nil || len(tg.Keys) == 0 || !c.requirable(t, e.Requires, c.closure(t.Name, g, nil)) {
				continue
			}
		}
		if len(out) > 0 && out[0].graph == g {
			out[0].provided = append(out[0].provided, e.Provides...)
			continue
		}
		out = append(out, resolver{graph: g, provided: e.Provides})
	}
	if len(out) == 0 && c.viaInterfaceObject(t, field) {
		// Jump to the @interfaceObject subgraph through the interface key.
		for _, iname := range c.interfaces(t.Name) {
			itf := c.sg.Types[iname]
			if itf == nil || itf.Fields[field] == nil {
				continue
			}
			for _, j := range itf.GraphIDs {
				n := c.qg.Node(iname, j)
				if n == nil || !n.InterfaceObject || n.Fields[field] == nil {
					continue
				}
				for _, k := range n.Keys {
					if c.canProvide(t.Name, k.Selection, closure, gid, provided) {
						return []resolver{{graph: j, provided: n.Fields[field].Provides}}
					}
				}
			}
		}
	}
	return out
}

// interfaces lists the interfaces an object type implements.
func (c *satChecker) interfaces(typ string) []string {
	if d := c.sg.Full.Types[typ]; d != nil {
		return d.Interfaces
	}
	return nil
}

// viaInterfaceObject reports whether an @interfaceObject of one of the
// interfaces of t resolves field.
func (c *satChecker) viaInterfaceObject(t *schema.Type, field string) bool {
	for _, iname := range c.interfaces(t.Name) {
		itf := c.sg.Types[iname]
		if itf == nil {
			continue
		}
		for _, j := range itf.GraphIDs {
			if n := c.qg.Node(iname, j); n != nil && n.InterfaceObject {
				if e := n.Fields[field]; e != nil && !e.KeyOnly {
					return true
				}
			}
		}
	}
	return false
}

// requirable reports whether every top-level field a @requires selects is
// resolved by a subgraph of the closure (or by an @interfaceObject).
func (c *satChecker) requirable(t *schema.Type, sel ast.SelectionSet, closure []string) bool {
	for _, x := range sel {
		fd, ok := x.(*ast.Field)
		if !ok {
			continue
		}
		if t.Fields[fd.Name] == nil {
			return false
		}
		found := false
		for _, g := range closure {
			if c.edge(t.Name, g, fd.Name) != nil {
				found = true
				break
			}
		}
		if !found && !c.viaInterfaceObject(t, fd.Name) {
			return false
		}
	}
	return true
}
