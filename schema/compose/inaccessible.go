package compose

import (
	"github.com/vektah/gqlparser/v2/ast"
)

// hidden reports whether a type is @inaccessible (or unknown: built-in
// scalars are always visible).
func (s *supergraph) hidden(name string) bool {
	t := s.types[name]
	return t != nil && t.inaccessible
}

// validateInaccessible applies the @inaccessible rules: what stays in the
// API schema must not reference what is removed from it.
func (s *supergraph) validateInaccessible(errs *errorList) {
	if t := s.types["Query"]; t != nil && t.inaccessible {
		errs.add("QUERY_ROOT_TYPE_INACCESSIBLE", "", "Query", "Type \"Query\" is @inaccessible but is the query root type, which must be in the API schema.")
	}
	for _, name := range s.order {
		t := s.types[name]
		if t.inaccessible {
			continue
		}
		switch t.kind {
		case ast.Object, ast.Interface, ast.InputObject:
			visible := 0
			for _, f := range t.fields {
				coord := name + "." + f.name
				if f.inaccessible {
					if t.kind == ast.InputObject && f.typ.NonNull && f.defaultValue == nil {
						errs.add("REQUIRED_INACCESSIBLE", "", coord, "Input field \"%s\" is @inaccessible but is a required input field of its type.", coord)
					}
					continue
				}
				visible++
				if s.hidden(f.typ.Name()) {
					errs.add("REFERENCED_INACCESSIBLE", "", coord, "Type \"%s\" is @inaccessible but is referenced by \"%s\", which is in the API schema.", f.typ.Name(), coord)
				}
				if f.defaultValue != nil {
					s.checkDefault(f.typ, f.defaultValue, coord, errs)
				}
				for _, a := range f.args {
					acoord := coord + "(" + a.name + ":)"
					if a.inaccessible {
						if a.typ.NonNull && a.defaultValue == nil {
							errs.add("REQUIRED_INACCESSIBLE", "", acoord, "Argument \"%s\" is @inaccessible but is a required argument of its field.", acoord)
						}
						continue
					}
					if s.hidden(a.typ.Name()) {
						errs.add("REFERENCED_INACCESSIBLE", "", acoord, "Type \"%s\" is @inaccessible but is referenced by \"%s\", which is in the API schema.", a.typ.Name(), acoord)
					}
					if a.defaultValue != nil {
						s.checkDefault(a.typ, a.defaultValue, acoord, errs)
					}
				}
				// An implementation must keep what its interfaces show.
				for _, iname := range t.interfaces {
					itf := s.types[iname]
					if itf == nil || itf.inaccessible {
						continue
					}
					if itf.field(f.name) == nil {
						continue
					}
				}
			}
			if visible == 0 && len(t.fields) > 0 {
				errs.add("ONLY_INACCESSIBLE_CHILDREN", "", name, "Type \"%s\" is in the API schema but all of its fields are @inaccessible.", name)
			}
			if t.kind == ast.Interface {
				for _, impl := range s.implementations(name) {
					o := s.types[impl]
					if o.inaccessible {
						continue
					}
					for _, f := range t.fields {
						if of := o.field(f.name); of != nil && of.inaccessible && !f.inaccessible {
							errs.add("IMPLEMENTED_BY_INACCESSIBLE", "", impl+"."+f.name, "Field \"%s.%s\" is @inaccessible but implements the interface field \"%s.%s\", which is in the API schema.", impl, f.name, name, f.name)
						}
					}
				}
			}
		case ast.Enum:
			visible := 0
			for _, v := range t.values {
				if !v.inaccessible {
					visible++
				}
			}
			if visible == 0 {
				errs.add("ONLY_INACCESSIBLE_CHILDREN", "", name, "Type \"%s\" is in the API schema but all of its values are @inaccessible.", name)
			}
		case ast.Union:
			visible := 0
			for _, m := range t.members {
				if !s.hidden(m) {
					visible++
				}
			}
			if visible == 0 {
				errs.add("ONLY_INACCESSIBLE_CHILDREN", "", name, "Type \"%s\" is in the API schema but all of its members are @inaccessible.", name)
			}
		}
	}
}

// checkDefault reports a default value naming an @inaccessible enum value.
func (s *supergraph) checkDefault(typ *ast.Type, v *ast.Value, coord string, errs *errorList) {
	if v == nil {
		return
	}
	switch v.Kind {
	case ast.EnumValue:
		t := s.types[typ.Name()]
		if t == nil || t.kind != ast.Enum {
			return
		}
		for _, ev := range t.values {
			if ev.name == v.Raw && ev.inaccessible {
				errs.add("DEFAULT_VALUE_USES_INACCESSIBLE", "", coord, "Enum value \"%s.%s\" is @inaccessible but is used in the default value of \"%s\", which is in the API schema.", t.name, v.Raw, coord)
			}
		}
	case ast.ListValue:
		elem := typ
		if typ.Elem != nil {
			elem = typ.Elem
		}
		for _, c := range v.Children {
			s.checkDefault(elem, c.Value, coord, errs)
		}
	case ast.ObjectValue:
		t := s.types[typ.Name()]
		if t == nil {
			return
		}
		for _, c := range v.Children {
			if f := t.field(c.Name); f != nil {
				s.checkDefault(f.typ, c.Value, coord, errs)
			}
		}
	}
}
