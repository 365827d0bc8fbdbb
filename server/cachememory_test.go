package server

import (
	"context"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	gateway "github.com/fedgate/gateway"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestCachesBoundTheirMemory: the document and plan caches, bounded at 4
// MiB each here, hold at most about that much of parsed documents and
// plans however many distinct operations arrive. Before, 100 of each
// shape below were all kept:
//   - a 1.3 KB operation that plans to 320 KB (a fragment of 25 fields
//     spread under 30 aliases), charged 1 KiB a fetch: 34 MB (in
//     `gateway demo`, 4,000 of them grew the heap by 1.5 GB, and the 64
//     MiB cache would have held 3 GB);
//   - a small operation after a 200 KB comment: its plan keeps the query
//     text alive (the positions of its arguments point into it) and was
//     charged 2 KiB: 21 MB.
func TestCachesBoundTheirMemory(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	const fragment = `fragment P on Product { upc name price weight inStock shippingEstimate
		reviews { id body rating author { id name username reviews { id body rating product { upc name price inStock } } } } }`
	aliases := make([]string, 30)
	for i := range aliases {
		aliases[i] = fmt.Sprintf("a%d: topProducts { ...P }", i)
	}
	cases := []struct{ name, format string }{
		{"big plans", "query Q%d { " + strings.Join(aliases, " ") + " } " + fragment},
		{"query text kept by plans", "# " + strings.Repeat("x", 200<<10) + "\nquery Q%d($n: Int) { topProducts(first: $n) { upc } }"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
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
			var before, after goruntime.MemStats
			goruntime.GC()
			goruntime.ReadMemStats(&before)
			const n = 100
			for i := range n {
				query := fmt.Sprintf(c.format, i)
				hash := queryHash(query)
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
		})
	}
}
