package server_test

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestDeferHoldsTheBudget: an answer sent incrementally (@defer) reserves
// from the execution memory budget (max_inflight_bytes) as a one-body
// answer does: while a run holds the whole budget, a deferred operation
// waits for it like a plain one, and runs once it is given back. Before,
// it reserved nothing, and adding @defer let any operation past the
// budget.
func TestDeferHoldsTheBudget(t *testing.T) {
	big := strings.Repeat("x", 450<<10) // a run's weight then fills the budget: one at a time
	var holdNext atomic.Bool
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	defer release()
	var held, requests atomic.Int32
	products := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		requests.Add(1)
		if holdNext.CompareAndSwap(true, false) {
			held.Add(1)
			<-hold
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"topProducts":[{"name":"`+big+`","upc":"1"}]}}`)
	})
	opts := server.DefaultOptions()
	opts.MaxInflightBytes = 1 << 20
	opts.Cache.Dedupe, opts.Cache.InboundDedupe = false, false
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("products", products))
	const plain = `{"query":"{ topProducts { name } }"}`
	if resp, _ := post(t, g, plain, nil); resp.Status != http.StatusOK { // the plan's weight is known from now on
		t.Fatalf("first query: %d %.200s", resp.Status, resp.Body)
	}
	holdNext.Store(true)
	go func() { _, _ = post(t, g, plain, nil) }()
	for deadline := time.Now().Add(20 * time.Second); held.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if held.Load() == 0 {
		t.Fatal("the first query did not reach its subgraph")
	}
	before := requests.Load()
	answer := make(chan string, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(`{"query":"{ topProducts { name ... @defer { upc } } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824")
		resp, err := g.Client.Do(req)
		if err != nil {
			answer <- err.Error()
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		answer <- string(b)
	}()
	time.Sleep(300 * time.Millisecond) // long enough for a run that does not wait to reach the subgraph
	if n := requests.Load() - before; n != 0 {
		t.Errorf("the deferred operation sent %d subgraph requests while the budget was held", n)
	}
	release()
	select {
	case body := <-answer:
		if !strings.Contains(body, `"upc":"1"`) || !strings.HasSuffix(body, "\r\n-----\r\n") {
			t.Errorf("deferred answer: %.300s", body)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the deferred operation was not answered once the budget was given back")
	}
}
