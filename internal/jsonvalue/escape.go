package jsonvalue

import (
	"encoding/binary"
	"unsafe"
)

// AppendString writes s as a JSON string. Unlike strconv.AppendQuote it
// escapes only what JSON requires (", \\ and control characters) and
// passes UTF-8 through. Most strings need no escaping: they are copied
// whole after a scan eight bytes at a time.
func AppendString(buf []byte, s []byte) []byte {
	buf = append(buf, '"')
	i := safePrefix(s)
	if i == len(s) {
		buf = append(buf, s...)
		return append(buf, '"')
	}
	return appendEscaped(buf, s, i)
}

// appendEscaped writes s, whose first i bytes need no escaping, escaping
// byte by byte from i on, and the closing quote.
func appendEscaped(buf []byte, s []byte, i int) []byte {
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

// AppendStringText is AppendString for a Go string; it reads s in place
// (AppendString never writes to its input), so quoting costs no copy.
func AppendStringText(buf []byte, s string) []byte {
	return AppendString(buf, unsafe.Slice(unsafe.StringData(s), len(s)))
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

// hasControl reports whether s has a byte below 0x20. A first pass suits
// text of bytes below 0xa0 (ASCII above all): subtracting 0x20 from each
// byte of a word sets no byte's high bit then, so the differences of all
// words are or-ed together and tested once at the end. The lowest byte
// below 0x20 in a word sets its high bit (its borrow), so a control
// character is never missed; a byte from 0xa0 on (much of UTF-8) sets one
// too, and then the exact test decides.
func hasControl(s []byte) bool {
	var acc uint64
	t := s
	// 64 bytes a round: moving t on costs as much as testing two words.
	for len(t) >= 64 {
		w := (*[64]byte)(t)
		acc |= (binary.LittleEndian.Uint64(w[:]) - 0x20*lsb) | (binary.LittleEndian.Uint64(w[8:]) - 0x20*lsb) |
			(binary.LittleEndian.Uint64(w[16:]) - 0x20*lsb) | (binary.LittleEndian.Uint64(w[24:]) - 0x20*lsb) |
			(binary.LittleEndian.Uint64(w[32:]) - 0x20*lsb) | (binary.LittleEndian.Uint64(w[40:]) - 0x20*lsb) |
			(binary.LittleEndian.Uint64(w[48:]) - 0x20*lsb) | (binary.LittleEndian.Uint64(w[56:]) - 0x20*lsb)
		t = t[64:]
	}
	for len(t) >= 8 {
		acc |= binary.LittleEndian.Uint64(t) - 0x20*lsb
		t = t[8:]
	}
	if acc&msb != 0 {
		return hasControlExact(s)
	}
	for _, c := range t {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// hasControlExact is hasControl for any text. A byte of the word x is
// below 0x20 when (x - 0x20*lsb) &^ x has its high bit (a borrow reports
// a byte wrongly only after one that is), so the words' tests are or-ed
// together and looked at once at the end.
func hasControlExact(s []byte) bool {
	var acc uint64
	for len(s) >= 32 {
		a := binary.LittleEndian.Uint64(s)
		b := binary.LittleEndian.Uint64(s[8:])
		c := binary.LittleEndian.Uint64(s[16:])
		d := binary.LittleEndian.Uint64(s[24:])
		acc |= (a-0x20*lsb)&^a | (b-0x20*lsb)&^b | (c-0x20*lsb)&^c | (d-0x20*lsb)&^d
		s = s[32:]
	}
	for len(s) >= 8 {
		x := binary.LittleEndian.Uint64(s)
		acc |= (x - 0x20*lsb) &^ x
		s = s[8:]
	}
	for _, c := range s {
		if c < 0x20 {
			return true
		}
	}
	return acc&msb != 0
}

const hexDigits = "0123456789abcdef"
