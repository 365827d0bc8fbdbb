package server_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime/trace"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestTraceRegions: a Go execution trace taken while requests run holds the
// request's regions (docs/bench.md, "Session 15"): the handler, the wait
// for the execution budget, the execution and the write. A second request
// is made to wait for the budget, held by a first whose subgraph answer is
// held back.
func TestTraceRegions(t *testing.T) {
	big := strings.Repeat("x", 450<<10) // a run's weight then fills the budget: one at a time
	var holdNext atomic.Bool
	hold := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(hold) }) }
	defer release()
	var held atomic.Int32
	products := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		if holdNext.CompareAndSwap(true, false) {
			held.Add(1)
			<-hold
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"data":{"topProducts":[{"name":"`+big+`"}]}}`)
	})
	opts := server.DefaultOptions()
	opts.MaxInflightBytes = 1 << 20
	opts.Cache.Dedupe, opts.Cache.InboundDedupe = false, false
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("products", products))
	const query = `{"query":"{ topProducts { name } }"}`
	if resp, _ := post(t, g, query, nil); resp.Status != http.StatusOK { // the plan's weight is known from now on
		t.Fatalf("first query: %d %.200s", resp.Status, resp.Body)
	}

	var buf bytes.Buffer
	if err := trace.Start(&buf); err != nil {
		t.Skipf("a trace is running already: %v", err)
	}
	stopped := false
	defer func() {
		if !stopped {
			trace.Stop()
		}
	}()
	holdNext.Store(true)
	done := make(chan int, 2)
	go func() { resp, _ := post(t, g, query, nil); done <- resp.Status }()
	for deadline := time.Now().Add(20 * time.Second); held.Load() == 0 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	if held.Load() == 0 {
		t.Fatal("the first query did not reach its subgraph")
	}
	go func() { resp, _ := post(t, g, query, nil); done <- resp.Status }()
	time.Sleep(200 * time.Millisecond) // the second query queues for the budget
	release()
	for range 2 {
		if status := <-done; status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	trace.Stop()
	stopped = true
	// Region types are written once into the trace's string table.
	for _, name := range []string{"fedgate.request", "fedgate.wait", "fedgate.execute", "fedgate.write"} {
		if !bytes.Contains(buf.Bytes(), []byte(name)) {
			t.Errorf("the trace has no region %q", name)
		}
	}
}
