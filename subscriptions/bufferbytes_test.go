package subscriptions_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway/internal/testsys"
	"github.com/fedgate/gateway/subscriptions"
)

// smallWindowClient is an HTTP client whose connections have a 4 KiB
// receive buffer: what it does not read stays in the gateway.
func smallWindowClient() *http.Client {
	d := &net.Dialer{Control: testsys.ReceiveBuffer(4096)}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestStreamQueuesBoundedByBytes: a subscriber that reads nothing while
// events of 256 KiB come is disconnected once the events waiting for it
// add up to subscriptions.buffer_bytes (1 MiB) and the burst allowance
// (burst_bytes, 1 MiB here) is spent, on every transport; the bytes a
// WebSocket holds never pass the two. Before, only the count
// (subscriptions.buffer, 64) bounded the queue: the gateway held 64 such
// events (16 MiB) per stream, over what the kernel's socket buffers held,
// before it let the client go.
func TestStreamQueuesBoundedByBytes(t *testing.T) {
	const eventBytes = 256 << 10
	for _, transport := range []string{"websocket", "sse", "multipart"} {
		t.Run(transport, func(t *testing.T) {
			// A write timeout longer than the test: only the queue's
			// bound lets the client go.
			const burst = 1 << 20
			e := newEnv(t, envOptions{engine: subscriptions.Options{WriteTimeout: time.Minute, BurstBytes: burst}})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			client := smallWindowClient()
			defer client.CloseIdleConnections()
			const query = `subscription { reviewAdded { body } }`
			switch transport {
			case "websocket":
				c, _, err := websocket.Dial(ctx, e.WSURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPClient: client})
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init"}`))
				if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
					t.Fatalf("%s %v", b, err)
				}
				_ = c.Write(ctx, websocket.MessageText, []byte(`{"id":"1","type":"subscribe","payload":{"query":"`+query+`"}}`))
			default:
				accept := "text/event-stream"
				if transport == "multipart" {
					accept = `multipart/mixed;subscriptionSpec="1.0"`
				}
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, strings.NewReader(`{"query":"`+query+`"}`))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", accept)
				resp, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close() // never read
			}
			e.subscribed(1)
			big := strings.Repeat("x", eventBytes)
			st := &e.Engine.Stats
			for i := int64(1); st.SlowClients.Load() == 0; i++ {
				if i > 100 {
					t.Fatalf("the client took %d events of %d KiB without being let go", st.EventsOut.Load(), eventBytes>>10)
				}
				e.add("1", big)
				waitFor(t, "the event reached the subscriber's queue", func() bool { return st.EventsOut.Load()+st.SlowClients.Load() >= i })
				if held := e.Engine.HeldBytes(); held > subscriptions.DefaultBufferBytes+burst {
					t.Fatalf("after %d events the WebSockets hold %d bytes, over the bound", i, held)
				}
			}
			// What the kernel's buffers took (a few MB on loopback), then 2
			// MiB of queue; 64 events would be the count's bound.
			if n := st.EventsOut.Load(); n > 40 {
				t.Fatalf("the client took %d events of %d KiB before it was let go", n, eventBytes>>10)
			}
			t.Logf("%s: let go after %d events", transport, st.EventsOut.Load())
			e.subscribed(0)
			if transport == "websocket" {
				// An SSE or multipart stream gives it back when its write
				// is cut at write_timeout (a minute here): its events are
				// held until then.
				waitFor(t, "the burst allowance given back", func() bool { return e.Engine.BurstBorrowed() == 0 })
			}
		})
	}
}

// TestBurstKeepsASlowReader: a burst of large events (32 of 256 KiB, 8
// MiB at once) reaches two WebSocket subscribers with small receive
// windows: one reads steadily but slowly (a message each 10 ms), the
// other reads nothing. The reader gets every event: what passes its
// buffer_bytes is borrowed from the gateway-wide burst_bytes allowance,
// and its writes finish within write_timeout. The other is let go when a
// write does not finish within write_timeout, and what both borrowed
// goes back. Before, both were let go as soon as the burst passed
// buffer_bytes (1 MiB) beyond what the kernel's buffers took, though one
// of them would have read it all within seconds.
func TestBurstKeepsASlowReader(t *testing.T) {
	const eventBytes, events = 256 << 10, 32
	e := newEnv(t, envOptions{engine: subscriptions.Options{WriteTimeout: 4 * time.Second}})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := smallWindowClient()
	defer client.CloseIdleConnections()
	dial := func(query string) *websocket.Conn {
		c, _, err := websocket.Dial(ctx, e.WSURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPClient: client})
		if err != nil {
			t.Fatal(err)
		}
		c.SetReadLimit(1 << 20)
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init"}`))
		if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
			t.Fatalf("%s %v", b, err)
		}
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"id":"1","type":"subscribe","payload":{"query":"`+query+`"}}`))
		return c
	}
	reader := dial(`subscription { reviewAdded { body } }`)
	defer reader.CloseNow()
	idle := dial(`subscription { reviewAdded { body rating } }`)
	defer idle.CloseNow()
	e.subscribed(2)
	got := make(chan int, 1)
	go func() {
		n := 0
		defer func() { got <- n }()
		for n < events {
			_, b, err := reader.Read(ctx)
			if err != nil {
				return
			}
			if strings.Contains(string(b), `"next"`) {
				n++
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	big := strings.Repeat("x", eventBytes)
	for range events {
		e.add("1", big)
	}
	st := &e.Engine.Stats
	if n := <-got; n != events {
		t.Fatalf("the reading client got %d of %d events (slow clients let go: %d)", n, events, st.SlowClients.Load())
	}
	waitFor(t, "the client that does not read let go", func() bool { return st.SlowClients.Load() >= 1 })
	if n := st.SlowClients.Load(); n != 1 {
		t.Fatalf("%d clients let go, want the one that does not read", n)
	}
	waitFor(t, "the burst allowance given back", func() bool { return e.Engine.BurstBorrowed() == 0 })
}
