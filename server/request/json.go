package request

import (
	"bytes"
	"encoding/binary"
	"hash/maphash"
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
		if ks := &s.keys[depth-1]; !s.anyKeys && !ks.add(s.data, key, keyStart+1, s.pos-1, escaped) {
			if ks.full {
				return s.fail("object keys past 2 GiB")
			}
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

// keySet remembers the keys of one object: a list while it is small, then
// also an open-addressing table of the list's indexes, so that duplicate
// detection stays linear. The list holds offsets, not slices (nothing for
// the garbage collector to scan), and the table is kept across the
// sibling objects one keySet serves, emptied in O(1) by a generation
// stamp. Before, a map was made for each object past 16 keys and dropped
// at its end: a 2 MiB body of objects of 17 keys allocated 42 MB.
type keySet struct {
	// spans holds each key as start<<32 | end, offsets in the scanned
	// data, or in esc (the key unescaped) when bit 63 is set.
	spans []uint64
	esc   []byte
	// slots holds gen<<48 | tag<<32 | index+1 of a key of spans at the
	// position its hash probes to, tag being 16 more bits of the hash
	// (most probes that miss compare no bytes); a slot of another
	// generation is empty.
	slots []uint64
	gen   uint64
	// full is set when add refused a key it could not hold (span), not
	// a repeated one.
	full bool
}

const (
	// keySetLinear is the most keys an object may have before its keys
	// are also put in the table: up to it a scan is cheaper than hashing.
	keySetLinear = 8
	inEsc        = 1 << 63
	maxGen       = 1<<16 - 1
	// maxSpanOffset is the largest offset a span holds (31 bits: the
	// start's top bit is inEsc).
	maxSpanOffset = 1<<31 - 1
)

// keySeed seeds the hash of object keys: a client cannot choose keys that
// collide (hash flooding) without knowing it.
var keySeed = maphash.MakeSeed()

func (ks *keySet) reset() {
	ks.full = false
	ks.spans = ks.spans[:0]
	ks.esc = ks.esc[:0]
	if len(ks.slots) > 0 {
		ks.nextGen()
	}
}

// nextGen empties the table.
func (ks *keySet) nextGen() {
	if ks.gen++; ks.gen > maxGen {
		clear(ks.slots)
		ks.gen = 1
	}
}

// key is the key of span sp.
func (ks *keySet) key(data []byte, sp uint64) []byte {
	start, end := uint32(sp>>32)&^(inEsc>>32), uint32(sp)
	if sp&inEsc != 0 {
		return ks.esc[start:end]
	}
	return data[start:end]
}

// add records the key data[start:end] (unescaped: key, when escaped) and
// reports whether it was new.
func (ks *keySet) add(data, key []byte, start, end int, escaped bool) bool {
	n := len(ks.spans)
	if n < keySetLinear {
		for _, sp := range ks.spans {
			if bytes.Equal(ks.key(data, sp), key) {
				return false
			}
		}
		return ks.push(key, start, end, escaped)
	}
	if n == keySetLinear || 2*(n+1) > len(ks.slots) {
		ks.rehash(data, n+1)
	}
	mask := uint64(len(ks.slots) - 1)
	h := maphash.Bytes(keySeed, key)
	tag := h >> 48
	for i := h & mask; ; i = (i + 1) & mask {
		slot := ks.slots[i]
		if slot>>48 != ks.gen {
			if !ks.push(key, start, end, escaped) {
				return false
			}
			ks.slots[i] = ks.gen<<48 | tag<<32 | uint64(n+1)
			return true
		}
		if (slot>>32)&0xffff == tag && bytes.Equal(ks.key(data, ks.spans[uint32(slot)-1]), key) {
			return false
		}
	}
}

// span is the entry of spans for a key; an escaped key is copied to esc,
// and so is one whose offsets do not fit a span's 31 bits (a key more
// than 2 GiB into a body that server.max_body_bytes allows): its start
// would set inEsc. ok is false when esc itself would pass them (an
// object with 2 GiB of such keys).
func (ks *keySet) span(key []byte, start, end int, escaped bool) (sp uint64, ok bool) {
	if !escaped && end <= maxSpanOffset {
		return uint64(start)<<32 | uint64(end), true
	}
	from := len(ks.esc)
	if from+len(key) > maxSpanOffset {
		return 0, false
	}
	ks.esc = append(ks.esc, key...)
	return inEsc | uint64(from)<<32 | uint64(len(ks.esc)), true
}

// push appends key's span; false (and full set) when it has none.
func (ks *keySet) push(key []byte, start, end int, escaped bool) bool {
	sp, ok := ks.span(key, start, end, escaped)
	if !ok {
		ks.full = true
		return false
	}
	ks.spans = append(ks.spans, sp)
	return true
}

// rehash puts the keys of spans in a table of at least twice want slots
// (a table large enough already is only emptied).
func (ks *keySet) rehash(data []byte, want int) {
	size := max(len(ks.slots), 32)
	for size < 2*want {
		size *= 2
	}
	if size > len(ks.slots) {
		ks.slots = make([]uint64, size)
		ks.gen = 1
	} else {
		ks.nextGen()
	}
	mask := uint64(size - 1)
	for j, sp := range ks.spans {
		h := maphash.Bytes(keySeed, ks.key(data, sp))
		i := h & mask
		for ks.slots[i]>>48 == ks.gen {
			i = (i + 1) & mask
		}
		ks.slots[i] = ks.gen<<48 | (h>>48)<<32 | uint64(j+1)
	}
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
