package compose

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

var overrideLabelRE = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_\-:.]*$`)
var percentRE = regexp.MustCompile(`^percent\((\d{1,3}(\.\d{1,8})?)\)$`)

func validOverrideLabel(label string) bool {
	if m := percentRE.FindStringSubmatch(label); m != nil {
		p, err := strconv.ParseFloat(m[1], 64)
		return err == nil && p >= 0 && p <= 100
	}
	return overrideLabelRE.MatchString(label) && !strings.HasPrefix(label, "percent(")
}

// fieldOrder lists the names of t's fields across its subgraphs, each
// once, in the order the subgraphs (in name order) declare them.
func fieldOrder(t *mType) []string {
	var order []string
	for _, st := range t.sources {
		if st == nil {
			continue
		}
		for _, f := range st.fields {
			if !containsString(order, f.name) {
				order = append(order, f.name)
			}
		}
	}
	return order
}

// mergeFields merges the fields of an object or interface type.
func (s *supergraph) mergeFields(t *mType, errs *errorList) {
	for _, name := range fieldOrder(t) {
		f := &mField{name: name, parent: t, sources: make([]*sField, len(t.sources))}
		for i, st := range t.sources {
			if st != nil {
				f.sources[i] = st.field(name)
			}
		}
		t.fields = append(t.fields, f)
		t.fieldMap[name] = f
		s.mergeOverride(f, errs)
		s.mergeField(f, errs)
		if t.name == "Subscription" {
			for i, sf := range f.sources {
				if sf != nil && sf.shareable && !s.subgraphs[i].fed1 {
					errs.add("INVALID_FIELD_SHARING", s.subgraphs[i].name, t.name+"."+name, "Fields on root level subscription object cannot be marked as shareable")
				}
			}
		}
		if t.kind == ast.Object {
			s.checkSharing(f, errs)
		}
	}
}

func (s *supergraph) subgraphIndex(name string) int {
	for i, sg := range s.subgraphs {
		if sg.name == name {
			return i
		}
	}
	return -1
}

func (s *supergraph) mergeOverride(f *mField, errs *errorList) {
	coord := f.parent.name + "." + f.name
	for i, sf := range f.sources {
		if sf == nil || !sf.hasOverride {
			continue
		}
		sg := s.subgraphs[i]
		if f.parent.kind == ast.Interface || f.parent.sources[i].kind == ast.Interface {
			errs.add("OVERRIDE_ON_INTERFACE", sg.name, coord, "@override cannot be used on field \"%s\" on subgraph \"%s\" since \"%s\" is on an interface type", coord, sg.name, f.parent.name)
			continue
		}
		if sf.overrideLabel != "" && !validOverrideLabel(sf.overrideLabel) {
			errs.add("OVERRIDE_LABEL_INVALID", sg.name, coord, "Invalid @override label \"%s\" on field \"%s\" on subgraph \"%s\": labels must start with a letter and after that may contain alphanumerics, underscores, minuses, colons, periods, or they may be of the form \"percent(x)\" where x is a float between 0-100 inclusive.", sf.overrideLabel, coord, sg.name)
			if from := s.subgraphIndex(sf.override); from >= 0 {
				f.setOverridden(from, "label:"+sf.overrideLabel)
			}
			continue
		}
		if sf.override == sg.name {
			errs.add("OVERRIDE_FROM_SELF_ERROR", sg.name, coord, "Source and destination subgraphs \"%s\" are the same for overridden field \"%s\"", sg.name, coord)
			continue
		}
		if sf.external {
			errs.add("OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE", sg.name, coord, "@override cannot be used on field \"%s\" on subgraph \"%s\" since \"%s\" on \"%s\" is marked with directive \"@external\"", coord, sg.name, coord, sg.name)
			continue
		}
		from := s.subgraphIndex(sf.override)
		if from < 0 {
			s.hint("FROM_SUBGRAPH_DOES_NOT_EXIST", coord, "Source subgraph \"%s\" for field \"%s\" on subgraph \"%s\" does not exist.", sf.override, coord, sg.name)
			continue
		}
		if f.sources[from] == nil {
			s.hint("OVERRIDE_DIRECTIVE_CAN_BE_REMOVED", coord, "Field \"%s\" on subgraph \"%s\" no longer exists in the from subgraph. The @override directive can be removed.", coord, sg.name)
			continue
		}
		src := f.sources[from]
		if src.hasOverride {
			errs.add("OVERRIDE_SOURCE_HAS_OVERRIDE", sg.name, coord, "Field \"%s\" on subgraph \"%s\" is also marked with directive @override in subgraph \"%s\". Only one @override directive is allowed per field.", coord, sg.name, sf.override)
			continue
		}
		if src.requires != "" || src.provides != "" {
			// The source's @requires or @provides would no longer be
			// honoured once the field moves (also progressively).
			dir := "requires"
			if src.requires == "" {
				dir = "provides"
			}
			errs.add("OVERRIDE_COLLISION_WITH_ANOTHER_DIRECTIVE", sg.name, coord, "@override cannot be used on field \"%s\" on subgraph \"%s\" since \"%s\" on \"%s\" is marked with directive \"@%s\"", coord, sg.name, coord, sf.override, dir)
			continue
		}
		if sf.overrideLabel != "" {
			f.setOverridden(from, "label:"+sf.overrideLabel)
			s.hint("OVERRIDE_MIGRATION_IN_PROGRESS", coord, "Field \"%s\" is currently being migrated with progressive @override. Once the migration is complete, remove the field from subgraph \"%s\".", coord, sf.override)
			continue
		}
		if src.external {
			continue
		}
		if s.subgraphs[from].usesField(f.parent.name, f.name) {
			f.setOverridden(from, "used")
		} else {
			f.setOverridden(from, "unused")
			s.hint("OVERRIDDEN_FIELD_CAN_BE_REMOVED", coord, "Field \"%s\" on subgraph \"%s\" is overridden. Consider removing it.", coord, sf.override)
		}
	}
}

// active reports whether source i still resolves the field (it was not
// taken away by a plain @override).
func (f *mField) active(i int) bool {
	return f.sources[i] != nil && (f.overriddenIn(i) == "" || strings.HasPrefix(f.overriddenIn(i), "label:"))
}

// checkMergedOnExternal refuses a directive that composition merges into
// the supergraph (@tag, @inaccessible, @deprecated, access and demand
// control) on an @external copy of a field
// some subgraph resolves: the external copy takes no part in the merge,
// so the directive would be dropped without a word
// (MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL). A composed custom directive
// there is dropped without an error, as @apollo/composition does.
func (s *supergraph) checkMergedOnExternal(f *mField, errs *errorList) {
	coord := f.parent.name + "." + f.name
	for i, sf := range f.sources {
		if sf == nil || !sf.external {
			continue
		}
		sg := s.subgraphs[i]
		if sf.inaccessible {
			errs.add("MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL", sg.name, coord, "Cannot apply merged directive @%s to external field \"%s\"", sg.local("inaccessible"), coord)
		}
		for _, d := range sf.applied {
			// Not a custom directive composed with @composeDirective:
			// @apollo/composition 2.14 asks whether it is composed with
			// the field's name where the subgraph's belongs, so it never
			// counts as merged here; the external copy's application is
			// dropped and the graph composes.
			if s.keptDirective(d.Name) && !s.composedCustom(d.Name) {
				errs.add("MERGED_DIRECTIVE_APPLICATION_ON_EXTERNAL", sg.name, coord, "Cannot apply merged directive %s to external field \"%s\"", printDirective(d), coord)
			}
		}
	}
}

func (s *supergraph) mergeField(f *mField, errs *errorList) {
	coord := f.parent.name + "." + f.name
	// Fields taken away by @override still take part in the merge of
	// types, arguments, descriptions and directives (not in join__field).
	var resolving, all []int
	for i, sf := range f.sources {
		if sf == nil {
			continue
		}
		if !sf.external {
			resolving = append(resolving, i)
		}
		if f.overriddenIn(i) != "unused" {
			all = append(all, i)
		}
	}
	if len(resolving) == 0 {
		if len(all) > 0 && f.parent.kind == ast.Object && !f.parent.anyInterfaceObject() && !s.viaInterfaceObject(f) {
			var names []string
			for _, i := range all {
				names = append(names, "\""+s.subgraphs[i].name+"\"")
			}
			errs.add("EXTERNAL_MISSING_ON_BASE", "", coord, "Field \"%s\" is marked @external on all the subgraphs in which it is listed (%s).", coord, subgraphList(names))
		}
		resolving = all
	} else {
		s.checkMergedOnExternal(f, errs)
	}
	var descs []string
	var applied []ast.DirectiveList
	var types []*ast.Type
	for _, i := range resolving {
		sf := f.sources[i]
		descs = append(descs, sf.description)
		applied = append(applied, sf.applied)
		types = append(types, sf.typ)
		if sf.inaccessible {
			f.inaccessible = true
			s.used["inaccessible"] = true
		}
	}
	f.description = mergeDescriptions(descs)
	f.applied = s.mergeApplied(applied, true)
	typed := resolving
	typ, ok := s.outputType(types)
	if !ok {
		var parts []string
		for _, i := range typed {
			parts = append(parts, fmt.Sprintf("type \"%s\" in subgraph \"%s\"", f.sources[i].typ.String(), s.subgraphs[i].name))
		}
		errs.add("FIELD_TYPE_MISMATCH", "", coord, "Type of field \"%s\" is incompatible across subgraphs: it has %s", coord, strings.Join(parts, " but "))
		typ = types[0]
	}
	f.typ = typ
	allEqual := true
	for _, other := range types {
		allEqual = allEqual && sameType(other, types[0])
	}
	s.mergeArgs(f, resolving, errs)
	// An @external declaration must agree with the resolving ones: the
	// same type (a subtype only where those differ), the same arguments.
	for _, i := range all {
		sf := f.sources[i]
		if !sf.external || len(all) == len(resolving) && !hasNonExternal(f) {
			continue
		}
		sub := s.subgraphs[i].name
		if !sameType(typ, sf.typ) && (allEqual || !s.subtype(sf.typ, typ)) {
			errs.add("EXTERNAL_TYPE_MISMATCH", sub, coord, "Type of field \"%s\" is incompatible across subgraphs (where marked @external): it has type \"%s\" in subgraph \"%s\" but type \"%s\" in the supergraph", coord, sf.typ.String(), sub, typ.String())
		}
		for _, a := range f.args {
			ext := findArg(sf.args, a.name)
			switch {
			case ext == nil:
				errs.add("EXTERNAL_ARGUMENT_MISSING", sub, coord, "Field \"%s\" is missing argument \"%s(%s:)\" in some subgraphs where it is marked @external: it is not declared in subgraph \"%s\"", coord, coord, a.name, sub)
			case !sameType(a.typ, ext.typ) && !s.subtype(a.typ, ext.typ):
				errs.add("EXTERNAL_ARGUMENT_TYPE_MISMATCH", sub, coord, "Type of argument \"%s(%s:)\" is incompatible across subgraphs (where \"%s\" is marked @external): it has type \"%s\" in subgraph \"%s\" but \"%s\" in the supergraph", coord, a.name, coord, ext.typ.String(), sub, a.typ.String())
			case printValue(a.defaultValue) != printValue(ext.defaultValue):
				errs.add("EXTERNAL_ARGUMENT_DEFAULT_MISMATCH", sub, coord, "Argument \"%s(%s:)\" has incompatible defaults across subgraphs (where \"%s\" is marked @external): it has default %s in subgraph \"%s\" but %s in the supergraph", coord, a.name, coord, printValue(ext.defaultValue), sub, printValue(a.defaultValue))
			}
		}
	}
}

// viaInterfaceObject reports whether an @interfaceObject subgraph resolves
// the field for one of the interfaces of its (object) type.
func (s *supergraph) viaInterfaceObject(f *mField) bool {
	for _, iname := range f.parent.interfaces {
		itf := s.types[iname]
		if itf == nil {
			continue
		}
		for _, st := range itf.sources {
			if st != nil && st.interfaceObject {
				if sf := st.field(f.name); sf != nil && !sf.external {
					return true
				}
			}
		}
	}
	return false
}

func hasNonExternal(f *mField) bool {
	for _, sf := range f.sources {
		if sf != nil && !sf.external {
			return true
		}
	}
	return false
}

func subgraphList(quoted []string) string {
	if len(quoted) == 1 {
		return "subgraph " + quoted[0]
	}
	return "subgraphs " + strings.Join(quoted[:len(quoted)-1], ", ") + " and " + quoted[len(quoted)-1]
}

func findArg(args []*sArg, name string) *sArg {
	for _, a := range args {
		if a.name == name {
			return a
		}
	}
	return nil
}

// mergeArgs keeps the arguments every resolving subgraph declares, with
// the most restrictive type.
func (s *supergraph) mergeArgs(f *mField, resolving []int, errs *errorList) {
	coord := f.parent.name + "." + f.name
	var order []string
	for _, i := range resolving {
		for _, a := range f.sources[i].args {
			if !containsString(order, a.name) {
				order = append(order, a.name)
			}
		}
	}
	for _, name := range order {
		if s.contextualArg(f, name, errs) {
			continue
		}
		ma := &mArg{name: name}
		var types []*ast.Type
		var descs []string
		var applied []ast.DirectiveList
		missing, required := "", ""
		defaultFrom := ""
		noDefault, mismatch := false, false
		for _, i := range resolving {
			a := findArg(f.sources[i].args, name)
			if a == nil {
				if missing == "" {
					missing = s.subgraphs[i].name
				}
				continue
			}
			types = append(types, a.typ)
			descs = append(descs, a.description)
			applied = append(applied, a.applied)
			if a.inaccessible {
				ma.inaccessible = true
				s.used["inaccessible"] = true
			}
			if a.typ.NonNull && a.defaultValue == nil && required == "" {
				required = s.subgraphs[i].name
			}
			if a.defaultValue == nil {
				noDefault = true
			} else {
				if ma.defaultValue != nil && printValue(ma.defaultValue) != printValue(a.defaultValue) {
					errs.add("FIELD_ARGUMENT_DEFAULT_MISMATCH", "", coord+"("+name+":)", "Argument \"%s(%s:)\" has incompatible default values across subgraphs: it has default value %s in subgraph \"%s\" and %s in subgraph \"%s\"", coord, name, printValue(ma.defaultValue), defaultFrom, printValue(a.defaultValue), s.subgraphs[i].name)
					mismatch = true
				}
				ma.defaultValue = a.defaultValue
				defaultFrom = s.subgraphs[i].name
			}
		}
		if ma.defaultValue != nil && noDefault && !mismatch {
			// A default only some subgraphs give is none: the others
			// would see the argument absent where clients leave it out.
			s.hint("INCONSISTENT_DEFAULT_VALUE_PRESENCE", coord+"("+name+":)", "Argument \"%s(%s:)\" has a default value in only some subgraphs: the supergraph gives it no default", coord, name)
			ma.defaultValue = nil
		}
		if missing != "" {
			if required != "" {
				errs.add("REQUIRED_ARGUMENT_MISSING_IN_SOME_SUBGRAPH", "", coord+"("+name+":)", "Argument \"%s(%s:)\" is required in some subgraphs but does not appear in all subgraphs: it is required in subgraph \"%s\" but does not appear in subgraph \"%s\"", coord, name, required, missing)
			} else {
				s.hint("INCONSISTENT_ARGUMENT_PRESENCE", coord+"("+name+":)", "Optional argument \"%s(%s:)\" will not be included in the supergraph as it does not appear in all subgraphs: it is not defined in subgraph \"%s\"", coord, name, missing)
			}
			continue
		}
		typ, ok := s.inputType(types)
		if !ok {
			errs.add("FIELD_ARGUMENT_TYPE_MISMATCH", "", coord+"("+name+":)", "Type of argument \"%s(%s:)\" is incompatible across subgraphs", coord, name)
			typ = types[0]
		}
		ma.typ = typ
		ma.description = mergeDescriptions(descs)
		ma.applied = s.mergeApplied(applied, false)
		f.args = append(f.args, ma)
	}
}

// checkSharing reports a field resolved by several subgraphs when one of
// them does not mark it shareable.
func (s *supergraph) checkSharing(f *mField, errs *errorList) {
	var resolving, nonShareable []string
	shareable := 0
	for i, sf := range f.sources {
		if sf == nil || !f.active(i) || strings.HasPrefix(f.overriddenIn(i), "label:") {
			continue
		}
		sg := s.subgraphs[i]
		provided := sf.external && sg.provided(f.parent.name, f.name)
		if sf.external && !provided {
			continue
		}
		resolving = append(resolving, "\""+sg.name+"\"")
		if sf.shareable || provided || sg.isKeyField(f.parent.name, f.name) {
			shareable++
		} else {
			nonShareable = append(nonShareable, "\""+sg.name+"\"")
		}
	}
	if len(nonShareable) > 0 && (shareable > 0 || len(nonShareable) > 1) {
		which := "all of them"
		if shareable > 0 {
			which = subgraphList(nonShareable)
		}
		coord := f.parent.name + "." + f.name
		errs.add("INVALID_FIELD_SHARING", "", coord, "Non-shareable field \"%s\" is resolved from multiple subgraphs: it is resolved from %s and defined as non-shareable in %s", coord, subgraphList(resolving), which)
	}
}

// addInterfaceObjectFields gives every implementation of an interface the
// fields an @interfaceObject subgraph adds to the interface.
func (s *supergraph) addInterfaceObjectFields() {
	for _, name := range s.order {
		itf := s.types[name]
		if itf.kind != ast.Interface || !itf.anyInterfaceObject() {
			continue
		}
		for _, oname := range s.order {
			o := s.types[oname]
			if o.kind != ast.Object || !containsString(o.interfaces, name) {
				continue
			}
			for _, f := range itf.fields {
				if o.fieldMap[f.name] != nil || !f.fromInterfaceObjectSource() {
					continue
				}
				nf := &mField{name: f.name, description: f.description, typ: f.typ, args: f.args, parent: o,
					sources: make([]*sField, len(o.sources)), fromInterfaceObject: true,
					inaccessible: f.inaccessible, applied: f.applied}
				o.fields = append(o.fields, nf)
				o.fieldMap[f.name] = nf
			}
		}
	}
}

func (f *mField) fromInterfaceObjectSource() bool {
	for i, sf := range f.sources {
		if sf != nil && f.parent.sources[i].interfaceObject {
			return true
		}
	}
	return false
}

// joinFields computes the @join__field directives of a field.
func (s *supergraph) joinFields(f *mField) {
	if f.fromInterfaceObject {
		f.joins = []string{"@join__field"}
		return
	}
	needed := false
	var types []string
	for i, st := range f.parent.sources {
		if st == nil {
			continue
		}
		sf := f.sources[i]
		if sf == nil || sf.external || sf.requires != "" || sf.provides != "" || s.effectiveOverride(f, sf) || f.overriddenIn(i) != "" || hasContextual(sf) {
			needed = true
			continue
		}
		types = append(types, sf.typ.String())
	}
	allEqual := true
	for _, sf := range f.sources {
		if sf != nil && !sf.external && sf.typ.String() != f.typ.String() {
			allEqual = false
		}
	}
	if !allEqual {
		needed = true
	}
	if !needed {
		return
	}
	for i, sf := range f.sources {
		if sf == nil || f.overriddenIn(i) == "unused" {
			continue
		}
		args := []string{"graph: " + s.subgraphs[i].id}
		if sf.requires != "" {
			args = append(args, "requires: "+quote(sf.requires))
		}
		if sf.provides != "" {
			args = append(args, "provides: "+quote(sf.provides))
		}
		if sf.hasOverride {
			args = append(args, "override: "+quote(sf.override))
		}
		if !allEqual {
			args = append(args, "type: "+quote(sf.typ.String()))
		}
		if sf.external {
			args = append(args, "external: true")
		}
		if f.overriddenIn(i) == "used" {
			args = append(args, "usedOverridden: true")
		}
		if sf.overrideLabel != "" && s.effectiveOverride(f, sf) {
			args = append(args, "overrideLabel: "+quote(sf.overrideLabel))
		} else if strings.HasPrefix(f.overriddenIn(i), "label:") {
			args = append(args, "overrideLabel: "+quote(strings.TrimPrefix(f.overriddenIn(i), "label:")))
		}
		if ca := s.contextArguments(i, sf); ca != "" {
			args = append(args, "contextArguments: "+ca)
		}
		f.joins = append(f.joins, "@join__field("+strings.Join(args, ", ")+")")
	}
}

// effectiveOverride reports whether an @override takes the field from a
// subgraph that defines it; one naming another subgraph is ignored (Apollo
// gives a hint), though its join__field still records override.
func (s *supergraph) effectiveOverride(f *mField, sf *sField) bool {
	if !sf.hasOverride {
		return false
	}
	i := s.subgraphIndex(sf.override)
	return i >= 0 && f.sources[i] != nil
}

// joinTypes computes the @join__type directives of a type.
func (s *supergraph) joinTypes(t *mType) []string {
	var out []string
	for i, st := range t.sources {
		if st == nil {
			continue
		}
		id := s.subgraphs[i].id
		if len(st.keys) == 0 {
			d := "@join__type(graph: " + id
			if st.interfaceObject {
				d += ", isInterfaceObject: true"
			}
			out = append(out, d+")")
			continue
		}
		for _, k := range st.keys {
			d := "@join__type(graph: " + id + ", key: " + quote(k.fields)
			if k.extension || st.extendsDirective {
				d += ", extension: true"
			}
			if !k.resolvable {
				d += ", resolvable: false"
			} else if k.resolvableSet {
				d += ", resolvable: true"
			}
			if st.interfaceObject {
				d += ", isInterfaceObject: true"
			}
			out = append(out, d+")")
		}
	}
	return out
}

// joinImplements computes the @join__implements directives of a type.
func (s *supergraph) joinImplements(t *mType) []string {
	var out []string
	for i, st := range t.sources {
		if st == nil {
			continue
		}
		for _, itf := range st.interfaces {
			out = append(out, "@join__implements(graph: "+s.subgraphs[i].id+", interface: "+quote(itf)+")")
		}
	}
	return out
}

// joinMembers computes the @join__unionMember directives of a union.
func (s *supergraph) joinMembers(t *mType) []string {
	var out []string
	for _, m := range t.members {
		for i, st := range t.sources {
			if st != nil && containsString(st.members, m) {
				out = append(out, "@join__unionMember(graph: "+s.subgraphs[i].id+", member: "+quote(m)+")")
			}
		}
	}
	return out
}
