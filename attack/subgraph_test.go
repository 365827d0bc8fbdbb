//go:build attack

package attack

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/hammer"
)

// accountsQuery is what the real clients of the hostile-subgraph tests
// ask: the accounts subgraph only, which stays healthy.
const accountsQuery = `{"query":"{ me { id name } }"}`

// hostileProducts answers the products subgraph's requests as a broken
// or hostile subgraph would: mode "huge" streams a body of 1 GB (a JSON
// string that never ends within it), "trickle" sends a valid answer a
// byte every 20 ms, "stall" sends its headers and never a byte of the
// body nor closes. Each answer ends when the gateway hangs up.
func hostileProducts(mode string, served *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		w.Header().Set("Content-Type", "application/json")
		ctx := r.Context()
		rc := http.NewResponseController(w)
		switch mode {
		case "huge":
			body, _ := io.ReadAll(r.Body)
			if !bytes.Contains(body, []byte("name")) {
				// Other operations are answered: the subgraph is not
				// down, and its breaker stays closed.
				_, _ = w.Write([]byte(`{"data":{"topProducts":[{"upc":"1"}]}}`))
				return
			}
			w.WriteHeader(200)
			_, _ = w.Write([]byte(`{"data":{"topProducts":[{"upc":"`))
			chunk := []byte(strings.Repeat("a", 64<<10))
			for sent := 0; sent < 1<<30; sent += len(chunk) {
				if _, err := w.Write(chunk); err != nil {
					return
				}
			}
			_, _ = w.Write([]byte(`","name":"x"}]}}`))
		case "trickle":
			w.WriteHeader(200)
			body := `{"data":{"topProducts":[{"upc":"1","name":"x"}]}}`
			for i := range len(body) {
				if _, err := w.Write([]byte{body[i]}); err != nil {
					return
				}
				_ = rc.Flush()
				select {
				case <-ctx.Done():
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
		case "stall":
			w.WriteHeader(200)
			_ = rc.Flush()
			<-ctx.Done()
		}
	})
}

// TestHostileSubgraph: the products subgraph is broken or hostile (a
// 1 GB answer, an answer trickled a byte at a time, an answer that never
// comes), and 40 clients ask for top products as fast as they are
// answered for 4s. The gateway's memory, and the latency of real clients
// asking only the healthy accounts subgraph, must stay bounded.
func TestHostileSubgraph(t *testing.T) {
	for _, mode := range []string{"huge", "trickle", "stall"} {
		t.Run(mode, func(t *testing.T) {
			var served atomic.Int64
			g := startServe(t, map[string]http.Handler{"products": hostileProducts(mode, &served)},
				"subgraphs:\n  max_answer_bytes: 33554432\n  all:\n    timeout: 3s\n    max_response_bytes: 16777216\n    breaker: {enabled: false}\n")
			// The gateway is in service: real clients asked before the
			// attack (a client alone may use the whole execution budget).
			warm := make(chan struct{})
			time.AfterFunc(100*time.Millisecond, func() { close(warm) })
			g.realClientsOf(1, warm, accountsQuery)
			stop := make(chan struct{})
			var answered atomic.Int64
			codes := sync.Map{}
			waitHostile := hammer.Run(40, stop, func(int) bool {
				// One operation, new variables each time: no dedupe
				// shares the fetches.
				st, body := g.post(t, fmt.Sprintf(`{"query":"query($n: Int) { topProducts(first: $n) { upc name } }","variables":{"n":%d}}`, rand.IntN(1<<30)))
				answered.Add(1)
				code := "none"
				if i := strings.Index(body, `"code":"`); i >= 0 {
					code = body[i+8:]
					code = code[:strings.IndexByte(code, '"')]
				}
				codes.Store(code, st)
				return true
			})
			// A client of the subgraph's other operations keeps its
			// breaker closed.
			waitOther := hammer.Run(1, stop, func(int) bool {
				g.post(t, `{"query":"{ topProducts(first: 1) { upc } }"}`)
				time.Sleep(5 * time.Millisecond)
				return true
			})
			time.Sleep(500 * time.Millisecond)
			cpu0 := g.cpu()
			realStop := make(chan struct{})
			time.AfterFunc(4*time.Second, func() { close(realStop) })
			lat, failed := g.realClientsOf(4, realStop, accountsQuery)
			close(stop)
			cpu := g.cpu() - cpu0
			waitHostile()
			waitOther()
			peak := g.status("VmHWM")
			var seen []string
			codes.Range(func(k, v any) bool { seen = append(seen, k.(string)); return true })
			t.Logf("FIGURE hostile products subgraph (%s), 40 clients for 4s: %d hostile fetches, %d answers %v, gateway CPU %v, peak RSS %d MB, real clients: %d served, %d failed, p99 %v",
				mode, served.Load(), answered.Load(), seen, cpu, peak>>10, len(lat), failed, p99(lat))
			// Before subgraphs.max_answer_bytes, 1.2 GB (huge).
			if peak > 500<<10 {
				t.Errorf("peak RSS %d MB, want under 500 MB", peak>>10)
			}
			if failed > 0 {
				t.Errorf("real clients: %d failed", failed)
			}
			// Before the per-client share of the execution budget, 5 s
			// (trickle) and none served in 4 s (stall). A huge answer's
			// is reported: it costs this machine's CPU (the subgraph is
			// in this process, writing gigabytes).
			if mode != "huge" && p99(lat) > 200*time.Millisecond {
				t.Errorf("real clients: p99 %v", p99(lat))
			}
		})
	}
}
