package jsonvalue

import (
	"strconv"
	"unsafe"
)

// Type is the kind of a JSON value.
type Type uint8

// The types of JSON values.
const (
	TypeNull Type = iota
	TypeFalse
	TypeTrue
	TypeNumber
	TypeString
	TypeArray
	TypeObject
)

// Kind refines Type for a leaf's result coercion (the executor's check of
// a subgraph's leaf value against the field's scalar type): each type is
// its own kind, numbers are split into three, so that a field accepts the
// common shapes of its type with one mask test (planner.ShapeField).
type Kind uint8

// The kinds: a type's kind has its number, numbers have three.
const (
	KindNull  = Kind(TypeNull)
	KindFalse = Kind(TypeFalse)
	KindTrue  = Kind(TypeTrue)
	// KindNumber is a number that is neither KindSmallInt nor
	// KindWideNumber: a fraction without an exponent, or an integer of 10
	// to 300 characters. Always finite.
	KindNumber = Kind(TypeNumber)
	KindString = Kind(TypeString)
	KindArray  = Kind(TypeArray)
	KindObject = Kind(TypeObject)
	// KindSmallInt is a number written as an integer (no fraction, no
	// exponent) in at most 9 characters: always a 32-bit integer.
	KindSmallInt = Kind(TypeObject) + 1
	// KindWideNumber is a number written with an exponent, or longer
	// than 300 characters: it may be beyond float64's range (1e400).
	KindWideNumber = Kind(TypeObject) + 2
)

// wideNumber is the length from which a number without an exponent may
// be beyond float64's range (about 1.8e308, 309 digits).
const wideNumber = 300

// Value is one JSON value. Its methods accept a nil Value, which is
// absent: Type says TypeNull and lookups find nothing. Values belong to
// the Parser or Arena that made them; a Value is not safe for concurrent
// use while it is being changed.
type Value struct {
	t Type
	// plain marks a string whose text needs no escaping in JSON, or a
	// parsed number written as an integer (no fraction, no exponent).
	plain bool
	// k is a number's Kind (set by the parser, the only maker of
	// numbers); other values' kinds are their types, so that making a
	// value costs no store more.
	k Kind
	// s is a string's decoded text or a number's text.
	s string
	// kvs are an object's members, empty for any other value; a are an
	// array's elements.
	kvs []Member
	a   []*Value
}

// Member is one member of an object.
type Member struct {
	Key   string
	Value *Value
}

// Type returns v's type; TypeNull for a nil v.
func (v *Value) Type() Type {
	if v == nil {
		return TypeNull
	}
	return v.t
}

// Kind returns v's kind; KindNull (TypeNull) for a nil v.
func (v *Value) Kind() Kind {
	if v == nil {
		return KindNull
	}
	if v.t == TypeNumber {
		return v.k
	}
	return Kind(v.t)
}

// numberKind is the kind of a number of n characters; integer says it has
// neither a fraction nor an exponent, exponent that it has one.
func numberKind(n int, integer, exponent bool) Kind {
	switch {
	case exponent || n > wideNumber:
		return KindWideNumber
	case integer && n <= 9:
		return KindSmallInt
	}
	return KindNumber
}

// IntegerText reports whether v is a number written as an integer: no
// fraction, no exponent.
func (v *Value) IntegerText() bool {
	return v != nil && v.t == TypeNumber && v.plain
}

// Members returns an object's members in order (nil for anything else).
// The slice is v's own: read it, change v only through Set and Del.
func (v *Value) Members() []Member {
	if v == nil || v.t != TypeObject {
		return nil
	}
	return v.kvs
}

// Array returns an array's elements (nil for anything else). The slice is
// v's own: change it only through SetItem.
func (v *Value) Array() []*Value {
	if v == nil || v.t != TypeArray {
		return nil
	}
	return v.a
}

// Get returns the member of object v under key, nil when v is no object
// or has no such member. A member whose key is key's own string (parsed
// against the Keys key is from) is found without comparing texts.
func (v *Value) Get(key string) *Value {
	if v == nil || v.t != TypeObject {
		return nil
	}
	for i := range v.kvs {
		if sameKey(v.kvs[i].Key, key) {
			return v.kvs[i].Value
		}
	}
	return nil
}

// Field is Get starting at the member *hint, and leaves *hint at the
// member after the one found: reading the members of an object in their
// order, each is found at once. Keys are distinct, so where the search
// starts changes only its cost.
func (v *Value) Field(key string, hint *int) *Value {
	if v == nil {
		return nil
	}
	// Only objects have members: no type test needed. The member at the
	// hint is taken when it has key's own string (a key parsed against
	// the Keys key is from): no texts compared; else when its text is
	// key's (a key the set left out, or an answer parsed without one), so
	// that reading members in order stays linear for every key.
	kvs := v.kvs
	if h := *hint; h < len(kvs) && sameKey(kvs[h].Key, key) {
		*hint = h + 1
		return kvs[h].Value
	}
	for i := range kvs {
		if kvs[i].Key == key {
			*hint = i + 1
			return kvs[i].Value
		}
	}
	return nil
}

// FieldAt is Get trying the member at *at first, and leaves *at at the
// member found. A caller that reads objects of one layout again and again
// (the objects of a list, or of every list at one place in a document)
// keeps an *at per key and finds each member at once, in whatever order
// the object has them. Keys are distinct, so *at changes only the cost.
func (v *Value) FieldAt(key string, at *uint32) *Value {
	if v == nil {
		return nil
	}
	// Only objects have members: no type test needed. The member at *at
	// is taken as in Field.
	kvs := v.kvs
	if h := uint(*at); h < uint(len(kvs)) && sameKey(kvs[h].Key, key) {
		return kvs[h].Value
	}
	for i := range kvs {
		if kvs[i].Key == key {
			*at = uint32(i)
			return kvs[i].Value
		}
	}
	return nil
}

// Lookup returns the index of object v's member key, trying the member at
// hint first; -1 when v is no object or has no such member.
func (v *Value) Lookup(key string, hint int) int {
	if v == nil || v.t != TypeObject {
		return -1
	}
	// The member at hint is taken as in Field.
	kvs := v.kvs
	if hint >= 0 && hint < len(kvs) && sameKey(kvs[hint].Key, key) {
		return hint
	}
	for i := range kvs {
		if kvs[i].Key == key {
			return i
		}
	}
	return -1
}

// SetAt sets the value of object v's member i (an index from Lookup).
func (v *Value) SetAt(i int, x *Value) {
	if x != nil {
		v.kvs[i].Value = x
	}
}

// Append adds the member key to object v, which has none (Lookup said
// so): keys stay distinct only if that holds.
func (v *Value) Append(key string, x *Value) {
	if v == nil || v.t != TypeObject || x == nil {
		return
	}
	v.kvs = append(v.kvs, Member{Key: key, Value: x})
}

// Str returns a string's text, "" for anything else.
func (v *Value) Str() string {
	if v == nil || v.t != TypeString {
		return ""
	}
	return v.s
}

// Plain reports whether v is a string whose text needs no escaping.
func (v *Value) Plain() bool {
	return v != nil && v.t == TypeString && v.plain
}

// SameLeaf reports whether v and w are present leaves (no object or
// array) that are written alike: the same type and, for strings and
// numbers, the same text. A leaf is the same as itself without comparing
// texts (an entity answer merged into several objects shares its leaves).
func (v *Value) SameLeaf(w *Value) bool {
	return v != nil && w != nil && v.t < TypeArray && (v == w || v.t == w.t && v.s == w.s)
}

// Number returns a number's text as the document wrote it, "" for
// anything else.
func (v *Value) Number() string {
	if v == nil || v.t != TypeNumber {
		return ""
	}
	return v.s
}

// Int returns a number as an int; false when v is no number or not an
// integer that fits.
func (v *Value) Int() (int, bool) {
	if v == nil || v.t != TypeNumber {
		return 0, false
	}
	n, err := strconv.Atoi(v.s)
	if err != nil {
		f, ferr := strconv.ParseFloat(v.s, 64)
		if ferr != nil || f != float64(int(f)) {
			return 0, false
		}
		return int(f), true
	}
	return n, true
}

// Float64 returns a number as a float64 (the nearest one; ±Inf beyond the
// range), 0 for anything else.
func (v *Value) Float64() float64 {
	if v == nil || v.t != TypeNumber {
		return 0
	}
	f, _ := strconv.ParseFloat(v.s, 64)
	return f
}

// Set sets the member key of object v to x, in place when v has it and
// last otherwise. It does nothing when v is no object.
func (v *Value) Set(key string, x *Value) {
	if v == nil || v.t != TypeObject || x == nil {
		return
	}
	for i := range v.kvs {
		if v.kvs[i].Key == key {
			v.kvs[i].Value = x
			return
		}
	}
	v.kvs = append(v.kvs, Member{Key: key, Value: x})
}

// Del removes the member key of object v, keeping the others in order.
func (v *Value) Del(key string) {
	if v == nil || v.t != TypeObject {
		return
	}
	for i := range v.kvs {
		if v.kvs[i].Key == key {
			n := copy(v.kvs[i:], v.kvs[i+1:])
			v.kvs[i+n] = Member{}
			v.kvs = v.kvs[:i+n]
			return
		}
	}
}

// SetItem sets element i of array v to x; it does nothing when v is no
// array or i is out of its range.
func (v *Value) SetItem(i int, x *Value) {
	if v == nil || v.t != TypeArray || i < 0 || i >= len(v.a) || x == nil {
		return
	}
	v.a[i] = x
}

// AppendJSON writes v as compact JSON; null for a nil v.
func (v *Value) AppendJSON(buf []byte) []byte {
	if v == nil {
		return append(buf, "null"...)
	}
	switch v.t {
	case TypeFalse:
		return append(buf, "false"...)
	case TypeTrue:
		return append(buf, "true"...)
	case TypeNumber:
		return append(buf, v.s...)
	case TypeString:
		if v.plain {
			// Most strings: written here, without a call.
			buf = append(buf, '"')
			buf = append(buf, v.s...)
			return append(buf, '"')
		}
		return AppendStringText(buf, v.s)
	case TypeArray:
		buf = append(buf, '[')
		for i, x := range v.a {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = x.AppendJSON(buf)
		}
		return append(buf, ']')
	case TypeObject:
		buf = append(buf, '{')
		for i, m := range v.kvs {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = AppendStringText(buf, m.Key)
			buf = append(buf, ':')
			buf = m.Value.AppendJSON(buf)
		}
		return append(buf, '}')
	}
	return append(buf, "null"...)
}

// AppendString writes the string v as JSON: a plain one as it is, any
// other escaped.
func (v *Value) AppendString(buf []byte) []byte {
	if v.plain {
		buf = append(buf, '"')
		buf = append(buf, v.s...)
		return append(buf, '"')
	}
	return AppendStringText(buf, v.s)
}

// String returns v as compact JSON (for tests and messages).
func (v *Value) String() string {
	b := v.AppendJSON(nil)
	return unsafe.String(unsafe.SliceData(b), len(b))
}
