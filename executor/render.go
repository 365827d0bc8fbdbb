package executor

import (
	"encoding/binary"
	"encoding/json"
	"unsafe"

	"github.com/fedgate/gateway/planner"
	"github.com/valyala/fastjson"
)

// renderer writes the client response from the merged data, following
// the plan's shape: field order, aliases, __typename, authorization
// denials and null propagation.
type renderer struct {
	e          *execution
	introspect func([]byte, *planner.ShapeField) []byte
	// base is the response path of the object rendered first (a deferred
	// fragment's position), path the steps below it. Steps stay unboxed:
	// a response path as []any is built only for an error.
	base       []any
	path       []pathStep
	nullErrors []*Error
}

// pathStep is one step of a response path: a response key, or a list
// index when key is empty.
type pathStep struct {
	key   string
	index int
}

// responsePath returns the current response path as an error path.
func (r *renderer) responsePath() []any {
	out := make([]any, 0, len(r.base)+len(r.path)+1)
	out = append(out, r.base...)
	for _, s := range r.path {
		if s.key != "" {
			out = append(out, s.key)
		} else {
			out = append(out, s.index)
		}
	}
	return out
}

// relatedTo reports whether an error path is a prefix of the current
// path or the other way round (related, without building the path).
func (r *renderer) relatedTo(a []any) bool {
	if a == nil {
		return true
	}
	n := len(r.base) + len(r.path)
	if len(a) < n {
		n = len(a)
	}
	for i := 0; i < n; i++ {
		if i < len(r.base) {
			if a[i] != r.base[i] {
				return false
			}
			continue
		}
		s := r.path[i-len(r.base)]
		if s.key != "" {
			if k, ok := a[i].(string); !ok || k != s.key {
				return false
			}
		} else if k, ok := a[i].(int); !ok || k != s.index {
			return false
		}
	}
	return true
}

// siblingOf reports whether an error path lies below another field of
// the object that holds the current field (the current path ends with
// that field's response key).
func (r *renderer) siblingOf(a []any) bool {
	if len(r.path) == 0 || r.path[len(r.path)-1].key == "" {
		return false
	}
	n := len(r.base) + len(r.path)
	if len(a) < n {
		return false
	}
	last := r.path[len(r.path)-1]
	r.path = r.path[:len(r.path)-1]
	ok := r.relatedTo(a[:n-1])
	r.path = append(r.path, last)
	return ok
}

// render writes the response for shape: data and errors.
func (e *execution) render(buf []byte, shape *planner.Shape, introspect func([]byte, *planner.ShapeField) []byte) ([]byte, int) {
	r := &renderer{e: e, introspect: introspect}
	buf = append(buf, `{"data":`...)
	start := len(buf)
	var ok bool
	buf, ok = r.object(buf, e.data, shape.Root, shape.RootType)
	if !ok {
		buf = append(buf[:start], "null"...)
	}
	errs := distinctErrors(append(e.errors, r.nullErrors...))
	if len(errs) > 0 {
		buf = append(buf, `,"errors":`...)
		b, _ := json.Marshal(errs)
		buf = append(buf, b...)
	}
	return append(buf, '}'), len(errs)
}

// distinctErrors drops errors equal to an earlier one (message, path and
// extensions): one subgraph error can reach a response path twice when
// the plan selects a field twice (the client's selection and a field
// the planner added under its own data key), and the client asked once.
func distinctErrors(errs []*Error) []*Error {
	if len(errs) < 2 {
		return errs
	}
	seen := make(map[string]bool, len(errs))
	out := errs[:0:0]
	for _, e := range errs {
		b, err := json.Marshal(e)
		if err == nil {
			if seen[string(b)] {
				continue
			}
			seen[string(b)] = true
		}
		out = append(out, e)
	}
	return out
}

// object writes one object; false means it must become null.
func (r *renderer) object(buf []byte, v *fastjson.Value, sel *planner.ShapeSet, typename string) ([]byte, bool) {
	if sel.Abstract {
		if v != nil {
			typename = string(v.GetStringBytes("__typename"))
		}
	}
	fields := sel.FieldsFor(typename)
	if fields == nil && sel.Abstract {
		if typename != "" && typename != sel.Type {
			// A runtime type the client schema does not have at this
			// position (inaccessible, or not a member): null.
			return buf, false
		}
		if len(sel.ByType) > 0 {
			// An @interfaceObject answer without a concrete type: the
			// plan only leaves it so when every implementation selects
			// alike.
			fields = sel.ByType[0].Fields
		}
	}
	var obj *fastjson.Object
	if v != nil {
		obj, _ = v.Object()
	}
	start := len(buf)
	buf = append(buf, '{')
	for i := range fields {
		f := &fields[i]
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, f.JSONKey...)
		if f.Denied {
			// Authorization removed the field from the plan: null, and
			// one error at each path where it appears.
			r.nullErrors = append(r.nullErrors, &Error{Message: "Unauthorized field or type",
				Path: append(r.responsePath(), f.ResponseKey), Extensions: map[string]any{"code": "UNAUTHORIZED_FIELD_OR_TYPE"}})
			if f.NonNull(0) {
				return buf[:start], false
			}
			buf = append(buf, "null"...)
			continue
		}
		switch f.Kind {
		case planner.Typename:
			buf = appendStringText(buf, typename)
			continue
		case planner.Introspection:
			if r.introspect != nil {
				buf = r.introspect(buf, f)
				continue
			}
		}
		var fv *fastjson.Value
		if obj != nil {
			fv = obj.Get(f.DataKey)
		}
		r.path = append(r.path, pathStep{key: f.ResponseKey})
		var ok bool
		buf, ok = r.value(buf, fv, 0, f)
		r.path = r.path[:len(r.path)-1]
		if !ok {
			return buf[:start], false
		}
	}
	return append(buf, '}'), true
}

// value writes the value of f level list levels down (0: the field's own
// value); false means null must propagate.
func (r *renderer) value(buf []byte, v *fastjson.Value, level int, f *planner.ShapeField) ([]byte, bool) {
	nonNull := f.NonNull(level)
	if v == nil || v.Type() == fastjson.TypeNull {
		if nonNull {
			r.nullError(f)
			return buf, false
		}
		return append(buf, "null"...), true
	}
	start := len(buf)
	if level < f.Lists() {
		arr, err := v.Array()
		if err != nil {
			return r.invalid(buf, nonNull, f)
		}
		buf = append(buf, '[')
		for i, item := range arr {
			if i > 0 {
				buf = append(buf, ',')
			}
			r.path = append(r.path, pathStep{index: i})
			var ok bool
			buf, ok = r.value(buf, item, level+1, f)
			r.path = r.path[:len(r.path)-1]
			if !ok {
				buf = buf[:start]
				if nonNull {
					return buf, false
				}
				return append(buf, "null"...), true
			}
		}
		return append(buf, ']'), true
	}
	if f.Selection != nil {
		if v.Type() != fastjson.TypeObject {
			return r.invalid(buf, nonNull, f)
		}
		out, ok := r.object(buf, v, f.Selection, f.Selection.Type)
		if !ok {
			if nonNull {
				return buf[:start], false
			}
			return append(buf[:start], "null"...), true
		}
		return out, true
	}
	if f.Enum != nil && !validEnum(f.Enum, v) {
		// A value the client schema does not have (inaccessible, or only
		// in one subgraph's enum) is never sent.
		if nonNull {
			r.nullError(f)
			return buf, false
		}
		return append(buf, "null"...), true
	}
	if v.Type() == fastjson.TypeString {
		s, _ := v.StringBytes()
		return appendString(buf, s), true
	}
	return v.MarshalTo(buf), true
}

// appendString writes s as a JSON string. Unlike strconv.AppendQuote it
// escapes only what JSON requires (", \\ and control characters) and
// passes UTF-8 through. Most strings need no escaping: they are copied
// whole after a scan eight bytes at a time.
func appendString(buf []byte, s []byte) []byte {
	buf = append(buf, '"')
	i := safePrefix(s)
	if i == len(s) {
		buf = append(buf, s...)
		return append(buf, '"')
	}
	start := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		buf = append(buf, s[start:i]...)
		switch c {
		case '"':
			buf = append(buf, '\\', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		start = i + 1
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// appendStringText is appendString for a Go string; it reads s in place
// (appendString never writes to its input), so quoting costs no copy.
func appendStringText(buf []byte, s string) []byte {
	return appendString(buf, unsafe.Slice(unsafe.StringData(s), len(s)))
}

// appendName writes a GraphQL name of the schema ([_A-Za-z][_0-9A-Za-z]*,
// which the schema's parser enforces) as a JSON string: it has nothing to
// escape.
func appendName(buf []byte, name string) []byte {
	buf = append(buf, '"')
	buf = append(buf, name...)
	return append(buf, '"')
}

// Word-at-a-time byte tests (see "Bit Twiddling Hacks", haszero/hasless).
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// needsEscape has the high bit of some byte set when a byte of the word x
// is a control character, '"' or '\\'. A byte is below n when
// (x - n*lsb) &^ x has its high bit, and equal to c when x^(c*lsb) is
// below 1; the three tests share their &^ x, as XOR with an ASCII byte
// keeps the high bit. A byte may be reported that is fine only when a byte
// before it really matches, which only sends the word to the byte-wise
// loop.
func needsEscape(x uint64) uint64 {
	quote := x ^ ('"' * lsb)
	backslash := x ^ ('\\' * lsb)
	return ((x - 0x20*lsb) | (quote - lsb) | (backslash - lsb)) &^ x & msb
}

// safePrefix returns the length of the longest prefix of s that needs no
// escaping in a JSON string: sixteen bytes at a time, then eight, then
// one.
func safePrefix(s []byte) int {
	i := 0
	for ; len(s)-i >= 16; i += 16 {
		w := (*[16]byte)(s[i:])
		if needsEscape(binary.LittleEndian.Uint64(w[:8]))|needsEscape(binary.LittleEndian.Uint64(w[8:])) != 0 {
			break
		}
	}
	if len(s)-i >= 8 && needsEscape(binary.LittleEndian.Uint64(s[i:])) == 0 {
		i += 8
	}
	for ; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return i
}

const hexDigits = "0123456789abcdef"

func validEnum(set *planner.EnumSet, v *fastjson.Value) bool {
	s, err := v.StringBytes()
	if err != nil {
		return false
	}
	return set.Has(s)
}

func (r *renderer) invalid(buf []byte, nonNull bool, f *planner.ShapeField) ([]byte, bool) {
	r.nullErrors = append(r.nullErrors, &Error{Message: "Invalid value for field " + f.ParentType + "." + f.Name,
		Path: r.responsePath(), Extensions: map[string]any{"code": "INVALID_SUBGRAPH_RESPONSE"}})
	if nonNull {
		return buf, false
	}
	return append(buf, "null"...), true
}

// nullError records a non-null violation unless an error already covers
// the path: the subgraph's own error, a failed fetch above it, or a
// subgraph error at another field of the same object. An entity fetch
// whose answer for an object is null (one of its non-null fields failed)
// leaves every field it fetched missing; the object is null because of
// that one error, which the spec reports once (only one error per field
// that caused the null, spec 6.4.4), not once more per missing sibling.
func (r *renderer) nullError(f *planner.ShapeField) {
	for _, e := range r.e.errors {
		if r.relatedTo(e.Path) || r.siblingOf(e.Path) {
			return
		}
	}
	for _, e := range r.nullErrors {
		if r.relatedTo(e.Path) {
			return
		}
	}
	r.nullErrors = append(r.nullErrors, &Error{Message: "Cannot return null for non-nullable field " + f.ParentType + "." + f.Name + ".",
		Path: r.responsePath()})
}

// related reports whether one path is a prefix of the other; a nil error
// path (a failed fetch at the root) covers everything.
func related(a, b []any) bool {
	if a == nil {
		return true
	}
	n := len(a)
	if len(b) < n {
		n = len(b)
	}
	for i := 0; i < n; i++ {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
