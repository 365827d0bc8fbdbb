package limits

import (
	"fmt"
	"strings"
	"testing"
)

// aliasFragment is a fragment on T with n distinct aliases of x.
func aliasFragment(name string, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "fragment %s on T {", name)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " a%d: x", i)
	}
	b.WriteString(" }")
	return b.String()
}

// TestMergedAliasesDefault: under the production defaults (30 aliases),
// documents that repeat aliases a merge makes one pass, and documents
// whose aliases make more resolutions are refused, with a message that
// says which count was compared.
func TestMergedAliasesDefault(t *testing.T) {
	s := DefaultStatic()
	tests := []struct {
		name    string
		query   string
		code    string
		message string
	}{
		{"a fragment of 20 aliases spread at one position from three places",
			"{me{...F ...F ... on T{...F}}} " + aliasFragment("F", 20), "", ""},
		{"two operations spreading one fragment of 25 aliases",
			"query A {me{...F}} query B {me{...F ...F}} " + aliasFragment("F", 25), "", ""},
		{"one fragment of 20 aliases under two parents",
			"{me{...F} you{...F}} " + aliasFragment("F", 20), CodeMaxAliasesExceeded, "aliased response keys after merging fields"},
		{"one fragment of 16 aliases under two aliased parents of one field",
			"{a:me{...F} b:me{...F}} " + aliasFragment("F", 16), CodeMaxAliasesExceeded, "aliased response keys"},
		{"31 distinct aliases at one position", "{me{...F}} " + aliasFragment("F", 31), CodeMaxAliasesExceeded, ""},
		{"31 aliases of __typename", "{me{" + strings.Repeat("t: __typename ", 31) + "}}", "", ""},
		{"repeated aliases too many to merge within the merge limit",
			"{me{" + strings.Repeat("a: x ", 300) + "}}", CodeMaxAliasesExceeded, "too many fields to merge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.run(tt.query)
			assertCode(t, err, tt.code)
			if tt.message != "" && !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("message %q does not contain %q", err.Error(), tt.message)
			}
		})
	}
}

// TestMergedAliasesBounded: a document whose merged tree is large costs
// the merged walk no more than its step limit, and a document of many
// distinct aliases stops it at the alias limit.
func TestMergedAliasesBounded(t *testing.T) {
	s := DefaultStatic()
	doc, err := s.Parse("{me{" + strings.Repeat("a: x ", 2000) + "}}")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.mergedAliases(doc, doc.Operations[0]); ok {
		t.Fatal("2000 fields at one position merged within the step limit")
	}
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 2000; i++ {
		fmt.Fprintf(&b, "a%d: me{id} ", i)
	}
	b.WriteString("}")
	doc, err = s.Parse(b.String())
	if err != nil {
		t.Fatal(err)
	}
	n, ok := s.mergedAliases(doc, doc.Operations[0])
	if !ok || n != int64(s.MaxAliases)+1 {
		t.Fatalf("mergedAliases = %d, %v; want it to stop at %d", n, ok, s.MaxAliases+1)
	}
}
