package limits

import (
	"fmt"
	"strings"
	"testing"
)

// TestMaxValues: a document whose operations hold more argument values,
// fragments expanded in each, than valuesPerToken times MaxTokens is
// refused before validation walks them; documents that write their values
// once, or spread them a few times, pass.
func TestMaxValues(t *testing.T) {
	ops := func(n int, op string) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, op, i)
		}
		return b.String()
	}
	list := func(n int, item string) string { return "[" + strings.Repeat(item+" ", n) + "]" }
	for _, tc := range []struct {
		name, query string
		refused     bool
	}{
		{"one fragment of 3,000 variables spread by 1,400 operations (2.2 s of validation)",
			ops(1400, "query Q%d { ...F } ") + "fragment F on Query { f(l: " + list(3000, "$v") + ") { n } }", true},
		{"one fragment of 1,000 variables spread by 400 operations",
			ops(400, "query Q%d { ...F } ") + "fragment F on Query { f(l: " + list(1000, "$v") + ") { n } }", true},
		{"a fragment spread through another fragment, with conditions",
			ops(1000, "query Q%d { ...F } ") + "fragment F on Query { n @include(if: true) ...G @skip(if: false) } fragment G on Query { f(l: " + list(1000, "1") + ") { n } }", true},
		{"one fragment of 1,000 values spread by 20 operations", ops(20, "query Q%d { ...F } ") + "fragment F on Query { f(l: " + list(1000, "1") + ") { n } }", false},
		{"one list of 14,000 values", "{ f(l: " + list(14000, "1") + ") { n } }", false},
		{"a fragment spread at 30 positions", "{ " + ops(30, "a%d: f { ...F } ") + "} fragment F on Query { f(l: " + list(100, "1") + ") { n } }", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := DefaultStatic()
			doc, err := s.Parse(tc.query)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			_, err = s.CheckOperations(doc)
			refused := err != nil && strings.Contains(err.Error(), "argument values after fragment expansion")
			if refused != tc.refused {
				t.Fatalf("refused=%v, want %v (err %v)", refused, tc.refused, err)
			}
			if refused {
				if e, ok := err.(*Error); !ok || e.Code != CodeMaxTokensExceeded || e.Status != 400 {
					t.Errorf("error %#v, want %s with status 400", err, CodeMaxTokensExceeded)
				}
			}
		})
	}
}
