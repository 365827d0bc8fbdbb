package limits

import (
	"fmt"
	"strings"
	"testing"
)

// TestRunLimitsAfterMergeWork: the merged counts of each operation whose
// aliases pass MaxAliases before merging are walked only once the whole
// document's merge work is within MaxFieldMerges. Before, a document of
// 900 operations spreading one fragment of 230 aliases made 900 merged
// walks (a merger each) and was then refused for its merge work: 15 ms of
// CPU per 48 KiB request (BenchmarkHostileDocuments/
// operations_sharing_a_fragment). The refusal is the same; the work is
// what the merge count costs.
func TestRunLimitsAfterMergeWork(t *testing.T) {
	var b strings.Builder
	for i := range 900 {
		fmt.Fprintf(&b, "query Q%d { me { ...F } } ", i)
	}
	b.WriteString("fragment F on User {")
	for i := range 230 {
		fmt.Fprintf(&b, " a%d: id", i)
	}
	b.WriteString(" }")
	s := DefaultStatic()
	doc, err := s.Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CheckOperations(doc)
	if e, ok := err.(*Error); !ok || e.Code != CodeMaxFieldMerges {
		t.Fatalf("CheckOperations: %v, want %s", err, CodeMaxFieldMerges)
	}
	allocs := testing.AllocsPerRun(3, func() { _, _ = s.CheckOperations(doc) })
	// 2,075 now (the walk of each operation's counts), 20,092 before.
	if allocs > 5000 {
		t.Errorf("%.0f allocations to refuse the document: merged walks of its operations before its merge count", allocs)
	}
}
