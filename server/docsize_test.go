package server

import (
	"context"
	"crypto/sha256"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	gateway "github.com/fedgate/gateway"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// TestDocSizeTracksMemory: what the document cache charges an entry (the
// query's length plus docSize) is within a factor of two of the heap a
// parsed and validated document keeps alive, for the shapes that hold
// the most nodes a byte. Charged by its length alone, a document held up
// to 76 times its charge.
func TestDocSizeTracksMemory(t *testing.T) {
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
				charged += int64(len(q)) + docSize(doc)
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

// TestCachesBoundTheirMemory: the document and plan caches, bounded at 4
// MiB each here, hold at most about that much of parsed documents and
// plans however many distinct operations arrive. Each of the 100
// operations is 1.3 KB and plans to 320 KB (a fragment of 25 fields
// spread under 30 aliases); charged 1 KiB a fetch, the plan cache kept
// every one of them (32 MB; in `gateway demo`, 4,000 of them grew the
// heap by 1.5 GB, and the 64 MiB cache would have held 3 GB).
func TestCachesBoundTheirMemory(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(sg, nil, DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const bound = 4 << 20
	s.cacheMaxCost = bound
	if err := s.Swap(sg, nil); err != nil {
		t.Fatal(err)
	}
	rt := s.rt.Load()
	const fragment = `fragment P on Product { upc name price weight inStock shippingEstimate
		reviews { id body rating author { id name username reviews { id body rating product { upc name price inStock } } } } }`
	aliases := make([]string, 30)
	for i := range aliases {
		aliases[i] = fmt.Sprintf("a%d: topProducts { ...P }", i)
	}
	body := strings.Join(aliases, " ")
	var before, after goruntime.MemStats
	goruntime.GC()
	goruntime.ReadMemStats(&before)
	const n = 100
	for i := range n {
		query := fmt.Sprintf("query Q%d { %s } %s", i, body, fragment)
		hash := sha256.Sum256([]byte(query))
		d, err := s.document(context.Background(), rt, query, hash, func(*ast.QueryDocument) error { return nil })
		if err != nil || d.err != nil || len(d.errs) > 0 {
			t.Fatalf("document: %v %v %v", err, d.err, d.errs)
		}
		if _, err := s.plan(rt, hash, d, selectOperation(d.doc, ""), nil, rt.authz.Grants(nil), nil); err != nil {
			t.Fatal(err)
		}
	}
	rt.docs.Wait()
	rt.plans.Wait()
	goruntime.GC()
	goruntime.ReadMemStats(&after)
	grew := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("%d operations grew the heap by %.1f MB", n, float64(grew)/1e6)
	if grew > 3*bound {
		t.Errorf("%d distinct operations grew the heap by %.1f MB; the caches are bounded at %d MiB each",
			n, float64(grew)/1e6, bound>>20)
	}
	goruntime.KeepAlive(s)
}
