package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/testsys"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
)

// slowBody opens a connection to addr that sends the headers of a POST
// announcing a body of announced bytes and then only its first byte.
func slowBody(t testing.TB, addr string, announced int) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{", addr, announced)
	return c
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// TestSlowBodiesHoldNeitherMemoryNorSlots is issue 15 item 1: connections
// that announce a 2 MiB body and send one byte must cost memory for the
// bytes received only, hold no max_inflight_requests slot, and be cut at
// the body read deadline.
func TestSlowBodiesHoldNeitherMemoryNorSlots(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Observe.MaxInflightRequests = 20
	opts.HTTP.ReadTimeout = 2 * time.Second
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	addr := strings.TrimPrefix(g.BaseURL, "http://")

	before := heapInUse()
	const slow = 100
	conns := make([]net.Conn, 0, slow)
	for range slow {
		conns = append(conns, slowBody(t, addr, 2<<20))
	}
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	time.Sleep(500 * time.Millisecond) // every handler is reading its body now
	grown := int64(heapInUse()) - int64(before)
	t.Logf("heap grown by %d KiB for %d slow bodies", grown>>10, slow)
	if grown > 24<<20 {
		t.Errorf("%d slow bodies of one byte grew the heap by %d MiB; memory must grow with the bytes received", slow, grown>>20)
	}

	// A real client is served although more slow bodies are open than
	// max_inflight_requests allows.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := g.Post(ctx, []byte(`{"query":"{ topProducts(first: 1) { upc } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusOK {
		t.Errorf("a real client got %d %s while slow bodies were open; want 200", resp.Status, resp.Body)
	}

	// Every slow body is answered 408 and its connection closed after the
	// read deadline.
	deadline := time.Now().Add(opts.HTTP.ReadTimeout + 3*time.Second)
	for i, c := range conns {
		_ = c.SetReadDeadline(deadline)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatalf("slow body %d: no answer before the read deadline: %v", i, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestTimeout {
			t.Fatalf("slow body %d: status %d, want 408", i, resp.StatusCode)
		}
	}
}

// TestReadingBudgetRefusesAtOnce: when the bodies being read hold the
// whole max_reading_bytes budget, another body is refused with a 503
// instead of growing memory; also when a RouterRequest hook reads the raw
// body (a coprocessor's router.request.body), which read bodies outside
// the budget before.
func TestReadingBudgetRefusesAtOnce(t *testing.T) {
	bodyHook := hooks.Hooks{Bodies: []hooks.Stage{hooks.RouterRequest},
		RouterRequest: func(context.Context, *hooks.Call) error { return nil }}
	for _, tc := range []struct {
		name  string
		hooks []hooks.Hooks
	}{
		{"the decoder reads the body", nil},
		{"a RouterRequest hook reads the body", []hooks.Hooks{bodyHook}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := server.DefaultOptions()
			opts.HTTP.MaxReadingBytes = 100 << 10
			opts.HTTP.ReadTimeout = 3 * time.Second
			opts.Hooks = tc.hooks
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
			addr := strings.TrimPrefix(g.BaseURL, "http://")
			// One client that has sent 40 KiB of a 1 MiB body holds 64 KiB of it
			// (buffers double as bytes arrive).
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"query\":\"", 1<<20)
			_, _ = c.Write([]byte(strings.Repeat(" ", 40<<10)))
			// Wait until the server holds those 40 KiB instead of sleeping: on a
			// loaded machine a fixed 300 ms may pass before they are read, and
			// then the second body fits and is answered 200.
			budget := g.Handler.ReadBudget()
			for deadline := time.Now().Add(15 * time.Second); budget.Left() > opts.HTTP.MaxReadingBytes-40<<10; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("the first body's 40 KiB were not taken from the read budget: %d bytes left", budget.Left())
				}
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			big := `{"query":"{ topProducts(first: 1) { upc } }` + strings.Repeat(" ", 40<<10) + `"}`
			resp, err := g.Post(ctx, []byte(big))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusServiceUnavailable || !strings.Contains(string(resp.Body), `"SERVICE_OVERLOADED"`) {
				t.Errorf("got %d %s, want 503 SERVICE_OVERLOADED", resp.Status, resp.Body)
			}
			// A small body still fits.
			resp, err = g.Post(ctx, []byte(`{"query":"{ topProducts(first: 1) { upc } }"}`))
			if err != nil || resp.Status != http.StatusOK {
				t.Errorf("a small body: %v %v", resp, err)
			}
		})
	}
}

// TestSlowReadersAreCut: a client that asks for a large answer and never
// reads it holds the handler, the answer's memory and a
// max_inflight_requests slot only until server.write_timeout; then the
// connection is closed and the slot is free. Before, forever: 100 such
// connections asking for 4.6 MB batches of introspection held 1 GB of
// the gateway's memory for as long as they stayed open, and with
// max_inflight_requests at 3, three of them refused every other client.
func TestSlowReadersAreCut(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Introspection = true
	opts.AllowBatch, opts.MaxBatch = true, 20
	opts.Observe.MaxInflightRequests = 3
	opts.HTTP.WriteTimeout = 500 * time.Millisecond
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	addr := strings.TrimPrefix(g.BaseURL, "http://")
	var q strings.Builder
	q.WriteString("{")
	for i := range 25 {
		fmt.Fprintf(&q, " a%d: __schema { types { name description fields { name description args { name type { name kind } } type { name kind ofType { name kind } } } } }", i)
	}
	q.WriteString(" }")
	one := fmt.Sprintf(`{"query":%q}`, q.String())
	batch := "[" + strings.Repeat(one+",", 19) + one + "]" // a 9 MB answer
	for range 3 {
		// A small receive window: the answer stays in the gateway.
		d := net.Dialer{Control: testsys.ReceiveBuffer(4096)}
		c, err := d.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(batch), batch)
	}
	// The three answers are computed (seconds under the race detector),
	// then written until the write timeout; a real client gets in after.
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := g.Post(context.Background(), []byte(`{"query":"{ __typename }"}`))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Status == http.StatusOK {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("a real client still gets %d %s: the slow readers hold every slot", resp.Status, resp.Body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
