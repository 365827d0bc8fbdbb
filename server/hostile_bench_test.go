package server_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// hostileFamily builds a document of about n bytes of one shape meant to
// make parsing or validation superlinear, with the variables it sends.
type hostileFamily struct {
	name string
	doc  func(n int) (query, vars string)
}

// repeatTo repeats unit (with {i} replaced by the index) until the text
// has n bytes.
func repeatTo(n int, unit, sep string) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(strings.ReplaceAll(unit, "{i}", strconv.Itoa(i)))
	}
	return b.String()
}

// hostileFamilies are the shapes measured by BenchmarkHostileDocuments:
// what validation's rules are quadratic in (fields meeting at one
// position through fragments, operations, fragments, variables,
// arguments, input object fields, directives), huge literals and deep
// fragment chains.
var hostileFamilies = []hostileFamily{
	{"same-named fields across fragments", func(n int) (string, string) {
		return "{ me { " + repeatTo(n/2, "...F{i}", " ") + " } } " + repeatTo(n/2, "fragment F{i} on User { name: id }", " "), ""
	}},
	{"fragment chain", func(n int) (string, string) {
		return "{ me { ...F0 } } " + repeatTo(n, "fragment F{i} on User { id ...F{i}x }", " "), ""
	}},
	// Fragments each spreading the one defined last: validation's
	// fragment cycle rule looked each spread up by a scan of the
	// document's fragments (unknown names scanned them all, above).
	{"fragments spreading the last one", func(n int) (string, string) {
		return "{ me { ...F0 } } " + repeatTo(n-64, "fragment F{i} on User { id ...L }", " ") + " fragment L on User { id }", ""
	}},
	{"operations", func(n int) (string, string) {
		return repeatTo(n, "query Q{i} { me { id } }", " "), ""
	}},
	// Each operation is validated (and its field merges counted) with
	// the fragments it spreads expanded: a fragment of 25 aliases spread
	// by every one of a thousand operations is walked a thousand times.
	{"operations sharing a fragment", func(n int) (string, string) {
		return repeatTo(n/2, "query Q{i} { me { ...F } }", " ") + " fragment F on User { " + repeatTo(230, "a{i}: id", " ") + " }", ""
	}},
	{"unused fragments", func(n int) (string, string) {
		return "{ me { id } } " + repeatTo(n, "fragment F{i} on User { id }", " "), ""
	}},
	{"variables", func(n int) (string, string) {
		return "query(" + repeatTo(n, "$v{i}: Int", ", ") + ") { me { id } }", ""
	}},
	{"arguments", func(n int) (string, string) {
		return "{ topProducts(" + repeatTo(n, "a{i}: 1", ", ") + ") { upc } }", ""
	}},
	{"duplicate arguments", func(n int) (string, string) {
		return "{ topProducts(" + repeatTo(n, "first: 1", ", ") + ") { upc } }", ""
	}},
	{"input object fields in a variable default", func(n int) (string, string) {
		return "query($x: Int = 1, $o: [Int] = [" + repeatTo(n, "1", ",") + "]) { me { id } }", ""
	}},
	{"directives", func(n int) (string, string) {
		return "{ me " + repeatTo(n, "@skip(if: false)", " ") + " { id } }", ""
	}},
	{"string literal", func(n int) (string, string) {
		return `{ t: __type(name: "` + strings.Repeat("A", n) + `") { name } }`, ""
	}},
	{"number literal", func(n int) (string, string) {
		return "{ topProducts(first: " + strings.Repeat("9", n) + ") { upc } }", ""
	}},
	{"string variable", func(n int) (string, string) {
		return `query($n: String!) { t: __type(name: $n) { name } }`, `{"n":"` + strings.Repeat("A", n) + `"}`
	}},
	{"list variable", func(n int) (string, string) {
		return `query($l: [Int]) { me { id } }`, `{"l":[` + repeatTo(n, "1", ",") + `]}`
	}},
	{"undeclared variables", func(n int) (string, string) {
		return `{ me { id } }`, `{` + repeatTo(n, `"k{i}":1`, ",") + `}`
	}},
	// Past 16 keys an object's duplicate key check made a map of its
	// own, dropped at the object's end.
	{"undeclared objects of 17 keys", func(n int) (string, string) {
		return `{ me { id } }`, `{"l":[` + repeatTo(n, `{"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":{i}}`, ",") + `]}`
	}},
	{"undeclared list variable", func(n int) (string, string) {
		return `{ me { id } }`, `{"l":[` + repeatTo(n, "1", ",") + `]}`
	}},
	// Round 4 (docs/security.md): fields of one response key on an
	// abstract type, each in an inline fragment of another member (they
	// may merge: the types exclude each other, which the rule works out
	// pair by pair); conflicting aliases, repeated directives, unused and
	// undefined variables (an error each, cut at limits.MaxValidationErrors
	// as they are found); unicode in strings; nested literals.
	{"aliases across abstract type members", func(n int) (string, string) {
		return "{ search(term: \"a\") { " + repeatTo(n, "... on Product { k{i}: upc } ... on User { k{i}: id }", " ") + " } }", ""
	}},
	{"inline fragments on an interface", func(n int) (string, string) {
		return "{ items { " + repeatTo(n, "... on Item { upc } ... on Product { upc } ... on Bundle { upc }", " ") + " } }", ""
	}},
	// Every pair of these conflicts (other arguments): an error each,
	// with two locations, up to the field-merge bound.
	{"conflicting aliases", func(n int) (string, string) {
		return "{ " + repeatTo(n, "a: topProducts(first: {i}) { upc }", " ") + " }", ""
	}},
	{"conflicting aliases in fragments", func(n int) (string, string) {
		return "{ me { ...F0 } } fragment F0 on User { " + repeatTo(n, "a: user(id: {i}) { id }", " ") + " }", ""
	}},
	{"repeated non-repeatable directives", func(n int) (string, string) {
		return "{ me { id " + repeatTo(n, "@include(if: true)", " ") + " } }", ""
	}},
	{"directives on many fields", func(n int) (string, string) {
		return "{ me { " + repeatTo(n, "i{i}: id @skip(if: false) @include(if: true)", " ") + " } }", ""
	}},
	{"unicode escapes in a string", func(n int) (string, string) {
		return `{ t: __type(name: "` + strings.Repeat(`\u00e9\ud83d\ude00`, n/18) + `") { name } }`, ""
	}},
	{"unicode characters in a string", func(n int) (string, string) {
		return `{ t: __type(name: "` + strings.Repeat("é😀", n/6) + `") { name } }`, ""
	}},
	{"unused variables", func(n int) (string, string) {
		return "query(" + repeatTo(n, "$v{i}: [[Int!]!] = [[1, 2], [3]]", ", ") + ") { me { id } }", ""
	}},
	{"variables used in many places", func(n int) (string, string) {
		return "query($v: Int) { " + repeatTo(n, "t{i}: topProducts(first: $v) { upc }", " ") + " }", ""
	}},
	{"nested list literal arguments", func(n int) (string, string) {
		return "{ " + repeatTo(n, "t{i}: topProducts(first: [[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]) { upc }", " ") + " }", ""
	}},
	{"undefined variables", func(n int) (string, string) {
		return "{ " + repeatTo(n, "t{i}: topProducts(first: $v{i}) { upc }", " ") + " }", ""
	}},
	// Validation suggests the known names closest to an unknown one
	// ("Did you mean"): a Levenshtein distance from the name to each
	// candidate, in the product of their lengths.
	{"long unknown field names", func(n int) (string, string) {
		return "{ " + repeatTo(n-1024, "f{i}"+strings.Repeat("x", n/128), " ") + " }", ""
	}},
}

// hostileSeq numbers the documents BenchmarkHostileDocuments sends, over
// every run of it, so that none is answered from the document cache.
var hostileSeq atomic.Int64

// hostileSizes are the document sizes measured, up to the default body
// limit (2 MiB, server.max_body_bytes).
var hostileSizes = []int{8 << 10, 48 << 10, 2<<20 - 4<<10}

// BenchmarkHostileDocuments serves each hostile document shape at sizes
// up to the body limit through the whole handler, a distinct document
// each time (a comment numbers it, so no document cache answers), and
// reports the process's CPU time per document and per byte (wall time
// says little on a shared machine): a family whose cpu-ns/byte grows with
// the size is superlinear. Every answer must be a GraphQL
// error with extensions.code (or data), never a 5xx.
//
//	go test ./server -run '^$' -bench HostileDocuments -count 6
func BenchmarkHostileDocuments(b *testing.B) {
	o := server.DefaultOptions()
	o.Introspection = true
	g := gatewaytest.Start(b, gatewaytest.WithServerOptions(o), gatewaytest.WithMemoizedSubgraphs())
	for _, f := range hostileFamilies {
		for _, n := range hostileSizes {
			b.Run(fmt.Sprintf("%s/%dKiB", strings.ReplaceAll(f.name, " ", "_"), n>>10), func(b *testing.B) {
				query, vars := f.doc(n)
				body := func(i int) []byte {
					m := map[string]any{"query": "# " + strconv.Itoa(i) + "\n" + query}
					if vars != "" {
						m["variables"] = json.RawMessage(vars)
					}
					if strings.HasPrefix(f.name, "operations") {
						m["operationName"] = "Q0"
					}
					out, _ := json.Marshal(m)
					return out
				}
				first := body(0)
				b.SetBytes(int64(len(first)))
				b.ReportAllocs()
				cpu0, n := processCPU(), 0
				for b.Loop() {
					n++
					req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body(int(hostileSeq.Add(1)))))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Accept", "application/graphql-response+json")
					rec := httptest.NewRecorder()
					g.Handler.ServeHTTP(rec, req)
					if rec.Code >= 500 || rec.Code != http.StatusOK && !bytes.Contains(rec.Body.Bytes(), []byte(`"code":"`)) {
						b.Fatalf("%d %.300s", rec.Code, rec.Body.Bytes())
					}
					if rec.Body.Len() > 64<<10 {
						b.Fatalf("a %d-byte answer", rec.Body.Len())
					}
				}
				cpu := float64((processCPU() - cpu0).Nanoseconds()) / float64(n)
				b.ReportMetric(cpu, "cpu-ns/op")
				b.ReportMetric(cpu/float64(len(first)), "cpu-ns/byte")
			})
		}
	}
}
