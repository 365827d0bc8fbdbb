package planner

import (
	"encoding/binary"
	"fmt"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/vektah/gqlparser/v2/ast"
)

// Shape pass, the last one: the plan's render shape.
//
// The executor writes the client's response from the merged subgraph
// data by walking a Shape, never the Operation: the shape holds, per
// selected field, the client's response key (as JSON too), the data key
// the fetches write it under, its nullability at every list level, the
// enum values the client schema allows, the possible types of abstract
// positions, how __typename and introspection are answered, and whether
// authorization denied it. It is built once per plan (so per grants and
// labels, like the plan) from the client's normalized operation and the
// authorization result (Options.Denied), and never changed afterwards:
// one cached plan serves concurrent requests.

// Shape is the render shape of a plan.
type Shape struct {
	// Kind is the operation type (query, mutation, subscription).
	Kind ast.Operation
	// RootType is the name of the root operation type.
	RootType string
	// Root is the selection at the root.
	Root *ShapeSet
	// Slots is the number of fields BuildShape numbered (ShapeField.Slot
	// is below it): a renderer keeps a note per field in a slice that
	// long. Shapes made otherwise (a @defer payload's views) have none.
	Slots int
}

// Mutation reports whether the shape is a mutation's (its root fields run
// serially).
func (s *Shape) Mutation() bool { return s != nil && s.Kind == ast.Mutation }

// ShapeSet is the selection at one composite-typed position.
type ShapeSet struct {
	// Type is the static type of the position; it may be abstract.
	Type string
	// Abstract is true when Type is an interface or a union: the runtime
	// type (the data's __typename) picks the fields.
	Abstract bool
	// ByType holds the fields for each possible concrete type, sorted by
	// type name: the possible types of an abstract position. An object
	// position has exactly one entry.
	ByType []ShapeType
	// NullConditions is true when an entry of ByType has NullCondition
	// set, so the renderer looks only then.
	NullConditions bool
}

// ShapeType is the fields rendered for one concrete type.
type ShapeType struct {
	Type   string
	Fields []ShapeField
	// NullCondition: an object of this type is null with an error
	// (TypeFields.NullCondition).
	NullCondition bool
	// NullEchoed: an object of this type is null without an error of its
	// own: a @defer payload repeating an object whose null condition the
	// payload that delivered it reports (see echo in defer.go).
	NullEchoed bool
}

// NullCondition reports whether an object of type typeName at this
// position is null because of a null @skip/@include condition
// (TypeFields.NullCondition), and whether this position reports the
// error (NullConditionMessage) or only repeats the null (NullEchoed).
func (s *ShapeSet) NullCondition(typeName string) (null, report bool) {
	if !s.NullConditions {
		return false, false
	}
	t := s.typeShape(typeName)
	if t == nil {
		return false, false
	}
	return t.NullCondition || t.NullEchoed, t.NullCondition
}

// typeShape is the entry of ByType for typeName (the only entry at an
// object position), nil when there is none.
func (s *ShapeSet) typeShape(typeName string) *ShapeType {
	if !s.Abstract && len(s.ByType) == 1 {
		return &s.ByType[0]
	}
	for i := range s.ByType {
		if s.ByType[i].Type == typeName {
			return &s.ByType[i]
		}
	}
	return nil
}

// FieldKind says how a field's value is produced.
type FieldKind uint8

const (
	// FromData fields are read from the merged data under DataKey.
	FromData FieldKind = iota
	// Typename fields are the runtime type's name.
	Typename
	// Introspection fields (__schema, __type) are answered by the
	// executor's introspection hook when there is one.
	Introspection
)

// ShapeField is one field of the response.
type ShapeField struct {
	// JSONKey is the response key as a JSON object key, colon included.
	JSONKey     string
	ResponseKey string
	// DataKey is where the merged data holds the value.
	DataKey string
	// Name and ParentType name the field in error messages.
	Name       string
	ParentType string
	// Selection is the selection below a composite-typed field, nil for
	// a leaf.
	Selection *ShapeSet
	// Enum is the set of values the client schema allows for an
	// enum-typed leaf (others render null); nil for other fields.
	Enum *EnumSet
	// Arguments are the field's arguments, read by the introspection
	// hook (__type(name:), includeDeprecated).
	Arguments ast.ArgumentList
	// Defer is the @defer fragment the field is delivered with, nil for
	// the primary response.
	Defer *Defer
	// selectedIn is Field.selectedIn.
	selectedIn []*Defer
	// nonNull has bit i set when the value i list levels down is non-null
	// (bit 0: the field's own value); lists is the list depth.
	nonNull uint64
	lists   uint8
	Kind    FieldKind
	// Denied fields render null with an UNAUTHORIZED_FIELD_OR_TYPE error.
	Denied bool
	// slot is the field's number in its shape (Shape.Slots).
	slot uint32
	// keyWords holds JSONKey after a comma, zero-padded to 16 bytes,
	// when it fits, for AppendMemberKey; keyLen is then its length (with
	// the comma), 0 when it does not fit.
	keyWords [2]uint64
	keyLen   uint8
	// plainLeaf: see PlainLeaf.
	plainLeaf bool
	// leaf: see Leaf; accepts: see Accepts.
	leaf    LeafType
	accepts uint32
}

// LeafType is the type of a leaf field's values (its items, for a list)
// as far as result coercion (spec 3.5) tells them apart.
type LeafType uint8

// The leaf types.
const (
	// NoLeaf: a composite field, __typename or introspection.
	NoLeaf LeafType = iota
	// CustomLeaf: a custom scalar; any JSON value is written as it is.
	CustomLeaf
	StringLeaf
	IDLeaf
	IntLeaf
	FloatLeaf
	BooleanLeaf
	// EnumLeaf: an enum; its values are ShapeField.Enum.
	EnumLeaf
)

// accepted is, per leaf type, the set of jsonvalue kinds (a bit each)
// written as they are: a subgraph's well-formed values. Anything else
// (and null) is looked at by the executor: coerced, or a field error.
var accepted = [...]uint32{
	CustomLeaf: 1<<jsonvalue.KindFalse | 1<<jsonvalue.KindTrue | 1<<jsonvalue.KindNumber | 1<<jsonvalue.KindSmallInt |
		1<<jsonvalue.KindWideNumber | 1<<jsonvalue.KindString | 1<<jsonvalue.KindArray | 1<<jsonvalue.KindObject,
	StringLeaf:  1 << jsonvalue.KindString,
	IDLeaf:      1 << jsonvalue.KindString,
	IntLeaf:     1 << jsonvalue.KindSmallInt,
	FloatLeaf:   1<<jsonvalue.KindSmallInt | 1<<jsonvalue.KindNumber,
	BooleanLeaf: 1<<jsonvalue.KindFalse | 1<<jsonvalue.KindTrue,
	EnumLeaf:    0,
}

// leafType is the leaf type of a field of the named type name; enum says
// the type is an enum.
func leafType(name string, enum bool) LeafType {
	if enum {
		return EnumLeaf
	}
	switch name {
	case "String":
		return StringLeaf
	case "ID":
		return IDLeaf
	case "Int":
		return IntLeaf
	case "Float":
		return FloatLeaf
	case "Boolean":
		return BooleanLeaf
	}
	return CustomLeaf
}

// maxListDepth bounds the list nesting of a field's type the shape holds.
const maxListDepth = 63

// NonNull reports whether the value level list levels down (0: the
// field's value itself) is non-null.
func (f *ShapeField) NonNull(level int) bool { return f.nonNull>>uint(level)&1 != 0 }

// Lists is the list depth of the field's type.
func (f *ShapeField) Lists() int { return int(f.lists) }

// AppendMemberKey appends a comma and JSONKey to buf, as an object's
// member after the first starts. When they fit in 16 bytes (nearly
// always) they are written as the two words BuildShape stored, if buf
// has room for them: no call to copy them (the renderer writes one key
// per field, and the call was a fifth of that).
func (f *ShapeField) AppendMemberKey(buf []byte) []byte {
	if n := len(buf); f.keyLen > 0 && cap(buf)-n >= 16 {
		b := buf[n : n+16]
		binary.LittleEndian.PutUint64(b, f.keyWords[0])
		binary.LittleEndian.PutUint64(b[8:], f.keyWords[1])
		return buf[:n+int(f.keyLen)]
	}
	buf = append(buf, ',')
	return append(buf, f.JSONKey...)
}

// keyWords returns key as two little-endian words, zero-padded, and its
// length; 0 when it does not fit in them.
func keyWords(key string) ([2]uint64, uint8) {
	if len(key) > 16 {
		return [2]uint64{}, 0
	}
	var b [16]byte
	copy(b[:], key)
	return [2]uint64{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}, uint8(len(key))
}

// PlainLeaf reports whether the field is a leaf read from the data that
// is rendered as the data has it unless it is null: not denied, no
// __typename or introspection, no selection, no enum values to check and
// no list levels.
func (f *ShapeField) PlainLeaf() bool { return f.plainLeaf }

// Leaf is the leaf type of the field's values (its items, for a list);
// NoLeaf for a composite field, __typename and introspection.
func (f *ShapeField) Leaf() LeafType { return f.leaf }

// Accepts reports whether a leaf value of kind k is written as it is: a
// well-formed value of the field's type (a string for String and ID, an
// integer of up to 9 characters for Int, a boolean for Boolean, a number
// that cannot overflow for Float, anything but null for a custom
// scalar). Never for null, an enum, or a composite field; one shift and
// mask for the renderer (a bit test: k&31, which the kinds are below,
// tells the compiler the shift is below the mask's width), which looks at
// any other value with Leaf.
func (f *ShapeField) Accepts(k jsonvalue.Kind) bool { return f.accepts&(1<<(k&31)) != 0 }

// Slot is the field's number in the shape BuildShape made, distinct for
// each field and below Shape.Slots. A copy of the field (a @defer
// payload's view) keeps its number.
func (f *ShapeField) Slot() int { return int(f.slot) }

// FieldsFor returns the fields rendered when the runtime type is
// typeName; nil when the position has no such possible type.
func (s *ShapeSet) FieldsFor(typeName string) []ShapeField {
	if !s.Abstract && len(s.ByType) == 1 {
		return s.ByType[0].Fields
	}
	for i := range s.ByType {
		if s.ByType[i].Type == typeName {
			return s.ByType[i].Fields
		}
	}
	return nil
}

// EnumSet is the values of an enum type the client schema has.
type EnumSet struct {
	// name is the enum type's.
	name  string
	names []string
	// index is set for enums with many values.
	index map[string]struct{}
}

// enumIndexed is the size from which an EnumSet looks values up in a map.
const enumIndexed = 12

func newEnumSet(def *ast.Definition) *EnumSet {
	s := &EnumSet{name: def.Name, names: make([]string, 0, len(def.EnumValues))}
	for _, v := range def.EnumValues {
		s.names = append(s.names, v.Name)
	}
	if len(s.names) >= enumIndexed {
		s.index = make(map[string]struct{}, len(s.names))
		for _, n := range s.names {
			s.index[n] = struct{}{}
		}
	}
	return s
}

// Name is the enum type's name.
func (s *EnumSet) Name() string { return s.name }

// Has reports whether v is one of the values.
func (s *EnumSet) Has(v []byte) bool {
	if s.index != nil {
		_, ok := s.index[string(v)]
		return ok
	}
	for _, n := range s.names {
		if n == string(v) {
			return true
		}
	}
	return false
}

// BuildShape is the shape pass: the render shape of op, with the fields in
// denied (the authorization result, keyed by op's fields) rendered as
// denied. It fails only for a field type nested deeper than the shape
// holds. The shape's sets, types and fields are each allocated in one
// block, so a plan's shape is a few allocations and renders from
// contiguous memory.
func BuildShape(op *Operation, denied map[*Field]bool) (*Shape, error) {
	var b shapeBuilder
	b.denied = denied
	b.count(op.Selection)
	b.sets = make([]ShapeSet, 0, b.nSets)
	b.types = make([]ShapeType, 0, b.nTypes)
	b.fields = make([]ShapeField, 0, b.nFields)
	root := b.set(op.Selection)
	if b.err != nil {
		return nil, b.err
	}
	return &Shape{Kind: op.Kind, RootType: op.RootType, Root: root, Slots: len(b.fields)}, nil
}

type shapeBuilder struct {
	denied map[*Field]bool
	// enums shares one EnumSet per enum type; made at the first.
	enums map[*ast.Definition]*EnumSet
	err   *Error
	// The blocks the shape is cut from, sized by count.
	sets                   []ShapeSet
	types                  []ShapeType
	fields                 []ShapeField
	nSets, nTypes, nFields int
}

// count sizes the blocks for sel.
func (b *shapeBuilder) count(sel *SelectionSet) {
	b.nSets++
	b.nTypes += len(sel.ByType)
	for _, tf := range sel.ByType {
		b.nFields += len(tf.Fields)
		for _, f := range tf.Fields {
			if f.Selection != nil {
				b.count(f.Selection)
			}
		}
	}
}

// take returns the next n elements of a block, capacity n.
func take[T any](block *[]T, n int) []T {
	start := len(*block)
	*block = (*block)[:start+n]
	return (*block)[start : start+n : start+n]
}

func (b *shapeBuilder) set(sel *SelectionSet) *ShapeSet {
	out := &take(&b.sets, 1)[0]
	*out = ShapeSet{Type: sel.Type, Abstract: sel.Abstract, ByType: take(&b.types, len(sel.ByType))}
	for i, tf := range sel.ByType {
		st := ShapeType{Type: tf.Type, NullCondition: tf.NullCondition}
		out.NullConditions = out.NullConditions || tf.NullCondition
		first := len(b.fields)
		if tf.Fields != nil {
			st.Fields = take(&b.fields, len(tf.Fields))
		}
		for j, f := range tf.Fields {
			b.field(&st.Fields[j], f)
			// Its place in the block numbers the field.
			st.Fields[j].slot = uint32(first + j)
		}
		out.ByType[i] = st
	}
	return out
}

func (b *shapeBuilder) field(out *ShapeField, f *Field) {
	*out = ShapeField{JSONKey: f.JSONKey(), ResponseKey: f.ResponseKey, DataKey: f.DataKey(), Name: f.Name,
		ParentType: f.ParentType, Arguments: f.Arguments, Defer: f.Defer, selectedIn: f.selectedIn, Denied: b.denied[f]}
	out.keyWords, out.keyLen = keyWords("," + out.JSONKey)
	switch f.Name {
	case "__typename":
		out.Kind = Typename
	case "__schema", "__type":
		out.Kind = Introspection
	}
	depth := 0
	for t := f.Type; t != nil; t = t.Elem {
		if depth > maxListDepth {
			if b.err == nil {
				b.err = &Error{Message: fmt.Sprintf("the type of %s.%s nests lists deeper than %d", f.ParentType, f.Name, maxListDepth)}
			}
			return
		}
		if t.NonNull {
			out.nonNull |= 1 << uint(depth)
		}
		if t.Elem == nil {
			break
		}
		depth++
	}
	out.lists = uint8(depth)
	if f.Enum != nil {
		e := b.enums[f.Enum]
		if e == nil {
			if b.enums == nil {
				b.enums = map[*ast.Definition]*EnumSet{}
			}
			e = newEnumSet(f.Enum)
			b.enums[f.Enum] = e
		}
		out.Enum = e
	}
	if f.Selection != nil {
		out.Selection = b.set(f.Selection)
	}
	out.plainLeaf = out.Kind == FromData && !out.Denied && out.Selection == nil && out.Enum == nil && out.lists == 0
	if out.Kind == FromData && out.Selection == nil {
		out.leaf = leafType(f.Type.Name(), f.Enum != nil)
		out.accepts = accepted[out.leaf]
	}
}
