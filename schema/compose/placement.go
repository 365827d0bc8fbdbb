package compose

import (
	"strconv"

	"github.com/vektah/gqlparser/v2/ast"
)

// validatePlacement checks where a subgraph applies the access control
// and demand control directives, beyond the locations their definitions
// allow:
//   - @authenticated, @requiresScopes and @policy on an interface, a field
//     of an interface or an @interfaceObject type
//     (AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE: the requirements belong to
//     each implementation);
//   - @cost on a field of an interface (COST_APPLIED_TO_INTERFACE_FIELD);
//   - @listSize on a field that is no list, unless it names sizedFields
//     (LIST_SIZE_APPLIED_TO_NON_LIST), with a negative assumedSize
//     (LIST_SIZE_INVALID_ASSUMED_SIZE), slicingArguments that are not Int
//     arguments of the field (LIST_SIZE_INVALID_SLICING_ARGUMENT), or
//     sizedFields that are not list fields of the field's type
//     (LIST_SIZE_INVALID_SIZED_FIELD, LIST_SIZE_APPLIED_TO_NON_LIST).
func (sg *subgraph) validatePlacement(errs *errorList) {
	for _, name := range sg.order {
		t := sg.types[name]
		if t.kind == ast.Interface || t.interfaceObject {
			kind := "interface"
			if t.interfaceObject {
				kind = "interface object"
			}
			for _, d := range t.applied {
				if accessControl[d.Name] {
					errs.add("AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE", sg.name, name, "@%s is applied on %s \"%s\": access requirements go on the implementations of interfaces, not on interfaces, interface fields or interface objects", sg.local(d.Name), kind, name)
				}
			}
		}
		for _, f := range t.fields {
			coord := name + "." + f.name
			for _, d := range f.applied {
				switch {
				case accessControl[d.Name] && t.kind == ast.Interface:
					errs.add("AUTH_REQUIREMENTS_APPLIED_ON_INTERFACE", sg.name, coord, "@%s is applied on interface field \"%s\": access requirements go on the implementations of interfaces, not on interfaces, interface fields or interface objects", sg.local(d.Name), coord)
				case d.Name == "cost" && t.kind == ast.Interface:
					errs.add("COST_APPLIED_TO_INTERFACE_FIELD", sg.name, coord, "@%s is applied on interface field \"%s\"", sg.local(d.Name), coord)
				case d.Name == "listSize":
					sg.validateListSize(d, t, f, errs)
				}
			}
		}
	}
}

// local is the name the subgraph gives federation directive fed.
func (sg *subgraph) local(fed string) string {
	if l, ok := sg.localNames[fed]; ok {
		return l
	}
	return fed
}

func (sg *subgraph) validateListSize(d *ast.Directive, t *sType, f *sField, errs *errorList) {
	coord := t.name + "." + f.name
	sized := argStrings(d, "sizedFields")
	if len(sized) == 0 && f.typ.Elem == nil {
		errs.add("LIST_SIZE_APPLIED_TO_NON_LIST", sg.name, coord, "\"%s\" has @%s but is not a list", coord, sg.local("listSize"))
	}
	if a := d.Arguments.ForName("assumedSize"); a != nil && a.Value != nil && a.Value.Kind == ast.IntValue {
		if n, err := strconv.ParseInt(a.Value.Raw, 10, 64); err == nil && n < 0 {
			errs.add("LIST_SIZE_INVALID_ASSUMED_SIZE", sg.name, coord, "The assumed size of \"%s\" is negative", coord)
		}
	}
	for _, name := range argStrings(d, "slicingArguments") {
		var arg *sArg
		for _, a := range f.args {
			if a.name == name {
				arg = a
			}
		}
		switch {
		case arg == nil:
			errs.add("LIST_SIZE_INVALID_SLICING_ARGUMENT", sg.name, coord, "Slicing argument \"%s\" is no argument of \"%s\"", name, coord)
		case arg.typ.Elem != nil || arg.typ.NamedType != "Int":
			errs.add("LIST_SIZE_INVALID_SLICING_ARGUMENT", sg.name, coord, "Slicing argument \"%s(%s:)\" is not of type Int or Int!", coord, name)
		}
	}
	if len(sized) == 0 {
		return
	}
	target := sg.types[baseName(f.typ)]
	if target == nil || (target.kind != ast.Object && target.kind != ast.Interface && target.kind != ast.Union) {
		errs.add("LIST_SIZE_INVALID_SIZED_FIELD", sg.name, coord, "\"%s\" has sizedFields but its type \"%s\" is not composite", coord, baseName(f.typ))
		return
	}
	for _, name := range sized {
		sf := target.field(name)
		switch {
		case sf == nil:
			errs.add("LIST_SIZE_INVALID_SIZED_FIELD", sg.name, coord, "Sized field \"%s\" is no field of \"%s\"", name, target.name)
		case sf.typ.Elem == nil:
			errs.add("LIST_SIZE_APPLIED_TO_NON_LIST", sg.name, coord, "Sized field \"%s.%s\" is not a list", target.name, name)
		}
	}
}

// argStrings reads a directive argument that is a list of strings (a
// single string is a list of one, as input coercion has it).
func argStrings(d *ast.Directive, name string) []string {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil {
		return nil
	}
	switch a.Value.Kind {
	case ast.StringValue:
		return []string{a.Value.Raw}
	case ast.ListValue:
		var out []string
		for _, c := range a.Value.Children {
			if c.Value != nil && c.Value.Kind == ast.StringValue {
				out = append(out, c.Value.Raw)
			}
		}
		return out
	}
	return nil
}

// baseName is the named type below a type's list and non-null wrappers.
func baseName(t *ast.Type) string {
	for t.Elem != nil {
		t = t.Elem
	}
	return t.NamedType
}
