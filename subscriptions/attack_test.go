package subscriptions_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/subscriptions"
)

// heldGateway holds every Prepare until release is closed, so that the
// operations a test sends stay in progress.
type heldGateway struct {
	subscriptions.Gateway
	entered chan struct{}
	release chan struct{}
}

func (g *heldGateway) Prepare(ctx context.Context, r *http.Request, req request.Request) (*subscriptions.Prepared, *subscriptions.RequestError) {
	g.entered <- struct{}{}
	<-g.release
	return g.Gateway.Prepare(ctx, r, req)
}

// TestOperationsInProgressPerConnection: a WebSocket client that sends
// subscribes faster than they are answered gets OPERATION_LIMIT past
// subscriptions.max_inflight_per_connection, and its connection stays
// usable (before, each subscribe started a goroutine: 20,000 queries on
// one connection held 3,600 goroutines and +55 MB at once).
func TestOperationsInProgressPerConnection(t *testing.T) {
	cases := []struct {
		name       string
		limit, n   int
		wantRefuse int
	}{
		{"one in progress", 1, 3, 2},
		{"under the limit", 4, 4, 0},
		{"past the limit", 4, 10, 6},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &heldGateway{entered: make(chan struct{}, 64), release: make(chan struct{})}
			e := newEnv(t, envOptions{engine: subscriptions.Options{MaxInflightPerConnection: tc.limit},
				gateway: func(gw subscriptions.Gateway) subscriptions.Gateway { g.Gateway = gw; return g }})
			w := dialWS(t, e.WSURL, nil)
			w.init("")
			for i := range tc.n {
				w.subscribe(fmt.Sprint(i), `{ topProducts(first: 1) { upc } }`, nil)
			}
			refused := map[string]bool{}
			for range tc.wantRefuse {
				m := w.next()
				if m.Type != "error" || !strings.Contains(string(m.Payload), subscriptions.CodeOperationLimit) {
					t.Fatalf("got %s %s, want an error %s", m.Type, m.Payload, subscriptions.CodeOperationLimit)
				}
				refused[m.ID] = true
			}
			for i := range min(tc.n, tc.limit) {
				<-g.entered
				if refused[fmt.Sprint(i)] {
					t.Fatalf("operation %d, within the limit, was refused", i)
				}
			}
			close(g.release)
			answered := map[string]bool{}
			for len(answered) < min(tc.n, tc.limit) {
				m := w.next()
				switch {
				case m.Type == "next" && strings.Contains(string(m.Payload), `"upc"`):
				case m.Type == "complete":
					answered[m.ID] = true
				default:
					t.Fatalf("got %s %s, want the answers of the operations in progress", m.Type, m.Payload)
				}
			}
			// The slots are free again: the connection serves a new one.
			w.subscribe("again", `{ topProducts(first: 1) { upc } }`, nil)
			<-g.entered
			if m := w.next(); m.Type != "next" || m.ID != "again" {
				t.Fatalf("got %s %s for a subscribe after the others ended, want next", m.Type, m.Payload)
			}
		})
	}
}
