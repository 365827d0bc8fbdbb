package compose

import (
	"iter"
	"maps"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/fedgate/gateway/schema"

	"github.com/vektah/gqlparser/v2/ast"
)

// Federation 2.8 contexts: @context(name:) on a type makes the type a
// context, @fromContext(field: "$name { selection }") on an argument of a
// field lets the gateway fill the argument from the nearest ancestor of
// the field that is such a context. The checks are those of
// @apollo/composition's subgraph validation (error codes CONTEXT_*,
// NO_CONTEXT_IN_SELECTION).

// contextRef matches "$name selection": the context name after optional
// ignored tokens, then the selection.
var contextRef = regexp.MustCompile(`^(?:[\n\r\t ,]|#[^\n\r]*)*\$(?:[\n\r\t ,]|#[^\n\r]*)*([A-Za-z_]\w*)([\s\S]*)$`)

// ParseContextField splits a @fromContext field argument into the context
// name and the selection text (as written, leading blanks included); both
// are empty when the argument names no context.
func ParseContextField(field string) (context, selection string) {
	m := contextRef.FindStringSubmatch(field)
	if m == nil {
		return "", ""
	}
	return m[1], m[2]
}

var contextName = regexp.MustCompile(`^[A-Za-z]\w*$`)

// contextLocations maps each context name the subgraph sets to the types
// that set it, in definition order.
func (sg *subgraph) contextLocations() map[string][]*sType {
	out := map[string][]*sType{}
	for _, name := range sg.order {
		t := sg.types[name]
		for _, c := range t.contexts {
			out[c] = append(out[c], t)
		}
	}
	return out
}

// validateContexts checks the subgraph's @context and @fromContext uses.
func (sg *subgraph) validateContexts(errs *errorList) {
	locations := sg.contextLocations()
	for _, name := range sg.order {
		t := sg.types[name]
		for _, c := range t.contexts {
			if strings.Contains(c, "_") {
				errs.add("CONTEXT_NAME_INVALID", sg.name, name, "Context name \"%s\" may not contain an underscore.", c)
			} else if !contextName.MatchString(c) {
				errs.add("CONTEXT_NAME_INVALID", sg.name, name, "Context name \"%s\" is invalid. It should have only alphanumeric characters.", c)
			}
		}
	}
	for _, name := range sg.order {
		t := sg.types[name]
		for _, f := range t.fields {
			for _, a := range f.args {
				if a.contextual {
					sg.validateFromContext(t, f, a, locations, errs)
				}
			}
		}
	}
}

func (sg *subgraph) validateFromContext(t *sType, f *sField, a *sArg, locations map[string][]*sType, errs *errorList) {
	coord := t.name + "." + f.name + "(" + a.name + ":)"
	if t.kind != ast.Object {
		errs.add("CONTEXT_NOT_SET", sg.name, coord, "@fromContext argument cannot be used on a field that exists on an abstract type \"%s\".", coord)
		return
	}
	for _, i := range t.interfaces {
		if it := sg.types[i]; it != nil && it.field(f.name) != nil {
			errs.add("CONTEXT_NOT_SET", sg.name, coord, "@fromContext argument cannot be used on a field implementing an interface field \"%s.%s\".", i, f.name)
		}
	}
	if a.defaultValue != nil {
		errs.add("CONTEXT_NOT_SET", sg.name, coord, "@fromContext arguments may not have a default value: \"%s\".", coord)
	}
	context, selection := ParseContextField(a.fromContext)
	if context == "" || selection == "" {
		errs.add("NO_CONTEXT_IN_SELECTION", sg.name, coord, "@fromContext argument does not reference a context \"%s\".", a.fromContext)
		return
	}
	if locs := locations[context]; len(locs) == 0 {
		errs.add("CONTEXT_NOT_SET", sg.name, coord, "Context \"%s\" is used at location \"%s\" but is never set.", context, coord)
	} else {
		sg.validateContextSelection(context, selection, coord, a.typ, locs, errs)
	}
	resolvable := false
	for _, k := range t.keys {
		if k.resolvable {
			resolvable = true
		}
	}
	if !resolvable {
		errs.add("CONTEXT_NO_RESOLVABLE_KEY", sg.name, t.name, "Object \"%s\" has no resolvable key but has a field with a contextual argument.", t.name)
	}
}

// validateContextSelection checks a context selection against every type
// that sets the context: one field, or inline fragments on object types
// (each used by some location), whose leaf type is the argument's type.
func (sg *subgraph) validateContextSelection(context, selection, coord string, expected *ast.Type, locs []*sType, errs *errorList) {
	invalid := func(format string, args ...any) {
		errs.add("CONTEXT_INVALID_SELECTION", sg.name, coord, "Context \"%s\" is used in \"%s\" but the selection is invalid: "+format, append([]any{context, coord}, args...)...)
	}
	sel, err := schema.ParseContextSelection(selection)
	if err != nil {
		invalid("%s", gqlMessage(err))
		return
	}
	if len(sel) == 0 {
		invalid("no selection is made")
		return
	}
	conditions := map[string]bool{}
	fragments := false
	switch sel[0].(type) {
	case *ast.Field:
		if len(sel) != 1 {
			invalid("multiple selections are made")
			return
		}
	case *ast.InlineFragment:
		fragments = true
		for _, s := range sel {
			frag, ok := s.(*ast.InlineFragment)
			if !ok {
				invalid("multiple fields could be selected")
				return
			}
			if frag.TypeCondition != "" {
				conditions[frag.TypeCondition] = true
			}
		}
		if len(conditions) != len(sel) {
			invalid("type conditions have same name")
			return
		}
	default:
		invalid("fragment spread is not allowed")
		return
	}
	used := map[string]bool{}
	for _, loc := range locs {
		if msg := sg.checkContextFields(loc.name, sel); msg != "" {
			invalid("%s", msg)
			return
		}
		if !fragments {
			resolved, ok := sg.contextSelectionType(loc.name, sel)
			if !ok || !contextTypeFits(resolved, expected) {
				invalid("the type of the selection \"%s\" does not match the expected type \"%s\"", typeString(resolved), expected.String())
				return
			}
			continue
		}
		matched := 0
		for _, s := range sel {
			frag := s.(*ast.InlineFragment)
			if frag.TypeCondition == "" {
				invalid("inline fragments must have type conditions\"")
				continue
			}
			ct := sg.types[frag.TypeCondition]
			if ct == nil || ct.kind != ast.Object {
				invalid("type conditions must be an object type\"")
				continue
			}
			if !containsString(sg.runtimeTypes(loc), ct.name) {
				continue
			}
			matched++
			used[ct.name] = true
			resolved, ok := sg.contextSelectionType(ct.name, frag.SelectionSet)
			if !ok {
				invalid("the type of the selection does not match the expected type \"%s\"", expected.String())
				return
			}
			if resolved.NonNull {
				c := *resolved
				c.NonNull = false
				resolved = &c
			}
			if !contextTypeFits(resolved, expected) {
				invalid("the type of the selection \"%s\" does not match the expected type \"%s\"", resolved.String(), expected.String())
				return
			}
		}
		if matched == 0 {
			invalid("no type condition matches the location \"%s\"", loc.name)
			return
		}
	}
	if fragments {
		var names []string
		for c := range conditions {
			names = append(names, c)
		}
		sort.Strings(names)
		for _, c := range names {
			if !used[c] {
				invalid("type condition \"%s\" is never used.", c)
			}
		}
	}
}

func typeString(t *ast.Type) string {
	if t == nil {
		return "undefined"
	}
	return t.String()
}

// runtimeTypes lists the object types a value of type t can have.
func (sg *subgraph) runtimeTypes(t *sType) []string {
	switch t.kind {
	case ast.Object:
		return []string{t.name}
	case ast.Union:
		return t.members
	case ast.Interface:
		var out []string
		for _, name := range sg.order {
			if o := sg.types[name]; o.kind == ast.Object && containsString(o.interfaces, t.name) {
				out = append(out, name)
			}
		}
		return out
	}
	return nil
}

// checkContextFields checks that the selection exists on the type, has no
// aliases and no directives; it returns what is wrong, or "".
func (sg *subgraph) checkContextFields(typeName string, sel ast.SelectionSet) string {
	t := sg.types[typeName]
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if len(s.Directives) > 0 {
				return "directives are not allowed in the selection"
			}
			if s.Alias != "" && s.Alias != s.Name {
				return "aliases are not allowed in the selection"
			}
			if s.Name == "__typename" {
				continue
			}
			f := t.field(s.Name)
			if f == nil {
				return "Cannot query field \"" + s.Name + "\" on type \"" + typeName + "\"."
			}
			composite := sg.isComposite(f.typ.Name())
			if composite && len(s.SelectionSet) == 0 {
				return "Field \"" + s.Name + "\" of type \"" + f.typ.String() + "\" must have a selection of subfields."
			}
			if !composite && len(s.SelectionSet) > 0 {
				return "Field \"" + s.Name + "\" must not have a selection since type \"" + f.typ.String() + "\" has no subfields."
			}
			if composite {
				if msg := sg.checkContextFields(f.typ.Name(), s.SelectionSet); msg != "" {
					return msg
				}
			}
		case *ast.InlineFragment:
			if len(s.Directives) > 0 {
				return "directives are not allowed in the selection"
			}
			cond := s.TypeCondition
			if cond == "" {
				cond = typeName
			}
			if sg.types[cond] == nil {
				return "Unknown type \"" + cond + "\"."
			}
			if msg := sg.checkContextFields(cond, s.SelectionSet); msg != "" {
				return msg
			}
		default:
			return "fragment spread is not allowed"
		}
	}
	return ""
}

// contextSelectionType is the type a field selection resolves to: the
// leaf's type with the list levels of the fields on the way (non-null
// dropped), when every selected field resolves to the same one.
func (sg *subgraph) contextSelectionType(typeName string, sel ast.SelectionSet) (*ast.Type, bool) {
	t := sg.types[typeName]
	if t != nil && t.kind == ast.Object && t.interfaceObject {
		return nil, false
	}
	var out *ast.Type
	for i, s := range sel {
		fd, ok := s.(*ast.Field)
		if !ok {
			return nil, false
		}
		f := t.field(fd.Name)
		if f == nil {
			return nil, false
		}
		var resolved *ast.Type
		if len(fd.SelectionSet) > 0 {
			inner, ok := sg.contextSelectionType(f.typ.Name(), fd.SelectionSet)
			if !ok {
				return nil, false
			}
			resolved = wrapLists(f.typ, inner)
		} else {
			resolved = wrapLists(f.typ, ast.NamedType(f.typ.Name(), nil))
		}
		if i > 0 && resolved.String() != out.String() {
			return nil, false
		}
		out = resolved
	}
	return out, out != nil
}

// wrapLists wraps inner in the list levels of outer (not its non-null
// levels), the way @apollo/composition resolves a context selection.
func wrapLists(outer, inner *ast.Type) *ast.Type {
	if outer.Elem == nil {
		return inner
	}
	return ast.ListType(wrapLists(outer.Elem, inner), nil)
}

// contextTypeFits reports whether a selection of type resolved may fill an
// argument of type expected: the same named type and lists, resolved at
// least as non-null as expected.
func contextTypeFits(resolved, expected *ast.Type) bool {
	if resolved == nil {
		return false
	}
	if resolved.NonNull {
		if expected.NonNull {
			return contextTypeFits(nonNullInner(resolved), nonNullInner(expected))
		}
		return contextTypeFits(nonNullInner(resolved), expected)
	}
	if resolved.Elem != nil && expected.Elem != nil {
		return contextTypeFits(resolved.Elem, expected.Elem)
	}
	return resolved.Elem == nil && expected.Elem == nil && !expected.NonNull && resolved.NamedType == expected.NamedType
}

func nonNullInner(t *ast.Type) *ast.Type {
	c := *t
	c.NonNull = false
	return &c
}

// contextUsedFields adds to used the fields the subgraph's context
// selections select, at every type that sets the context: @external
// fields they name are used.
func (sg *subgraph) contextUsedFields(used map[string]bool) {
	locations := sg.contextLocations()
	for _, name := range sg.order {
		for _, f := range sg.types[name].fields {
			for context, sel := range contextReads(f) {
				for _, loc := range locations[context] {
					sg.walkFieldSet(loc.name, sel, func(t *sType, f *sField, fd *ast.Field) bool {
						if f != nil {
							used[t.name+"."+f.name] = true
						}
						return true
					})
				}
			}
		}
	}
}

// contextReads yields the context and parsed selection of each
// contextual argument of f whose @fromContext parses (the ones that do not
// are reported by the subgraph's own checks).
func contextReads(f *sField) iter.Seq2[string, ast.SelectionSet] {
	return func(yield func(string, ast.SelectionSet) bool) {
		for _, a := range f.args {
			if !a.contextual {
				continue
			}
			context, selection := ParseContextField(a.fromContext)
			sel, err := schema.ParseContextSelection(selection)
			if context == "" || err != nil {
				continue
			}
			if !yield(context, sel) {
				return
			}
		}
	}
}

// hasContextual reports whether some argument of the field is @fromContext.
func hasContextual(sf *sField) bool {
	for _, a := range sf.args {
		if a.contextual {
			return true
		}
	}
	return false
}

// contextualArg reports whether argument name of f is contextual in some
// subgraph: it is then left out of the supergraph (the gateway fills it).
// Where another subgraph takes it from the client and requires it, the
// field could not be called there: CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS.
func (s *supergraph) contextualArg(f *mField, name string, errs *errorList) bool {
	contextual := false
	for _, sf := range f.sources {
		if sf == nil {
			continue
		}
		if a := findArg(sf.args, name); a != nil && a.contextual {
			contextual = true
		}
	}
	if !contextual {
		return false
	}
	coord := f.parent.name + "." + f.name + "(" + name + ":)"
	for i, sf := range f.sources {
		if sf == nil {
			continue
		}
		a := findArg(sf.args, name)
		switch {
		case a == nil || a.contextual:
		case a.typ.NonNull && a.defaultValue == nil:
			errs.add("CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS", s.subgraphs[i].name, coord, "Argument \"%s\" is contextual in at least one subgraph but in \"%s\" it does not have @fromContext, is not nullable and has no default value.", coord, coord)
		default:
			s.hint("CONTEXTUAL_ARGUMENT_NOT_CONTEXTUAL_IN_ALL_SUBGRAPHS", coord, "Contextual argument \"%s\" will not be included in the supergraph since it is contextual in at least one subgraph", coord)
		}
	}
	return true
}

// contextArguments prints the contextArguments of subgraph i's
// @join__field for sf: the context under its supergraph name
// ("<subgraph>__<name>"), the argument, its type and the selection.
func (s *supergraph) contextArguments(i int, sf *sField) string {
	var items []string
	for _, a := range sf.args {
		if !a.contextual {
			continue
		}
		context, selection := ParseContextField(a.fromContext)
		items = append(items, "{context: "+quote(s.subgraphs[i].name+"__"+context)+", name: "+quote(a.name)+", type: "+quote(a.typ.String())+", selection: "+quote(selection)+"}")
	}
	if len(items) == 0 {
		return ""
	}
	return "[" + strings.Join(items, ", ") + "]"
}

// usedContexts lists the context names some @fromContext of the subgraph
// reads; only those are carried into the supergraph.
func (sg *subgraph) usedContexts() map[string]bool {
	used := map[string]bool{}
	for _, name := range sg.order {
		for _, f := range sg.types[name].fields {
			for _, a := range f.args {
				if context, _ := ParseContextField(a.fromContext); a.contextual && context != "" {
					used[context] = true
				}
			}
		}
	}
	return used
}

// markContexts records the context spec as applied by the subgraphs that
// carry a context into the supergraph.
func (s *supergraph) markContexts() {
	for _, sg := range s.subgraphs {
		used := sg.usedContexts()
		for _, name := range sg.order {
			for _, c := range sg.types[name].contexts {
				if used[c] {
					sg.markApplied("context", "context")
				}
			}
		}
	}
}

// typeContexts lists the supergraph names of the contexts t sets that some
// subgraph reads: "<subgraph>__<name>", by subgraph.
func (s *supergraph) typeContexts(t *mType) []string {
	var out []string
	for i, st := range t.sources {
		if st == nil || len(st.contexts) == 0 {
			continue
		}
		used := s.subgraphs[i].usedContexts()
		for _, c := range st.contexts {
			if used[c] {
				out = append(out, s.subgraphs[i].name+"__"+c)
			}
		}
	}
	return out
}

// checkContextReach reports a field with contextual arguments that the
// API schema reaches, from a root, through no type that sets the context
// while no subgraph resolves it without that context: a gateway would
// have no value to give the argument (SATISFIABILITY_ERROR, as
// @apollo/composition reports it). Paths are walked over the API schema's
// object types (abstract types stand for their possible types).
func checkContextReach(sg *schema.Supergraph, errs *errorList) {
	type need struct{ typ, field, graph, context string }
	var needs []need
	for _, tname := range slices.Sorted(maps.Keys(sg.Types)) {
		t := sg.Types[tname]
		for _, fname := range slices.Sorted(maps.Keys(t.Fields)) {
			f := t.Fields[fname]
			var contextual []need
			plain := false
			for gid, fg := range f.Graphs {
				if fg.External {
					continue
				}
				if len(fg.ContextArguments) == 0 {
					plain = true
				}
				for _, ca := range fg.ContextArguments {
					contextual = append(contextual, need{tname, fname, sg.Graph(gid).Name, ca.Context})
				}
			}
			if !plain {
				needs = append(needs, contextual...)
			}
		}
	}
	sort.Slice(needs, func(i, j int) bool {
		a, b := needs[i], needs[j]
		return a.typ+"."+a.field+" "+a.graph+" "+a.context < b.typ+"."+b.field+" "+b.graph+" "+b.context
	})
	reported := map[string]bool{}
	for _, n := range needs {
		coord := n.typ + "." + n.field
		if reported[coord] {
			continue
		}
		if path := pathAvoiding(sg.API, n.typ, sg.Contexts[n.context]); path != nil {
			reported[coord] = true
			errs.add("SATISFIABILITY_ERROR", "", coord, "The following supergraph API query:\n%s\ncannot be satisfied by the subgraphs because:\n- from subgraph \"%s\": could not find a match for required context for field \"%s\".", printPath(path, n.field), n.graph, coord)
		}
	}
}

// pathAvoiding returns the fields of a path from a root type to an object
// of type target that passes through no object of the types in avoid
// before it, or nil when there is none.
func pathAvoiding(api *ast.Schema, target string, avoid []string) []string {
	type step struct {
		typ  string
		prev *step
		via  string
	}
	seen := map[string]bool{}
	var queue []*step
	for _, r := range []*ast.Definition{api.Query, api.Mutation, api.Subscription} {
		if r != nil && (r.Name == target || !slices.Contains(avoid, r.Name)) && !seen[r.Name] {
			seen[r.Name] = true
			queue = append(queue, &step{typ: r.Name})
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s.typ == target {
			var fields []string
			for x := s; x.prev != nil; x = x.prev {
				fields = append([]string{x.via}, fields...)
			}
			return append(fields, "")
		}
		def := api.Types[s.typ]
		if def == nil {
			continue
		}
		for _, fd := range def.Fields {
			if strings.HasPrefix(fd.Name, "__") {
				continue
			}
			ft := api.Types[fd.Type.Name()]
			if ft == nil || !ft.IsCompositeType() {
				continue
			}
			for _, obj := range api.GetPossibleTypes(ft) {
				// The field's own type setting the context does not
				// count: the context is an ancestor's.
				if seen[obj.Name] || (obj.Name != target && slices.Contains(avoid, obj.Name)) {
					continue
				}
				seen[obj.Name] = true
				via := fd.Name
				if obj.Name != ft.Name {
					via = fd.Name + " ... on " + obj.Name
				}
				queue = append(queue, &step{typ: obj.Name, prev: s, via: via})
			}
		}
	}
	return nil
}

// printPath prints a path of fields ending in field as a query.
func printPath(fields []string, field string) string {
	var b strings.Builder
	b.WriteString("{\n")
	depth := 1
	for _, f := range fields[:len(fields)-1] {
		b.WriteString(strings.Repeat("  ", depth) + f + " {\n")
		depth++
	}
	b.WriteString(strings.Repeat("  ", depth) + field + "\n")
	for depth--; depth >= 0; depth-- {
		b.WriteString(strings.Repeat("  ", depth) + "}\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// validateContextAuth checks that field f of t, contextual in subgraph i,
// carries at least the access-control requirements of the types that set
// its contexts and of the data its selections read there
// (MISSING_TRANSITIVE_AUTH_REQUIREMENTS, as for @requires).
func (s *supergraph) validateContextAuth(t *mType, f *mField, i int, sf *sField, errs *errorList) {
	own := authOf(t.applied).and(authOf(f.applied))
	sg := s.subgraphs[i]
	for context, sel := range contextReads(sf) {
		for _, name := range s.order {
			target := s.types[name]
			if st := target.sources[i]; st == nil || !containsString(st.contexts, context) {
				continue
			}
			bad := ""
			if !own.satisfies(authOf(target.applied)) {
				bad = "type"
			} else {
				bad = s.firstUnmetAuth(own, name, sel)
			}
			if bad != "" {
				errs.add("MISSING_TRANSITIVE_AUTH_REQUIREMENTS", sg.name, t.name+"."+f.name, "Field \"%s.%s\" does not specify necessary @authenticated, @requiresScopes and/or @policy auth requirements to access the transitive data in context %s from @fromContext selection set.", t.name, f.name, sg.name+"__"+context)
				return
			}
		}
	}
}
