package executor

import (
	"strings"
	"testing"
)

func TestParserClass(t *testing.T) {
	for _, tc := range []struct {
		n, want int
	}{
		{0, 0}, {4 << 10, 0}, {4<<10 + 1, 1}, {32 << 10, 1}, {100 << 10, 2}, {256 << 10, 2}, {256<<10 + 1, -1}, {64 << 20, -1},
	} {
		if got := parserClass(tc.n); got != tc.want {
			t.Errorf("parserClass(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

// TestParseOwnsParsers checks that every document an execution parses
// keeps its own parser (values of earlier documents stay intact) and that
// release hands back only pooled parsers, each to its size's pool.
func TestParseOwnsParsers(t *testing.T) {
	e := &execution{}
	big := `{"s":"` + strings.Repeat("x", 300<<10) + `"}`
	docs := []string{`{"a":1}`, `{"b":"` + strings.Repeat("y", 10<<10) + `"}`, big, `{"a":2}`}
	var firsts []string
	for _, d := range docs {
		v, err := e.parse([]byte(d))
		if err != nil {
			t.Fatal(err)
		}
		firsts = append(firsts, v.String()[:6])
	}
	for i, d := range docs {
		if firsts[i] != d[:6] {
			t.Errorf("document %d starts %q after later parses, want %q", i, firsts[i], d[:6])
		}
	}
	want := []int{0, 1, -1, 0}
	if len(e.parsers) != len(want) {
		t.Fatalf("%d parsers, want %d", len(e.parsers), len(want))
	}
	for i, pp := range e.parsers {
		if pp.class != want[i] {
			t.Errorf("parser %d: class %d, want %d", i, pp.class, want[i])
		}
		if i > 0 && pp.p == e.parsers[i-1].p {
			t.Errorf("parser %d shared with the one before", i)
		}
	}
	e.release()
	if e.parsers != nil {
		t.Error("release kept the parsers")
	}
}
