package schema

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Graph is one subgraph named by the supergraph's join__Graph enum.
type Graph struct {
	// ID is the join__Graph enum value, for example ACCOUNTS.
	ID string
	// Name is the subgraph name given at composition, for example accounts.
	Name string
	// URL is the routing URL from @join__graph(url:).
	URL string
}

// Supergraph is a loaded supergraph: the full schema with its join
// directives, the API schema served to clients, and per-type metadata.
type Supergraph struct {
	// SDL is the text the supergraph was loaded from.
	SDL string
	// Version is a content hash of SDL; caches key on it.
	Version string
	// Full is the supergraph schema including federation machinery.
	Full *ast.Schema
	// API is the client-facing schema.
	API *ast.Schema
	// Graphs lists the subgraphs in join__Graph order.
	Graphs []*Graph
	// Types holds federation metadata for every composite type.
	Types map[string]*Type
	// OverrideLabels lists the progressive @override labels in use, sorted.
	OverrideLabels []string
	// Contexts maps a context name (as the supergraph names it, e.g.
	// "b__userCtx") to the object types that set it: those with
	// @context(name:) and the possible types of interfaces and unions
	// with it, in schema order.
	Contexts map[string][]string

	graphByID map[string]*Graph
	// contextVars names the variable of each contextual argument, by
	// graph ID and coordinate (see ContextVariable).
	contextVars map[string]string

	qgOnce sync.Once
	qg     *QueryGraph
}

// Type is the federation metadata of one object, interface or union type.
type Type struct {
	Name string
	Kind ast.DefinitionKind
	// Graphs maps a graph ID to how that subgraph defines the type.
	Graphs map[string]*TypeInGraph
	// Fields maps a field name to its metadata (objects and interfaces).
	Fields map[string]*Field
	// GraphIDs lists the keys of Graphs by subgraph name.
	GraphIDs []string
}

// TypeInGraph is how one subgraph defines a type.
type TypeInGraph struct {
	Keys            []*Key
	Extension       bool
	InterfaceObject bool
	// Possible lists, for an abstract type, the object types this subgraph
	// may return for it (from @join__implements / @join__unionMember).
	Possible map[string]bool
}

// Key is one @key of a type in one subgraph.
type Key struct {
	Graph      string
	Fields     string
	Selection  ast.SelectionSet
	Resolvable bool
}

// Field is the federation metadata of one field.
type Field struct {
	Name string
	Def  *ast.FieldDefinition
	// Graphs maps a graph ID to how that subgraph declares the field. When
	// the field carries no @join__field at all, Graphs is nil and the field
	// is resolvable wherever its parent type is defined.
	Graphs map[string]*FieldInGraph
}

// FieldInGraph is one @join__field of a field.
type FieldInGraph struct {
	Requires       ast.SelectionSet
	Provides       ast.SelectionSet
	External       bool
	UsedOverridden bool
	// Override names the graph this one took the field from.
	Override string
	// OverrideLabel is the progressive override label, when there is one.
	OverrideLabel string
	// Type is the field type in this subgraph when it differs.
	Type string
	// ContextArguments lists the arguments the gateway fills from a
	// context (@fromContext in the subgraph); they are not in the API
	// schema.
	ContextArguments []*ContextArgument
}

// ContextArgument is one argument of a field that the gateway takes from
// the nearest ancestor of the field that sets a context
// (join__field(contextArguments:)).
type ContextArgument struct {
	// Context is the context's supergraph name, a key of Supergraph.Contexts.
	Context string
	// Name and Type are the argument's name and type in the subgraph;
	// ArgType is Type parsed.
	Name, Type string
	ArgType    *ast.Type
	// Selection is what is read from the ancestor: one field, or inline
	// fragments on object types, each selecting one field.
	Selection ast.SelectionSet
}

// Graph returns the graph with the given join__Graph ID, or nil.
func (s *Supergraph) Graph(id string) *Graph { return s.graphByID[id] }

// GraphByName returns the graph with the given subgraph name, or nil.
func (s *Supergraph) GraphByName(name string) *Graph {
	for _, g := range s.Graphs {
		if g.Name == name {
			return g
		}
	}
	return nil
}

// Load parses and validates a supergraph SDL and builds its model.
func Load(sdl string) (*Supergraph, error) {
	src := &ast.Source{Name: "supergraph.graphql", Input: sdl}
	doc, err := parser.ParseSchema(src)
	if err != nil {
		return nil, fmt.Errorf("supergraph: %s", describe(err))
	}
	full, err := gqlparser.LoadSchema(src)
	if err != nil {
		return nil, fmt.Errorf("supergraph: %s", describe(err))
	}
	names, err := readLinks(full)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(sdl))
	sg := &Supergraph{
		SDL:       sdl,
		Version:   hex.EncodeToString(sum[:8]),
		Full:      full,
		Types:     map[string]*Type{},
		graphByID: map[string]*Graph{},
	}
	if err := sg.readGraphs(names); err != nil {
		return nil, err
	}
	if err := sg.readTypes(names); err != nil {
		return nil, err
	}
	if err := sg.checkResolvable(); err != nil {
		return nil, err
	}
	api, err := buildAPISchema(doc, names)
	if err != nil {
		return nil, err
	}
	sg.API = api
	return sg, nil
}

// checkResolvable refuses a supergraph with an object field that no
// subgraph resolves: every @join__field of it marks it @external and no
// interface of the type has it resolved (an @interfaceObject or an
// interface entity). Composition refuses such a field (an @external field
// needs a subgraph that defines it, EXTERNAL_MISSING_ON_BASE), so only a
// hand-written or damaged supergraph has one; loading it would leave a
// field in the API schema that no plan can fetch, whichever operation
// selects it failing at run time.
func (s *Supergraph) checkResolvable() error {
	names := make([]string, 0, len(s.Types))
	for name, t := range s.Types {
		if t.Kind == ast.Object {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		t := s.Types[name]
		fields := make([]string, 0, len(t.Fields))
		for f := range t.Fields {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			if resolvedSomewhere(t.Fields[f]) || s.resolvedByInterface(name, f) {
				continue
			}
			return fmt.Errorf("supergraph: %s.%s is resolved by no subgraph: each @join__field marks it @external (composition refuses such a field)", name, f)
		}
	}
	return nil
}

// resolvedSomewhere reports whether a subgraph resolves f itself.
func resolvedSomewhere(f *Field) bool {
	if f.Graphs == nil {
		return true
	}
	for _, g := range f.Graphs {
		if !g.External {
			return true
		}
	}
	return false
}

// resolvedByInterface reports whether an interface of the object type
// typeName has field resolved by a subgraph.
func (s *Supergraph) resolvedByInterface(typeName, field string) bool {
	def := s.Full.Types[typeName]
	if def == nil {
		return false
	}
	for _, in := range def.Interfaces {
		if it := s.Types[in]; it != nil && it.Fields[field] != nil && resolvedSomewhere(it.Fields[field]) {
			return true
		}
	}
	return false
}

func describe(err error) string {
	if e, ok := err.(*gqlerror.Error); ok && len(e.Locations) > 0 {
		return fmt.Sprintf("line %d: %s", e.Locations[0].Line, e.Message)
	}
	if list, ok := err.(gqlerror.List); ok && len(list) > 0 {
		return describe(list[0])
	}
	return err.Error()
}

// specNames are the local names of the directives the supergraph links.
type specNames struct {
	join         string // prefix, "join" by default
	joinVersion  string // "0.1" .. "0.5"
	context      string // @context directive name, "" when not linked
	inaccessible string // directive name, "" when not linked
	link         string // directive name of link or core
	prefixes     []string
}

func (n specNames) joinDirective(name string) string { return n.join + "__" + name }

func readLinks(full *ast.Schema) (specNames, error) {
	names := specNames{}
	for _, d := range full.SchemaDirectives {
		var url, as string
		switch d.Name {
		case "link":
			url = argString(d, "url")
		case "core":
			url = argString(d, "feature")
		default:
			continue
		}
		as = argString(d, "as")
		names.link = d.Name
		name, version := splitSpecURL(url)
		if as == "" {
			as = name
		}
		switch name {
		case "join":
			names.join = as
			names.joinVersion = version
		case "context":
			names.context = as
			if local := importedName(d, "@context"); local != "" {
				names.context = local
			}
		case "inaccessible":
			names.inaccessible = as
			// An import may rename it: import: [{name: "@inaccessible", as: "@hidden"}].
			if local := importedName(d, "@inaccessible"); local != "" {
				names.inaccessible = local
			}
		}
		if name != "" {
			names.prefixes = append(names.prefixes, as)
		}
	}
	if names.join == "" {
		return names, fmt.Errorf("supergraph: no @link to the join spec (https://specs.apollo.dev/join/v0.x): not a supergraph")
	}
	return names, nil
}

// importedName returns the local name (without "@") under which a @link
// imports element, or "" when it does not import it.
func importedName(link *ast.Directive, element string) string {
	a := link.Arguments.ForName("import")
	if a == nil || a.Value == nil {
		return ""
	}
	for _, item := range a.Value.Children {
		v := item.Value
		switch {
		case v == nil:
		case v.Kind == ast.StringValue && v.Raw == element:
			return strings.TrimPrefix(element, "@")
		case v.Kind == ast.ObjectValue:
			name, as := "", ""
			for _, f := range v.Children {
				switch f.Name {
				case "name":
					name = f.Value.Raw
				case "as":
					as = f.Value.Raw
				}
			}
			if name == element {
				if as == "" {
					as = name
				}
				return strings.TrimPrefix(as, "@")
			}
		}
	}
	return ""
}

// splitSpecURL turns https://specs.apollo.dev/join/v0.3 into ("join", "0.3").
func splitSpecURL(url string) (string, string) {
	url = strings.TrimSuffix(url, "/")
	i := strings.LastIndex(url, "/")
	if i < 0 {
		return "", ""
	}
	version := strings.TrimPrefix(url[i+1:], "v")
	rest := url[:i]
	j := strings.LastIndex(rest, "/")
	return rest[j+1:], version
}

func argString(d *ast.Directive, name string) string {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind == ast.NullValue {
		return ""
	}
	return a.Value.Raw
}

func argBool(d *ast.Directive, name string, def bool) bool {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind != ast.BooleanValue {
		return def
	}
	return a.Value.Raw == "true"
}

func (s *Supergraph) readGraphs(names specNames) error {
	enum := s.Full.Types[names.joinDirective("Graph")]
	if enum == nil {
		return fmt.Errorf("supergraph: enum %s is missing", names.joinDirective("Graph"))
	}
	for _, v := range enum.EnumValues {
		d := v.Directives.ForName(names.joinDirective("graph"))
		if d == nil {
			return fmt.Errorf("supergraph: line %d: %s.%s has no @%s", v.Position.Line, enum.Name, v.Name, names.joinDirective("graph"))
		}
		g := &Graph{ID: v.Name, Name: argString(d, "name"), URL: argString(d, "url")}
		if g.Name == "" {
			g.Name = strings.ToLower(v.Name)
		}
		s.Graphs = append(s.Graphs, g)
		s.graphByID[g.ID] = g
	}
	return nil
}

func (s *Supergraph) readTypes(names specNames) error {
	joinType := names.joinDirective("type")
	joinField := names.joinDirective("field")
	anyImplements, anyMember := false, false
	for _, def := range s.Full.Types {
		if !def.IsCompositeType() || isMachinery(def.Name, names) {
			continue
		}
		t := &Type{Name: def.Name, Kind: def.Kind, Graphs: map[string]*TypeInGraph{}, Fields: map[string]*Field{}}
		for _, d := range def.Directives.ForNames(joinType) {
			gid := argString(d, "graph")
			if s.graphByID[gid] == nil {
				return fmt.Errorf("supergraph: line %d: @%s on %s names unknown graph %q", d.Position.Line, joinType, def.Name, gid)
			}
			tg := t.Graphs[gid]
			if tg == nil {
				tg = &TypeInGraph{}
				t.Graphs[gid] = tg
				t.GraphIDs = append(t.GraphIDs, gid)
			}
			tg.Extension = tg.Extension || argBool(d, "extension", false)
			tg.InterfaceObject = tg.InterfaceObject || argBool(d, "isInterfaceObject", false)
			if fields := argString(d, "key"); fields != "" {
				sel, err := parseFieldSet(fields)
				if err != nil {
					return fmt.Errorf("supergraph: line %d: @key(fields: %q) on %s: %v", d.Position.Line, fields, def.Name, err)
				}
				tg.Keys = append(tg.Keys, &Key{Graph: gid, Fields: fields, Selection: sel, Resolvable: argBool(d, "resolvable", true)})
			}
		}
		if def.Kind == ast.Union {
			for _, d := range def.Directives.ForNames(names.joinDirective("unionMember")) {
				anyMember = true
				tg := t.Graphs[argString(d, "graph")]
				if tg == nil {
					continue
				}
				if tg.Possible == nil {
					tg.Possible = map[string]bool{}
				}
				tg.Possible[argString(d, "member")] = true
			}
		}
		for _, fd := range def.Fields {
			if strings.HasPrefix(fd.Name, "__") {
				continue
			}
			f := &Field{Name: fd.Name, Def: fd}
			for _, d := range fd.Directives.ForNames(joinField) {
				if f.Graphs == nil {
					f.Graphs = map[string]*FieldInGraph{}
				}
				gid := argString(d, "graph")
				if gid == "" {
					continue
				}
				fg := &FieldInGraph{
					External:       argBool(d, "external", false),
					UsedOverridden: argBool(d, "usedOverridden", false),
					Override:       argString(d, "override"),
					OverrideLabel:  argString(d, "overrideLabel"),
					Type:           argString(d, "type"),
				}
				var err error
				if fg.Requires, err = parseFieldSet(argString(d, "requires")); err != nil {
					return fmt.Errorf("supergraph: line %d: @requires on %s.%s: %v", d.Position.Line, def.Name, fd.Name, err)
				}
				if fg.Provides, err = parseFieldSet(argString(d, "provides")); err != nil {
					return fmt.Errorf("supergraph: line %d: @provides on %s.%s: %v", d.Position.Line, def.Name, fd.Name, err)
				}
				if fg.ContextArguments, err = readContextArguments(d); err != nil {
					return fmt.Errorf("supergraph: line %d: contextArguments on %s.%s: %v", d.Position.Line, def.Name, fd.Name, err)
				}
				if fg.OverrideLabel != "" && !contains(s.OverrideLabels, fg.OverrideLabel) {
					s.OverrideLabels = append(s.OverrideLabels, fg.OverrideLabel)
				}
				if prev := f.Graphs[gid]; prev != nil && !prev.External {
					// A resolvable declaration wins over an external one.
					continue
				}
				f.Graphs[gid] = fg
			}
			t.Fields[fd.Name] = f
		}
		s.Types[def.Name] = t
	}
	// Possible types of interfaces per graph: object types only. An
	// interface implementing another (interface Named implements Node)
	// carries @join__implements too, but no value has it as its runtime
	// type; its implementations declare the other interface themselves.
	for _, def := range s.Full.Types {
		if def.Kind != ast.Object {
			continue
		}
		for _, d := range def.Directives.ForNames(names.joinDirective("implements")) {
			anyImplements = true
			iface := s.Types[argString(d, "interface")]
			if iface == nil {
				continue
			}
			tg := iface.Graphs[argString(d, "graph")]
			if tg == nil {
				continue
			}
			if tg.Possible == nil {
				tg.Possible = map[string]bool{}
			}
			tg.Possible[def.Name] = true
		}
	}
	// Older join versions say nothing of implementations or members per
	// graph: any implementation the graph defines is possible there.
	for _, t := range s.Types {
		if t.Kind == ast.Object || (t.Kind == ast.Union && anyMember) || (t.Kind == ast.Interface && anyImplements) {
			continue
		}
		for gid, tg := range t.Graphs {
			tg.Possible = map[string]bool{}
			for _, obj := range s.Full.PossibleTypes[t.Name] {
				if ot := s.Types[obj.Name]; ot != nil && ot.Kind == ast.Object && ot.Graphs[gid] != nil {
					tg.Possible[obj.Name] = true
				}
			}
		}
	}
	sort.Strings(s.OverrideLabels)
	if err := s.readContexts(names); err != nil {
		return err
	}
	for _, t := range s.Types {
		// Subgraph name order, not the order of the join__Graph enum: plans
		// must not change when a composer lists subgraphs differently.
		sort.Slice(t.GraphIDs, func(i, j int) bool {
			return s.graphByID[t.GraphIDs[i]].Name < s.graphByID[t.GraphIDs[j]].Name
		})
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isMachinery reports whether a type belongs to a linked spec (join__Graph,
// link__Import, ...) rather than to the graph itself.
func isMachinery(name string, names specNames) bool {
	for _, p := range append(names.prefixes, "link", "core", "join") {
		if strings.HasPrefix(name, p+"__") {
			return true
		}
	}
	return false
}

// parseFieldSet parses a federation FieldSet such as "id org { id }".
func parseFieldSet(fields string) (ast.SelectionSet, error) {
	if strings.TrimSpace(fields) == "" {
		return nil, nil
	}
	doc, err := parser.ParseQuery(&ast.Source{Name: "fieldset", Input: "{" + fields + "}"})
	if err != nil {
		return nil, fmt.Errorf("%s", describe(err))
	}
	if len(doc.Operations) != 1 {
		return nil, fmt.Errorf("not a field set")
	}
	return doc.Operations[0].SelectionSet, nil
}
