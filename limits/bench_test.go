package limits

import (
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
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

// BenchmarkMemoryLimiter is the in-memory limit check of one request, over
// 1000 clients.
func BenchmarkMemoryLimiter(b *testing.B) {
	m := NewMemoryLimiter(nil)
	tier := Tier{Name: "t", Requests: 1 << 40, Cost: 1 << 50, Window: time.Second}
	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "key:client-" + itoa(i)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if v, _ := m.Take(ctx, keys[i%len(keys)], tier, 12); !v.Allowed {
			b.Fatal("refused")
		}
		i++
	}
}

// BenchmarkRedisLimiter is the same check against a real redis-server on
// loopback: one EVALSHA round trip.
func BenchmarkRedisLimiter(b *testing.B) {
	srv := redistest.Start(b)
	l := NewRedisLimiter(srv.Client(), RedisLimiterOptions{Timeout: time.Second})
	tier := Tier{Name: "t", Requests: 1 << 40, Cost: 1 << 50, Window: time.Second}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		v, err := l.Take(ctx, "key:client-"+itoa(i%1000), tier, 12)
		if err != nil || !v.Allowed || v.Local {
			b.Fatalf("%+v %v", v, err)
		}
		i++
	}
}

// BenchmarkRedisLimiterParallel runs the Redis check from many goroutines,
// as a busy gateway does.
func BenchmarkRedisLimiterParallel(b *testing.B) {
	srv := redistest.Start(b)
	l := NewRedisLimiter(srv.Client(), RedisLimiterOptions{Timeout: time.Second})
	tier := Tier{Name: "t", Requests: 1 << 40, Cost: 1 << 50, Window: time.Second}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if v, err := l.Take(context.Background(), "key:client-"+itoa(i%1000), tier, 12); err != nil || !v.Allowed || v.Local {
				b.Errorf("%+v %v", v, err)
				return
			}
			i++
		}
	})
}

// BenchmarkEstimate costs a mid-sized operation with fragments, lists and
// variables on the fixture supergraph.
func BenchmarkEstimate(b *testing.B) {
	sdl, err := os.ReadFile("testdata/cost/supergraph.graphql")
	if err != nil {
		b.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		b.Fatal(err)
	}
	doc, errs := gqlparser.LoadQuery(sg.API, `query Q($n: Int!) { newest(limit: $n) { ...B } bestsellers { ...B author { books { title } } }
		search(max: 3) { ... on Book { title } ... on Author { name } } authors(first: $n) { edges { node { name } } } }
		fragment B on Book { id title price rating publisher { name address { zip } } reviews(first: 4) { body stars } }`)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	vars := map[string]any{"n": int64(20)}
	op, err := planner.Normalize(sg.API, doc, "", vars)
	if err != nil {
		b.Fatal(err)
	}
	m := NewCostModel(sg.Full)
	b.ReportAllocs()
	for b.Loop() {
		if c, err := m.Estimate(op, vars, CostOptions{}); err != nil || c == 0 {
			b.Fatal(c, err)
		}
	}
}

// benchAdmit measures Policy.Admit, the whole per-operation stage:
// identify the client (API key), estimate the cost, count it.
func benchAdmit(b *testing.B, popt PolicyOptions) {
	sdl, err := os.ReadFile("testdata/cost/supergraph.graphql")
	if err != nil {
		b.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		b.Fatal(err)
	}
	doc, errs := gqlparser.LoadQuery(sg.API, `{ bestsellers { title author { name } publisher { name } } }`)
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		b.Fatal(err)
	}
	cfg := DefaultConfig()
	cfg.Clients.APIKeys = map[string]APIKey{"app": {Key: "k"}}
	cfg.Tiers = map[string]TierConfig{"default": {Requests: 1 << 40, Cost: 1 << 50, Window: time.Second}}
	p := NewPolicy(cfg, popt)
	m := NewCostModel(sg.Full)
	r := httptest.NewRequest("POST", "/graphql", nil)
	r.Header.Set("X-API-Key", "k")
	b.ReportAllocs()
	for b.Loop() {
		a, err := p.Admit(r.Context(), r, m, op, nil, nil)
		if err != nil || !a.Verdict.Allowed || a.Verdict.Local {
			b.Fatalf("%+v %v", a, err)
		}
	}
}

func BenchmarkAdmitMemory(b *testing.B) { benchAdmit(b, PolicyOptions{}) }

func BenchmarkAdmitRedis(b *testing.B) {
	srv := redistest.Start(b)
	benchAdmit(b, PolicyOptions{Redis: srv.Client(), RedisTimeout: time.Second})
}

// BenchmarkCheckMergesSharedFragment counts the field merges of the most
// expensive document found inside the default limits: 900 operations,
// each spreading one fragment of 28 aliases (validation and this count
// both walk the fragment once per operation).
func BenchmarkCheckMergesSharedFragment(b *testing.B) {
	var q strings.Builder
	for i := range 900 {
		q.WriteString("query Q" + strconv.Itoa(i) + " { me { ...F } } ")
	}
	q.WriteString("fragment F on User {")
	for i := range 28 {
		q.WriteString(" a" + strconv.Itoa(i) + ": id")
	}
	q.WriteString(" }")
	s := DefaultStatic()
	doc, err := s.Parse(q.String())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := s.checkMerges(doc); err != nil {
			b.Fatal(err)
		}
	}
}
