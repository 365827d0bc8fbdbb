package schema

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// Contexts (Federation 2.8 @context / @fromContext) as a supergraph
// records them: @context(name:) on the types that set a context, and
// join__field(contextArguments:) on the fields whose arguments the gateway
// fills from the nearest ancestor that sets one.

// readContextArguments reads the contextArguments of one @join__field.
func readContextArguments(d *ast.Directive) ([]*ContextArgument, error) {
	a := d.Arguments.ForName("contextArguments")
	if a == nil || a.Value == nil || a.Value.Kind == ast.NullValue {
		return nil, nil
	}
	items := a.Value.Children
	if a.Value.Kind == ast.ObjectValue {
		// One item where a list is expected (input coercion).
		items = ast.ChildValueList{{Value: a.Value}}
	} else if a.Value.Kind != ast.ListValue {
		return nil, fmt.Errorf("not a list of join__ContextArgument")
	}
	var out []*ContextArgument
	for _, item := range items {
		v := item.Value
		if v == nil || v.Kind != ast.ObjectValue {
			return nil, fmt.Errorf("not a join__ContextArgument: %s", v)
		}
		ca := &ContextArgument{}
		selection := ""
		for _, f := range v.Children {
			if f.Value == nil || f.Value.Kind != ast.StringValue {
				return nil, fmt.Errorf("%s is not a string", f.Name)
			}
			switch f.Name {
			case "context":
				ca.Context = f.Value.Raw
			case "name":
				ca.Name = f.Value.Raw
			case "type":
				ca.Type = f.Value.Raw
			case "selection":
				selection = f.Value.Raw
			}
		}
		if ca.Context == "" || ca.Name == "" || ca.Type == "" || strings.TrimSpace(selection) == "" {
			return nil, fmt.Errorf("a join__ContextArgument needs context, name, type and selection")
		}
		tdoc, err := parser.ParseQuery(&ast.Source{Input: "query($v: " + ca.Type + ") { f }"})
		if err != nil || len(tdoc.Operations) != 1 || len(tdoc.Operations[0].VariableDefinitions) != 1 {
			return nil, fmt.Errorf("argument %s: %q is not a type", ca.Name, ca.Type)
		}
		ca.ArgType = tdoc.Operations[0].VariableDefinitions[0].Type
		ca.Type = ca.ArgType.String()
		sel, err := ParseContextSelection(selection)
		if err == errNotSelectionSet || (err == nil && len(sel) == 0) {
			return nil, fmt.Errorf("argument %s: selection %q is not a selection set", ca.Name, selection)
		}
		if err != nil {
			return nil, fmt.Errorf("argument %s: selection %q: %s", ca.Name, selection, describe(err))
		}
		ca.Selection = sel
		out = append(out, ca)
	}
	return out, nil
}

// errNotSelectionSet is ParseContextSelection's error for a text that
// parses but is not one selection set.
var errNotSelectionSet = errors.New("not a selection set")

// ParseContextSelection parses the selection of a context argument (the
// text after "$name" in @fromContext, or a join__ContextArgument's
// selection), with or without its braces. A parse error is the parser's.
func ParseContextSelection(selection string) (ast.SelectionSet, error) {
	text := selection
	if !strings.HasPrefix(strings.TrimSpace(text), "{") {
		text = "{" + text + "}"
	}
	doc, err := parser.ParseQuery(&ast.Source{Name: "selection", Input: text})
	if err != nil {
		return nil, err
	}
	if len(doc.Operations) != 1 || len(doc.Fragments) > 0 {
		return nil, errNotSelectionSet
	}
	return doc.Operations[0].SelectionSet, nil
}

// readContexts fills Contexts from the @context directives on types and
// checks that every context argument names a context some type sets.
func (s *Supergraph) readContexts(names specNames) error {
	s.Contexts = map[string][]string{}
	if names.context != "" {
		for _, def := range s.Full.Types {
			for _, d := range def.Directives.ForNames(names.context) {
				name := argString(d, "name")
				if name == "" {
					return fmt.Errorf("supergraph: line %d: @%s on %s has no name", d.Position.Line, names.context, def.Name)
				}
				for _, obj := range s.Full.GetPossibleTypes(def) {
					if !contains(s.Contexts[name], obj.Name) {
						s.Contexts[name] = append(s.Contexts[name], obj.Name)
					}
				}
			}
		}
	}
	for _, types := range s.Contexts {
		sort.Strings(types)
	}
	s.nameContextVariables()
	for _, t := range s.Types {
		for _, f := range t.Fields {
			for _, fg := range f.Graphs {
				for _, ca := range fg.ContextArguments {
					if len(s.Contexts[ca.Context]) == 0 {
						return fmt.Errorf("supergraph: %s.%s(%s:) reads context %q, which no type sets", t.Name, f.Name, ca.Name, ca.Context)
					}
				}
			}
		}
	}
	return nil
}

// nameContextVariables names the variable that carries each contextual
// argument to its subgraph the way Apollo's planner does:
// contextualArgument_<n>_<i>, n the subgraph's position by name (from
// 1; Apollo's counts in join__Graph order), i the argument's position among the subgraph's contextual
// arguments ("Type.field(arg:)", sorted).
func (s *Supergraph) nameContextVariables() {
	s.contextVars = map[string]string{}
	coords := map[string][]string{}
	for _, t := range s.Types {
		for _, f := range t.Fields {
			for gid, fg := range f.Graphs {
				for _, ca := range fg.ContextArguments {
					coords[gid] = append(coords[gid], t.Name+"."+f.Name+"("+ca.Name+":)")
				}
			}
		}
	}
	// Subgraphs by name, not in join__Graph order: plans must not change
	// when a composer lists subgraphs differently.
	graphs := slices.Clone(s.Graphs)
	sort.Slice(graphs, func(i, j int) bool { return graphs[i].Name < graphs[j].Name })
	for n, g := range graphs {
		list := coords[g.ID]
		sort.Strings(list)
		for i, c := range list {
			s.contextVars[g.ID+" "+c] = fmt.Sprintf("contextualArgument_%d_%d", n+1, i)
		}
	}
}

// ContextVariable is the name of the variable that carries argument arg of
// typ.field, filled from a context, to subgraph graphID ("" when the
// argument is not contextual there).
func (s *Supergraph) ContextVariable(graphID, typ, field, arg string) string {
	return s.contextVars[graphID+" "+typ+"."+field+"("+arg+":)"]
}
