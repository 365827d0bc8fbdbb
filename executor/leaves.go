package executor

import (
	"math"
	"strconv"
	"unicode/utf8"
	"unsafe"

	"github.com/fedgate/gateway/internal/jsonvalue"
	"github.com/fedgate/gateway/planner"
)

// Result coercion of the leaf values subgraphs answer (spec 3.5, "Result
// Coercion"; docs/differential.md, "Leaf values").
//
// The renderer writes a leaf value as the data has it when its shape is
// the one its type wants (planner.ShapeField.Accepts, one mask test): a
// string for String and ID, a boolean for Boolean, an integer of up to 9
// characters for Int, a number that cannot overflow for Float, anything
// for a custom scalar. Every other value comes here. Like both reference
// gateways (Apollo Gateway's isValidLeafValue, Hive Gateway's parseValue
// before graphql-js serializes), fedgate converts no value to another
// type but one: an ID answered as an integer number is written as a
// string ("5"), as Hive Gateway and graphql-js's ID serializer write it;
// and an Int written with a fraction or an exponent (5.0, 2e3) is written
// as the integer, as both references write it. Every other value of the
// wrong shape is null, an invalid value (renderer.invalidValue) whose
// message is graphql-js's serializer's (numbers quoted as the subgraph
// wrote them) and whose code is INVALID_SUBGRAPH_RESPONSE: listed in
// extensions.valueCompletion, as the references leave "errors" alone, or
// with subgraphs.invalid_values: errors the spec's field error ("must
// raise a field error"); null then propagates as for any null.

// leaf writes the leaf value v of field f that f.Accepts does not take
// (null excluded): coerced, or null as an invalid value; false means null
// must propagate.
func (r *renderer) leaf(buf []byte, v *jsonvalue.Value, nonNull bool, f *planner.ShapeField) ([]byte, bool) {
	out, msg := coerceLeaf(buf, v, f.Leaf(), f.Enum)
	if msg == "" {
		return out, true
	}
	r.invalidValue(msg)
	if nonNull || r.redo {
		return buf, false
	}
	return append(buf, "null"...), true
}

// coerceLeaf appends the value v (not null) of a leaf of type leaf (enum,
// its values) as the response writes it; when v cannot be one, it
// appends nothing and returns the field error's message.
func coerceLeaf(buf []byte, v *jsonvalue.Value, leaf planner.LeafType, enum *planner.EnumSet) ([]byte, string) {
	t := v.Type()
	switch leaf {
	case planner.StringLeaf:
		if t == jsonvalue.TypeString {
			return v.AppendString(buf), ""
		}
		return buf, "String cannot represent value: " + inspect(v)
	case planner.BooleanLeaf:
		if t == jsonvalue.TypeTrue || t == jsonvalue.TypeFalse {
			return v.AppendJSON(buf), ""
		}
		return buf, "Boolean cannot represent a non boolean value: " + inspect(v)
	case planner.IntLeaf:
		if t != jsonvalue.TypeNumber {
			return buf, "Int cannot represent non-integer value: " + inspect(v)
		}
		n := v.Number()
		i, ok := int32Value(n)
		if !ok {
			if x, err := strconv.ParseFloat(n, 64); err == nil && x != math.Trunc(x) {
				return buf, "Int cannot represent non-integer value: " + inspect(v)
			}
			return buf, "Int cannot represent non 32-bit signed integer value: " + inspect(v)
		}
		if v.IntegerText() {
			return append(buf, n...), ""
		}
		// 2e3, 5.0: the integer, as JavaScript writes the number.
		return strconv.AppendInt(buf, int64(i), 10), ""
	case planner.FloatLeaf:
		if t != jsonvalue.TypeNumber {
			return buf, "Float cannot represent non numeric value: " + inspect(v)
		}
		// A number with an exponent or hundreds of digits: JSON has
		// no infinity, but 1e400 is one as a float64.
		if x, err := strconv.ParseFloat(v.Number(), 64); err != nil || math.IsInf(x, 0) {
			return buf, "Float cannot represent non numeric value: " + inspect(v)
		}
		return v.AppendJSON(buf), ""
	case planner.IDLeaf:
		switch t {
		case jsonvalue.TypeString:
			return v.AppendString(buf), ""
		case jsonvalue.TypeNumber:
			if out, ok := appendIDNumber(buf, v); ok {
				return out, ""
			}
		}
		return buf, "ID cannot represent value: " + inspect(v)
	case planner.EnumLeaf:
		if t == jsonvalue.TypeString {
			text := v.Str()
			if enum.Has(unsafe.Slice(unsafe.StringData(text), len(text))) {
				return v.AppendString(buf), ""
			}
			// Not echoed: the value may be one the supergraph hides
			// from clients (@inaccessible).
			return buf, `Enum "` + enum.Name() + `" cannot represent a value that is not one of its values`
		}
		return buf, `Enum "` + enum.Name() + `" cannot represent value: ` + inspect(v)
	}
	return v.AppendJSON(buf), ""
}

// int32Value returns the number text n as an integer in Int's 32-bit
// range (written with a fraction or an exponent too, as a JavaScript
// number that is one: 2147483647.0, 2e3); false when it is none.
func int32Value(n string) (int32, bool) {
	if i, err := strconv.ParseInt(n, 10, 32); err == nil {
		return int32(i), true
	}
	f, err := strconv.ParseFloat(n, 64)
	if err == nil && f == math.Trunc(f) && f >= math.MinInt32 && f <= math.MaxInt32 {
		return int32(f), true
	}
	return 0, false
}

// appendIDNumber writes an ID answered as a number as a string, when the
// number is an integer (graphql-js's ID serializer): written as an
// integer, its digits as they are (an ID beyond 2^53 keeps them; the
// JavaScript references round it, "12345678901234567000"), -0 as "0";
// written with a fraction or an exponent (5.0, 1e3), the integer as
// JavaScript writes it ("5", "1000", "1e+21"). False for a number that is
// not an integer.
func appendIDNumber(buf []byte, v *jsonvalue.Value) ([]byte, bool) {
	n := v.Number()
	if v.IntegerText() {
		if n == "-0" {
			return append(buf, `"0"`...), true
		}
		buf = append(buf, '"')
		buf = append(buf, n...)
		return append(buf, '"'), true
	}
	f, err := strconv.ParseFloat(n, 64)
	if err != nil || math.IsInf(f, 0) || f != math.Trunc(f) {
		return buf, false
	}
	buf = append(buf, '"')
	buf = appendJSNumber(buf, f)
	return append(buf, '"'), true
}

// appendJSNumber writes the finite number f as JavaScript's
// Number.prototype.toString does (ECMAScript Number::toString): the
// shortest digits that read back as f, in plain notation for exponents
// from -7 to 20 and as 1.5e+21 beyond.
func appendJSNumber(buf []byte, f float64) []byte {
	if f == 0 {
		return append(buf, '0')
	}
	if f < 0 {
		buf = append(buf, '-')
		f = -f
	}
	// d.ddde±x: the shortest digits and the exponent.
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64)
	mark := 0
	for e[mark] != 'e' {
		mark++
	}
	exp, _ := strconv.Atoi(string(e[mark+1:]))
	digits := make([]byte, 0, 17)
	for _, c := range e[:mark] {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	k, n := len(digits), exp+1 // the value is 0.digits × 10^n
	switch {
	case k <= n && n <= 21:
		buf = append(buf, digits...)
		for i := k; i < n; i++ {
			buf = append(buf, '0')
		}
	case 0 < n && n <= 21:
		buf = append(buf, digits[:n]...)
		buf = append(buf, '.')
		buf = append(buf, digits[n:]...)
	case -6 < n && n <= 0:
		buf = append(buf, "0."...)
		for i := 0; i < -n; i++ {
			buf = append(buf, '0')
		}
		buf = append(buf, digits...)
	default:
		buf = append(buf, digits[0])
		if k > 1 {
			buf = append(buf, '.')
			buf = append(buf, digits[1:]...)
		}
		buf = append(buf, 'e')
		if n-1 >= 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, int64(n-1), 10)
	}
	return buf
}

// maxInspect bounds the text inspect writes: a subgraph may answer a
// huge object where a scalar is due, and the message quotes its start.
const maxInspect = 200

// inspect writes v as graphql-js's inspect does in error messages
// (strings quoted, objects as { key: value }, arrays as [a, b] with at most
// 10 items, "[Object]" and "[Array]" below two levels), numbers as the
// subgraph wrote them, cut at maxInspect bytes ("..."): the work is
// bounded by that, not by v's size.
func inspect(v *jsonvalue.Value) string {
	s, _ := inspectSteps(v)
	return s
}

// inspectSteps is inspect, also returning how many values it looked at.
func inspectSteps(v *jsonvalue.Value) (string, int) {
	in := inspector{buf: make([]byte, 0, 64)}
	in.value(v, 0)
	b := in.buf
	if len(b) > maxInspect {
		i := maxInspect
		for i > 0 && !utf8.RuneStart(b[i]) {
			i--
		}
		b = append(b[:i], "..."...)
	}
	return string(b), in.steps
}

type inspector struct {
	buf []byte
	// steps counts the values looked at (what TestInspectIsBounded bounds).
	steps int
}

// full reports whether the text is long enough to be cut.
func (in *inspector) full() bool { return len(in.buf) > maxInspect }

// value writes v, seen levels of objects and arrays below the top.
func (in *inspector) value(v *jsonvalue.Value, seen int) {
	if in.full() {
		return
	}
	in.steps++
	switch v.Type() {
	case jsonvalue.TypeString:
		s := v.Str()
		if len(s) > maxInspect+1 {
			s = s[:maxInspect+1]
		}
		in.buf = jsonvalue.AppendStringText(in.buf, s)
	case jsonvalue.TypeArray:
		items := v.Array()
		switch {
		case len(items) == 0:
			in.buf = append(in.buf, "[]"...)
			return
		case seen >= 2:
			in.buf = append(in.buf, "[Array]"...)
			return
		}
		in.buf = append(in.buf, '[')
		for i, x := range items {
			if i == 10 {
				if rest := len(items) - 10; rest == 1 {
					in.buf = append(in.buf, ", ... 1 more item"...)
				} else {
					in.buf = append(in.buf, ", ... "...)
					in.buf = strconv.AppendInt(in.buf, int64(rest), 10)
					in.buf = append(in.buf, " more items"...)
				}
				break
			}
			if i > 0 {
				in.buf = append(in.buf, ", "...)
			}
			if in.value(x, seen+1); in.full() {
				return
			}
		}
		in.buf = append(in.buf, ']')
	case jsonvalue.TypeObject:
		ms := v.Members()
		switch {
		case len(ms) == 0:
			in.buf = append(in.buf, "{}"...)
			return
		case seen >= 2:
			in.buf = append(in.buf, "[Object]"...)
			return
		}
		in.buf = append(in.buf, "{ "...)
		for i, m := range ms {
			if i > 0 {
				in.buf = append(in.buf, ", "...)
			}
			key := m.Key
			if len(key) > maxInspect {
				key = key[:maxInspect]
			}
			in.buf = append(in.buf, key...)
			in.buf = append(in.buf, ": "...)
			if in.value(m.Value, seen+1); in.full() {
				return
			}
		}
		in.buf = append(in.buf, " }"...)
	case jsonvalue.TypeNumber:
		// As written, which may be long (a number has no length limit).
		n := v.Number()
		if len(n) > maxInspect+1 {
			n = n[:maxInspect+1]
		}
		in.buf = append(in.buf, n...)
	default:
		// null, true, false.
		in.buf = v.AppendJSON(in.buf)
	}
}
