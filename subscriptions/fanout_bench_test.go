package subscriptions_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/fedgate/gateway/subscriptions"
)

// BenchmarkFanOut is one event of the reviews subgraph completed through
// the products and inventory subgraphs and delivered to 1,000
// subscriptions, each on its own WebSocket (what a frontend with one
// socket per tab looks like): the time per event covers the mutation
// that emits it, its one shared completion, the fan-out and the clients'
// reads; allocations are the whole process's per event.
func BenchmarkFanOut(b *testing.B) {
	const n = 1000
	e := newEnv(b, envOptions{engine: subscriptions.Options{MaxPerClient: n, MaxConnectionsPerClient: n, SubscribeRate: 1e6, SubscribeBurst: n}})
	clients := make([]*rawWS, n)
	for i := range clients {
		clients[i] = dialRaw(b, e.WSURL)
		clients[i].send(b, subscribeMsg("s"))
	}
	waitFor(b, fmt.Sprintf("%d active", n), func() bool { return e.Engine.Stats.Active.Load() == n })
	e.subscribed(1)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		body := fmt.Sprint("event ", i)
		e.add("3", body)
		for _, c := range clients {
			if m := c.read(b); !strings.Contains(m, body) {
				b.Fatalf("got %s, want %s", m, body)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/delivery")
}
