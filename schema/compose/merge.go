package compose

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// supergraph is the merged model printed as the supergraph SDL.
type supergraph struct {
	subgraphs []*subgraph
	types     map[string]*mType
	order     []string
	// directives are the executable and composed directive definitions.
	directives []*ast.DirectiveDefinition
	// composed lists the custom links of directives named by @composeDirective.
	composed []*customLink
	// used records which carried specs (tag, inaccessible, ...) are applied.
	used     map[string]bool
	maxMinor int
	roots    []string // Query, Mutation, Subscription when defined
	hints    []Hint
}

type mType struct {
	name        string
	kind        ast.DefinitionKind
	description string
	sources     []*sType // by subgraph index
	fields      []*mField
	fieldMap    map[string]*mField
	interfaces  []string
	members     []string
	values      []*mValue
	// inaccessible is set when any subgraph marks the type @inaccessible.
	inaccessible bool
	applied      ast.DirectiveList
}

type mField struct {
	name, description string
	typ               *ast.Type
	defaultValue      *ast.Value
	sources           []*sField // by subgraph index
	args              []*mArg
	inaccessible      bool
	applied           ast.DirectiveList
	joins             []string // printed @join__field directives
	parent            *mType
	// fromInterfaceObject marks a field no subgraph defines on this type:
	// it comes from an @interfaceObject of one of its interfaces.
	fromInterfaceObject bool
	// overridden records, per subgraph index, that the field was taken
	// away by @override: "used", "unused" or "label:<label>". It is
	// allocated on the first override only (see overriddenIn).
	overridden []string
}

// overriddenIn says how subgraph i lost the field to an @override, or "".
func (f *mField) overriddenIn(i int) string {
	if f.overridden == nil {
		return ""
	}
	return f.overridden[i]
}

func (f *mField) setOverridden(i int, how string) {
	if f.overridden == nil {
		f.overridden = make([]string, len(f.sources))
	}
	f.overridden[i] = how
}

type mArg struct {
	name, description string
	typ               *ast.Type
	defaultValue      *ast.Value
	inaccessible      bool
	applied           ast.DirectiveList
}

type mValue struct {
	name, description string
	graphs            []string
	inaccessible      bool
	applied           ast.DirectiveList
}

func (t *mType) field(name string) *mField {
	if t == nil {
		return nil
	}
	return t.fieldMap[name]
}

// merge builds the supergraph model from the normalized subgraphs.
func merge(subgraphs []*subgraph, errs *errorList) *supergraph {
	s := &supergraph{subgraphs: subgraphs, types: map[string]*mType{}, used: map[string]bool{}}
	for _, sg := range subgraphs {
		if sg.minor > s.maxMinor {
			s.maxMinor = sg.minor
		}
		for _, name := range sg.order {
			st := sg.types[name]
			t := s.types[name]
			if t == nil {
				t = &mType{name: name, kind: st.kind, sources: make([]*sType, len(subgraphs)), fieldMap: map[string]*mField{}}
				s.types[name] = t
				s.order = append(s.order, name)
			}
			compatible := st.kind == t.kind ||
				(st.interfaceObject && t.kind == ast.Interface) ||
				(st.kind == ast.Interface && t.kind == ast.Object && t.anyInterfaceObject())
			// An @interfaceObject and a plain object type do not mix.
			for _, other := range t.sources {
				if other != nil && other.kind == ast.Object && st.kind == ast.Object && other.interfaceObject != st.interfaceObject {
					compatible = false
				}
			}
			if compatible && st.kind == ast.Interface {
				t.kind = ast.Interface
			}
			if !compatible {
				errs.add("TYPE_KIND_MISMATCH", "", name, "Type \"%s\" has mismatched kind: it is defined as %s in subgraph \"%s\" but %s in subgraph \"%s\"", name, kindLabel(t.firstSource()), t.firstSubgraph(subgraphs), kindLabel(st), sg.name)
				continue
			}
			t.sources[sg.index] = st
		}
	}
	// Every subgraph has a query root (it serves _service and _entities).
	if q := s.types["Query"]; q != nil && q.kind == ast.Object {
		for i, sg := range subgraphs {
			if q.sources[i] == nil {
				q.sources[i] = &sType{name: "Query", kind: ast.Object, fieldMap: map[string]*sField{}, valueMap: map[string]*sValue{}}
				sg.types["Query"] = q.sources[i]
			}
		}
	}
	for _, root := range []string{"Query", "Mutation", "Subscription"} {
		if t := s.types[root]; t != nil && t.kind == ast.Object {
			s.roots = append(s.roots, root)
		}
	}
	if len(s.roots) == 0 || s.roots[0] != "Query" {
		errs.add("NO_QUERIES", "", "", "No queries found in any subgraph: a supergraph must have a query root type.")
	}
	s.checkExtensionsWithBase(errs)
	for _, name := range s.order {
		s.mergeShell(s.types[name])
	}
	for _, name := range s.order {
		t := s.types[name]
		switch t.kind {
		case ast.Object, ast.Interface:
			s.mergeFields(t, errs)
		case ast.InputObject:
			s.mergeInput(t, errs)
		}
	}
	// Enums last: how they merge depends on where the merged schema uses them.
	usage := s.enumUsage()
	for _, name := range s.order {
		if t := s.types[name]; t.kind == ast.Enum {
			s.mergeEnum(t, usage[name], errs)
		}
	}
	s.addInterfaceObjectFields()
	s.propagateAccessControl()
	s.propagateFromInterfaceObjects()
	for _, name := range s.order {
		t := s.types[name]
		if t.kind == ast.Object || t.kind == ast.Interface {
			for _, f := range t.fields {
				s.joinFields(f)
			}
		}
	}
	s.mergeDirectiveDefinitions()
	s.markContexts()
	return s
}

func (t *mType) anyInterfaceObject() bool {
	for _, st := range t.sources {
		if st != nil && st.interfaceObject {
			return true
		}
	}
	return false
}

func (t *mType) firstSource() *sType {
	for _, st := range t.sources {
		if st != nil {
			return st
		}
	}
	return nil
}

// kindLabel names the kind of a subgraph type in errors.
func kindLabel(st *sType) string {
	if st == nil {
		return ""
	}
	if st.interfaceObject {
		return "Interface Object Type (Object Type with @interfaceObject)"
	}
	return kindName(st.kind)
}

func (t *mType) firstKind() ast.DefinitionKind {
	for _, st := range t.sources {
		if st != nil {
			return st.kind
		}
	}
	return t.kind
}

func (t *mType) firstSubgraph(subgraphs []*subgraph) string {
	for i, st := range t.sources {
		if st != nil {
			return subgraphs[i].name
		}
	}
	return ""
}

// checkExtensionsWithBase reports Federation 2 type extensions that no
// subgraph defines.
func (s *supergraph) checkExtensionsWithBase(errs *errorList) {
	for _, name := range s.order {
		t := s.types[name]
		if name == "Query" || name == "Mutation" || name == "Subscription" {
			continue
		}
		base := false
		for _, st := range t.sources {
			if st != nil && !st.extension {
				base = true
			}
		}
		if base {
			continue
		}
		for i, st := range t.sources {
			if st != nil {
				errs.add("EXTENSION_WITH_NO_BASE", s.subgraphs[i].name, name, "Type \"%s\" is an extension type, but there is no type definition for \"%s\" in any subgraph.", name, name)
			}
		}
	}
}

func (s *supergraph) hint(code, coordinate, format string, args ...any) {
	s.hints = append(s.hints, Hint{Code: code, Coordinate: coordinate, Message: fmt.Sprintf(format, args...)})
}

// mergeShell merges what does not depend on other types: description,
// interfaces, union members, type-level directives.
func (s *supergraph) mergeShell(t *mType) {
	var descs []string
	var applied []ast.DirectiveList
	for _, st := range t.sources {
		if st == nil {
			continue
		}
		descs = append(descs, st.description)
		applied = append(applied, st.applied)
		if st.inaccessible {
			t.inaccessible = true
			s.used["inaccessible"] = true
		}
		for _, i := range st.interfaces {
			if !containsString(t.interfaces, i) {
				t.interfaces = append(t.interfaces, i)
			}
		}
		for _, m := range st.members {
			if !containsString(t.members, m) {
				t.members = append(t.members, m)
			}
		}
	}
	t.description = mergeDescriptions(descs)
	t.applied = s.mergeApplied(applied, t.kind == ast.Interface)
}

// mergeDescriptions picks the description most subgraphs agree on; a tie
// goes to the first subgraph.
func mergeDescriptions(descs []string) string {
	counts := map[string]int{}
	best, bestN := "", 0
	for _, d := range descs {
		if d == "" {
			continue
		}
		counts[d]++
	}
	for _, d := range descs {
		if d != "" && counts[d] > bestN {
			best, bestN = d, counts[d]
		}
	}
	return best
}

// propagateAccessControl gives an interface the access-control
// directives (@authenticated, @requiresScopes, @policy) of its
// implementations: on the type from the implementing types, on a field
// from the implementations' fields, so that a query through the interface
// meets the same requirements.
func (s *supergraph) propagateAccessControl() {
	for _, name := range s.order {
		itf := s.types[name]
		if itf.kind != ast.Interface {
			continue
		}
		impls := s.implementations(name)
		var lists []ast.DirectiveList
		for _, st := range itf.sources {
			if st != nil {
				lists = append(lists, st.applied)
			}
		}
		extra := false
		for _, impl := range impls {
			for _, st := range s.types[impl].sources {
				if st != nil {
					if l := accessControlOnly(st.applied); len(l) > 0 {
						lists = append(lists, l)
						extra = true
					}
				}
			}
		}
		if extra {
			itf.applied = s.mergeApplied(lists, true)
		}
		for _, f := range itf.fields {
			var lists []ast.DirectiveList
			for _, sf := range f.sources {
				if sf != nil && !sf.external {
					lists = append(lists, sf.applied)
				}
			}
			extra := false
			for _, impl := range impls {
				of := s.types[impl].field(f.name)
				if of == nil {
					continue
				}
				for _, sf := range of.sources {
					if sf != nil && !sf.external {
						if l := accessControlOnly(sf.applied); len(l) > 0 {
							lists = append(lists, l)
							extra = true
						}
					}
				}
			}
			if extra {
				f.applied = s.mergeApplied(lists, true)
			}
		}
	}
}

// propagateFromInterfaceObjects gives the fields of implementations, and
// the same fields of the other interfaces they implement, the
// access-control directives an @interfaceObject puts on a field.
func (s *supergraph) propagateFromInterfaceObjects() {
	extra := map[*mField][]ast.DirectiveList{}
	for _, name := range s.order {
		itf := s.types[name]
		if itf.kind != ast.Interface {
			continue
		}
		for _, f := range itf.fields {
			var lists []ast.DirectiveList
			for j, st := range itf.sources {
				if st != nil && st.interfaceObject && f.sources[j] != nil {
					if l := accessControlOnly(f.sources[j].applied); len(l) > 0 {
						lists = append(lists, l)
					}
				}
			}
			if len(lists) == 0 {
				continue
			}
			for _, impl := range s.implementations(name) {
				o := s.types[impl]
				if of := o.field(f.name); of != nil && !of.fromInterfaceObject {
					extra[of] = append(extra[of], lists...)
				}
				for _, other := range o.interfaces {
					if other == name {
						continue
					}
					if jf := s.types[other].field(f.name); jf != nil {
						extra[jf] = append(extra[jf], lists...)
					}
				}
			}
		}
	}
	for _, name := range s.order {
		for _, f := range s.types[name].fields {
			more, ok := extra[f]
			if !ok {
				continue
			}
			var lists []ast.DirectiveList
			lists = append(lists, f.applied)
			f.applied = s.mergeApplied(append(lists, dedupeLists(more)...), true)
		}
	}
}

// dedupeLists drops repeated directive lists (one interface reached
// through several implementations).
func dedupeLists(lists []ast.DirectiveList) []ast.DirectiveList {
	seen := map[string]bool{}
	var out []ast.DirectiveList
	for _, l := range lists {
		key := ""
		for _, d := range l {
			key += printDirective(d)
		}
		if !seen[key] {
			seen[key] = true
			out = append(out, l)
		}
	}
	return out
}

func accessControlOnly(list ast.DirectiveList) ast.DirectiveList {
	var out ast.DirectiveList
	for _, d := range list {
		if accessControl[d.Name] {
			out = append(out, d)
		}
	}
	return out
}

// keptDirective reports whether an applied directive reaches the supergraph.
func (s *supergraph) keptDirective(name string) bool {
	switch name {
	case "deprecated", "specifiedBy", "oneOf", "tag", "authenticated", "requiresScopes", "policy", "cost", "listSize":
		return true
	}
	for _, sg := range s.subgraphs {
		if sg.composed[name] != nil {
			return true
		}
	}
	return false
}

// composedCustom reports whether name is a custom directive some
// subgraph composes with @composeDirective (not a built-in one).
func (s *supergraph) composedCustom(name string) bool {
	switch name {
	case "deprecated", "specifiedBy", "oneOf", "tag", "authenticated", "requiresScopes", "policy", "cost", "listSize":
		return false
	}
	for _, sg := range s.subgraphs {
		if sg.composed[name] != nil {
			return true
		}
	}
	return false
}

// mergeApplied merges the applied directives of one element's sources in
// order of first appearance, with accessFirst (fields of objects and
// interfaces, interfaces) the access-control directives before the
// others, in the order of their @link. Equal applications are kept once;
// of different applications of a directive that is not repeatable, the
// one most sources write (the first of those tied).
func (s *supergraph) mergeApplied(lists []ast.DirectiveList, accessFirst bool) ast.DirectiveList {
	var names []string
	for _, l := range lists {
		for _, d := range l {
			if s.keptDirective(d.Name) && !containsString(names, d.Name) {
				names = append(names, d.Name)
			}
		}
	}
	if accessFirst {
		// In the order their specs are linked in the supergraph.
		linked := s.linkedSpecs()
		rank := func(name string) int {
			if !accessControl[name] {
				return len(linked) + 1
			}
			for i, l := range linked {
				if l == name {
					return i
				}
			}
			return len(linked)
		}
		sort.SliceStable(names, func(i, j int) bool { return rank(names[i]) < rank(names[j]) })
	}
	var out ast.DirectiveList
	for _, name := range names {
		if mergedDirective(name) {
			var apps []*ast.Directive
			for _, l := range lists {
				for _, d := range l {
					if d.Name == name {
						apps = append(apps, d)
					}
				}
			}
			out = append(out, mergeApplications(name, apps))
			s.markUsed(name)
			continue
		}
		if !repeatable(name) {
			// Different applications of a directive that is not
			// repeatable: the one most sources write (the first of
			// those tied).
			var apps []*ast.Directive
			count := map[string]int{}
			for _, l := range lists {
				for _, d := range l {
					if d.Name == name {
						text := printDirective(d)
						if count[text] == 0 {
							apps = append(apps, d)
						}
						count[text]++
					}
				}
			}
			best := apps[0]
			for _, d := range apps[1:] {
				if count[printDirective(d)] > count[printDirective(best)] {
					best = d
				}
			}
			out = append(out, best)
			s.markUsed(name)
			continue
		}
		seen := map[string]bool{}
		for _, l := range lists {
			for _, d := range l {
				if d.Name != name {
					continue
				}
				text := printDirective(d)
				if seen[text] {
					continue
				}
				seen[text] = true
				out = append(out, d)
				s.markUsed(name)
			}
		}
	}
	return out
}

func (s *supergraph) markUsed(name string) {
	switch name {
	case "tag", "authenticated", "requiresScopes", "policy", "cost":
		s.used[name] = true
	case "listSize":
		s.used["cost"] = true
		s.used["listSize"] = true
	}
}

func repeatable(name string) bool { return name == "tag" }

func printDirective(d *ast.Directive) string {
	var b strings.Builder
	b.WriteString("@" + d.Name)
	if len(d.Arguments) > 0 {
		b.WriteString("(")
		for i, a := range d.Arguments {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(a.Name + ": " + printValue(a.Value))
		}
		b.WriteString(")")
	}
	return b.String()
}

func printValue(v *ast.Value) string {
	if v == nil {
		return "null"
	}
	switch v.Kind {
	case ast.StringValue, ast.BlockValue:
		return quote(v.Raw)
	case ast.ListValue:
		parts := make([]string, len(v.Children))
		for i, c := range v.Children {
			parts[i] = printValue(c.Value)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case ast.ObjectValue:
		parts := make([]string, len(v.Children))
		for i, c := range v.Children {
			parts[i] = c.Name + ": " + printValue(c.Value)
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case ast.Variable:
		return "$" + v.Raw
	}
	return v.Raw
}

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\t':
			b.WriteString(`\t`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x20 {
				b.WriteString(`\u00`)
				b.WriteByte("0123456789ABCDEF"[r>>4])
				b.WriteByte("0123456789ABCDEF"[r&15])
			} else {
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// enumUsage reports for each enum whether the merged schema uses it in
// input positions, output positions, or both: bit 1 input, bit 2 output.
func (s *supergraph) enumUsage() map[string]int {
	usage := map[string]int{}
	for _, name := range s.order {
		t := s.types[name]
		for _, f := range t.fields {
			if f.typ == nil {
				continue
			}
			if t.kind == ast.InputObject {
				usage[f.typ.Name()] |= 1
			} else {
				usage[f.typ.Name()] |= 2
			}
			for _, a := range f.args {
				usage[a.typ.Name()] |= 1
			}
		}
	}
	return usage
}

func (s *supergraph) mergeEnum(t *mType, usage int, errs *errorList) {
	var order []string
	byName := map[string]*mValue{}
	present := map[string][]bool{}
	defining := 0
	for i, st := range t.sources {
		if st == nil {
			continue
		}
		defining++
		for _, v := range st.values {
			mv := byName[v.name]
			if mv == nil {
				mv = &mValue{name: v.name}
				byName[v.name] = mv
				order = append(order, v.name)
				present[v.name] = make([]bool, len(t.sources))
			}
			present[v.name][i] = true
			mv.graphs = append(mv.graphs, s.subgraphs[i].id)
		}
	}
	for _, name := range order {
		mv := byName[name]
		var descs []string
		var applied []ast.DirectiveList
		missing := ""
		for i, st := range t.sources {
			if st == nil {
				continue
			}
			sv := st.valueMap[name]
			if sv == nil {
				if missing == "" {
					missing = s.subgraphs[i].name
				}
				continue
			}
			descs = append(descs, sv.description)
			applied = append(applied, sv.applied)
			if sv.inaccessible {
				mv.inaccessible = true
				s.used["inaccessible"] = true
			}
		}
		mv.description = mergeDescriptions(descs)
		mv.applied = s.mergeApplied(applied, false)
		if missing != "" {
			switch usage {
			case 3:
				if mv.inaccessible {
					break // hidden from clients, so never sent to a subgraph lacking it
				}
				errs.add("ENUM_VALUE_MISMATCH", "", t.name+"."+name, "Enum type \"%s\" is used as both input type and output type, but value \"%s\" is not defined in all the subgraphs defining \"%s\": \"%s\" is defined in subgraph \"%s\" but not in subgraph \"%s\"", t.name, name, t.name, name, firstWith(t.sources, s.subgraphs, func(st *sType) bool { return st.valueMap[name] != nil }), missing)
				continue
			case 1:
				// Input-only enums keep the values every subgraph has.
				s.hint("INCONSISTENT_ENUM_VALUE_FOR_INPUT_ENUM", t.name+"."+name, "Value \"%s\" of enum type \"%s\" will not be part of the supergraph as it is not defined in all the subgraphs defining \"%s\": it is not defined in subgraph \"%s\"", name, t.name, t.name, missing)
				continue
			}
		}
		t.values = append(t.values, mv)
	}
	if len(t.values) == 0 {
		errs.add("EMPTY_MERGED_ENUM_TYPE", "", t.name, "None of the values of enum type \"%s\" are defined consistently in all the subgraphs defining that type. As only values common to all subgraphs are merged, this would result in an empty type.", t.name)
	}
}

func firstWith(sources []*sType, subgraphs []*subgraph, pred func(*sType) bool) string {
	for i, st := range sources {
		if st != nil && pred(st) {
			return subgraphs[i].name
		}
	}
	return ""
}

// mergeInput merges an input object: the intersection of its fields.
func (s *supergraph) mergeInput(t *mType, errs *errorList) {
	for _, name := range fieldOrder(t) {
		f := &mField{name: name, parent: t, sources: make([]*sField, len(t.sources))}
		var descs []string
		var applied []ast.DirectiveList
		var types []*ast.Type
		missing, required := "", ""
		noDefault, mismatch := false, false
		for i, st := range t.sources {
			if st == nil {
				continue
			}
			sf := st.field(name)
			if sf == nil {
				if missing == "" {
					missing = s.subgraphs[i].name
				}
				continue
			}
			f.sources[i] = sf
			descs = append(descs, sf.description)
			applied = append(applied, sf.applied)
			types = append(types, sf.typ)
			if sf.inaccessible {
				f.inaccessible = true
				s.used["inaccessible"] = true
			}
			if sf.typ.NonNull && sf.defaultValue == nil && required == "" {
				required = s.subgraphs[i].name
			}
			if sf.defaultValue == nil {
				noDefault = true
			} else {
				if f.defaultValue != nil && printValue(f.defaultValue) != printValue(sf.defaultValue) {
					errs.add("INPUT_FIELD_DEFAULT_MISMATCH", "", t.name+"."+name, "Input field \"%s.%s\" has incompatible default values across subgraphs: it has default value %s in subgraph \"%s\" and %s in subgraph \"%s\"", t.name, name, printValue(f.defaultValue), firstWith(t.sources, s.subgraphs, func(st *sType) bool { return st.field(name) != nil && st.field(name).defaultValue != nil }), printValue(sf.defaultValue), s.subgraphs[i].name)
					mismatch = true
				}
				f.defaultValue = sf.defaultValue
			}
		}
		if f.defaultValue != nil && noDefault && !mismatch && missing == "" {
			// A default only some subgraphs give is none.
			s.hint("INCONSISTENT_DEFAULT_VALUE_PRESENCE", t.name+"."+name, "Input field \"%s.%s\" has a default value in only some subgraphs: the supergraph gives it no default", t.name, name)
			f.defaultValue = nil
		}
		if missing != "" {
			if required != "" {
				errs.add("REQUIRED_INPUT_FIELD_MISSING_IN_SOME_SUBGRAPH", "", t.name+"."+name, "Input object field \"%s.%s\" is required in some subgraphs but does not appear in all subgraphs: it is required in subgraph \"%s\" but does not appear in subgraph \"%s\"", t.name, name, required, missing)
			} else {
				s.hint("INCONSISTENT_INPUT_OBJECT_FIELD", t.name+"."+name, "Input object field \"%s\" will not be added to \"%s\" in the supergraph as it does not appear in all subgraphs: it is not defined in subgraph \"%s\"", name, t.name, missing)
			}
			continue
		}
		typ, ok := s.inputType(types)
		if !ok {
			errs.add("FIELD_TYPE_MISMATCH", "", t.name+"."+name, "Type of field \"%s.%s\" is incompatible across subgraphs: it has type %s", t.name, name, describeTypes(types, t.sources, s.subgraphs))
			typ = types[0]
		}
		f.typ = typ
		f.description = mergeDescriptions(descs)
		f.applied = s.mergeApplied(applied, false)
		for _, other := range types {
			if !sameType(other, typ) {
				// Types differ: each subgraph's type is recorded.
				for i, sf := range f.sources {
					if sf != nil {
						f.joins = append(f.joins, "@join__field(graph: "+s.subgraphs[i].id+", type: "+quote(sf.typ.String())+")")
					}
				}
				break
			}
		}
		t.fields = append(t.fields, f)
		t.fieldMap[name] = f
	}
	if len(t.fields) == 0 {
		errs.add("EMPTY_MERGED_INPUT_TYPE", "", t.name, "None of the fields of input object type \"%s\" are consistently defined in all the subgraphs defining that type. As only fields common to all subgraphs are merged, this would result in an empty type.", t.name)
	}
}

func describeTypes(types []*ast.Type, sources []*sType, subgraphs []*subgraph) string {
	var parts []string
	j := 0
	for i, st := range sources {
		if st == nil || j >= len(types) {
			continue
		}
		parts = append(parts, "\""+types[j].String()+"\" in subgraph \""+subgraphs[i].name+"\"")
		j++
	}
	return strings.Join(parts, " and ")
}

// inputType returns the most restrictive of types (accepted by every
// subgraph), or false when they are incompatible.
func (s *supergraph) inputType(types []*ast.Type) (*ast.Type, bool) {
	for _, cand := range types {
		all := true
		for _, other := range types {
			if !s.subtype(cand, other) {
				all = false
				break
			}
		}
		if all {
			return cand, true
		}
	}
	return nil, false
}

// outputType returns the least restrictive of types (a supertype of
// every subgraph's type), or false when they are incompatible.
func (s *supergraph) outputType(types []*ast.Type) (*ast.Type, bool) {
	for _, cand := range types {
		all := true
		for _, other := range types {
			if !s.subtype(other, cand) {
				all = false
				break
			}
		}
		if all {
			return cand, true
		}
	}
	return nil, false
}

// subtype reports whether a value of type a is always a valid value of
// type b (a = b, a = b!, or a's named type implements or belongs to b's).
func (s *supergraph) subtype(a, b *ast.Type) bool {
	if b.NonNull {
		if !a.NonNull {
			return false
		}
		return s.subtype(nullable(a), nullable(b))
	}
	if a.NonNull {
		return s.subtype(nullable(a), b)
	}
	if (a.Elem == nil) != (b.Elem == nil) {
		return false
	}
	if a.Elem != nil {
		return s.subtype(a.Elem, b.Elem)
	}
	if a.NamedType == b.NamedType {
		return true
	}
	bt := s.types[b.NamedType]
	at := s.types[a.NamedType]
	if bt == nil || at == nil {
		return false
	}
	switch bt.kind {
	case ast.Union:
		return containsString(bt.members, a.NamedType)
	case ast.Interface:
		return containsString(at.interfaces, b.NamedType)
	}
	return false
}

func nullable(t *ast.Type) *ast.Type {
	c := *t
	c.NonNull = false
	return &c
}

func sameType(a, b *ast.Type) bool { return a.String() == b.String() }
