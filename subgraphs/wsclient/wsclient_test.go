package wsclient

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/freeport"
	"github.com/fedgate/gateway/subgraphs/demo/reviews"
)

// recorder is a Listener that keeps what it receives.
type recorder struct {
	mu     sync.Mutex
	events []string
	ended  chan error
}

func newRecorder() *recorder { return &recorder{ended: make(chan error, 1)} }

func (r *recorder) Next(p []byte) {
	r.mu.Lock()
	r.events = append(r.events, string(p))
	r.mu.Unlock()
}
func (r *recorder) End(err error) { r.ended <- err }

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// killable is a subgraph server whose Close also cuts the hijacked
// (WebSocket) connections, as the death of its process would.
type killable struct {
	srv   *http.Server
	mu    sync.Mutex
	conns []net.Conn
}

func (k *killable) Close() error {
	err := k.srv.Close()
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, c := range k.conns {
		_ = c.Close()
	}
	return err
}

// serveReviews serves the reviews demo subgraph with feed on ln.
func serveReviews(t *testing.T, ln net.Listener, feed *reviews.Feed) *killable {
	t.Helper()
	k := &killable{}
	k.srv = &http.Server{Handler: reviews.NewHandlerWithFeed(feed), ConnState: func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			k.mu.Lock()
			k.conns = append(k.conns, c)
			k.mu.Unlock()
		}
	}}
	go func() { _ = k.srv.Serve(ln) }()
	return k
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

const query = `subscription($upc:String){reviewAdded(productUpc:$upc){id body}}`

func TestMultiplexAndReconnect(t *testing.T) {
	// The subgraph restarts on its port, held meanwhile.
	ln := freeport.Listen(t)
	addr := ln.Addr().String()
	feed := reviews.NewFeed()
	srv := serveReviews(t, ln, feed)
	c := New(Options{URLs: map[string]string{"reviews": "http://" + addr + "/"}, Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond})
	defer c.Close()

	same := []*recorder{newRecorder(), newRecorder(), newRecorder()}
	for _, r := range same {
		if _, err := c.Subscribe(Request{Subgraph: "reviews", Query: query, Variables: json.RawMessage(`{"upc":"1"}`)}, r); err != nil {
			t.Fatal(err)
		}
	}
	other := newRecorder()
	osub, err := c.Subscribe(Request{Subgraph: "reviews", Query: query, Variables: json.RawMessage(`{"upc":"2"}`)}, other)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2 upstream subscribers", func() bool { return feed.Subscribers() == 2 })
	if got := c.Stats.Streams.Load(); got != 2 {
		t.Fatalf("streams = %d, want 2 (identical subscriptions share one)", got)
	}
	if got := c.Stats.Conns.Load(); got != 1 {
		t.Fatalf("connections = %d, want 1", got)
	}
	if _, err := feed.Add("1", "1", "first", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := feed.Add("2", "1", "second", 4); err != nil {
		t.Fatal(err)
	}
	for i, r := range same {
		waitFor(t, "event", func() bool { return r.count() == 1 })
		if !strings.Contains(r.events[0], `"body":"first"`) {
			t.Fatalf("listener %d got %s", i, r.events[0])
		}
	}
	waitFor(t, "other event", func() bool { return other.count() == 1 })

	// The subgraph dies and comes back on the same port: the streams are
	// subscribed again and events flow.
	_ = srv.Close()
	waitFor(t, "connection loss", func() bool { return c.Stats.Conns.Load() == 0 })
	var ln2 net.Listener
	waitFor(t, "port free", func() bool { ln2, err = net.Listen("tcp", addr); return err == nil })
	feed2 := reviews.NewFeed()
	srv2 := serveReviews(t, ln2, feed2)
	defer srv2.Close()
	waitFor(t, "resubscribed", func() bool { return feed2.Subscribers() == 2 })
	if _, err := feed2.Add("1", "2", "after restart", 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "event after restart", func() bool { return same[0].count() == 2 })

	// The last listener leaving completes the stream upstream.
	osub.Close()
	waitFor(t, "upstream complete", func() bool { return feed2.Subscribers() == 1 })
}

func TestRetryExhaustedEndsStreams(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serveReviews(t, ln, reviews.NewFeed())
	c := New(Options{URLs: map[string]string{"reviews": "http://" + ln.Addr().String()}, Backoff: 10 * time.Millisecond, RetryFor: 200 * time.Millisecond})
	defer c.Close()
	r := newRecorder()
	if _, err := c.Subscribe(Request{Subgraph: "reviews", Query: query}, r); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "connected", func() bool { return c.Stats.Conns.Load() == 1 })
	_ = srv.Close()
	select {
	case err := <-r.ended:
		var se *StreamError
		if err == nil || !asStreamError(err, &se) {
			t.Fatalf("End(%v), want a StreamError", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream did not end")
	}
	if n := c.Stats.Streams.Load(); n != 0 {
		t.Fatalf("streams = %d after end", n)
	}
}

func TestSubgraphErrorEndsStream(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := serveReviews(t, ln, reviews.NewFeed())
	defer srv.Close()
	c := New(Options{URLs: map[string]string{"reviews": "http://" + ln.Addr().String()}})
	defer c.Close()
	r := newRecorder()
	if _, err := c.Subscribe(Request{Subgraph: "reviews", Query: `subscription{nope}`}, r); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-r.ended:
		var se *StreamError
		if !asStreamError(err, &se) || se.Errors == nil {
			t.Fatalf("End(%v), want the subgraph's errors", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("stream did not end")
	}
	_ = context.Background()
}

func asStreamError(err error, target **StreamError) bool {
	se, ok := err.(*StreamError)
	if ok {
		*target = se
	}
	return ok
}

func TestSSEToSubgraph(t *testing.T) {
	// The subgraph restarts on its port, held meanwhile.
	ln := freeport.Listen(t)
	addr := ln.Addr().String()
	feed := reviews.NewFeed()
	srv := serveReviews(t, ln, feed)
	c := New(Options{Backoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond,
		SSE: func(sg string) (string, bool) { return "http://" + addr + "/", sg == "reviews" }})
	defer c.Close()
	a, b, other := newRecorder(), newRecorder(), newRecorder()
	for _, r := range []*recorder{a, b} {
		if _, err := c.Subscribe(Request{Subgraph: "reviews", Query: query, Variables: json.RawMessage(`{"upc":"1"}`)}, r); err != nil {
			t.Fatal(err)
		}
	}
	osub, err := c.Subscribe(Request{Subgraph: "reviews", Query: query, Variables: json.RawMessage(`{"upc":"2"}`)}, other)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "2 upstream subscribers", func() bool { return feed.Subscribers() == 2 })
	if s := c.Stats.Streams.Load(); s != 2 {
		t.Fatalf("streams = %d, want 2", s)
	}
	if _, err := feed.Add("1", "1", "over sse", 5); err != nil {
		t.Fatal(err)
	}
	for _, r := range []*recorder{a, b} {
		waitFor(t, "event", func() bool { return r.count() == 1 })
		if !strings.Contains(r.events[0], `"body":"over sse"`) {
			t.Fatal(r.events[0])
		}
	}
	_ = srv.Close()
	var ln2 net.Listener
	waitFor(t, "port free", func() bool { ln2, err = net.Listen("tcp", addr); return err == nil })
	feed2 := reviews.NewFeed()
	srv2 := serveReviews(t, ln2, feed2)
	defer srv2.Close()
	waitFor(t, "resubscribed", func() bool { return feed2.Subscribers() == 2 })
	if _, err := feed2.Add("1", "2", "after restart", 3); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "event after restart", func() bool { return a.count() == 2 })
	osub.Close()
	waitFor(t, "the stream's request ended", func() bool { return feed2.Subscribers() == 1 })
}
