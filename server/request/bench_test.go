package request

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// benchBody is a typical request: a 1 KB query with variables and an APQ
// extension.
var benchBody = []byte(`{"operationName":"Products","query":"query Products($first: Int, $filter: ProductFilter) { topProducts(first: $first, filter: $filter) { upc name price reviews { id body author { id name reviews { id body } } } } me { id name reviews { id product { upc name } } } }` +
	strings.Repeat(" ", 700) +
	`","variables":{"first":10,"filter":{"name":"caf\u00e9","tags":["a","b","c"],"price":{"min":1.5,"max":99.99}}},"extensions":{"persistedQuery":{"version":1,"sha256Hash":"ecf4edb46db40b5132295c0291d62fb65d6759a9eedfa4d5d612dd5ec54a6b38"}}}`)

func BenchmarkDecode(b *testing.B) {
	opt := DefaultOptions()
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r.Header.Set("Content-Type", "application/json")
	rd := bytes.NewReader(benchBody)
	b.SetBytes(int64(len(benchBody)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(benchBody)
		r.Body = readCloser{rd}
		r.ContentLength = int64(len(benchBody))
		reqs, _, err := Decode(r, opt)
		if err != nil || len(reqs) != 1 {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeBatch10k(b *testing.B) {
	body := []byte("[" + strings.Repeat(`{"query":"{__typename}"},`, 9999) + `{"query":"{__typename}"}]`)
	opt := Options{AllowBatch: true, MaxBatch: 100}
	r := httptest.NewRequest(http.MethodPost, "/graphql", nil)
	r.Header.Set("Content-Type", "application/json")
	rd := bytes.NewReader(body)
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(body)
		r.Body = readCloser{rd}
		r.ContentLength = int64(len(body))
		if _, _, err := Decode(r, opt); err == nil {
			b.Fatal("accepted")
		}
	}
}

type readCloser struct{ *bytes.Reader }

func (readCloser) Close() error { return nil }
