package subscriptions_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway/subscriptions"
)

// smallWindowClient is an HTTP client whose connections have a 4 KiB
// receive buffer: what it does not read stays in the gateway.
func smallWindowClient() *http.Client {
	d := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
	}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestStreamQueuesBoundedByBytes: a subscriber that reads nothing while
// events of 256 KiB come is disconnected once the events waiting for it
// add up to subscriptions.buffer_bytes (1 MiB), on every transport; the
// bytes a WebSocket holds never pass the bound. Before, only the count
// (subscriptions.buffer, 64) bounded the queue: the gateway held 64 such
// events (16 MiB) per stream, over what the kernel's socket buffers held,
// before it let the client go.
func TestStreamQueuesBoundedByBytes(t *testing.T) {
	const eventBytes = 256 << 10
	for _, transport := range []string{"websocket", "sse", "multipart"} {
		t.Run(transport, func(t *testing.T) {
			// A write timeout longer than the test: only the queue's
			// bound lets the client go.
			e := newEnv(t, envOptions{engine: subscriptions.Options{WriteTimeout: time.Minute}})
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
				if held := e.Engine.HeldBytes(); held > subscriptions.DefaultBufferBytes {
					t.Fatalf("after %d events the WebSockets hold %d bytes, over the bound", i, held)
				}
			}
			// What the kernel's buffers took (a few MB on loopback), then 1
			// MiB of queue; 64 events would be the count's bound.
			if n := st.EventsOut.Load(); n > 40 {
				t.Fatalf("the client took %d events of %d KiB before it was let go", n, eventBytes>>10)
			}
			t.Logf("%s: let go after %d events", transport, st.EventsOut.Load())
			e.subscribed(0)
		})
	}
}
