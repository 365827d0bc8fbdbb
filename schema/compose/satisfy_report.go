package compose

import (
	"fmt"
	"strings"

	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// Reporting: the messages of the satisfiability errors and the query
// each one names.

// name is the subgraph name of a graph ID, quoted.
func (c *satChecker) name(gid string) string {
	if g := c.sg.Graph(gid); g != nil {
		return "\"" + g.Name + "\""
	}
	return "\"" + gid + "\""
}

func (c *satChecker) names(gids []string) string {
	var out []string
	for _, g := range gids {
		out = append(out, c.name(g))
	}
	return subgraphList(out)
}

// checkRuntimeTypes reports a shared field of abstract type whose
// subgraphs have no possible runtime type in common: they cannot resolve
// it the same way (SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES).
func (c *satChecker) checkRuntimeTypes(v *satVisit, t *schema.Type, fd *ast.FieldDefinition, nt *schema.Type, all []string, reported map[string]bool, errs *errorList) {
	// A subgraph knowing no implementation never returns an object there.
	var graphs []string
	for _, g := range all {
		if len(c.possible(nt.Name, g)) > 0 {
			graphs = append(graphs, g)
		}
	}
	if len(graphs) < 2 {
		return
	}
	common := c.possible(nt.Name, graphs[0])
	for _, g := range graphs[1:] {
		var keep []string
		for _, m := range c.possible(nt.Name, g) {
			if containsString(common, m) {
				keep = append(keep, m)
			}
		}
		common = keep
	}
	coord := t.Name + "." + fd.Name
	if len(common) > 0 || reported["runtime:"+coord] {
		return
	}
	reported["runtime:"+coord] = true
	var lines []string
	for _, g := range graphs {
		var quoted []string
		for _, m := range c.possible(nt.Name, g) {
			quoted = append(quoted, "\""+m+"\"")
		}
		lines = append(lines, fmt.Sprintf(" - in subgraph %s, types %s", c.name(g), strings.Join(quoted, ", ")))
	}
	errs.add("SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES", "", coord, "For the following supergraph API query:\n%s\nShared field \"%s\" return type \"%s\" has a non-intersecting set of possible runtime types across subgraphs. Runtime types in subgraphs are:\n%s.\nThis is not allowed as shared fields must resolve the same way in all subgraphs, and that implies at least some common runtime types between the subgraphs.", pathQuery(v, fd.Name+" { ... }"), coord, fd.Type.String(), strings.Join(lines, ";\n"))
}

// resolverNames says which subgraphs resolve a field, for messages.
func (c *satChecker) resolverNames(t *schema.Type, field string) string {
	var names []string
	for _, g := range t.GraphIDs {
		if n := c.qg.Node(t.Name, g); n != nil {
			if e := n.Fields[field]; e != nil && !e.KeyOnly {
				names = append(names, c.name(g))
			}
		}
	}
	if len(names) == 0 {
		return "no subgraph resolves it"
	}
	return "resolved in " + subgraphList(names)
}

// witnessArgs prints the required arguments of a field with a value of
// their type, as Apollo's messages do, so that the query is a valid
// document: "(id: \"<any id>\")", or "" when there are none.
func witnessArgs(api *ast.Schema, fd *ast.FieldDefinition) string {
	var parts []string
	for _, a := range fd.Arguments {
		if a.Type.NonNull && a.DefaultValue == nil {
			parts = append(parts, a.Name+": "+witness(api, a.Type, 0))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// witness prints a value of an input type.
func witness(api *ast.Schema, t *ast.Type, depth int) string {
	if t.Elem != nil {
		return "[]"
	}
	switch t.NamedType {
	case "ID":
		return `"<any id>"`
	case "String":
		return `"A string value"`
	case "Int":
		return "0"
	case "Float":
		return "3.14"
	case "Boolean":
		return "true"
	}
	d := api.Types[t.NamedType]
	switch {
	case d == nil:
		return "null"
	case d.Kind == ast.Enum && len(d.EnumValues) > 0:
		return d.EnumValues[0].Name
	case d.Kind == ast.InputObject && depth < 8:
		var parts []string
		for _, f := range d.Fields {
			if f.Type.NonNull && f.DefaultValue == nil {
				parts = append(parts, f.Name+": "+witness(api, f.Type, depth+1))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	return `"<any value>"`
}

// pathQuery prints the query that reaches a visit and then selects field.
func pathQuery(v *satVisit, field string) string {
	var steps []string
	root := ""
	for x := v; x != nil; x = x.parent {
		switch {
		case x.cond != "":
			steps = append(steps, "... on "+x.cond)
		case x.field != "":
			steps = append(steps, x.field+x.args)
		}
		if x.parent == nil {
			root = x.typ
		}
	}
	var b strings.Builder
	if root != "Query" {
		b.WriteString(strings.ToLower(root) + " ")
	}
	b.WriteString("{\n")
	indent := "  "
	for i := len(steps) - 1; i >= 0; i-- {
		b.WriteString(indent + steps[i] + " {\n")
		indent += "  "
	}
	b.WriteString(indent + field + "\n")
	for range steps {
		indent = indent[2:]
		b.WriteString(indent + "}\n")
	}
	b.WriteString("}")
	return b.String()
}
