package limits

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"

	"github.com/fedgate/gateway/internal/wideint"
	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2/ast"
)

// maxCost caps every cost: larger sums saturate here, so a hostile
// operation cannot overflow into a small or infinite number.
const maxCost = 1e15

// mutationCost is the base cost of a mutation; queries cost 0 (Apollo's
// and IBM's default).
const mutationCost = 10

// DefaultListSize is the assumed size of a list that no @listSize sizes.
const DefaultListSize = 10

// CostOptions tune a cost computation.
type CostOptions struct {
	// ListSize is the assumed size of lists that no @listSize sizes; <= 0
	// means DefaultListSize.
	ListSize int
}

// Estimate computes the cost of op before it runs, with vars the coerced
// variable values (slicing arguments often come from variables).
//
// The rules (IBM's cost spec, with Apollo Router's defaults):
//
//   - An operation costs its base (mutation 10, query and subscription 0)
//     plus its root fields.
//   - A field costs count × (weight + the cost of its selection) plus the
//     cost of its arguments. The weight is the field's @cost, else its
//     type's @cost, else 1 for objects, interfaces and unions and 0 for
//     scalars and enums.
//   - count is 1 for a field that is not a list. For a list it is the size
//     from @listSize: the largest slicing argument given (literal,
//     variable or default value), else assumedSize, else
//     CostOptions.ListSize. A list of lists multiplies the size once per
//     level: [[Book]] with assumedSize 3 counts 9 books.
//   - With sizedFields, the size applies to those list fields inside the
//     returned object (a connection's edges), not to the field itself.
//   - An abstract-typed field costs, per element, the most expensive of
//     its possible object types, each with its own weight and the fields
//     the operation selects on it (fragments are already merged per type
//     by normalization).
//   - An argument costs its @cost, else its type's: an input object 1 plus
//     its fields, a list the sum of its elements, a scalar or enum its
//     type's @cost or 0. A null or absent argument costs nothing.
//
// The error is non-nil, an *Error with code GRAPHQL_VALIDATION_FAILED, when
// a field whose @listSize requires one slicing argument gets none or
// several; the cost is still computed (the largest given, else the
// assumed size), so a caller measuring costs may ignore the error.
func (m *CostModel) Estimate(op *planner.Operation, vars map[string]any, opt CostOptions) (float64, error) {
	e := costWalk{m: m, vars: vars, listSize: float64(opt.ListSize)}
	if e.listSize <= 0 {
		e.listSize = DefaultListSize
	}
	total := 0.0
	if op.Kind == ast.Mutation {
		total = mutationCost
	}
	if op.Selection != nil {
		for _, tf := range op.Selection.ByType {
			total = satAddF(total, e.fields(tf.Fields, nil))
		}
	}
	return total, e.err
}

// Actual computes the cost of op from the data of its response: the same
// rules as Estimate, with the real length of every list instead of an
// assumed size. A null costs nothing but the arguments of its field; an
// abstract-typed object is costed as its __typename when the response has
// it, else as its most expensive possible type. data is the decoded
// "data" member of the response (maps, slices and scalars as encoding/json
// decodes them).
func (m *CostModel) Actual(op *planner.Operation, vars map[string]any, data any) float64 {
	e := costWalk{m: m, vars: vars}
	total := 0.0
	if op.Kind == ast.Mutation {
		total = mutationCost
	}
	obj, _ := data.(map[string]any)
	if op.Selection != nil && obj != nil {
		for _, tf := range op.Selection.ByType {
			total = satAddF(total, e.actualFields(tf.Fields, obj))
		}
	}
	return total
}

// ActualFromResponse decodes a GraphQL response body and returns Actual
// for its data.
func (m *CostModel) ActualFromResponse(op *planner.Operation, vars map[string]any, body []byte) (float64, error) {
	var resp struct {
		Data any `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return 0, fmt.Errorf("actual cost: decode response: %w", err)
	}
	return m.Actual(op, vars, resp.Data), nil
}

// costWalk is the state of one cost computation.
type costWalk struct {
	m        *CostModel
	vars     map[string]any
	listSize float64
	err      error
}

// sizing carries @listSize(sizedFields:) of ancestors down the operation:
// the field at the end of each path gets that path's size as its list size.
type sizing []sizedPath

type sizedPath struct {
	path string
	size float64
}

// forChild reports the size the sizing gives the child named name (ok
// false when none) and the sizing to pass to that child's own children.
func (s sizing) forChild(name string) (size float64, ok bool, next sizing) {
	for _, p := range s {
		if p.path == name {
			size, ok = max(size, p.size), true
		} else if rest, found := strings.CutPrefix(p.path, name+"."); found {
			next = append(next, sizedPath{rest, p.size})
		}
	}
	return size, ok, next
}

func (e *costWalk) fields(fields []*planner.Field, sz sizing) float64 {
	total := 0.0
	for _, f := range fields {
		total = satAddF(total, e.field(f, sz))
	}
	return total
}

// field is the estimated cost of one field; sz holds the sizedFields of
// its ancestors that reach it or its children.
func (e *costWalk) field(f *planner.Field, sz sizing) float64 {
	if f.Type == nil || f.Name == "__typename" {
		return 0
	}
	parentSize, sizedByParent, child := sz.forChild(f.Name)
	ls := e.m.listSize[fieldKey{f.ParentType, f.Name}]
	count := 1.0
	if depth := listDepth(f.Type); depth > 0 || ls != nil {
		size := e.listSize
		if ls != nil {
			size = e.sliceSize(f, ls)
			if len(ls.SizedFields) > 0 {
				// The size is for the sized fields below, not this field.
				for _, p := range ls.SizedFields {
					child = append(child, sizedPath{p, size})
				}
				size = e.listSize
			}
		}
		if sizedByParent {
			size = parentSize
		}
		count = math.Pow(size, float64(depth))
	}
	return satAddF(satMulF(count, e.element(f, child)), e.arguments(f))
}

// element is the cost of one value of f: its weight plus its selection,
// for the most expensive possible type when f is abstract.
func (e *costWalk) element(f *planner.Field, sz sizing) float64 {
	fw, hasFW := e.m.fieldWeight[fieldKey{f.ParentType, f.Name}]
	if f.Selection == nil {
		if hasFW {
			return fw
		}
		return e.m.leafWeight(f.Type.Name())
	}
	if len(f.Selection.ByType) == 0 {
		if hasFW {
			return fw
		}
		return e.m.compositeWeight(f.Type.Name())
	}
	best := 0.0
	for _, tf := range f.Selection.ByType {
		w := fw
		if !hasFW {
			w = e.m.compositeWeight(tf.Type)
		}
		best = max(best, satAddF(w, e.fields(tf.Fields, sz)))
	}
	return best
}

// sliceSize is the list size @listSize gives f in this operation.
func (e *costWalk) sliceSize(f *planner.Field, ls *ListSize) float64 {
	found, best := 0, 0.0
	for _, path := range ls.SlicingArguments {
		if n, ok := e.argumentNumber(f, path); ok {
			found++
			best = max(best, n)
		}
	}
	if len(ls.SlicingArguments) > 0 && ls.RequireOneSlicingArgument && found != 1 && e.err == nil {
		e.err = badRequest(CodeValidationFailed, "field %s.%s needs exactly one of its slicing arguments (%s); %d given",
			Clip(f.ParentType, maxEcho), Clip(f.Name, maxEcho), Clip(strings.Join(ls.SlicingArguments, ", "), maxEcho), found)
	}
	switch {
	case found > 0:
		return min(best, maxCost)
	case ls.AssumedSize >= 0:
		return ls.AssumedSize
	}
	return e.listSize
}

// argumentNumber resolves a slicing argument path ("first", or
// "filter.max" into an input object) to a number: the literal, the
// variable's value, or the default of the argument or input field.
func (e *costWalk) argumentNumber(f *planner.Field, path string) (float64, bool) {
	def := e.fieldDefinition(f)
	if def == nil {
		return 0, false
	}
	name, rest, _ := strings.Cut(path, ".")
	argDef := def.Arguments.ForName(name)
	if argDef == nil {
		return 0, false
	}
	var v any
	if a := f.Arguments.ForName(name); a != nil && a.Value != nil {
		// wideint: an Int literal beyond 64 bits (a valid Float, ID or
		// custom scalar value) would fail ast.Value.Value.
		v, _ = wideint.LiteralShape(a.Value, argDef.Type, e.m.schema, e.vars)
	}
	if v == nil && argDef.DefaultValue != nil {
		v, _ = argDef.DefaultValue.Value(nil)
	}
	typ := argDef.Type
	for rest != "" && v != nil {
		name, rest, _ = strings.Cut(rest, ".")
		in := e.m.schema.Types[typ.Name()]
		if in == nil || in.Kind != ast.InputObject {
			return 0, false
		}
		fd := in.Fields.ForName(name)
		if fd == nil {
			return 0, false
		}
		obj, _ := v.(map[string]any)
		v = obj[name]
		if v == nil && fd.DefaultValue != nil {
			v, _ = fd.DefaultValue.Value(nil)
		}
		typ = fd.Type
	}
	return toNumber(v)
}

func toNumber(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

func (e *costWalk) fieldDefinition(f *planner.Field) *ast.FieldDefinition {
	if e.m.schema == nil {
		return nil
	}
	parent := e.m.schema.Types[f.ParentType]
	if parent == nil {
		return nil
	}
	return parent.Fields.ForName(f.Name)
}

// arguments is the cost of the arguments given to f.
func (e *costWalk) arguments(f *planner.Field) float64 {
	if len(f.Arguments) == 0 {
		return 0
	}
	def := e.fieldDefinition(f)
	if def == nil {
		return 0
	}
	total := 0.0
	for _, a := range f.Arguments {
		ad := def.Arguments.ForName(a.Name)
		if ad == nil || a.Value == nil {
			continue
		}
		// Read as LiteralShape reads it: with ast.Value.Value, one Int
		// literal beyond 64 bits (valid in Float, ID and custom scalar
		// positions) would make the whole argument free.
		v, err := wideint.LiteralShape(a.Value, ad.Type, e.m.schema, e.vars)
		if err != nil {
			continue
		}
		w, hasW := e.m.argWeight[argKey{f.ParentType, f.Name, a.Name}]
		total = satAddF(total, e.inputValue(v, ad.Type, w, hasW))
	}
	return total
}

// inputValue is the cost of an argument or input field value v of type
// typ, whose definition carries the weight w when hasW.
func (e *costWalk) inputValue(v any, typ *ast.Type, w float64, hasW bool) float64 {
	if v == nil || typ == nil {
		return 0
	}
	if typ.Elem != nil {
		list, ok := v.([]any)
		if !ok { // input coercion: a single value stands for a list of one
			return e.inputValue(v, typ.Elem, w, hasW)
		}
		total := 0.0
		for _, item := range list {
			total = satAddF(total, e.inputValue(item, typ.Elem, w, hasW))
		}
		return total
	}
	def := e.m.schema.Types[typ.Name()]
	if def != nil && def.Kind == ast.InputObject {
		total := 1.0
		if hasW {
			total = w
		}
		obj, _ := v.(map[string]any)
		for _, fd := range def.Fields {
			fv, ok := obj[fd.Name]
			if !ok {
				continue
			}
			fw, hasFW := e.m.fieldWeight[fieldKey{def.Name, fd.Name}]
			total = satAddF(total, e.inputValue(fv, fd.Type, fw, hasFW))
		}
		return total
	}
	if hasW {
		return w
	}
	return e.m.leafWeight(typ.Name())
}

// actualFields is the actual cost of fields read from the response object obj.
func (e *costWalk) actualFields(fields []*planner.Field, obj map[string]any) float64 {
	total := 0.0
	for _, f := range fields {
		if f.Type == nil || f.Name == "__typename" {
			continue
		}
		total = satAddF(total, e.arguments(f))
		total = satAddF(total, e.actualValue(f, obj[f.ResponseKey]))
	}
	return total
}

// actualValue is the cost of the value v of f: every element of a list
// (at any depth) counted once.
func (e *costWalk) actualValue(f *planner.Field, v any) float64 {
	switch v := v.(type) {
	case nil:
		return 0
	case []any:
		total := 0.0
		for _, item := range v {
			total = satAddF(total, e.actualValue(f, item))
		}
		return total
	}
	fw, hasFW := e.m.fieldWeight[fieldKey{f.ParentType, f.Name}]
	if f.Selection == nil {
		if hasFW {
			return fw
		}
		return e.m.leafWeight(f.Type.Name())
	}
	obj, _ := v.(map[string]any)
	weight := func(typ string) float64 {
		if hasFW {
			return fw
		}
		return e.m.compositeWeight(typ)
	}
	if tn, ok := obj["__typename"].(string); ok {
		for _, tf := range f.Selection.ByType {
			if tf.Type == tn {
				return satAddF(weight(tn), e.actualFields(tf.Fields, obj))
			}
		}
	}
	best := 0.0
	for _, tf := range f.Selection.ByType {
		best = max(best, satAddF(weight(tf.Type), e.actualFields(tf.Fields, obj)))
	}
	return best
}

// listDepth counts the list wrappers of t: [[Int]] is 2.
func listDepth(t *ast.Type) int {
	n := 0
	for ; t != nil && t.Elem != nil; t = t.Elem {
		n++
	}
	return n
}

func satAddF(a, b float64) float64 { return min(a+b, maxCost) }

func satMulF(a, b float64) float64 {
	if a == 0 || b == 0 {
		return 0
	}
	return min(a*b, maxCost)
}
