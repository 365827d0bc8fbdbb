package planner_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/planner"
)

// TestPlanContextsManyReaders is an attacker's document: hundreds of
// aliased positions whose contextual field reads a context from one of
// two ancestor types, with the field itself aliased many times at each.
// Planning stays bounded: at most a fetch per position and subgraph.
func TestPlanContextsManyReaders(t *testing.T) {
	const n = 150
	var q strings.Builder
	q.WriteString("{")
	for i := range n {
		s := strconv.Itoa(i)
		q.WriteString(" s" + s + ": shops { books { a: label b: label(short: true) } featured { books { c: label d: label(short: false) } } }")
		q.WriteString(" o" + s + ": owners { books { label } }")
	}
	q.WriteString(" }")
	start := time.Now()
	p := corpusPlan(t, "context_multi", q.String(), planner.Options{})
	took := time.Since(start)
	fetches := corpusFetches(p.Root)
	if len(fetches) > 8*n {
		t.Errorf("%d fetches for %d positions", len(fetches), 4*n)
	}
	if got := len(contextInputs(p)); got == 0 || got > 8*n {
		t.Errorf("%d context inputs for %d positions", got, 4*n)
	}
	t.Logf("%d fetches, %d context inputs, planned in %v", len(fetches), len(contextInputs(p)), took)
}
