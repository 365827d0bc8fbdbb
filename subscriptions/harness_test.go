package subscriptions_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/freeport"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/fedgate/gateway/subgraphs/demo/reviews"
	"github.com/fedgate/gateway/subgraphs/wsclient"
	"github.com/fedgate/gateway/subscriptions"
)

// subgraphServer serves one demo subgraph on a loopback port; kill cuts
// its connections too (hijacked WebSockets included), as the death of its
// process would, and restart serves it again on the same port, which is
// held for the test while the subgraph is down (freeport.Listen).
type subgraphServer struct {
	t     testing.TB
	addr  string
	h     func() http.Handler
	mu    sync.Mutex
	srv   *http.Server
	conns []net.Conn
}

func startSubgraph(t testing.TB, h func() http.Handler) *subgraphServer {
	s := &subgraphServer{t: t, h: h}
	ln := freeport.Listen(t)
	s.addr = ln.Addr().String()
	s.serve(ln)
	t.Cleanup(s.kill)
	return s
}

func (s *subgraphServer) restart() {
	s.t.Helper()
	var ln net.Listener
	var err error
	// A port that is not held (!freeport.Shares) may be taken meanwhile.
	for i := 0; i < 200; i++ {
		if ln, err = net.Listen("tcp", s.addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		s.t.Fatalf("listen %s: %v", s.addr, err)
	}
	s.serve(ln)
}

func (s *subgraphServer) serve(ln net.Listener) {
	srv := &http.Server{Handler: s.h(), ConnState: func(c net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.mu.Lock()
			s.conns = append(s.conns, c)
			s.mu.Unlock()
		}
	}}
	s.mu.Lock()
	s.srv = srv
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (s *subgraphServer) kill() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		_ = s.srv.Close()
	}
	for _, c := range s.conns {
		_ = c.Close()
	}
	s.conns = nil
}

// env is a gateway with the demo subgraphs and the subscription engine.
type env struct {
	t       testing.TB
	URL     string // http://127.0.0.1:PORT/graphql
	WSURL   string
	Server  *server.Server
	Engine  *subscriptions.Engine
	Up      *wsclient.Client
	Feed    *reviews.Feed
	Reviews *subgraphServer
	urls    map[string]string
	// HTTPClient reaches the gateway (its TLS certificate trusted).
	HTTPClient *http.Client
}

type envOptions struct {
	engine   subscriptions.Options
	upstream wsclient.Options
	server   *server.Options
	// products and reviews wrap those subgraphs' handlers.
	products, reviews func(http.Handler) http.Handler
	// sseReviews subscribes to reviews over SSE instead of WebSocket.
	sseReviews bool
	// sdl replaces the demo supergraph.
	sdl string
	// gateway wraps the server as the engine's Gateway.
	gateway func(subscriptions.Gateway) subscriptions.Gateway
	// tls serves the gateway over TLS (its WebSockets then read without
	// the readiness wait of plain sockets).
	tls bool
	// joined serves the gateway on Server.Listener (joinwrite), as fedgate
	// serve does.
	joined bool
}

func newEnv(t testing.TB, o envOptions) *env {
	t.Helper()
	sdl := gateway.DemoSupergraph
	if o.sdl != "" {
		sdl = o.sdl
	}
	sg, err := schema.Load(sdl)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, Feed: reviews.NewFeed(), urls: map[string]string{}}
	handlers := demo.Handlers()
	for _, g := range sg.Graphs {
		var h func() http.Handler
		switch g.Name {
		case "reviews":
			h = func() http.Handler {
				rh := reviews.NewHandlerWithFeed(e.Feed)
				if o.reviews != nil {
					return o.reviews(rh)
				}
				return rh
			}
		case "products":
			ph := handlers[g.Name]
			if o.products != nil {
				ph = o.products(ph)
			}
			h = func() http.Handler { return ph }
		default:
			gh := handlers[g.Name]
			h = func() http.Handler { return gh }
		}
		s := startSubgraph(t, h)
		if g.Name == "reviews" {
			e.Reviews = s
		}
		e.urls[g.Name] = "http://" + s.addr + demo.Path
	}
	client := subgraphs.NewClient(e.urls, subgraphs.Options{Timeout: 10 * time.Second})
	t.Cleanup(client.Close)
	opts := server.DefaultOptions()
	if o.server != nil {
		opts = *o.server
	}
	srv, err := server.New(sg, client, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	if o.engine.Logger == nil {
		o.engine.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	up := o.upstream
	up.URLs = e.urls
	if o.sseReviews {
		up.SSE = func(sg string) (string, bool) { return e.urls[sg], sg == "reviews" }
	}
	if up.Backoff == 0 {
		up.Backoff = 20 * time.Millisecond
		up.MaxBackoff = 200 * time.Millisecond
	}
	e.Up = wsclient.New(up)
	var gw subscriptions.Gateway = srv
	if o.gateway != nil {
		gw = o.gateway(srv)
	}
	e.Engine = subscriptions.New(gw, e.Up, o.engine)
	srv.HandleStreams(e.Engine)
	var hs *httptest.Server
	if o.tls {
		hs = httptest.NewTLSServer(srv)
		e.HTTPClient = hs.Client()
	} else {
		hs = httptest.NewUnstartedServer(srv)
		if o.joined {
			// As gateway serve's listener: joinwrite's connections under
			// the watch for net/http's own refusals.
			hs.Listener = srv.Listener(hs.Listener)
			hs.Config.ConnContext = srv.HTTPServer().ConnContext
		}
		hs.Start()
		e.HTTPClient = http.DefaultClient
	}
	t.Cleanup(func() {
		e.Engine.Shutdown()
		hs.CloseClientConnections()
		hs.Close()
	})
	e.Server = srv
	e.URL = hs.URL + "/graphql"
	e.WSURL = strings.Replace(strings.Replace(e.URL, "http://", "ws://", 1), "https://", "wss://", 1)
	return e
}

// add emits a review of upc with body through the reviews subgraph's feed.
func (e *env) add(upc, body string) {
	e.t.Helper()
	if _, err := e.Feed.Add(upc, "1", body, 4); err != nil {
		e.t.Fatal(err)
	}
}

// post sends a GraphQL request over HTTP and returns the body.
func (e *env) post(query string) string {
	e.t.Helper()
	b, _ := json.Marshal(map[string]string{"query": query})
	resp, err := http.Post(e.URL, "application/json", bytes.NewReader(b))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return string(out)
}

func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// wsClient is a graphql-transport-ws client for tests.
type wsClient struct {
	t    *testing.T
	c    *websocket.Conn
	msgs chan msg
	// closed receives the close status when the connection ends.
	closed chan websocket.StatusCode
}

type msg struct {
	ID      string          `json:"id,omitempty"`
	Type    string          `json:"type"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

func dialWS(t *testing.T, url string, header http.Header) *wsClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: header})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	c.SetReadLimit(16 << 20)
	w := &wsClient{t: t, c: c, msgs: make(chan msg, 1024), closed: make(chan websocket.StatusCode, 1)}
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
			if m.Type == "ping" {
				w.send(msg{Type: "pong"})
				continue
			}
			w.msgs <- m
		}
	}()
	t.Cleanup(func() { _ = c.CloseNow() })
	return w
}

func (w *wsClient) send(m msg) {
	b, _ := json.Marshal(m)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.c.Write(ctx, websocket.MessageText, b)
}

func (w *wsClient) sendRaw(s string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = w.c.Write(ctx, websocket.MessageText, []byte(s))
}

// init sends connection_init with payload and expects connection_ack.
func (w *wsClient) init(payload string) {
	w.t.Helper()
	m := msg{Type: "connection_init"}
	if payload != "" {
		m.Payload = json.RawMessage(payload)
	}
	w.send(m)
	if got := w.next(); got.Type != "connection_ack" {
		w.t.Fatalf("got %s %s, want connection_ack", got.Type, got.Payload)
	}
}

func (w *wsClient) subscribe(id, query string, vars map[string]any) {
	p, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	w.send(msg{ID: id, Type: "subscribe", Payload: p})
}

// next returns the next message, failing after 10s.
func (w *wsClient) next() msg {
	w.t.Helper()
	select {
	case m, ok := <-w.msgs:
		if !ok {
			w.t.Fatalf("connection closed (%v) while waiting for a message", <-w.closed)
		}
		return m
	case <-time.After(10 * time.Second):
		w.t.Fatal("no message within 10s")
	}
	return msg{}
}

// closeCode waits for the connection to be closed and returns the code.
func (w *wsClient) closeCode() websocket.StatusCode {
	w.t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-w.msgs:
			if !ok {
				return <-w.closed
			}
		case <-timeout:
			w.t.Fatal("connection not closed within 10s")
		}
	}
}

const reviewAdded = `subscription($upc: String) { reviewAdded(productUpc: $upc) { body product { upc name inStock } author { username } } }`

// eventBody returns reviewAdded.body of a next message, failing on errors.
func eventBody(t *testing.T, m msg) string {
	t.Helper()
	if m.Type != "next" {
		t.Fatalf("got %s %s, want next", m.Type, m.Payload)
	}
	var r struct {
		Data struct {
			ReviewAdded struct {
				Body    string
				Product struct {
					Upc, Name string
					InStock   *bool
				}
			}
		}
		Errors []any
	}
	if err := json.Unmarshal(m.Payload, &r); err != nil {
		t.Fatal(err)
	}
	if len(r.Errors) > 0 || r.Data.ReviewAdded.Product.Name == "" || r.Data.ReviewAdded.Product.InStock == nil {
		t.Fatalf("event not completed through the products and inventory subgraphs: %s", m.Payload)
	}
	return r.Data.ReviewAdded.Body
}

// subscribed waits until the reviews subgraph has n reviewAdded streams.
func (e *env) subscribed(n int) {
	e.t.Helper()
	waitFor(e.t, fmt.Sprintf("%d upstream subscribers", n), func() bool { return e.Feed.Subscribers() == n })
}

// subgraphsRetry is an upstream configuration that gives up on a broken
// subgraph connection after d.
func subgraphsRetry(d time.Duration) wsclient.Options {
	return wsclient.Options{RetryFor: d, Backoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
}
