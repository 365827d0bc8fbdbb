package server_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// demoBenchBody is the POST body of testdata/bench/demo-query.graphql.
func demoBenchBody(b *testing.B) []byte {
	b.Helper()
	q, err := os.ReadFile(filepath.Join("..", "testdata", "bench", "demo-query.graphql"))
	if err != nil {
		b.Fatal(err)
	}
	body, err := json.Marshal(map[string]string{"query": string(q), "operationName": "DemoBench"})
	if err != nil {
		b.Fatal(err)
	}
	return body
}

// BenchmarkServeCached is one request through the whole HTTP handler with
// warm document and plan caches: decode, cache lookups, execution over
// real loopback HTTP to the four demo subgraphs, rendering. With "demo"
// the gqlgen subgraphs run in this process and their cost (and
// allocations) is part of the number; "memoized" replays their answers, so
// the number is close to the gateway's own cost.
func BenchmarkServeCached(b *testing.B) {
	for _, bc := range []struct {
		name string
		opts []gatewaytest.Option
	}{
		{"demo", nil},
		{"memoized", []gatewaytest.Option{gatewaytest.WithMemoizedSubgraphs()}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			g := gatewaytest.Start(b, bc.opts...)
			body := demoBenchBody(b)
			serve := func() *httptest.ResponseRecorder {
				req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				g.Handler.ServeHTTP(rec, req)
				return rec
			}
			warm := serve()
			if warm.Code != http.StatusOK || bytes.Contains(warm.Body.Bytes(), []byte(`"errors"`)) {
				b.Fatalf("warm-up: %d %s", warm.Code, warm.Body.Bytes())
			}
			want := warm.Body.Bytes()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if rec := serve(); rec.Code != http.StatusOK || !bytes.Equal(rec.Body.Bytes(), want) {
					b.Fatalf("%d %s", rec.Code, rec.Body.Bytes())
				}
			}
		})
	}
}

// BenchmarkServeCachedParallel is BenchmarkServeCached/memoized from
// GOMAXPROCS goroutines at once.
func BenchmarkServeCachedParallel(b *testing.B) {
	g := gatewaytest.Start(b, gatewaytest.WithMemoizedSubgraphs())
	body := demoBenchBody(b)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			g.Handler.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Errorf("%d %s", rec.Code, rec.Body.Bytes())
				return
			}
		}
	})
}
