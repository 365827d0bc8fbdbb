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

// typenames is n distinct aliases of __typename, prefix0 to prefix(n-1).
func typenames(prefix string, n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, " %s%d: __typename", prefix, i)
	}
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
		// Distinct aliases of __typename: each is a key rendered in every
		// object of its position (before, 1,400 of them passed).
		{"30 distinct aliases of __typename at one position", "{me{" + typenames("t", 30) + "}}", "", ""},
		{"30 distinct aliases of __typename at each of three positions",
			"{me{" + typenames("t", 30) + "} you{" + typenames("t", 30) + " me{" + typenames("u", 30) + "}}}", "", ""},
		{"31 distinct aliases of __typename at one position", "{me{" + typenames("t", 31) + "}}", CodeMaxAliasesExceeded, "aliases of __typename"},
		{"1,400 distinct aliases of __typename under a list", "{me{" + typenames("t", 1400) + "}}", CodeMaxAliasesExceeded, "aliases of __typename"},
		{"16 and 16 from two fragments meeting at one position",
			"{me{... on T{" + typenames("a", 16) + "} ...F}} fragment F on T{" + typenames("b", 16) + "}", CodeMaxAliasesExceeded, "aliases of __typename"},
		{"31 distinct aliases of __typename that never run", "{me{... @skip(if: true) {" + typenames("t", 31) + "}}}", "", ""},
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

// TestCheckOperations: the alias and root-field limits come back per
// operation; the limits on the whole document still refuse it.
func TestCheckOperations(t *testing.T) {
	s := Static{MaxDepth: 4, MaxAliases: 3, MaxFields: 20, MaxRootFields: 3}
	tests := []struct {
		name  string
		query string
		over  map[string]string // operation name -> code
		code  string            // the document's error
	}{
		{"none over", "query A {me{a:x}} query B {me{b:x}}", nil, ""},
		{"one over aliases", "query A {me{a:x}} query B {me{a:x b:x c:x d:x}}", map[string]string{"B": CodeMaxAliasesExceeded}, ""},
		{"one over root fields", "query A {a b c d} query B {me{a:x}}", map[string]string{"A": CodeMaxRootFieldsExceeded}, ""},
		{"both over", "query A {a b c d} query B {me{a:x b:x c:x d:x}}", map[string]string{"A": CodeMaxRootFieldsExceeded, "B": CodeMaxAliasesExceeded}, ""},
		{"depth refuses the document", "query A {me{a:x b:x c:x d:x}} query B {a{b{c{d{e}}}}}", nil, CodeMaxDepthExceeded},
		{"fields refuse the document", "query A {me{a:x b:x c:x d:x}} query B {a{" + strings.Repeat("x ", 20) + "}}", nil, CodeMaxFieldsExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Static{}.Parse(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			ops, err := s.CheckOperations(doc)
			assertCode(t, err, tt.code)
			if err != nil {
				return
			}
			if len(ops) != len(tt.over) {
				t.Fatalf("%d operations over a limit, want %d: %v", len(ops), len(tt.over), ops)
			}
			for op, err := range ops {
				assertCode(t, err, tt.over[op.Name])
			}
			// Check refuses the document for any of them.
			if len(tt.over) > 0 && s.Check(doc) == nil {
				t.Fatal("Check passed a document with an operation over a limit")
			}
		})
	}
}
