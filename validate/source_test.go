package validate

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestSourceOffsets: byteOffset maps a rune offset (gqlparser's Start) to
// its byte offset, lineColumn to the line and the column in runes, on
// ASCII and wide texts, across the marks and every kind of line end.
func TestSourceOffsets(t *testing.T) {
	long := strings.Repeat("é", 3*markEvery+7) + "x"
	for _, tc := range []struct {
		name, in   string
		rune       int
		byteOff    int
		line, col  int
		pastTheEnd bool
	}{
		{name: "ascii", in: "ab\ncd", rune: 4, byteOff: 4, line: 2, col: 2},
		{name: "ascii end", in: "ab", rune: 2, byteOff: 2, line: 1, col: 3},
		{name: "ascii past the end", in: "ab", rune: 3, pastTheEnd: true},
		{name: "wide", in: "é\n日本x", rune: 4, byteOff: 9, line: 2, col: 3},
		{name: "wide past the end", in: "éé", rune: 3, pastTheEnd: true},
		{name: "past several marks", in: long, rune: 3*markEvery + 7, byteOff: 2 * (3*markEvery + 7), line: 1, col: 3*markEvery + 8},
		{name: "on a mark", in: long, rune: 2 * markEvery, byteOff: 4 * markEvery, line: 1, col: 2*markEvery + 1},
		{name: "CRLF is one line end", in: "a\r\nb\rc\nd", rune: 7, byteOff: 7, line: 4, col: 1},
		{name: "after a lone CR", in: "é\rb", rune: 2, byteOff: 3, line: 2, col: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSource(tc.in)
			b, ok := s.byteOffset(tc.rune)
			if ok == tc.pastTheEnd {
				t.Fatalf("byteOffset(%d) ok=%v", tc.rune, ok)
			}
			if tc.pastTheEnd {
				return
			}
			if b != tc.byteOff {
				t.Errorf("byteOffset(%d) = %d, want %d", tc.rune, b, tc.byteOff)
			}
			if utf8.RuneCountInString(tc.in[:b]) != tc.rune {
				t.Errorf("byte %d is not rune %d", b, tc.rune)
			}
			if line, col := s.lineColumn(tc.rune); line != tc.line || col != tc.col {
				t.Errorf("lineColumn(%d) = %d:%d, want %d:%d", tc.rune, line, col, tc.line, tc.col)
			}
		})
	}
}
