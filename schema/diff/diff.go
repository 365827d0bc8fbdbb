// Package diff compares two client-facing API schemas and lists what
// changed, each change with its schema coordinate and how it affects
// existing clients: BREAKING (a valid operation stops working), DANGEROUS
// (operations still validate but may behave differently) or SAFE.
package diff

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// Severity says how a change affects existing client operations.
type Severity string

// Severities, from worst to harmless.
const (
	Breaking  Severity = "BREAKING"
	Dangerous Severity = "DANGEROUS"
	Safe      Severity = "SAFE"
)

// Change is one difference between two API schemas.
type Change struct {
	Severity Severity `json:"severity"`
	// Kind names the change, for example FIELD_REMOVED.
	Kind string `json:"kind"`
	// Coordinate is the schema coordinate: Type, Type.field,
	// Type.field(arg:), Enum.VALUE or Input.field.
	Coordinate string `json:"coordinate"`
	Message    string `json:"message"`
}

// BreakingOnly returns the breaking changes of changes.
func BreakingOnly(changes []Change) []Change {
	var out []Change
	for _, c := range changes {
		if c.Severity == Breaking {
			out = append(out, c)
		}
	}
	return out
}

// Schemas lists the changes from oldSchema to newSchema, sorted by
// coordinate. A nil schema is an empty one.
func Schemas(oldSchema, newSchema *ast.Schema) []Change {
	d := &differ{}
	oldTypes, newTypes := types(oldSchema), types(newSchema)
	for name, o := range oldTypes {
		n, ok := newTypes[name]
		if !ok {
			d.add(Breaking, "TYPE_REMOVED", name, "type %s was removed", name)
			continue
		}
		if o.Kind != n.Kind {
			d.add(Breaking, "TYPE_KIND_CHANGED", name, "type %s changed from %s to %s", name, kindName(o.Kind), kindName(n.Kind))
			continue
		}
		d.definition(o, n)
	}
	for name := range newTypes {
		if _, ok := oldTypes[name]; !ok {
			d.add(Safe, "TYPE_ADDED", name, "type %s was added", name)
		}
	}
	d.directiveDefinitions(oldSchema, newSchema)
	sort.SliceStable(d.changes, func(i, j int) bool {
		a, b := d.changes[i], d.changes[j]
		if a.Coordinate != b.Coordinate {
			return a.Coordinate < b.Coordinate
		}
		return a.Kind < b.Kind
	})
	return d.changes
}

type differ struct{ changes []Change }

func (d *differ) add(sev Severity, kind, coord, format string, args ...any) {
	d.changes = append(d.changes, Change{Severity: sev, Kind: kind, Coordinate: coord, Message: fmt.Sprintf(format, args...)})
}

// types returns the user-defined types of s (not the built-in scalars and
// introspection types, which never differ).
func types(s *ast.Schema) map[string]*ast.Definition {
	out := map[string]*ast.Definition{}
	if s == nil {
		return out
	}
	for name, def := range s.Types {
		if def.BuiltIn || strings.HasPrefix(name, "__") {
			continue
		}
		out[name] = def
	}
	return out
}

func kindName(k ast.DefinitionKind) string { return strings.ToLower(string(k)) }

func (d *differ) definition(o, n *ast.Definition) {
	switch o.Kind {
	case ast.Object, ast.Interface:
		d.outputFields(o, n)
		d.interfaces(o, n)
	case ast.InputObject:
		d.inputFields(o, n)
	case ast.Enum:
		d.enumValues(o, n)
	case ast.Union:
		d.unionMembers(o, n)
	}
}

func (d *differ) outputFields(o, n *ast.Definition) {
	for _, of := range o.Fields {
		coord := o.Name + "." + of.Name
		nf := n.Fields.ForName(of.Name)
		if nf == nil {
			d.add(Breaking, "FIELD_REMOVED", coord, "field %s was removed", coord)
			continue
		}
		if !safeOutput(of.Type, nf.Type) {
			d.add(Breaking, "FIELD_TYPE_CHANGED", coord, "field %s changed type from %s to %s", coord, of.Type, nf.Type)
		} else if of.Type.String() != nf.Type.String() {
			d.add(Safe, "FIELD_TYPE_CHANGED", coord, "field %s changed type from %s to %s", coord, of.Type, nf.Type)
		}
		d.arguments(coord, of.Arguments, nf.Arguments)
	}
	for _, nf := range n.Fields {
		if o.Fields.ForName(nf.Name) == nil {
			coord := n.Name + "." + nf.Name
			d.add(Safe, "FIELD_ADDED", coord, "field %s was added", coord)
		}
	}
}

func (d *differ) arguments(field string, oldArgs, newArgs ast.ArgumentDefinitionList) {
	for _, oa := range oldArgs {
		coord := field + "(" + oa.Name + ":)"
		na := newArgs.ForName(oa.Name)
		if na == nil {
			d.add(Breaking, "ARGUMENT_REMOVED", coord, "argument %s was removed", coord)
			continue
		}
		d.inputValue(coord, "ARGUMENT", oa.Type, na.Type, oa.DefaultValue, na.DefaultValue)
	}
	for _, na := range newArgs {
		if oldArgs.ForName(na.Name) != nil {
			continue
		}
		coord := field + "(" + na.Name + ":)"
		if na.Type.NonNull && na.DefaultValue == nil {
			d.add(Breaking, "REQUIRED_ARGUMENT_ADDED", coord, "required argument %s was added", coord)
		} else {
			d.add(Safe, "OPTIONAL_ARGUMENT_ADDED", coord, "optional argument %s was added", coord)
		}
	}
}

// inputValue compares an argument or input field that exists in both.
func (d *differ) inputValue(coord, what string, ot, nt *ast.Type, odef, ndef *ast.Value) {
	if !safeInput(ot, nt) {
		d.add(Breaking, what+"_TYPE_CHANGED", coord, "%s %s changed type from %s to %s", strings.ToLower(strings.ReplaceAll(what, "_", " ")), coord, ot, nt)
	} else if ot.String() != nt.String() {
		d.add(Safe, what+"_TYPE_CHANGED", coord, "%s %s changed type from %s to %s", strings.ToLower(strings.ReplaceAll(what, "_", " ")), coord, ot, nt)
	}
	switch {
	case odef != nil && ndef == nil && nt.NonNull:
		// Non-null without a default is required: a client that left it
		// out, as the default allowed, is now refused.
		d.add(Breaking, what+"_DEFAULT_REMOVED", coord, "%s is now required: its default value %s was removed", coord, valueString(odef))
	case valueString(odef) != valueString(ndef):
		d.add(Dangerous, what+"_DEFAULT_CHANGED", coord, "default value of %s changed from %s to %s", coord, valueString(odef), valueString(ndef))
	}
}

func valueString(v *ast.Value) string {
	if v == nil {
		return "none"
	}
	return v.String()
}

// directiveDefinitions compares the directives clients write in operations (those
// with an executable location; the prelude's never change): one removed,
// a location it loses, an argument removed, made required or retyped
// refuses operations that used it.
func (d *differ) directiveDefinitions(oldSchema, newSchema *ast.Schema) {
	if oldSchema == nil {
		return
	}
	for name, od := range oldSchema.Directives {
		if od.Position != nil && od.Position.Src != nil && od.Position.Src.BuiltIn || !executable(od) {
			continue
		}
		coord := "@" + name
		var nd *ast.DirectiveDefinition
		if newSchema != nil {
			nd = newSchema.Directives[name]
		}
		if nd == nil {
			d.add(Breaking, "DIRECTIVE_REMOVED", coord, "directive %s was removed", coord)
			continue
		}
		for _, loc := range od.Locations {
			if !slices.Contains(nd.Locations, loc) {
				d.add(Breaking, "DIRECTIVE_LOCATION_REMOVED", coord, "directive %s can no longer be used on %s", coord, loc)
			}
		}
		d.arguments(coord, od.Arguments, nd.Arguments)
	}
}

// executable reports whether a directive may be written in operations.
func executable(dd *ast.DirectiveDefinition) bool {
	for _, loc := range dd.Locations {
		switch loc {
		case ast.LocationQuery, ast.LocationMutation, ast.LocationSubscription, ast.LocationField,
			ast.LocationFragmentDefinition, ast.LocationFragmentSpread, ast.LocationInlineFragment,
			ast.LocationVariableDefinition:
			return true
		}
	}
	return false
}

func (d *differ) inputFields(o, n *ast.Definition) {
	if o.Directives.ForName("oneOf") == nil && n.Directives.ForName("oneOf") != nil {
		// A client may have sent several fields, or one as null.
		d.add(Breaking, "ONE_OF_ADDED", n.Name, "input %s is now @oneOf: exactly one field, not null, must be given", n.Name)
	}
	for _, of := range o.Fields {
		coord := o.Name + "." + of.Name
		nf := n.Fields.ForName(of.Name)
		if nf == nil {
			d.add(Breaking, "INPUT_FIELD_REMOVED", coord, "input field %s was removed", coord)
			continue
		}
		d.inputValue(coord, "INPUT_FIELD", of.Type, nf.Type, of.DefaultValue, nf.DefaultValue)
	}
	for _, nf := range n.Fields {
		if o.Fields.ForName(nf.Name) != nil {
			continue
		}
		coord := n.Name + "." + nf.Name
		if nf.Type.NonNull && nf.DefaultValue == nil {
			d.add(Breaking, "REQUIRED_INPUT_FIELD_ADDED", coord, "required input field %s was added", coord)
		} else {
			d.add(Safe, "OPTIONAL_INPUT_FIELD_ADDED", coord, "optional input field %s was added", coord)
		}
	}
}

func (d *differ) enumValues(o, n *ast.Definition) {
	for _, ov := range o.EnumValues {
		if n.EnumValues.ForName(ov.Name) == nil {
			coord := o.Name + "." + ov.Name
			d.add(Breaking, "ENUM_VALUE_REMOVED", coord, "enum value %s was removed", coord)
		}
	}
	for _, nv := range n.EnumValues {
		if o.EnumValues.ForName(nv.Name) == nil {
			coord := n.Name + "." + nv.Name
			d.add(Dangerous, "ENUM_VALUE_ADDED", coord, "enum value %s was added; clients switching over %s may not handle it", coord, n.Name)
		}
	}
}

func (d *differ) unionMembers(o, n *ast.Definition) {
	for _, m := range o.Types {
		if !contains(n.Types, m) {
			d.add(Breaking, "UNION_MEMBER_REMOVED", o.Name, "%s was removed from union %s", m, o.Name)
		}
	}
	for _, m := range n.Types {
		if !contains(o.Types, m) {
			d.add(Dangerous, "UNION_MEMBER_ADDED", n.Name, "%s was added to union %s; clients may not handle it", m, n.Name)
		}
	}
}

func (d *differ) interfaces(o, n *ast.Definition) {
	for _, i := range o.Interfaces {
		if !contains(n.Interfaces, i) {
			d.add(Breaking, "INTERFACE_IMPLEMENTATION_REMOVED", o.Name, "%s no longer implements %s", o.Name, i)
		}
	}
	for _, i := range n.Interfaces {
		if !contains(o.Interfaces, i) {
			d.add(Dangerous, "INTERFACE_IMPLEMENTATION_ADDED", n.Name, "%s now implements %s; clients may not handle it", n.Name, i)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// safeOutput reports whether a field typed o may become typed n without
// breaking a client reading it: the named type stays, list depth stays,
// and no position becomes nullable (non-null may be added).
func safeOutput(o, n *ast.Type) bool {
	if o.NonNull && !n.NonNull {
		return false
	}
	return sameShape(o, n, safeOutput)
}

// safeInput reports whether an argument or input field typed o may become
// typed n without breaking a client sending it: no position becomes
// non-null (non-null may be relaxed).
func safeInput(o, n *ast.Type) bool {
	if !o.NonNull && n.NonNull {
		return false
	}
	return sameShape(o, n, safeInput)
}

func sameShape(o, n *ast.Type, inner func(o, n *ast.Type) bool) bool {
	switch {
	case o.Elem == nil && n.Elem == nil:
		return o.NamedType == n.NamedType
	case o.Elem != nil && n.Elem != nil:
		return inner(o.Elem, n.Elem)
	default:
		return false
	}
}
