package limits

import (
	"strings"
	"testing"
)

// benchQuery is a realistic 100 KB document: many fields with arguments,
// strings, block strings and comments.
var benchQuery = func() string {
	var b strings.Builder
	b.WriteString("# a large but ordinary document\nquery Big($first: Int = 10) {\n")
	for b.Len() < 100<<10 {
		b.WriteString(`  topProducts(first: $first, filter: {name: "a {[( string", tags: ["x", "y"]}) { upc name price reviews { id body author { id name } } }` + "\n")
		b.WriteString(`  # comment with { braces [\n  me { id name description: name @include(if: true) note: id @deprecated(reason: """block "quoted" {""") }` + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}()

func BenchmarkPrescan(b *testing.B) {
	s := DefaultStatic()
	b.SetBytes(int64(len(benchQuery)))
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Prescan(benchQuery); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPrescanDeep(b *testing.B) {
	q := strings.Repeat("{a", 600000) + strings.Repeat("}", 600000)
	s := DefaultStatic()
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Prescan(q); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkCheckFragmentBomb(b *testing.B) {
	s := DefaultStatic()
	doc, err := s.Parse(fragmentBomb(30))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Check(doc); err == nil {
			b.Fatal("accepted")
		}
	}
}

func BenchmarkCheckOrdinary(b *testing.B) {
	s := DefaultStatic()
	doc, err := Static{}.Parse("query Q($n: Int) { me { id name reviews { id body product { upc name price } } } topProducts(first: $n) { ...P } } fragment P on Product { upc name price reviews { id author { id name } } }")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Check(doc); err != nil {
			b.Fatal(err)
		}
	}
}
