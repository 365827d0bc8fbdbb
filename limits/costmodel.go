package limits

import (
	"strconv"
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
)

// costSpec is the identity of the cost directives' spec in @link.
const costSpec = "https://specs.apollo.dev/cost/"

// CostModel holds the weights and list sizes a schema declares with the
// cost directives (@cost and @listSize, IBM's GraphQL cost directive spec
// as Apollo Federation 2.9 composes it). It is built once per supergraph
// and is read-only afterwards, so any number of requests may share it.
type CostModel struct {
	schema *ast.Schema

	typeWeight  map[string]float64   // @cost on OBJECT, ENUM, SCALAR
	fieldWeight map[fieldKey]float64 // @cost on FIELD_DEFINITION (object, interface or input fields)
	argWeight   map[argKey]float64   // @cost on ARGUMENT_DEFINITION
	listSize    map[fieldKey]*ListSize
}

type fieldKey struct{ typ, field string }

type argKey struct{ typ, field, arg string }

// ListSize is one @listSize directive.
type ListSize struct {
	// AssumedSize is the size of the list when no slicing argument gives
	// one; -1 when the directive does not say.
	AssumedSize float64
	// SlicingArguments name the arguments (or, IBM style, dotted paths into
	// input objects: "filter.max") whose value bounds the list.
	SlicingArguments []string
	// SizedFields name the list fields, in the returned object, that the
	// size applies to (a connection's "edges"); empty means the field's own
	// list. Dotted paths reach deeper ("edges.node.friends").
	SizedFields []string
	// RequireOneSlicingArgument asks for exactly one slicing argument in
	// every use of the field.
	RequireOneSlicingArgument bool
}

// NewCostModel reads the cost directives of a schema: for a supergraph,
// pass schema.Supergraph.Full, which keeps the directive applications the
// client-facing API schema drops. The directive names follow the schema's
// @link to https://specs.apollo.dev/cost/v0.x (renames with "as" and
// import aliases included); a schema without that link uses the plain
// names @cost and @listSize, as IBM's spec writes them.
//
// Weights on an interface field apply to the implementing types' fields
// that declare none themselves.
func NewCostModel(s *ast.Schema) *CostModel {
	m := &CostModel{
		schema:      s,
		typeWeight:  map[string]float64{},
		fieldWeight: map[fieldKey]float64{},
		argWeight:   map[argKey]float64{},
		listSize:    map[fieldKey]*ListSize{},
	}
	if s == nil {
		return m
	}
	costName, sizeName := costDirectiveNames(s)
	for _, def := range s.Types {
		if w, ok := weightOf(def.Directives, costName); ok {
			m.typeWeight[def.Name] = w
		}
		for _, f := range def.Fields {
			k := fieldKey{def.Name, f.Name}
			if w, ok := weightOf(f.Directives, costName); ok {
				m.fieldWeight[k] = w
			}
			if d := f.Directives.ForName(sizeName); d != nil {
				m.listSize[k] = readListSize(d)
			}
			for _, a := range f.Arguments {
				if w, ok := weightOf(a.Directives, costName); ok {
					m.argWeight[argKey{def.Name, f.Name, a.Name}] = w
				}
			}
		}
	}
	// Objects inherit what their interfaces declare on the same field.
	for _, def := range s.Types {
		if def.Kind != ast.Object {
			continue
		}
		for _, iface := range def.Interfaces {
			for _, f := range def.Fields {
				k, ik := fieldKey{def.Name, f.Name}, fieldKey{iface, f.Name}
				if w, ok := m.fieldWeight[ik]; ok {
					if _, own := m.fieldWeight[k]; !own {
						m.fieldWeight[k] = w
					}
				}
				if ls, ok := m.listSize[ik]; ok && m.listSize[k] == nil {
					m.listSize[k] = ls
				}
				for _, a := range f.Arguments {
					if w, ok := m.argWeight[argKey{iface, f.Name, a.Name}]; ok {
						if _, own := m.argWeight[argKey{def.Name, f.Name, a.Name}]; !own {
							m.argWeight[argKey{def.Name, f.Name, a.Name}] = w
						}
					}
				}
			}
		}
	}
	return m
}

// costDirectiveNames finds the local names of @cost and @listSize from the
// schema's @link to the cost spec.
func costDirectiveNames(s *ast.Schema) (cost, listSize string) {
	cost, listSize = "cost", "listSize"
	for _, d := range s.SchemaDirectives {
		if d.Name != "link" && d.Name != "core" {
			continue
		}
		url := stringArg(d, "url")
		if !strings.HasPrefix(url, costSpec) {
			continue
		}
		prefix := "cost"
		if as := stringArg(d, "as"); as != "" {
			prefix = as
		}
		// The directive named like the spec takes the prefix itself;
		// the others are namespaced unless imported.
		cost, listSize = prefix, prefix+"__listSize"
		if imports := d.Arguments.ForName("import"); imports != nil && imports.Value != nil {
			for _, imp := range imports.Value.Children {
				name, as := importNames(imp.Value)
				switch name {
				case "@cost":
					cost = strings.TrimPrefix(as, "@")
				case "@listSize":
					listSize = strings.TrimPrefix(as, "@")
				}
			}
		}
		return cost, listSize
	}
	return cost, listSize
}

// importNames reads one element of @link(import:): "@name" or
// {name: "@name", as: "@alias"}.
func importNames(v *ast.Value) (name, as string) {
	if v == nil {
		return "", ""
	}
	switch v.Kind {
	case ast.StringValue:
		return v.Raw, v.Raw
	case ast.ObjectValue:
		for _, c := range v.Children {
			if c.Value == nil || c.Value.Kind != ast.StringValue {
				continue
			}
			switch c.Name {
			case "name":
				name = c.Value.Raw
			case "as":
				as = c.Value.Raw
			}
		}
		if as == "" {
			as = name
		}
	}
	return name, as
}

func stringArg(d *ast.Directive, name string) string {
	a := d.Arguments.ForName(name)
	if a == nil || a.Value == nil || a.Value.Kind != ast.StringValue {
		return ""
	}
	return a.Value.Raw
}

// weightOf reads @cost(weight:) from dirs. Apollo declares the weight an
// Int, IBM a String holding a number; both are accepted.
func weightOf(dirs ast.DirectiveList, name string) (float64, bool) {
	d := dirs.ForName(name)
	if d == nil {
		return 0, false
	}
	a := d.Arguments.ForName("weight")
	if a == nil || a.Value == nil {
		return 0, false
	}
	w, err := strconv.ParseFloat(a.Value.Raw, 64)
	if err != nil || w < 0 || w > maxCost {
		return 0, false
	}
	return w, true
}

func readListSize(d *ast.Directive) *ListSize {
	ls := &ListSize{AssumedSize: -1, RequireOneSlicingArgument: true}
	for _, a := range d.Arguments {
		if a.Value == nil {
			continue
		}
		switch a.Name {
		case "assumedSize":
			if n, err := strconv.ParseFloat(a.Value.Raw, 64); err == nil && a.Value.Kind == ast.IntValue && n >= 0 {
				ls.AssumedSize = n
			}
		case "slicingArguments":
			ls.SlicingArguments = stringList(a.Value)
		case "sizedFields":
			ls.SizedFields = stringList(a.Value)
		case "requireOneSlicingArgument":
			ls.RequireOneSlicingArgument = a.Value.Kind != ast.BooleanValue || a.Value.Raw == "true"
		}
	}
	return ls
}

func stringList(v *ast.Value) []string {
	if v.Kind == ast.StringValue {
		return []string{v.Raw}
	}
	var out []string
	for _, c := range v.Children {
		if c.Value != nil && c.Value.Kind == ast.StringValue {
			out = append(out, c.Value.Raw)
		}
	}
	return out
}

// ListSizeOf returns the @listSize of typ.field, or nil.
func (m *CostModel) ListSizeOf(typ, field string) *ListSize { return m.listSize[fieldKey{typ, field}] }

// compositeWeight is the weight of one object of type typ: its @cost, else 1.
func (m *CostModel) compositeWeight(typ string) float64 {
	if w, ok := m.typeWeight[typ]; ok {
		return w
	}
	return 1
}

// leafWeight is the weight of one scalar or enum value of type typ: its
// @cost, else 0.
func (m *CostModel) leafWeight(typ string) float64 { return m.typeWeight[typ] }
