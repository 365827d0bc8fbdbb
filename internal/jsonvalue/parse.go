package jsonvalue

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// MaxDepth is how deeply arrays and objects may nest in a document.
const MaxDepth = 300

// maxScanKeys is the number of members beyond which an object's keys are
// checked for repeats with a map instead of by comparing each new key
// with every earlier one, which a hostile object of many members would
// make quadratic.
const maxScanKeys = 16

// Parser parses JSON documents. The values of a document live in the
// parser's memory, which the next Parse reuses: they are valid until
// then. A Parser is not safe for concurrent use.
type Parser struct {
	// buf is the copy of the input the values' strings point into
	// (escapes are decoded in place).
	buf []byte
	// vals are the values handed out, reused with the member lists and
	// elements they kept from the previous document. When vals has to
	// grow, the values handed out stay where they are: append moves only
	// the parser's slice to a new array.
	vals []Value
	// elems is the stack of the elements of the arrays being parsed.
	elems []*Value
	// keys is the set the document's keys are interned to (ParseKeys),
	// nil for none.
	keys *Keys
}

// SyntaxError is a document that is not JSON.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("invalid JSON at offset %d: %s", e.Offset, e.Msg)
}

// Parse parses the document b. It copies b first: b may be reused as soon
// as Parse returns. The values are valid until the next Parse.
func (p *Parser) Parse(b []byte) (*Value, error) {
	return p.ParseKeys(b, nil)
}

// ParseKeys is Parse with the document's object keys interned to keys: a
// key of the set is the set's string (see Keys). keys is only read.
func (p *Parser) ParseKeys(b []byte, keys *Keys) (*Value, error) {
	if keys.Len() > 0 {
		p.keys = keys
	}
	v, err := p.parse(b)
	// A pooled parser keeps no plan's keys alive.
	p.keys = nil
	return v, err
}

func (p *Parser) parse(b []byte) (*Value, error) {
	p.buf = append(p.buf[:0], b...)
	p.vals = p.vals[:0]
	p.elems = p.elems[:0]
	s := p.buf
	i := skipWS(s, 0)
	v, i, err := p.value(s, i, 0)
	if err != nil {
		return nil, err
	}
	if i = skipWS(s, i); i != len(s) {
		return nil, &SyntaxError{i, "unexpected data after the value"}
	}
	return v, nil
}

// alloc returns a fresh value of type t, keeping the member list and
// elements the slot had for reuse.
func (p *Parser) alloc(t Type) *Value { return nextSlot(&p.vals, t) }

// nextSlot extends *vals by one value of type t and returns it; a slot
// used before keeps its member list's and elements' storage (emptied).
func nextSlot(vals *[]Value, t Type) *Value {
	if len(*vals) < cap(*vals) {
		*vals = (*vals)[:len(*vals)+1]
	} else {
		*vals = append(*vals, Value{})
	}
	v := &(*vals)[len(*vals)-1]
	v.t, v.plain, v.s = t, false, ""
	v.kvs, v.a = v.kvs[:0], v.a[:0]
	return v
}

func skipWS(s []byte, i int) int {
	for i < len(s) && s[i] <= ' ' && (s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r') {
		i++
	}
	return i
}

var (
	errEnd   = "unexpected end of the document"
	literals = [...]string{TypeNull: "null", TypeFalse: "false", TypeTrue: "true"}
)

// value parses the value at s[i] and returns the offset after it.
func (p *Parser) value(s []byte, i, depth int) (*Value, int, error) {
	if i >= len(s) {
		return nil, i, &SyntaxError{i, errEnd}
	}
	switch c := s[i]; c {
	case '{':
		return p.object(s, i+1, depth+1)
	case '[':
		return p.array(s, i+1, depth+1)
	case '"':
		return p.member(s, i, depth)
	case 'n', 't', 'f':
		t := TypeNull
		if c == 't' {
			t = TypeTrue
		} else if c == 'f' {
			t = TypeFalse
		}
		lit := literals[t]
		if len(s)-i < len(lit) || string(s[i:i+len(lit)]) != lit {
			return nil, i, &SyntaxError{i, "unknown literal"}
		}
		return p.alloc(t), i + len(lit), nil
	default:
		end, integer, exponent, ok := scanNumber(s, i)
		if !ok {
			return nil, i, &SyntaxError{i, fmt.Sprintf("unexpected character %q", c)}
		}
		v := p.alloc(TypeNumber)
		v.s, v.plain, v.k = unsafe.String(&s[i], end-i), integer, numberKind(end-i, integer, exponent)
		return v, end, nil
	}
}

// member parses the value of an object's member or an array's element at
// s[i]: value, with strings and objects (most members) parsed or
// dispatched here, a call or two less per value.
func (p *Parser) member(s []byte, i, depth int) (*Value, int, error) {
	if i < len(s) {
		switch s[i] {
		case '"':
			text, plain, end, err := p.str(s, i+1)
			if err != nil {
				return nil, end, err
			}
			v := p.alloc(TypeString)
			v.s, v.plain = text, plain
			return v, end, nil
		case '{':
			return p.object(s, i+1, depth+1)
		}
	}
	return p.value(s, i, depth)
}

func (p *Parser) object(s []byte, i, depth int) (*Value, int, error) {
	if depth > MaxDepth {
		return nil, i, &SyntaxError{i, fmt.Sprintf("nested deeper than %d", MaxDepth)}
	}
	v := p.alloc(TypeObject)
	if i = skipWS(s, i); i < len(s) && s[i] == '}' {
		return v, i + 1, nil
	}
	var seen map[string]struct{}
	var keys uint64
	for {
		if i >= len(s) || s[i] != '"' {
			return nil, i, &SyntaxError{i, "expected a member's key"}
		}
		var key string
		var end int
		var err error
		if p.keys != nil {
			key, end, err = p.key(s, i+1)
		} else {
			key, _, end, err = p.str(s, i+1)
		}
		if err != nil {
			return nil, end, err
		}
		// Compact JSON (what subgraphs mostly send) has no whitespace
		// between the tokens: each is tested for where it is first.
		if i = end; i >= len(s) || s[i] != ':' {
			if i = skipWS(s, i); i >= len(s) || s[i] != ':' {
				return nil, i, &SyntaxError{i, "expected ':' after a key"}
			}
		}
		if i++; i < len(s) && s[i] <= ' ' {
			i = skipWS(s, i)
		}
		var x *Value
		if i < len(s) && s[i] == '"' {
			// Most members are strings: parsed here, a call less than
			// through member.
			text, plain, send, err := p.str(s, i+1)
			if err != nil {
				return nil, send, err
			}
			x = p.alloc(TypeString)
			x.s, x.plain, end = text, plain, send
		} else if x, end, err = p.member(s, i, depth); err != nil {
			return nil, end, err
		}
		// keys has a bit per length and first byte of the keys so far: a
		// key whose bit is clear is new without comparing it with them.
		bit := keyBit(key)
		if keys&bit == 0 && len(v.kvs) < maxScanKeys || !repeated(v, key, &seen) {
			keys |= bit
			v.kvs = append(v.kvs, Member{Key: key, Value: x})
		}
		if i = end; i < len(s) && s[i] <= ' ' {
			i = skipWS(s, i)
		}
		if i >= len(s) {
			return nil, i, &SyntaxError{i, errEnd}
		}
		switch s[i] {
		case ',':
			if i++; i < len(s) && s[i] <= ' ' {
				i = skipWS(s, i)
			}
		case '}':
			return v, i + 1, nil
		default:
			return nil, i, &SyntaxError{i, "expected ',' or '}' in an object"}
		}
	}
}

// keyBit is the bit of key's length and first byte in a uint64: keys
// with different bits differ.
func keyBit(key string) uint64 {
	h := uint(len(key))
	if len(key) > 0 {
		h += uint(key[0]) * 7
	}
	return 1 << (h & 63)
}

// repeated reports whether object v has key already: a repeated key is
// dropped, so the first value counts, as a lookup would find it. Small
// objects compare the key with each earlier one; from maxScanKeys
// members on, *seen (made then) holds the keys.
func repeated(v *Value, key string, seen *map[string]struct{}) bool {
	if len(v.kvs) < maxScanKeys {
		for i := range v.kvs {
			if v.kvs[i].Key == key {
				return true
			}
		}
		return false
	}
	if *seen == nil {
		*seen = make(map[string]struct{}, 2*maxScanKeys)
		for _, m := range v.kvs {
			(*seen)[m.Key] = struct{}{}
		}
	}
	if _, ok := (*seen)[key]; ok {
		return true
	}
	(*seen)[key] = struct{}{}
	return false
}

func (p *Parser) array(s []byte, i, depth int) (*Value, int, error) {
	if depth > MaxDepth {
		return nil, i, &SyntaxError{i, fmt.Sprintf("nested deeper than %d", MaxDepth)}
	}
	v := p.alloc(TypeArray)
	if i = skipWS(s, i); i < len(s) && s[i] == ']' {
		return v, i + 1, nil
	}
	// Elements gather on a stack shared by the arrays being parsed and
	// are copied into v's own list at its end, which has room from the
	// previous document most of the time.
	base := len(p.elems)
	for {
		x, end, err := p.member(s, i, depth)
		if err != nil {
			p.elems = p.elems[:base]
			return nil, end, err
		}
		p.elems = append(p.elems, x)
		if i = skipWS(s, end); i >= len(s) {
			p.elems = p.elems[:base]
			return nil, i, &SyntaxError{i, errEnd}
		}
		switch s[i] {
		case ',':
			i = skipWS(s, i+1)
		case ']':
			v.a = append(v.a, p.elems[base:]...)
			clear(p.elems[base:])
			p.elems = p.elems[:base]
			return v, i + 1, nil
		default:
			p.elems = p.elems[:base]
			return nil, i, &SyntaxError{i, "expected ',' or ']' in an array"}
		}
	}
}

// str parses the string whose text starts at s[i] (after the quote). It
// returns the decoded text, whether it is plain, and the offset after the
// closing quote.
//
// Keys and short values mostly end within the first word plainEnd tests.
// Longer text is searched with bytes.IndexByte, which is much faster per
// byte but costs more to call, for the closing quote and then for a
// backslash, and only control characters are left to test.
func (p *Parser) str(s []byte, i int) (string, bool, int, error) {
	start := i
	// Most keys and short values end within the first word: tested here,
	// without a call.
	if len(s)-i >= 8 {
		if m := needsEscape(binary.LittleEndian.Uint64(s[i:])); m != 0 {
			// The lowest byte reported needs escaping (see plainEnd).
			if j := i + bits.TrailingZeros64(m)>>3; s[j] == '"' {
				return unsafe.String(unsafe.SliceData(s[start:]), j-start), true, j + 1, nil
			}
		} else {
			i += 8
		}
	}
	if i = plainEnd(s, i, start+shortString); i < len(s) && s[i] == '"' {
		return unsafe.String(unsafe.SliceData(s[start:]), i-start), true, i + 1, nil
	}
	n := bytes.IndexByte(s[i:], '"')
	if n < 0 {
		return "", false, len(s), &SyntaxError{start - 1, "unterminated string"}
	}
	end := i + n
	if bytes.IndexByte(s[i:end], '\\') >= 0 {
		return p.unescape(s, start)
	}
	// A raw control character is not JSON, but it is accepted (as it was
	// before this parser) and escaped when written out.
	return unsafe.String(unsafe.SliceData(s[start:]), end-start), !hasControl(s[i:end]), end + 1, nil
}

// key parses the key whose text starts at s[i] (after the quote), as str
// does, and returns the set's string (p.keys) of its text when it has one.
// A plain key of up to 15 bytes (nearly all) is read as two words, which
// find its end and its slot in the set at once.
func (p *Parser) key(s []byte, i int) (string, int, error) {
	if len(s)-i >= 16 {
		w0, w1 := binary.LittleEndian.Uint64(s[i:]), uint64(0)
		n := 0
		if m := needsEscape(w0); m != 0 {
			// The lowest byte reported needs escaping (see plainEnd).
			n = bits.TrailingZeros64(m) >> 3
			w0 &= lowBytes[n&7]
		} else {
			w1 = binary.LittleEndian.Uint64(s[i+8:])
			m := needsEscape(w1)
			n = 8 + bits.TrailingZeros64(m)>>3 // 16 when m is 0
			w1 &= lowBytes[n&7]
		}
		if n < 16 && s[i+n] == '"' {
			if str, ok := p.keys.word(w0, w1, n); ok {
				return str, i + n + 1, nil
			}
			return unsafe.String(unsafe.SliceData(s[i:]), n), i + n + 1, nil
		}
	}
	key, _, end, err := p.str(s, i)
	if err == nil {
		key = p.keys.Intern(key)
	}
	return key, end, err
}

// lowBytes[n] has the low n bytes of a word set.
var lowBytes = [8]uint64{0, 0xff, 0xffff, 0xffffff, 0xffffffff, 0xffffffffff, 0xffffffffffff, 0xffffffffffffff}

// shortString is how much of a string str tests a word at a time before
// it turns to bytes.IndexByte.
const shortString = 16

// plainEnd returns the offset of the first byte in s[i:limit] that needs
// escaping in a JSON string ('"', '\\' or a control character), or the
// offset where it stopped looking (limit, or len(s) when that is less):
// eight bytes at a time while eight are left in s (reading past the
// string's end is fine, the document goes on), then one by one.
func plainEnd(s []byte, i, limit int) int {
	limit = min(limit, len(s))
	for i < limit && len(s)-i >= 8 {
		if m := needsEscape(binary.LittleEndian.Uint64(s[i:])); m != 0 {
			// The lowest byte reported is one that needs escaping
			// (needsEscape reports a wrong byte only after a right one).
			return min(i+bits.TrailingZeros64(m)>>3, limit)
		}
		i += 8
	}
	for ; i < limit; i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' {
			return i
		}
	}
	return limit
}

// unescape decodes the escaped string whose text starts at s[i], in
// place (the decoded text is never longer than the escaped one).
func (p *Parser) unescape(s []byte, i int) (string, bool, int, error) {
	start, w := i, i
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			return unsafe.String(&s[start], w-start), false, i + 1, nil
		case c != '\\':
			s[w] = c
			w, i = w+1, i+1
			continue
		}
		if i+1 >= len(s) {
			break
		}
		esc := s[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			s[w] = esc
		case 'b':
			s[w] = '\b'
		case 'f':
			s[w] = '\f'
		case 'n':
			s[w] = '\n'
		case 'r':
			s[w] = '\r'
		case 't':
			s[w] = '\t'
		case 'u':
			r, ok := hex4(s, i)
			if !ok {
				return "", false, i, &SyntaxError{i - 2, `invalid \u escape`}
			}
			i += 4
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; a lone half is not a character
				// (U+FFFD instead, as encoding/json does).
				r2, ok := rune(0), false
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok = hex4(s, i+2)
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r, i = dec, i+6
				} else {
					r = utf8.RuneError
				}
			}
			w += utf8.EncodeRune(s[w:], r)
			continue
		default:
			return "", false, i, &SyntaxError{i - 2, fmt.Sprintf("invalid escape %q", esc)}
		}
		w++
	}
	return "", false, len(s), &SyntaxError{start - 1, "unterminated string"}
}

// hex4 reads the four hex digits at s[i:].
func hex4(s []byte, i int) (rune, bool) {
	if len(s)-i < 4 {
		return 0, false
	}
	var r rune
	for _, c := range s[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// scanNumber returns the end of the JSON number at s[i]
// (-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?), false when there is
// none; integer reports that it has neither a fraction nor an exponent,
// exponent that it has an exponent.
func scanNumber(s []byte, i int) (end int, integer, exponent, ok bool) {
	integer = true
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(s, i+1)
	default:
		return i, false, false, false
	}
	if i < len(s) && s[i] == '.' {
		integer = false
		j := digits(s, i+1)
		if j == i+1 {
			return j, false, false, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		integer, exponent = false, true
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(s, i)
		if j == i {
			return j, false, false, false
		}
		i = j
	}
	return i, integer, exponent, true
}

func digits(s []byte, i int) int {
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}
