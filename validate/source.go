package validate

import (
	"sort"
	"unicode/utf8"
)

// source reads a document's text at gqlparser's positions, whose Start
// counts runes from the document's start, not bytes: a document with a
// non-ASCII character (in a string, a comment) has every later token's
// Start before its byte offset.
type source struct {
	in    string
	ascii bool
	// marks[k] is the byte offset of rune k*markEvery (not ascii only).
	marks []int
	// lines are the rune offsets of each line's start (built on first use
	// by lineColumn).
	lines []int
}

// markEvery is how many runes apart source.marks are: a byte offset
// costs at most this many runes decoded.
const markEvery = 256

// newSource indexes in: one pass over its bytes.
func newSource(in string) *source {
	s := &source{in: in, ascii: true}
	for i := 0; i < len(in); i++ {
		if in[i] >= utf8.RuneSelf {
			s.ascii = false
			break
		}
	}
	if s.ascii {
		return s
	}
	r := 0
	for i := range in { // i is each rune's byte offset
		if r%markEvery == 0 {
			s.marks = append(s.marks, i)
		}
		r++
	}
	return s
}

// byteOffset is the byte offset of rune number r, and false past the end.
func (s *source) byteOffset(r int) (int, bool) {
	if r < 0 {
		return 0, false
	}
	if s.ascii {
		return r, r <= len(s.in)
	}
	k := r / markEvery
	if k >= len(s.marks) {
		return len(s.in), r == utf8.RuneCountInString(s.in)
	}
	b := s.marks[k]
	for n := r - k*markEvery; n > 0; n-- {
		if b >= len(s.in) {
			return len(s.in), n == 0
		}
		_, w := utf8.DecodeRuneInString(s.in[b:])
		b += w
	}
	return b, true
}

// lineColumn is the line and column (both from 1, the column in runes, as
// gqlparser counts them) of rune number r. A line ends at "\n", "\r\n" or
// "\r", as graphql-js and gqlparser read them.
func (s *source) lineColumn(r int) (line, column int) {
	if s.lines == nil {
		s.lines = []int{0}
		n := 0
		for i, c := range s.in {
			n++ // runes up to and including c
			if c == '\n' || c == '\r' && (i+1 >= len(s.in) || s.in[i+1] != '\n') {
				s.lines = append(s.lines, n)
			}
		}
	}
	l := sort.Search(len(s.lines), func(i int) bool { return s.lines[i] > r }) - 1
	return l + 1, r - s.lines[l] + 1
}
