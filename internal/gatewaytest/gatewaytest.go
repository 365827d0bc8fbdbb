// Package gatewaytest starts a complete gateway for tests: the demo
// subgraphs (or handlers a test supplies) on loopback httptest servers, the
// gateway handler over a real subgraphs.Client in front of them, and a
// recorder per subgraph that counts and keeps the request bodies it saw.
//
// Everything Start creates is closed by t.Cleanup.
package gatewaytest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// Gateway is a running gateway and its subgraphs.
type Gateway struct {
	// URL is the gateway's GraphQL endpoint, http://127.0.0.1:PORT/graphql.
	URL string
	// BaseURL is the gateway's origin, http://127.0.0.1:PORT.
	BaseURL string
	// Handler is the gateway's HTTP handler, for in-process calls.
	Handler *server.Server
	// Supergraph is the supergraph served; its URLs are replaced by the
	// recorders' URLs in the client, not in this value.
	Supergraph *schema.Supergraph
	// Subgraphs records the requests of each subgraph, by subgraph name.
	Subgraphs map[string]*Recorder
	// Client is an HTTP client for calling the gateway.
	Client *http.Client
	// Transport is the gateway's subgraph client.
	Transport *subgraphs.Client
}

// Option configures Start.
type Option func(*config)

type config struct {
	sdl      string
	handlers map[string]http.Handler
	client   subgraphs.Options
	server   server.Options
	serverOK bool
	memoize  bool
}

// WithSupergraph serves sdl instead of the embedded demo supergraph. Every
// subgraph it names needs a handler: a demo subgraph of that name or one
// given with WithHandler.
func WithSupergraph(sdl string) Option { return func(c *config) { c.sdl = sdl } }

// WithHandler serves h as the subgraph name, replacing a demo subgraph of
// that name.
func WithHandler(name string, h http.Handler) Option {
	return func(c *config) { c.handlers[name] = h }
}

// WithMemoizedSubgraphs wraps every subgraph handler in Memoize, so that
// repeated requests cost the subgraphs next to nothing.
func WithMemoizedSubgraphs() Option { return func(c *config) { c.memoize = true } }

// WithClientOptions sets the options of the gateway's subgraph client, for
// example a short Timeout for fault tests.
func WithClientOptions(o subgraphs.Options) Option { return func(c *config) { c.client = o } }

// WithServerOptions replaces the default options: server.DefaultOptions()
// with introspection on, as `gateway demo` serves it.
func WithServerOptions(o server.Options) Option {
	return func(c *config) { c.server, c.serverOK = o, true }
}

// Start starts the subgraphs and the gateway. It fails the test on error.
func Start(t testing.TB, opts ...Option) *Gateway {
	t.Helper()
	cfg := &config{sdl: gateway.DemoSupergraph, handlers: demo.Handlers(), client: subgraphs.Options{Timeout: 10 * time.Second}}
	for _, o := range opts {
		o(cfg)
	}
	if !cfg.serverOK {
		cfg.server = server.DefaultOptions()
		cfg.server.Introspection = true
	}
	sg, err := schema.Load(cfg.sdl)
	if err != nil {
		t.Fatalf("gatewaytest: %v", err)
	}
	g := &Gateway{Supergraph: sg, Subgraphs: map[string]*Recorder{}}
	urls := map[string]string{}
	for _, graph := range sg.Graphs {
		h, ok := cfg.handlers[graph.Name]
		if !ok {
			t.Fatalf("gatewaytest: no handler for subgraph %q", graph.Name)
		}
		if cfg.memoize {
			h = Memoize(h)
		}
		rec := &Recorder{Name: graph.Name, next: h}
		srv := httptest.NewServer(rec)
		t.Cleanup(srv.Close)
		rec.URL = srv.URL + demo.Path
		g.Subgraphs[graph.Name] = rec
		urls[graph.Name] = rec.URL
	}
	client := subgraphs.NewClient(urls, cfg.client)
	t.Cleanup(client.Close)
	s, err := server.New(sg, client, cfg.server)
	if err != nil {
		t.Fatalf("gatewaytest: %v", err)
	}
	t.Cleanup(s.Close)
	// The listener has the limits `gateway serve` gives it (timeouts,
	// header size), so that slow-client tests see what production does.
	gw := httptest.NewUnstartedServer(s)
	gw.Config = s.HTTPServer()
	gw.Listener = s.Listener(gw.Listener)
	gw.Start()
	// Registered last, so it runs first: the gateway stops before the
	// subgraphs it calls.
	t.Cleanup(gw.Close)
	g.Handler = s
	g.Transport = client
	g.BaseURL = gw.URL
	g.URL = gw.URL + "/graphql"
	g.Client = gw.Client()
	g.Client.Timeout = 30 * time.Second
	return g
}

// Requests returns the number of requests all subgraphs received.
func (g *Gateway) Requests() int {
	n := 0
	for _, r := range g.Subgraphs {
		n += r.Count()
	}
	return n
}

// Counts returns the requests received per subgraph name.
func (g *Gateway) Counts() map[string]int {
	out := map[string]int{}
	for name, r := range g.Subgraphs {
		out[name] = r.Count()
	}
	return out
}

// Response is a gateway answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Post sends a GraphQL POST with the given JSON body and returns the answer.
func (g *Gateway) Post(ctx context.Context, body []byte) (*Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json, application/json")
	return g.Do(req)
}

// Do sends req with the gateway's client and reads the whole answer.
func (g *Gateway) Do(req *http.Request) (*Response, error) {
	resp, err := g.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the gateway's answer: %w", err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// maxRecorded bounds the bodies a Recorder keeps, so that benchmarks and
// load tests do not grow without bound; Count goes on counting.
const maxRecorded = 10000

// Recorder wraps a subgraph handler and records the bodies of the requests
// it serves (the first 10000 of them).
type Recorder struct {
	// Name is the subgraph name.
	Name string
	// URL is the subgraph's GraphQL endpoint.
	URL string

	next   http.Handler
	mu     sync.Mutex
	count  int
	bodies [][]byte
	// failed counts requests whose body could not be read to its end
	// (the gateway aborted it); they are not passed on.
	failed int
}

// ServeHTTP records the body and passes the request on.
func (r *Recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		r.mu.Lock()
		r.failed++
		r.mu.Unlock()
		http.Error(w, "reading the body failed", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	r.count++
	if len(r.bodies) < maxRecorded {
		r.bodies = append(r.bodies, body)
	}
	r.mu.Unlock()
	req.Body = io.NopCloser(bytes.NewReader(body))
	req.ContentLength = int64(len(body))
	r.next.ServeHTTP(w, req)
}

// Count returns the number of requests received.
func (r *Recorder) Count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.count
}

// Failed returns the number of requests whose body broke off before its
// end: the subgraph behind never saw them.
func (r *Recorder) Failed() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.failed
}

// Bodies returns copies of the request bodies received (at most the
// first 10000), in arrival order.
func (r *Recorder) Bodies() [][]byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([][]byte, len(r.bodies))
	for i, b := range r.bodies {
		out[i] = append([]byte(nil), b...)
	}
	return out
}

// Reset forgets the recorded requests.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.count, r.bodies, r.failed = 0, nil, 0
	r.mu.Unlock()
}
