package e2e

import (
	"bytes"
	"encoding/json"
	"mime"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// BenchmarkDeferPrimaryLatency is the timing figure of docs/defer.md: the
// inventory subgraph answers the deferred part after 500 ms, products
// answers the primary part at once. Per operation it reports
// primary-ms (request sent to first part read), subgraph-ms (products'
// own time for the primary fetch, measured in its handler), overhead-ms
// (the difference: what the gateway adds before the primary part reaches
// the client) and last-ms (request to the end of the stream). Run with
// -benchtime 10x -count 6 and take the medians.
func BenchmarkDeferPrimaryLatency(b *testing.B) {
	inventory := demo.Handlers()["inventory"]
	products := demo.Handlers()["products"]
	var mu sync.Mutex
	var productsTime time.Duration
	g := gatewaytest.Start(b,
		gatewaytest.WithHandler("inventory", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(500 * time.Millisecond)
			inventory.ServeHTTP(w, r)
		})),
		gatewaytest.WithHandler("products", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			products.ServeHTTP(w, r)
			mu.Lock()
			productsTime += time.Since(start)
			mu.Unlock()
		})))
	body, _ := json.Marshal(map[string]any{"query": `{ topProducts(first: 3) { upc name ... @defer(label: "stock") { inStock } } }`})
	var primary, sub, last []float64
	b.ResetTimer()
	for range b.N {
		mu.Lock()
		productsTime = 0
		mu.Unlock()
		req, _ := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", deferAccept)
		start := time.Now()
		resp, err := g.Client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		// The parts are read as Apollo Client and meros read them: a part
		// ends where the next delimiter starts ("\r\n--" + boundary).
		_, params, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		delim := []byte("\r\n--" + params["boundary"])
		var buf []byte
		chunk := make([]byte, 32<<10)
		parts := 0
		for {
			n, err := resp.Body.Read(chunk)
			buf = append(buf, chunk[:n]...)
			// Delimiters seen so far, less the opening one: parts read.
			if seen := bytes.Count(buf, delim) - 1; seen > parts {
				if parts == 0 {
					primary = append(primary, ms(time.Since(start)))
					mu.Lock()
					sub = append(sub, ms(productsTime))
					mu.Unlock()
				}
				parts = seen
			}
			if err != nil {
				break
			}
		}
		if parts < 2 {
			b.Fatalf("%d parts in %q", parts, buf)
		}
		last = append(last, ms(time.Since(start)))
		resp.Body.Close()
	}
	b.StopTimer()
	overhead := make([]float64, len(primary))
	for i := range primary {
		overhead[i] = primary[i] - sub[i]
	}
	b.ReportMetric(median(primary), "primary-ms")
	b.ReportMetric(median(sub), "subgraph-ms")
	b.ReportMetric(median(overhead), "overhead-ms")
	b.ReportMetric(median(last), "last-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return s[len(s)/2]
}
