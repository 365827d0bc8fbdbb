package planner

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Emit pass: each fetch group is printed as a subgraph operation with its
// variables, representations (input rewrites) and output rewrites, and
// fetches are named in plan order.

// fetch prints the subgraph operation of a group.
func (b *builder) fetch(g *group) *Fetch {
	var body strings.Builder
	vars := map[string]bool{}
	for _, in := range g.contexts {
		// Filled by the gateway, not client variables.
		vars[in.Variable] = true
	}
	var usages []string
	// cuts records where the operation uses a contextual variable: the
	// offset in body and the input's index (see ContextTemplate).
	var cuts [][2]int
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
					if a.Value.Kind == ast.Variable {
						for k, in := range g.contexts {
							if in.Variable == a.Value.Raw {
								cuts = append(cuts, [2]int{body.Len(), k})
							}
						}
					}
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
			if ts.typ == s.typ {
				// An interface no object implements: its fields are
				// selected on it directly (a fragment on it would not
				// validate, it has no possible type), but for the
				// __typename already there.
				rest := typeSel{typ: ts.typ, owner: ts.owner}
				for _, f := range ts.fields {
					if f.key != "__typename" || f.name != "__typename" {
						rest.fields = append(rest.fields, f)
					}
				}
				if len(rest.fields) > 0 {
					body.WriteByte(' ')
					printFields(&rest)
				}
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
	selStart, selEnd := 0, 0
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
		selStart = body.Len()
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
		selEnd = body.Len()
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
	var tmpl *ContextTemplate
	if len(g.contexts) > 0 {
		tmpl = &ContextTemplate{Head: head.String()}
		sel := body.String()
		at := selStart
		for _, c := range cuts {
			tmpl.Parts = append(tmpl.Parts, sel[at:c[0]])
			tmpl.Uses = append(tmpl.Uses, c[1])
			at = c[0] + 1 + len(g.contexts[c[1]].Variable)
		}
		tmpl.Parts = append(tmpl.Parts, sel[at:selEnd])
	}
	if g.entity || len(usages) > 0 {
		head.WriteByte('(')
		n := 0
		if g.entity {
			head.WriteString("$representations:[_Any!]!")
			n++
		}
		for _, in := range g.contexts {
			head.WriteString(",$" + in.Variable + ":" + in.Type)
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
			text := "$" + u + ":" + def.Type.String()
			if def.DefaultValue != nil {
				text += "=" + def.DefaultValue.String()
			}
			head.WriteString(text)
			if tmpl != nil {
				tmpl.Vars += "," + text
			}
		}
		head.WriteByte(')')
	}
	f := &Fetch{ID: g.id, Subgraph: b.sg.Graph(g.graph).Name, Operation: head.String() + body.String(),
		OperationName: name, OperationKind: kind, VariableUsages: usages, Contexts: g.contexts, ContextTemplate: tmpl}
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
				if n.ContextTemplate != nil {
					n.ContextTemplate.Head = strings.Replace(n.ContextTemplate.Head, n.OperationName, name, 1)
				}
				n.OperationName = name
			}
		}
	}
	walk(root)
	return root
}
