package compose

import (
	"github.com/vektah/gqlparser/v2/ast"
)

// walkFieldSet calls visit for every field a field set selects, starting
// at type typeName of the subgraph; visit gets a nil field when the type
// has no such field. Inline fragments switch to their type condition.
func (sg *subgraph) walkFieldSet(typeName string, sel ast.SelectionSet, visit func(t *sType, f *sField, fd *ast.Field) bool) {
	t := sg.types[typeName]
	if t == nil {
		// A scalar or unknown type: it has no fields.
		t = &sType{name: typeName, kind: ast.Scalar}
	}
	for _, s := range sel {
		switch s := s.(type) {
		case *ast.Field:
			if s.Name == "__typename" {
				continue
			}
			f := t.field(s.Name)
			if !visit(t, f, s) || f == nil {
				continue
			}
			if len(s.SelectionSet) > 0 {
				sg.walkFieldSet(f.typ.Name(), s.SelectionSet, visit)
			}
		case *ast.InlineFragment:
			cond := s.TypeCondition
			if cond == "" {
				cond = typeName
			}
			sg.walkFieldSet(cond, s.SelectionSet, visit)
		}
	}
}

// fieldSets calls fn for every key, requires and provides of the subgraph
// with the type its selection starts at.
func (sg *subgraph) fieldSets(fn func(kind string, owner *sType, field *sField, start string, sel ast.SelectionSet)) {
	for _, name := range sg.order {
		t := sg.types[name]
		for _, k := range t.keys {
			if k.sel != nil {
				fn("key", t, nil, name, k.sel)
			}
		}
		for _, f := range t.fields {
			if f.requires != "" {
				if sel, err := parseFieldSet(f.requires); err == nil {
					fn("requires", t, f, name, sel)
				}
			}
			if f.provides != "" {
				if sel, err := parseFieldSet(f.provides); err == nil {
					fn("provides", t, f, f.typ.Name(), sel)
				}
			}
		}
	}
}

// usedExternals returns the coordinates of the fields that a key, requires
// or provides of the subgraph selects.
func (sg *subgraph) usedExternals() map[string]bool {
	used := map[string]bool{}
	sg.fieldSets(func(kind string, owner *sType, field *sField, start string, sel ast.SelectionSet) {
		sg.walkFieldSet(start, sel, func(t *sType, f *sField, fd *ast.Field) bool {
			if f != nil {
				used[t.name+"."+f.name] = true
			}
			return true
		})
	})
	sg.contextUsedFields(used)
	// Interface fields implemented by external fields count as used.
	for _, name := range sg.order {
		t := sg.types[name]
		for _, i := range t.interfaces {
			if it := sg.types[i]; it != nil {
				for _, f := range it.fields {
					used[name+"."+f.name] = true
				}
			}
		}
	}
	return used
}

// usesField reports whether a key, requires or provides of the subgraph
// selects the field.
func (sg *subgraph) usesField(typeName, field string) bool {
	if sg.used == nil {
		sg.used = sg.usedExternals()
	}
	return sg.used[typeName+"."+field]
}

// provided reports whether a @provides of the subgraph selects the field.
func (sg *subgraph) provided(typeName, field string) bool {
	if sg.providedSet == nil {
		sg.providedSet = map[string]bool{}
		sg.fieldSets(func(kind string, owner *sType, f *sField, start string, sel ast.SelectionSet) {
			if kind != "provides" {
				return
			}
			sg.walkFieldSet(start, sel, func(t *sType, f *sField, fd *ast.Field) bool {
				if f != nil {
					sg.providedSet[t.name+"."+f.name] = true
					// Provided fields of an interface count on its implementations.
					for _, name := range sg.order {
						if containsString(sg.types[name].interfaces, t.name) {
							sg.providedSet[name+"."+f.name] = true
						}
					}
				}
				return true
			})
		})
	}
	return sg.providedSet[typeName+"."+field]
}

// isKeyField reports whether a @key of the type in the subgraph selects
// the field (key fields are shareable).
func (sg *subgraph) isKeyField(typeName, field string) bool {
	if sg.keyFields == nil {
		sg.keyFields = map[string]bool{}
		for _, name := range sg.order {
			t := sg.types[name]
			for _, k := range t.keys {
				sg.walkFieldSet(name, k.sel, func(t *sType, f *sField, fd *ast.Field) bool {
					if f != nil {
						sg.keyFields[t.name+"."+f.name] = true
					}
					return true
				})
			}
		}
	}
	return sg.keyFields[typeName+"."+field]
}

// validateFieldSets checks the keys, requires, provides and externals of
// one subgraph.
func (sg *subgraph) validateFieldSets(errs *errorList) {
	for _, name := range sg.order {
		t := sg.types[name]
		for _, k := range t.keys {
			if k.sel == nil {
				continue
			}
			if t.kind != ast.Object && t.kind != ast.Interface {
				errs.add("KEY_INVALID_FIELDS", sg.name, name, "On type \"%s\", for @key(fields: \"%s\"): @key can only be used on object and interface types", name, k.fields)
				continue
			}
			if t.kind == ast.Interface && sg.minor < 3 {
				errs.add("KEY_UNSUPPORTED_ON_INTERFACE", sg.name, name, "Cannot use @key on interface \"%s\": @key is not yet supported on interfaces", name)
				continue
			}
			sg.walkFieldSet(name, k.sel, func(pt *sType, f *sField, fd *ast.Field) bool {
				prefix := "On type \"" + name + "\", for @key(fields: \"" + k.fields + "\"): "
				switch {
				case len(fd.Directives) > 0:
					errs.add("KEY_DIRECTIVE_IN_FIELDS_ARG", sg.name, name, "%sdirectives are not allowed in the fields argument", prefix)
				case f == nil:
					errs.add("KEY_INVALID_FIELDS", sg.name, name, "%sCannot query field \"%s\" on type \"%s\" (the field should either be added to this subgraph or, if it should not be resolved by this subgraph, you need to add it to this subgraph with @external).", prefix, fd.Name, pt.name)
					return false
				case len(f.args) > 0:
					errs.add("KEY_FIELDS_HAS_ARGS", sg.name, pt.name+"."+f.name, "%sfield %s.%s cannot be included because it has arguments (fields with argument are not allowed in @key)", prefix, pt.name, f.name)
				case sg.isAbstract(f.typ.Name()):
					errs.add("KEY_FIELDS_SELECT_INVALID_TYPE", sg.name, pt.name+"."+f.name, "%sfield \"%s.%s\" is an %s type which is not allowed in @key", prefix, pt.name, f.name, abstractKind(sg.types[f.typ.Name()].kind))
				case sg.isComposite(f.typ.Name()) && len(fd.SelectionSet) == 0:
					errs.add("KEY_INVALID_FIELDS", sg.name, name, "%sfield \"%s.%s\" of composite type must have a selection of sub-fields", prefix, pt.name, f.name)
				}
				return true
			})
		}
		for _, f := range t.fields {
			coord := name + "." + f.name
			if f.requires != "" {
				sg.validateSelection("requires", t, f, name, f.requires, errs)
			}
			if f.provides != "" {
				if !sg.isComposite(f.typ.Name()) {
					errs.add("PROVIDES_ON_NON_OBJECT_FIELD", sg.name, coord, "Invalid @provides directive on field \"%s\": field has type \"%s\" which is not a Composite Type", coord, f.typ.String())
				} else {
					sg.validateSelection("provides", t, f, f.typ.Name(), f.provides, errs)
				}
			}
			if f.external && t.kind == ast.Interface {
				errs.add("EXTERNAL_ON_INTERFACE", sg.name, coord, "Interface type field \"%s\" is marked @external but @external is not allowed on interface fields.", coord)
			}
		}
	}
	if sg.fed1 {
		return
	}
	used := sg.usedExternals()
	for _, name := range sg.order {
		t := sg.types[name]
		if t.kind != ast.Object {
			continue
		}
		for _, f := range t.fields {
			if f.external && !used[name+"."+f.name] && !t.interfaceObject {
				errs.add("EXTERNAL_UNUSED", sg.name, name+"."+f.name, "Field \"%s.%s\" is marked @external but is not used in any federation directive (@key, @provides, @requires) or to satisfy an interface; the field declaration has no use and should be removed (or the field should not be @external).", name, f.name)
			}
		}
	}
}

func abstractKind(k ast.DefinitionKind) string {
	if k == ast.Union {
		return "Union"
	}
	return "Interface"
}

func (sg *subgraph) isAbstract(name string) bool {
	t := sg.types[name]
	return t != nil && (t.kind == ast.Interface || t.kind == ast.Union)
}

func (sg *subgraph) isComposite(name string) bool {
	t := sg.types[name]
	return t != nil && (t.kind == ast.Interface || t.kind == ast.Union || t.kind == ast.Object)
}

// externalInImplementations reports whether an implementation of
// interface t declares field @external.
func (sg *subgraph) externalInImplementations(t *sType, field string) bool {
	if t.kind != ast.Interface {
		return false
	}
	for _, name := range sg.order {
		o := sg.types[name]
		if containsString(o.interfaces, t.name) {
			if f := o.field(field); f != nil && f.external {
				return true
			}
		}
	}
	return false
}

// validateSelection checks a @requires or @provides field set.
func (sg *subgraph) validateSelection(kind string, owner *sType, field *sField, start, fields string, errs *errorList) {
	code := "REQUIRES"
	if kind == "provides" {
		code = "PROVIDES"
	}
	coord := owner.name + "." + field.name
	prefix := "On field \"" + coord + "\", for @" + kind + "(fields: \"" + fields + "\"): "
	if owner.kind == ast.Interface {
		errs.add(code+"_UNSUPPORTED_ON_INTERFACE", sg.name, coord, "Cannot use @%s on field \"%s\" of parent type \"%s\": @%s is not yet supported within interfaces", kind, coord, owner.name, kind)
		return
	}
	sel, err := parseFieldSet(fields)
	if err != nil {
		errs.add(code+"_INVALID_FIELDS", sg.name, coord, "%s%v", prefix, err)
		return
	}
	dropProvides := false
	// underExternal is set below a field that is @external (or whose
	// implementations are): the fields under it need no @external.
	var walk func(typeName string, sel ast.SelectionSet, underExternal bool)
	walk = func(typeName string, sel ast.SelectionSet, underExternal bool) {
		t := sg.types[typeName]
		for _, s := range sel {
			switch s := s.(type) {
			case *ast.Field:
				if s.Name == "__typename" {
					continue
				}
				if len(s.Directives) > 0 {
					errs.add(code+"_DIRECTIVE_IN_FIELDS_ARG", sg.name, coord, "%sdirectives are not allowed in the fields argument", prefix)
				}
				f := t.field(s.Name)
				if f == nil {
					errs.add(code+"_INVALID_FIELDS", sg.name, coord, "%sCannot query field \"%s\" on type \"%s\" (if the field is defined in another subgraph, you need to add it to this subgraph with @external).", prefix, s.Name, typeName)
					continue
				}
				if kind == "requires" && len(f.args) > 0 && len(s.Arguments) == 0 {
					hasRequired := false
					for _, a := range f.args {
						if a.typ.NonNull && a.defaultValue == nil {
							hasRequired = true
						}
					}
					if hasRequired {
						errs.add(code+"_INVALID_FIELDS", sg.name, coord, "%sField \"%s.%s\" argument is required but not provided", prefix, typeName, f.name)
					}
				}
				if kind == "provides" && len(f.args) > 0 {
					errs.add(code+"_FIELDS_HAS_ARGS", sg.name, coord, "%sfield %s.%s cannot be included because it has arguments (fields with argument are not allowed in @provides)", prefix, typeName, f.name)
				}
				// A leaf must be @external unless a field above it is.
				if !f.external && len(s.SelectionSet) == 0 && !underExternal {
					if sg.fed1 && kind == "provides" {
						// Federation 1 upgrade: such a @provides is dropped.
						dropProvides = true
						continue
					}
					errs.add(code+"_FIELDS_MISSING_EXTERNAL", sg.name, coord, "%sfield \"%s.%s\" should not be part of a @%s since it is already provided by this subgraph (it is not marked @external)", prefix, typeName, f.name, kind)
				}
				if len(s.SelectionSet) > 0 {
					if !sg.isComposite(f.typ.Name()) {
						errs.add(code+"_INVALID_FIELDS", sg.name, coord, "%sCannot query field \"%s\" on type \"%s\": leaf fields cannot have selections", prefix, s.Name, typeName)
						continue
					}
					walk(f.typ.Name(), s.SelectionSet, underExternal || f.external || sg.externalInImplementations(t, f.name))
				} else if sg.isComposite(f.typ.Name()) {
					errs.add(code+"_INVALID_FIELDS", sg.name, coord, "%sfield \"%s.%s\" of composite type must have a selection of sub-fields", prefix, typeName, f.name)
				}
			case *ast.InlineFragment:
				cond := s.TypeCondition
				if cond == "" {
					cond = typeName
				}
				if sg.types[cond] == nil {
					errs.add(code+"_INVALID_FIELDS", sg.name, coord, "%sUnknown type \"%s\"", prefix, cond)
					continue
				}
				walk(cond, s.SelectionSet, underExternal)
			case *ast.FragmentSpread:
				errs.add(code+"_INVALID_FIELDS", sg.name, coord, "%snamed fragments are not allowed", prefix)
			}
		}
	}
	walk(start, sel, false)
	if dropProvides {
		field.provides = ""
	}
}
