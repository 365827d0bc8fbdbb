package subscriptions_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway/subscriptions"
)

// rawWS is a graphql-transport-ws client on a bare TCP connection, with
// no goroutine and no buffers of its own, so that what a test measures
// of the process's memory is the gateway's (plus a socket's few hundred
// bytes on the client side).
type rawWS struct {
	c  net.Conn
	br *bufio.Reader
}

// dialRaw opens a WebSocket to url (ws://host/path) with the
// graphql-transport-ws subprotocol, sends connection_init and waits for
// connection_ack.
func dialRaw(t testing.TB, url string) *rawWS {
	t.Helper()
	hostPath := strings.TrimPrefix(url, "ws://")
	host, path, _ := strings.Cut(hostPath, "/")
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	key := make([]byte, 16)
	_, _ = rand.Read(key)
	fmt.Fprintf(c, "GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n",
		path, host, base64.StdEncoding.EncodeToString(key))
	w := &rawWS{c: c, br: bufio.NewReaderSize(c, 64)}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	w.send(t, `{"type":"connection_init"}`)
	if m := w.read(t); !strings.Contains(m, `"connection_ack"`) {
		t.Fatalf("got %s, want connection_ack", m)
	}
	t.Cleanup(func() { _ = c.Close() })
	return w
}

// send writes one masked text frame.
func (w *rawWS) send(t testing.TB, s string) {
	t.Helper()
	p := []byte(s)
	hdr := []byte{0x81}
	switch {
	case len(p) < 126:
		hdr = append(hdr, 0x80|byte(len(p)))
	default:
		hdr = append(hdr, 0x80|126, byte(len(p)>>8), byte(len(p)))
	}
	var mask [4]byte
	_, _ = rand.Read(mask[:])
	hdr = append(hdr, mask[:]...)
	for i := range p {
		p[i] ^= mask[i%4]
	}
	if _, err := w.c.Write(append(hdr, p...)); err != nil {
		t.Fatalf("write: %v", err)
	}
}

// read returns the payload of the next text frame.
func (w *rawWS) read(t testing.TB) string {
	t.Helper()
	_ = w.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var h [2]byte
	if _, err := io.ReadFull(w.br, h[:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var b [2]byte
		_, _ = io.ReadFull(w.br, b[:])
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		_, _ = io.ReadFull(w.br, b[:])
		n = binary.BigEndian.Uint64(b[:])
	}
	p := make([]byte, n)
	if _, err := io.ReadFull(w.br, p); err != nil {
		t.Fatalf("read: %v", err)
	}
	return string(p)
}

// live is the memory the process holds after a collection: live heap
// objects and goroutine stacks.
func live() (heap, stacks uint64) {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc, m.StackInuse
}

// idleFigures opens n idle subscriptions, each on its own WebSocket, and
// returns the live heap and stack bytes and the goroutines they added,
// per subscription.
func idleFigures(t testing.TB, n int) (heap, stacks, goroutines float64) {
	e := newEnv(t, envOptions{engine: subscriptions.Options{MaxPerClient: n + 1, MaxConnectionsPerClient: n + 1, SubscribeRate: 1e6, SubscribeBurst: n + 1}})
	// A first subscription starts the shared upstream stream, the pinger
	// and the pools: the figures are of the ones that follow.
	first := dialRaw(t, e.WSURL)
	first.send(t, subscribeMsg("s"))
	waitFor(t, "1 active", func() bool { return e.Engine.Stats.Active.Load() == 1 })
	h0, s0 := live()
	g0 := runtime.NumGoroutine()
	clients := make([]*rawWS, n)
	for i := range clients {
		clients[i] = dialRaw(t, e.WSURL)
		clients[i].send(t, subscribeMsg("s"))
	}
	waitFor(t, fmt.Sprintf("%d active", n+1), func() bool { return e.Engine.Stats.Active.Load() == int64(n+1) })
	h1, s1 := live()
	g1 := runtime.NumGoroutine()
	if path := os.Getenv("SUBS_HEAP_PROFILE"); path != "" {
		// The live heap of the idle subscriptions, for go tool pprof.
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		_ = pprof.Lookup("heap").WriteTo(f, 0)
		_ = f.Close()
	}
	// The subscriptions are alive: one event reaches each.
	e.add("3", "alive")
	for _, c := range append(clients, first) {
		if m := c.read(t); !strings.Contains(m, `"alive"`) {
			t.Fatalf("got %s", m)
		}
	}
	return (float64(h1) - float64(h0)) / float64(n), (float64(s1) - float64(s0)) / float64(n), float64(g1-g0) / float64(n)
}

func subscribeMsg(id string) string {
	p, _ := json.Marshal(map[string]any{"id": id, "type": "subscribe", "payload": map[string]any{"query": reviewAdded, "variables": map[string]any{"upc": "3"}}})
	return string(p)
}

// TestIdleSubscriptionMemory checks the memory of an idle subscription on
// its own WebSocket (heap and stacks, client sockets included) against
// the 20 KB of issue 16.
func TestIdleSubscriptionMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector multiplies memory")
	}
	if testing.Short() {
		t.Skip("opens 1,000 connections")
	}
	heap, stacks, g := idleFigures(t, 1000)
	t.Logf("per idle subscription: heap %.0f B, stacks %.0f B, goroutines %.2f", heap, stacks, g)
	if total := heap + stacks; total > 20000 {
		t.Errorf("%.0f bytes per idle subscription, want under 20,000", total)
	}
}

func init() {
	if os.Getenv("SUBS_HEAP_PROFILE") != "" {
		runtime.MemProfileRate = 1
	}
}

// A client may send its first messages right behind the upgrade request,
// in the same packet: they are read (the gateway's own small buffers take
// over what net/http had buffered).
func TestMessagesPipelinedBehindTheUpgrade(t *testing.T) {
	e := newEnv(t, envOptions{})
	host, path, _ := strings.Cut(strings.TrimPrefix(e.WSURL, "ws://"), "/")
	c, err := net.DialTimeout("tcp", host, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	w := &rawWS{c: c, br: bufio.NewReaderSize(c, 64)}
	// Upgrade, connection_init and subscribe in one write.
	var frames []byte
	for _, m := range []string{`{"type":"connection_init"}`, subscribeMsg("piped")} {
		rec := &frameRecorder{}
		(&rawWS{c: rec}).send(t, m)
		frames = append(frames, rec.b...)
	}
	req := fmt.Sprintf("GET /%s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n", path, host)
	if _, err := c.Write(append([]byte(req), frames...)); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(w.br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade: %v %v", resp, err)
	}
	if m := w.read(t); !strings.Contains(m, "connection_ack") {
		t.Fatalf("got %s", m)
	}
	e.subscribed(1)
	e.add("3", "piped through")
	if m := w.read(t); !strings.Contains(m, `"id":"piped"`) || !strings.Contains(m, "piped through") {
		t.Fatalf("got %s", m)
	}
}

// frameRecorder is a net.Conn that keeps what is written.
type frameRecorder struct {
	net.Conn
	b []byte
}

func (r *frameRecorder) Write(p []byte) (int, error) { r.b = append(r.b, p...); return len(p), nil }

// Over TLS the connection is no socket the gateway can wait on without
// reading: its reader blocks in the read instead, with the same protocol.
func TestWebSocketOverTLS(t *testing.T) {
	e := newEnv(t, envOptions{tls: true})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, e.WSURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPClient: e.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	w := &wsClient{t: t, c: c, msgs: make(chan msg, 16), closed: make(chan websocket.StatusCode, 1)}
	go func() {
		for {
			_, b, err := c.Read(context.Background())
			if err != nil {
				w.closed <- websocket.CloseStatus(err)
				close(w.msgs)
				return
			}
			var m msg
			_ = json.Unmarshal(b, &m)
			w.msgs <- m
		}
	}()
	w.init("")
	w.subscribe("tls", reviewAdded, nil)
	e.subscribed(1)
	for _, body := range []string{"first", "second"} {
		e.add("1", body)
		if got := eventBody(t, w.next()); got != body {
			t.Fatalf("got %s, want %s", got, body)
		}
	}
	w.send(msg{ID: "tls", Type: "complete"})
	e.subscribed(0)
	w.sendRaw("{nope")
	if code := w.closeCode(); code != subscriptions.CloseBadRequest {
		t.Fatalf("close code %d", code)
	}
}

// TestIdleHTTPSubscriptionMemory measures an idle GraphQL over SSE
// (distinct connections) and an idle multipart subscription, each on its
// own HTTP/1.1 connection (hijacked once its header is sent, so that
// neither the handler's goroutine nor net/http's buffers stay), against
// the 20 KB of issue 16.
func TestIdleHTTPSubscriptionMemory(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector multiplies memory")
	}
	if testing.Short() {
		t.Skip("opens 500 connections")
	}
	for _, tc := range []struct{ name, accept string }{
		{"sse", "text/event-stream"},
		{"multipart", `multipart/mixed;subscriptionSpec="1.0",application/json`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const n = 500
			e := newEnv(t, envOptions{engine: subscriptions.Options{MaxPerClient: n + 1, MaxConnectionsPerClient: n + 1, SubscribeRate: 1e6, SubscribeBurst: n + 1}})
			host := strings.TrimPrefix(strings.TrimSuffix(e.URL, "/graphql"), "http://")
			body := `{"query":"subscription { reviewAdded(productUpc: \"3\") { body product { name } } }"}`
			open := func() net.Conn {
				c, err := net.DialTimeout("tcp", host, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = c.Close() })
				fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: %s\r\nContent-Length: %d\r\n\r\n%s", host, tc.accept, len(body), body)
				return c
			}
			first := open()
			waitFor(t, "1 active", func() bool { return e.Engine.Stats.Active.Load() == 1 })
			h0, s0 := live()
			for i := 0; i < n; i++ {
				open()
			}
			waitFor(t, fmt.Sprintf("%d active", n+1), func() bool { return e.Engine.Stats.Active.Load() == n+1 })
			time.Sleep(100 * time.Millisecond)
			h1, s1 := live()
			heap, stacks := (float64(h1)-float64(h0))/n, (float64(s1)-float64(s0))/n
			t.Logf("per idle %s subscription: heap %.0f B, stacks %.0f B", tc.name, heap, stacks)
			if total := heap + stacks; total > 20000 {
				t.Errorf("%.0f bytes per idle %s subscription, want under 20,000", total, tc.name)
			}
			// They are alive: an event reaches the first one.
			e.add("3", "alive")
			_ = first.SetReadDeadline(time.Now().Add(10 * time.Second))
			var got []byte
			buf := make([]byte, 4096)
			for !bytes.Contains(got, []byte(`"alive"`)) {
				k, err := first.Read(buf)
				if err != nil {
					t.Fatalf("no event (%v) after %q", err, got)
				}
				got = append(got, buf[:k]...)
			}
		})
	}
}

// TestBackloggedClientInOrder fills a client's socket (it reads nothing
// while large events arrive, so the gateway's non-blocking writes come up
// short and a writer finishes them) and then reads: with room for them in
// its buffer (by count and by bytes), every event arrives once, whole
// and in order, on both of the connection's subscriptions.
func TestBackloggedClientInOrder(t *testing.T) {
	const events = 200
	// The client reads nothing until every event is fanned out, so the
	// gateway's write to it blocks from the first events on: with the
	// default WriteTimeout (10 s), a loaded machine that took that long to
	// send the 200 events had the client dropped as a slow reader, and the
	// wait for the events to be taken timed out. This test is about order
	// in a backlog, not about slow readers (TestSlowClientIsDisconnected).
	e := newEnv(t, envOptions{engine: subscriptions.Options{Buffer: 4 * events, BufferBytes: 16 << 20, WriteTimeout: 2 * time.Minute}})
	// The gateway's socket gets a small send buffer: it fills at once.
	subscriptions.SetAcceptHook(t, func(c net.Conn) { _ = c.(*net.TCPConn).SetWriteBuffer(4096) })
	c := dialRaw(t, e.WSURL)
	c.send(t, subscribeMsg("a"))
	c.send(t, strings.Replace(subscribeMsg("b"), `"upc":"3"`, `"upc":"3","other":1`, 1))
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	e.subscribed(1)
	pad := strings.Repeat("x", 8<<10)
	for i := range events {
		e.add("3", fmt.Sprintf("%d-%s", i, pad))
		if i%32 == 31 {
			// The demo feed holds 64 events per subscriber: let the
			// gateway take them (each reaches both subscriptions, one
			// group of identical ones: the unused variable is dropped).
			waitFor(t, "events taken", func() bool { return e.Engine.Stats.EventsOut.Load() == int64(2*(i+1)) })
		}
	}
	waitFor(t, "all events fanned out", func() bool { return e.Engine.Stats.EventsOut.Load() == 2*events })
	next := map[string]int{}
	for range 2 * events {
		var m struct {
			ID      string
			Type    string
			Payload struct {
				Data struct{ ReviewAdded struct{ Body string } }
			}
		}
		raw := c.read(t)
		if err := json.Unmarshal([]byte(raw), &m); err != nil || m.Type != "next" {
			t.Fatalf("not a next message (%v): %.200s", err, raw)
		}
		want := fmt.Sprintf("%d-%s", next[m.ID], pad)
		if m.Payload.Data.ReviewAdded.Body != want {
			t.Fatalf("%s: got event %.10s, want %.10s", m.ID, m.Payload.Data.ReviewAdded.Body, want)
		}
		next[m.ID]++
	}
	if next["a"] != events || next["b"] != events {
		t.Fatalf("events per subscription: %v", next)
	}
}
