package planner_test

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
)

// TestPlanSizeTracksMemory: a plan's Size, which the gateway's plan cache
// charges, is within a factor of two of the heap the plan keeps alive.
// The cache charged 1 KiB per fetch: a 1.3 KB document whose fragment of
// 25 fields is spread under 30 aliases planned into 7 fetches (7 KiB
// charged) and held about 370 KB, so the 64 MiB cache could hold 3 GB.
func TestPlanSizeTracksMemory(t *testing.T) {
	sdl, err := os.ReadFile(filepath.Join(repoRoot, "gateway.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	const fragment = `fragment P on Product { upc name price weight inStock shippingEstimate
		reviews { id body rating author { id name username reviews { id body rating product { upc name price inStock } } } } }`
	cases := []struct{ name, query string }{
		{"fragment under 30 aliases", "{ " + aliases(30, "a%d: topProducts { ...P }") + " } " + fragment},
		{"one small field", "{ topProducts { upc } }"},
		{"interface", "{ " + aliases(10, "i%d: items { upc name ... on Product { inStock reviews { body } } ... on Bundle { products { name } } }") + " }"},
		{"defer parts", "{ " + aliases(8, "d%d: topProducts { upc ... @defer { name reviews { body author { name } } } }") + " }"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Enough plans for some megabytes, well above what other
			// goroutines allocate meanwhile.
			n := 50
			if len(c.query) < 100 {
				n = 2000
			}
			plans := make([]*planner.Plan, n)
			held := retained(func() {
				for i := range plans {
					p, err := planOn(t, sg, c.query, planner.Options{})
					if err != nil {
						t.Fatal(err)
					}
					plans[i] = p
				}
			})
			var size int64
			for _, p := range plans {
				size += p.Size()
			}
			perPlan, perSize := held/int64(n), size/int64(n)
			t.Logf("held %d bytes a plan, Size %d", perPlan, perSize)
			if perSize < perPlan/2 || perSize > 2*perPlan+4096 {
				t.Errorf("Size %d bytes a plan; the plan holds %d", perSize, perPlan)
			}
			runtime.KeepAlive(plans)
		})
	}
}

// aliases repeats format n times, with the index.
func aliases(n int, format string) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(format, i)
	}
	return strings.Join(parts, " ")
}

// retained returns the heap bytes that build leaves alive.
func retained(build func()) int64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	build()
	runtime.GC()
	runtime.ReadMemStats(&after)
	return int64(after.HeapAlloc) - int64(before.HeapAlloc)
}

// BenchmarkPlanSize is what charging a plan to the cache adds to a plan
// cache miss (compare BenchmarkPlanCold/demo).
func BenchmarkPlanSize(b *testing.B) {
	sg, doc := benchInput(b, "../gateway.graphql", "bench/demo-query.graphql")
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		_ = p.Size()
	}
}
