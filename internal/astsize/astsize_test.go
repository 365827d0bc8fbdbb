package astsize_test

import (
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	gateway "github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/astsize"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// TestDocumentTracksMemory: what the document cache charges an entry (the
// query's length plus Document) is within a factor of two of the heap a
// parsed and validated document keeps alive, for the shapes that hold
// the most nodes a byte. Charged by its length alone, a document held up
// to 76 times its charge.
func TestDocumentTracksMemory(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	repeat := func(n int, format string) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(format, i)
		}
		return strings.Join(parts, " ")
	}
	cases := []struct{ name, query string }{
		{"fields", "{ me { " + strings.Repeat("id ", 300) + "} }"},
		{"arguments", "{ " + repeat(30, "t%d: topProducts(first: 1) { upc reviews { body } }") + " }"},
		{"unused fragments", "{ me { id } } " + repeat(1400, "fragment F%d on User { id }")},
		{"directives", "{ me { " + strings.Repeat("id @include(if: true) ", 300) + "} }"},
		{"variables", "query(" + repeat(1400, "$v%d: [Int] = [1]") + ") { me { id } }"},
		{"list literal", `{ search(term: [` + strings.Repeat(`"a", `, 4000) + `]) { __typename } }`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Enough documents for some megabytes, well above what the
			// test's other goroutines allocate meanwhile.
			n := max(20, 8<<20/(64*len(c.query)))
			docs := make([]*ast.QueryDocument, n)
			var charged int64
			var before, after goruntime.MemStats
			goruntime.GC()
			goruntime.ReadMemStats(&before)
			for i := range docs {
				// A copy of the text for each, as each request brings its own.
				q := strings.Clone(fmt.Sprintf("# %d\n", i) + c.query)
				doc, err := limits.DefaultStatic().Parse(q)
				if err != nil {
					t.Fatal(err)
				}
				_ = validator.Validate(sg.API, doc)
				docs[i] = doc
				charged += int64(len(q)) + astsize.Document(doc)
			}
			goruntime.GC()
			goruntime.ReadMemStats(&after)
			held := (int64(after.HeapAlloc) - int64(before.HeapAlloc)) / int64(n)
			charged /= int64(n)
			t.Logf("held %d bytes a document, charged %d", held, charged)
			if charged < held/2 || charged > 2*held+4096 {
				t.Errorf("charged %d bytes a document; it holds %d", charged, held)
			}
			goruntime.KeepAlive(docs)
		})
	}
}
