package request

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/fedgate/gateway/limits"
)

// maxJSONDepth caps the nesting of arrays and objects in a body. Real
// variables nest a few levels; the decoder recurses once per level.
const maxJSONDepth = 128

// kind is the type of a JSON value.
type kind uint8

const (
	kindNull kind = iota + 1
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

// scanner is a strict RFC 8259 JSON scanner over one buffer. It validates
// values without building them; the caller slices raw values out of data.
type scanner struct {
	data []byte
	pos  int
	keys []keySet // one per depth, reused across sibling objects
	// anyKeys skips the duplicate key check (Members).
	anyKeys bool
}

// fail returns a BAD_REQUEST error naming the offset, never echoing input.
func (s *scanner) fail(msg string) *limits.Error {
	return badRequest("invalid JSON at byte %d: %s", s.pos, msg)
}

func (s *scanner) ws() {
	for s.pos < len(s.data) {
		switch s.data[s.pos] {
		case ' ', '\t', '\n', '\r':
			s.pos++
		default:
			return
		}
	}
}

// value checks the value at s.pos (after whitespace) and moves past it.
// depth is the number of arrays and objects enclosing it.
func (s *scanner) value(depth int) (kind, error) {
	s.ws()
	if s.pos >= len(s.data) {
		return 0, s.fail("unexpected end of input")
	}
	switch c := s.data[s.pos]; c {
	case '{':
		return kindObject, s.object(depth, nil)
	case '[':
		return kindArray, s.array(depth)
	case '"':
		_, err := s.str()
		return kindString, err
	case 't':
		return kindBool, s.literal("true")
	case 'f':
		return kindBool, s.literal("false")
	case 'n':
		return kindNull, s.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			return kindNumber, s.number()
		}
		return 0, s.fail("unexpected character")
	}
}

func (s *scanner) literal(lit string) error {
	if !bytes.HasPrefix(s.data[s.pos:], []byte(lit)) {
		return s.fail("invalid literal")
	}
	s.pos += len(lit)
	return nil
}

// number checks -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; what
// follows it is checked by the caller.
func (s *scanner) number() error {
	if s.data[s.pos] == '-' {
		s.pos++
	}
	switch {
	case s.pos < len(s.data) && s.data[s.pos] == '0':
		s.pos++
	case s.digits() == 0:
		return s.fail("invalid number")
	}
	if s.pos < len(s.data) && s.data[s.pos] == '.' {
		s.pos++
		if s.digits() == 0 {
			return s.fail("invalid number")
		}
	}
	if s.pos < len(s.data) && (s.data[s.pos] == 'e' || s.data[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.data) && (s.data[s.pos] == '+' || s.data[s.pos] == '-') {
			s.pos++
		}
		if s.digits() == 0 {
			return s.fail("invalid number")
		}
	}
	return nil
}

func (s *scanner) digits() int {
	start := s.pos
	for s.pos < len(s.data) && s.data[s.pos] >= '0' && s.data[s.pos] <= '9' {
		s.pos++
	}
	return s.pos - start
}

// str checks the string at s.pos and moves past it. It reports whether the
// string has escapes. Invalid UTF-8, control characters, unknown escapes
// and unpaired surrogate escapes are errors.
func (s *scanner) str() (escaped bool, err error) {
	s.pos++ // opening quote
	for s.pos < len(s.data) {
		// Runs of printable ASCII other than '"' and '\\' (most of a
		// query) are skipped eight bytes at a time, and the plain bytes
		// of the word that ends one at once (a query's lines are short
		// runs between \n escapes).
		for len(s.data)-s.pos >= 8 {
			n := plainRun(binary.LittleEndian.Uint64(s.data[s.pos:]))
			s.pos += n
			if n < 8 {
				break
			}
		}
		if s.pos >= len(s.data) {
			break
		}
		c := s.data[s.pos]
		switch {
		case c == '"':
			s.pos++
			return escaped, nil
		case c == '\\':
			escaped = true
			if err := s.escape(); err != nil {
				return escaped, err
			}
		case c < 0x20:
			return escaped, s.fail("control character in string")
		case c < utf8.RuneSelf:
			s.pos++
		default:
			r, size := utf8.DecodeRune(s.data[s.pos:])
			if r == utf8.RuneError && size == 1 {
				return escaped, s.fail("invalid UTF-8")
			}
			s.pos += size
		}
	}
	return escaped, s.fail("unterminated string")
}

// Word-at-a-time byte tests (see "Bit Twiddling Hacks", haszero/hasless).
const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// plainASCII reports whether every byte of the word x is printable ASCII
// (0x20-0x7f) other than '"' and '\\'. Subtracting 0x20 from each byte
// sets a byte's high bit exactly when the byte, or one below it, is less
// than 0x20; a byte equal to '"' or '\\' is a zero byte after the XOR, which
// the subtraction of 1 turns to 0xff; bytes from 0x80 have it already. A
// borrow from a lower byte can set a high bit only when that lower byte is
// caught itself, so the test is exact.
func plainASCII(x uint64) bool {
	return plainMask(x) == 0
}

// plainMask has the high bit of each byte of the word x that is not
// plainASCII, and may have it of bytes above such a byte (a borrow): the
// lowest bit set is always a byte that is not.
func plainMask(x uint64) uint64 {
	quote := x ^ ('"' * lsb)
	backslash := x ^ ('\\' * lsb)
	return ((x - 0x20*lsb) | (quote - lsb) | (backslash - lsb) | x) & msb
}

// plainRun is the number of leading bytes of the word x (little-endian)
// that plainASCII allows: 8 when all are.
func plainRun(x uint64) int {
	return bits.TrailingZeros64(plainMask(x)) >> 3
}

// escape checks the escape sequence at s.pos and moves past it.
func (s *scanner) escape() error {
	if s.pos+1 >= len(s.data) {
		return s.fail("unterminated string")
	}
	switch s.data[s.pos+1] {
	case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
		s.pos += 2
		return nil
	case 'u':
		r, ok := hex4(s.data[s.pos+2:])
		if !ok {
			return s.fail("invalid \\u escape")
		}
		s.pos += 6
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return s.fail("unpaired surrogate escape")
		case r >= 0xD800 && r <= 0xDBFF:
			rest := s.data[s.pos:]
			if len(rest) < 2 || rest[0] != '\\' || rest[1] != 'u' {
				return s.fail("unpaired surrogate escape")
			}
			r2, ok := hex4(rest[2:])
			if !ok || r2 < 0xDC00 || r2 > 0xDFFF {
				return s.fail("unpaired surrogate escape")
			}
			s.pos += 6
		}
		return nil
	}
	return s.fail("invalid escape")
}

// hex4 decodes four hex digits at the start of b.
func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// unquote decodes a string literal that str has accepted.
func unquote(raw []byte) string {
	raw = raw[1 : len(raw)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return string(raw)
	}
	// Decoded on the stack first when it fits: the string is the only
	// copy on the heap.
	var tmp [1024]byte
	return string(appendUnescaped(tmp[:0], raw))
}

// unescape decodes the contents of a string literal that str has accepted.
func unescape(raw []byte) []byte {
	return appendUnescaped(make([]byte, 0, len(raw)), raw)
}

// appendUnescaped appends the decoded contents of a string literal that
// str has accepted to out: the runs between escapes are copied whole.
func appendUnescaped(out, raw []byte) []byte {
	for i := 0; i < len(raw); {
		n := bytes.IndexByte(raw[i:], '\\')
		if n < 0 {
			return append(out, raw[i:]...)
		}
		out = append(out, raw[i:i+n]...)
		i += n
		switch e := raw[i+1]; e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, _ := hex4(raw[i+2:])
			if utf16.IsSurrogate(r) {
				r2, _ := hex4(raw[i+8:])
				r = utf16.DecodeRune(r, r2)
				i += 6
			}
			out = utf8.AppendRune(out, r)
			i += 6
			continue
		default: // " \ /
			out = append(out, e)
		}
		i += 2
	}
	return out
}

func (s *scanner) array(depth int) error {
	if depth++; depth > maxJSONDepth {
		return s.fail("nesting too deep")
	}
	s.pos++ // [
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == ']' {
		s.pos++
		return nil
	}
	for {
		if _, err := s.value(depth); err != nil {
			return err
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of input")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case ']':
			s.pos++
			return nil
		default:
			return s.fail("expected , or ]")
		}
	}
}

// object checks the object at s.pos and moves past it, calling fn (if not
// nil) with each decoded key, the kind of its value and the offsets of the
// raw value in data. A key that appears twice is an error.
func (s *scanner) object(depth int, fn func(key []byte, k kind, start, end int) error) error {
	if depth++; depth > maxJSONDepth {
		return s.fail("nesting too deep")
	}
	s.pos++ // {
	s.ws()
	if s.pos < len(s.data) && s.data[s.pos] == '}' {
		s.pos++
		return nil
	}
	for len(s.keys) < depth {
		s.keys = append(s.keys, keySet{})
	}
	s.keys[depth-1].reset()
	for {
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != '"' {
			return s.fail("expected an object key")
		}
		keyStart := s.pos
		escaped, err := s.str()
		if err != nil {
			return err
		}
		key := s.data[keyStart+1 : s.pos-1]
		if escaped {
			key = unescape(key)
		}
		// s.keys may grow while the value is scanned; index it afresh.
		if !s.anyKeys && !s.keys[depth-1].add(key) {
			return s.fail("duplicate object key")
		}
		s.ws()
		if s.pos >= len(s.data) || s.data[s.pos] != ':' {
			return s.fail("expected :")
		}
		s.pos++
		s.ws()
		start := s.pos
		k, err := s.value(depth)
		if err != nil {
			return err
		}
		if fn != nil {
			if err := fn(key, k, start, s.pos); err != nil {
				return err
			}
		}
		s.ws()
		if s.pos >= len(s.data) {
			return s.fail("unexpected end of input")
		}
		switch s.data[s.pos] {
		case ',':
			s.pos++
		case '}':
			s.pos++
			return nil
		default:
			return s.fail("expected , or }")
		}
	}
}

// keySet remembers the keys of one object: a list while it is small, a map
// once it is not, so duplicate detection stays linear.
type keySet struct {
	list [][]byte
	m    map[string]struct{}
}

func (ks *keySet) reset() {
	clear(ks.list)
	ks.list = ks.list[:0]
	ks.m = nil
}

// add records key and reports whether it was new.
func (ks *keySet) add(key []byte) bool {
	if ks.m != nil {
		if _, dup := ks.m[string(key)]; dup {
			return false
		}
		ks.m[string(key)] = struct{}{}
		return true
	}
	for _, k := range ks.list {
		if bytes.Equal(k, key) {
			return false
		}
	}
	ks.list = append(ks.list, key)
	if len(ks.list) > 16 {
		ks.m = make(map[string]struct{}, 2*len(ks.list))
		for _, k := range ks.list {
			ks.m[string(k)] = struct{}{}
		}
	}
	return true
}

// Members calls fn with the key (unescaped) and the raw value of each
// member of the JSON object data, in order, without decoding the values;
// data "null" has none. Anything else is an error. It lets a caller
// decode only the members it needs: the variables an operation declares,
// not the thousands a client may add beside them. Duplicate keys are
// not looked for (a request body's were refused by Decode; the check
// was most of the cost of a 2 MiB object of short members): fn sees
// each.
func Members(data []byte, fn func(key, value []byte) error) error {
	s := scanner{data: data, anyKeys: true}
	s.ws()
	switch {
	case s.pos < len(data) && data[s.pos] == '{':
		if err := s.object(0, func(key []byte, _ kind, start, end int) error { return fn(key, data[start:end]) }); err != nil {
			return err
		}
	case bytes.HasPrefix(data[s.pos:], []byte("null")):
		s.pos += len("null")
	default:
		return s.fail("expected an object")
	}
	s.ws()
	if s.pos != len(data) {
		return s.fail("unexpected data after the object")
	}
	return nil
}
