package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/freeport"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/hammer"
	"github.com/fedgate/gateway/internal/serial"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
)

// These tests inject faults into the side subgraph of the fault fixture
// over real HTTP and check that the gateway degrades as promised: only
// side's fields are lost, latency stays bounded by the timeouts, the
// breaker opens, fails fast and closes again, mutations are never
// retried, the bulkhead and load shedding refuse work fast. Each test is
// bounded in time and count.

// gqlAnswer is a decoded GraphQL response.
type gqlAnswer struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []struct {
		Message    string         `json:"message"`
		Path       []any          `json:"path"`
		Extensions map[string]any `json:"extensions"`
	} `json:"errors"`
}

func decode(t testing.TB, body []byte) gqlAnswer {
	t.Helper()
	var a gqlAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("not a GraphQL response: %v: %s", err, body)
	}
	return a
}

// codes lists the extensions.code of the errors.
func (a gqlAnswer) codes() []string {
	var out []string
	for _, e := range a.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// mainServed says whether main's things came back whole.
func (a gqlAnswer) mainServed() bool {
	return strings.Contains(string(a.Data["things"]), `"name":"One"`) && strings.Contains(string(a.Data["things"]), `"name":"Two"`)
}

func faultSupergraph(t testing.TB) string {
	t.Helper()
	sdl, err := os.ReadFile(filepath.Join(repoRoot, faultFixture))
	if err != nil {
		t.Fatal(err)
	}
	return string(sdl)
}

// mutationSupergraph is the fault fixture plus Mutation.bump on side.
func mutationSupergraph(t testing.TB) string {
	sdl := faultSupergraph(t)
	sdl = strings.Replace(sdl, "  query: Query\n", "  query: Query\n  mutation: Mutation\n", 1)
	return sdl + "\ntype Mutation\n  @join__type(graph: SIDE)\n{\n  bump: Int @join__field(graph: SIDE)\n}\n"
}

// settings returns the default subgraph settings changed by f.
func settings(f func(s *subgraphs.Settings)) *subgraphs.Config {
	c := subgraphs.DefaultConfig()
	f(&c.All)
	return &c
}

// patientMain gives main, the healthy subgraph, a generous timeout, so
// that a loaded test machine does not make it time out with side.
func patientMain(cfg *subgraphs.Config) {
	s := cfg.All
	s.Timeout = 10 * time.Second
	if cfg.Overrides == nil {
		cfg.Overrides = map[string]subgraphs.Settings{}
	}
	cfg.Overrides["main"] = s
}

// startFault starts the gateway over main and the given side handler.
func startFault(t testing.TB, sdl string, side http.Handler, cfg *subgraphs.Config, so *server.Options) *gatewaytest.Gateway {
	t.Helper()
	opts := []gatewaytest.Option{
		gatewaytest.WithSupergraph(sdl),
		gatewaytest.WithHandler("main", mainHandler()),
		gatewaytest.WithHandler("side", side),
		gatewaytest.WithClientOptions(subgraphs.Options{Config: cfg}),
	}
	// Identical concurrent fetches would share one subgraph call; these
	// tests count calls, so each request makes its own.
	if so == nil {
		d := server.DefaultOptions()
		so = &d
	}
	so.Cache.Dedupe = false
	so.Cache.InboundDedupe = false
	opts = append(opts, gatewaytest.WithServerOptions(*so))
	return gatewaytest.Start(t, opts...)
}

// outcomes tallies the answers of a load loop by kind, with their
// latencies; kinds and lat are read once the loop has stopped.
type outcomes struct {
	mu    sync.Mutex
	kinds map[string]int
	lat   []time.Duration
}

func (o *outcomes) add(kind string, d time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.kinds[kind]++
	o.lat = append(o.lat, d)
}

// count is how many answers of kind came so far.
func (o *outcomes) count(kind string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.kinds[kind]
}

// askThings starts n clients that ask g for things (main's and side's
// fields) until stop is closed, each answer tallied as "ok", "lost main
// (STATUS)" when main's data is missing, or its error codes; wait returns
// once every client has stopped.
func askThings(t testing.TB, g *gatewaytest.Gateway, n int, stop <-chan struct{}) (got *outcomes, wait func()) {
	got = &outcomes{kinds: map[string]int{}}
	wait = hammer.Run(n, stop, func(int) bool {
		resp, d := postQuery(t, g, `{ things { id name extra } }`)
		a := decode(t, resp.Body)
		kind := "ok"
		if resp.Status != 200 || !a.mainServed() {
			kind = fmt.Sprintf("lost main (%d)", resp.Status)
		} else if c := a.codes(); len(c) > 0 {
			kind = strings.Join(c, ",")
		}
		got.add(kind, d)
		return true
	})
	return got, wait
}

func postQuery(t testing.TB, g *gatewaytest.Gateway, query string) (*gatewaytest.Response, time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	body, _ := json.Marshal(map[string]string{"query": query})
	start := time.Now()
	resp, err := g.Post(ctx, body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, time.Since(start)
}

// breakerOf returns the breaker state /ready reports for a subgraph.
func breakerOf(g *gatewaytest.Gateway, name string) string {
	for _, s := range g.Transport.Health() {
		if s.Name == name {
			return s.Breaker
		}
	}
	return ""
}

// TestSlowSubgraphCostsOnlyItsFields: side answers after 2s, the
// subgraph timeout is 200ms. Twenty concurrent requests all come back
// with main's data, side's fields null with SUBREQUEST_TIMEOUT, and none
// takes much longer than the timeout.
func TestSlowSubgraphCostsOnlyItsFields(t *testing.T) {
	serial.Timing(t)
	t.Parallel()
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(2 * time.Second):
		case <-r.Context().Done():
			return
		}
		sideHandler(faultNone).ServeHTTP(w, r)
	})
	cfg := settings(func(s *subgraphs.Settings) { s.Timeout = 200 * time.Millisecond })
	patientMain(cfg)
	g := startFault(t, faultSupergraph(t), slow, cfg, nil)
	// One request first: a plan's first run reserves an eighth of the
	// memory budget, which would queue the first wave behind itself.
	postQuery(t, g, `{ things { id name extra } }`)
	const n = 20
	var wg sync.WaitGroup
	lat := make([]time.Duration, n)
	answers := make([]*gatewaytest.Response, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			answers[i], lat[i] = postQuery(t, g, `{ things { id name extra } }`)
		}()
	}
	wg.Wait()
	for i, resp := range answers {
		a := decode(t, resp.Body)
		if resp.Status != 200 || !a.mainServed() {
			t.Fatalf("request %d: main's data lost: %d %s", i, resp.Status, resp.Body)
		}
		if got := a.codes(); len(got) != 1 || got[0] != subgraphs.CodeTimeout {
			t.Fatalf("request %d: codes %v, want [%s]", i, got, subgraphs.CodeTimeout)
		}
	}
	p99 := percentile(lat, 0.99)
	t.Logf("slow subgraph: %d requests, all 200 with main's data and SUBREQUEST_TIMEOUT, p99 %v (timeout 200ms)", n, p99)
	if p99 > time.Second {
		t.Errorf("p99 %v; the subgraph timeout is 200ms", p99)
	}
}

// flapper is a side subgraph that fails with 503 while failing is set.
type flapper struct {
	failing atomic.Bool
	calls   atomic.Int64
}

func (f *flapper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls.Add(1)
	if f.failing.Load() {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	sideHandler(faultNone).ServeHTTP(w, r)
}

// TestBreakerOpensFailsFastAndRecovers: side fails; after min_requests
// failures the breaker opens and requests fail fast with
// SUBREQUEST_CIRCUIT_OPEN without reaching side; after open_timeout a
// failed probe opens it again; once side is back, a probe closes it.
func TestBreakerOpensFailsFastAndRecovers(t *testing.T) {
	serial.Timing(t)
	t.Parallel()
	side := &flapper{}
	side.failing.Store(true)
	cfg := settings(func(s *subgraphs.Settings) {
		s.Retry.Attempts = 1
		s.Breaker = subgraphs.Breaker{Enabled: true, Window: 10 * time.Second, MinRequests: 4, FailureRatio: 0.5,
			OpenTimeout: 1500 * time.Millisecond, HalfOpenRequests: 1}
	})
	g := startFault(t, faultSupergraph(t), side, cfg, nil)
	const q = `{ things { id name extra } }`
	expect := func(step, code string) {
		t.Helper()
		resp, d := postQuery(t, g, q)
		a := decode(t, resp.Body)
		if !a.mainServed() {
			t.Fatalf("%s: main's data lost: %s", step, resp.Body)
		}
		got := a.codes()
		if code == "" && len(got) != 0 || code != "" && (len(got) != 1 || got[0] != code) {
			t.Fatalf("%s: codes %v, want %q (%s)", step, got, code, resp.Body)
		}
		if code == subgraphs.CodeCircuitOpen && d > 500*time.Millisecond {
			t.Errorf("%s: failing fast took %v", step, d)
		}
	}
	for i := range 4 {
		expect(fmt.Sprintf("failure %d", i+1), subgraphs.CodeHTTPError)
	}
	if s := breakerOf(g, "side"); s != "open" {
		t.Fatalf("after 4 failures the breaker is %s, want open", s)
	}
	for i := range 10 {
		expect(fmt.Sprintf("open %d", i+1), subgraphs.CodeCircuitOpen)
	}
	if c := side.calls.Load(); c != 4 {
		t.Fatalf("side received %d requests, want 4: an open breaker sends none", c)
	}
	// Half-open with side still failing: one probe, which reopens it.
	time.Sleep(1600 * time.Millisecond)
	expect("failed probe", subgraphs.CodeHTTPError)
	expect("reopened", subgraphs.CodeCircuitOpen)
	if c := side.calls.Load(); c != 5 {
		t.Fatalf("side received %d requests, want 5 (one probe)", c)
	}
	// Side recovers: the next probe closes the breaker.
	side.failing.Store(false)
	time.Sleep(1600 * time.Millisecond)
	if s := breakerOf(g, "side"); s != "half-open" {
		t.Errorf("after the open timeout the breaker is %s, want half-open", s)
	}
	expect("probe", "")
	if s := breakerOf(g, "side"); s != "closed" {
		t.Fatalf("after a good probe the breaker is %s, want closed", s)
	}
	for i := range 5 {
		expect(fmt.Sprintf("closed %d", i+1), "")
	}
}

// TestMutationsAreNeverRetried: side answers 503 to everything; a query
// is tried three times, a mutation once.
func TestMutationsAreNeverRetried(t *testing.T) {
	t.Parallel()
	side := &flapper{}
	side.failing.Store(true)
	cfg := settings(func(s *subgraphs.Settings) {
		s.Retry.Attempts = 3
		s.Retry.Backoff, s.Retry.MaxBackoff = time.Millisecond, 5*time.Millisecond
		s.Breaker.Enabled = false
	})
	g := startFault(t, mutationSupergraph(t), side, cfg, nil)
	resp, _ := postQuery(t, g, `{ sideInfo }`)
	if got := decode(t, resp.Body).codes(); len(got) != 1 || got[0] != subgraphs.CodeHTTPError {
		t.Fatalf("query: codes %v: %s", got, resp.Body)
	}
	if c := side.calls.Swap(0); c != 3 {
		t.Fatalf("a failing query reached side %d times, want 3 attempts", c)
	}
	resp, _ = postQuery(t, g, `mutation { bump }`)
	if got := decode(t, resp.Body).codes(); len(got) != 1 || got[0] != subgraphs.CodeHTTPError {
		t.Fatalf("mutation: codes %v: %s", got, resp.Body)
	}
	if c := side.calls.Load(); c != 1 {
		t.Fatalf("a failing mutation reached side %d times, want 1", c)
	}
}

// gated is a side subgraph that holds every request until release.
type gated struct {
	inflight atomic.Int64
	calls    atomic.Int64
	gate     chan struct{}
	once     sync.Once
}

// newGated returns a gated subgraph that is released at the latest when
// the test ends, so that a failing test does not wait for its requests.
func newGated(t testing.TB) *gated {
	g := &gated{gate: make(chan struct{})}
	t.Cleanup(g.release)
	return g
}

// release lets every held request (and every later one) through.
func (g *gated) release() { g.once.Do(func() { close(g.gate) }) }

func (g *gated) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.calls.Add(1)
	g.inflight.Add(1)
	defer g.inflight.Add(-1)
	select {
	case <-g.gate:
	case <-r.Context().Done():
		return
	case <-time.After(10 * time.Second):
	}
	sideHandler(faultNone).ServeHTTP(w, r)
}

// waitFor polls cond until it holds, for up to 15 s (a generous deadline
// for a loaded machine: it ends as soon as cond holds).
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

// TestBulkheadSaturation: side holds its requests; with a bulkhead of 2
// and no wait, two of six concurrent requests reach side and four fail at
// once with SUBREQUEST_BULKHEAD_FULL; the two finish once side answers.
func TestBulkheadSaturation(t *testing.T) {
	serial.Timing(t)
	t.Parallel()
	side := newGated(t)
	cfg := settings(func(s *subgraphs.Settings) {
		s.Bulkhead = subgraphs.Bulkhead{MaxConcurrent: 2, MaxWait: 0}
	})
	g := startFault(t, faultSupergraph(t), side, cfg, nil)
	type result struct {
		resp *gatewaytest.Response
		d    time.Duration
	}
	results := make(chan result, 6)
	for range 6 {
		go func() {
			resp, d := postQuery(t, g, `{ sideInfo }`)
			results <- result{resp, d}
		}()
	}
	var full int
	for range 4 {
		r := <-results
		a := decode(t, r.resp.Body)
		if got := a.codes(); len(got) != 1 || got[0] != subgraphs.CodeBulkheadFull {
			t.Fatalf("codes %v, want [%s]: %s", got, subgraphs.CodeBulkheadFull, r.resp.Body)
		}
		if r.d > time.Second {
			t.Errorf("a refused request took %v", r.d)
		}
		full++
	}
	// The two admitted requests may still be on their way to side.
	waitFor(t, "two requests at side", func() bool { return side.inflight.Load() == 2 })
	side.release()
	for range 2 {
		r := <-results
		if a := decode(t, r.resp.Body); len(a.Errors) != 0 || string(a.Data["sideInfo"]) != `"from side"` {
			t.Fatalf("a request within the bulkhead failed: %s", r.resp.Body)
		}
	}
	if c := side.calls.Load(); c != 2 {
		t.Fatalf("side received %d requests, want 2", c)
	}
	t.Logf("bulkhead 2: 6 concurrent requests, %d refused fast, 2 served", full)
}

// TestLoadShedding: with at most 2 requests in flight, a third gets a
// fast 503 SERVICE_OVERLOADED with Retry-After while the two finish.
func TestLoadShedding(t *testing.T) {
	serial.Timing(t)
	t.Parallel()
	side := newGated(t)
	so := server.DefaultOptions()
	so.Observe.MaxInflightRequests = 2
	so.Observe.RetryAfter = 2 * time.Second
	g := startFault(t, faultSupergraph(t), side, nil, &so)
	done := make(chan *gatewaytest.Response, 2)
	for range 2 {
		go func() {
			resp, _ := postQuery(t, g, `{ sideInfo }`)
			done <- resp
		}()
	}
	waitFor(t, "two requests at side", func() bool { return side.inflight.Load() == 2 })
	resp, d := postQuery(t, g, `{ sideInfo }`)
	if resp.Status != http.StatusServiceUnavailable {
		t.Fatalf("status %d, want 503: %s", resp.Status, resp.Body)
	}
	if got := decode(t, resp.Body).codes(); len(got) != 1 || got[0] != server.CodeOverloaded {
		t.Fatalf("codes %v: %s", got, resp.Body)
	}
	if ra := resp.Header.Get("Retry-After"); ra != "2" {
		t.Errorf("Retry-After %q, want 2", ra)
	}
	if d > 500*time.Millisecond {
		t.Errorf("shedding took %v", d)
	}
	side.release()
	for range 2 {
		r := <-done
		if r.Status != 200 || len(decode(t, r.Body).Errors) != 0 {
			t.Fatalf("an admitted request failed: %d %s", r.Status, r.Body)
		}
	}
	// Below the limit again: served.
	if resp, _ := postQuery(t, g, `{ sideInfo }`); resp.Status != 200 {
		t.Fatalf("after the load: %d %s", resp.Status, resp.Body)
	}
}

// TestRequestDeadline: the client request deadline (200ms) is shorter
// than the subgraph timeout (5s); a hanging side makes the answer a fast
// 504 GATEWAY_TIMEOUT.
func TestRequestDeadline(t *testing.T) {
	serial.Timing(t)
	t.Parallel()
	so := server.DefaultOptions()
	so.Observe.RequestTimeout = 200 * time.Millisecond
	cfg := settings(func(s *subgraphs.Settings) { s.Timeout = 5 * time.Second })
	g := startFault(t, faultSupergraph(t), sideHandler(faultHang), cfg, &so)
	resp, d := postQuery(t, g, `{ things { id name extra } }`)
	if resp.Status != http.StatusGatewayTimeout {
		t.Fatalf("status %d, want 504: %s", resp.Status, resp.Body)
	}
	if got := decode(t, resp.Body).codes(); len(got) != 1 || got[0] != server.CodeGatewayTimeout {
		t.Fatalf("codes %v: %s", got, resp.Body)
	}
	if d > time.Second {
		t.Errorf("the 504 took %v; the deadline is 200ms", d)
	}
	// A fast request under the same deadline is served.
	g2 := startFault(t, faultSupergraph(t), sideHandler(faultNone), cfg, &so)
	if resp, _ := postQuery(t, g2, `{ things { id name extra } }`); resp.Status != 200 {
		t.Fatalf("a fast request: %d %s", resp.Status, resp.Body)
	}
}

// TestBadBodies: a 50 MB answer (with and without Content-Length), an
// HTML page, invalid JSON: side's fields are null with the right code,
// the answer is fast, and the breaker counts them as failures.
func TestBadBodies(t *testing.T) {
	serial.Timing(t)
	t.Parallel()
	big := fiftyMB()
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		code string
	}{
		{"50MB with length", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			_, _ = io.WriteString(w, big)
		}, subgraphs.CodeHTTPError},
		{"50MB chunked", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for i := 0; i < 50; i++ {
				if _, err := w.Write([]byte(big[:1<<20])); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		}, subgraphs.CodeHTTPError},
		{"html", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>Bad gateway</body></html>"))
		}, "SUBREQUEST_MALFORMED_RESPONSE"},
		{"invalid json", func(w http.ResponseWriter, r *http.Request) {
			sideHandler(faultBadJSON).ServeHTTP(w, r)
		}, "SUBREQUEST_MALFORMED_RESPONSE"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := settings(func(s *subgraphs.Settings) {
				s.MaxResponseBytes = 1 << 20
				s.Breaker = subgraphs.Breaker{Enabled: true, Window: 10 * time.Second, MinRequests: 3, FailureRatio: 1,
					OpenTimeout: time.Minute, HalfOpenRequests: 1}
			})
			g := startFault(t, faultSupergraph(t), tc.h, cfg, nil)
			for i := range 3 {
				resp, d := postQuery(t, g, `{ things { id name extra } }`)
				a := decode(t, resp.Body)
				if resp.Status != 200 || !a.mainServed() {
					t.Fatalf("main's data lost: %d %s", resp.Status, resp.Body)
				}
				if got := a.codes(); len(got) != 1 || got[0] != tc.code {
					t.Fatalf("request %d: codes %v, want [%s]", i, got, tc.code)
				}
				if d > 2*time.Second {
					t.Errorf("the answer took %v", d)
				}
			}
			if s := breakerOf(g, "side"); s != "open" {
				t.Errorf("after 3 bad answers the breaker is %s, want open", s)
			}
		})
	}
}

// percentile returns the q-quantile of ds (nearest rank).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// TestSubgraphKilledDuringLoad: eight clients query main and side for
// about two seconds; side's server is closed (connections refused) a
// third of the way in and restarted on the same port later. Every answer
// is 200 with main's data; side's fields fail with SUBREQUEST_HTTP_ERROR
// and then, once the breaker opens, SUBREQUEST_CIRCUIT_OPEN; after the
// restart the breaker closes and side's fields come back. The p99
// latency it checks is measured over real time: serial.Timing.
func TestSubgraphKilledDuringLoad(t *testing.T) {
	serial.Timing(t)
	t.Parallel()
	// Side's port stays held while side is down, so that no other
	// process takes it before the restart (freeport.Listen; where it
	// cannot be held, the test is skipped if it is gone by then).
	ln := freeport.Listen(t)
	addr := ln.Addr().String()
	serve := func(ln net.Listener) *http.Server {
		s := &http.Server{Handler: sideHandler(faultNone)}
		go func() { _ = s.Serve(ln) }()
		return s
	}
	sideSrv := serve(ln)
	t.Cleanup(func() { _ = sideSrv.Close() })
	cfg := settings(func(s *subgraphs.Settings) {
		s.Timeout = time.Second
		s.Breaker = subgraphs.Breaker{Enabled: true, Window: 2 * time.Second, MinRequests: 5, FailureRatio: 0.5,
			ConsecutiveFailures: 5, OpenTimeout: 200 * time.Millisecond, HalfOpenRequests: 1}
	})
	patientMain(cfg)
	cfg.Overrides["side"] = func() subgraphs.Settings { s := cfg.All; s.URL = "http://" + addr + "/graphql"; return s }()
	g := startFault(t, faultSupergraph(t), http.NotFoundHandler(), cfg, nil)

	stop := make(chan struct{})
	got, wait := askThings(t, g, 8, stop)
	time.Sleep(500 * time.Millisecond)
	_ = sideSrv.Close()
	// Wait for the breaker to open and fail a request fast rather than
	// for 700 ms: a loaded machine may send too few requests meanwhile.
	waitFor(t, "the breaker to open with side down", func() bool {
		return breakerOf(g, "side") != "closed" && got.count(subgraphs.CodeCircuitOpen) > 0
	})
	ln2, err := net.Listen("tcp", addr)
	if err != nil {
		close(stop)
		wait()
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	sideSrv2 := serve(ln2)
	t.Cleanup(func() { _ = sideSrv2.Close() })
	waitFor(t, "the breaker to close after the restart", func() bool { return breakerOf(g, "side") == "closed" })
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wait()
	kinds, lat := got.kinds, got.lat
	total := 0
	for _, n := range kinds {
		total += n
	}
	t.Logf("side killed during load: %d requests, by outcome %v, p50 %v, p99 %v", total, kinds, percentile(lat, 0.5), percentile(lat, 0.99))
	for k := range kinds {
		switch k {
		case "ok", subgraphs.CodeHTTPError, subgraphs.CodeCircuitOpen:
		default:
			t.Errorf("%d answers of kind %q", kinds[k], k)
		}
	}
	if kinds[subgraphs.CodeCircuitOpen] == 0 {
		t.Error("the breaker never failed a request fast")
	}
	if p99 := percentile(lat, 0.99); p99 > 1500*time.Millisecond {
		t.Errorf("p99 %v; the subgraph timeout is 1s", p99)
	}
	resp, _ := postQuery(t, g, `{ things { id name extra } }`)
	if a := decode(t, resp.Body); len(a.Errors) != 0 {
		t.Fatalf("after the restart: %s", resp.Body)
	}
}

// TestHealthCheckFeedsTheBreaker: failed health checks open side's
// breaker before any client request fails; a passing check lets it probe
// and the next request closes it.
func TestHealthCheckFeedsTheBreaker(t *testing.T) {
	t.Parallel()
	side := &flapper{}
	side.failing.Store(true)
	cfg := settings(func(s *subgraphs.Settings) {
		s.Breaker.OpenTimeout = time.Minute
		s.HealthCheck = subgraphs.HealthCheck{Enabled: true, Interval: 30 * time.Millisecond, Timeout: time.Second,
			Query: "{ __typename }", UnhealthyThreshold: 2}
	})
	g := startFault(t, faultSupergraph(t), side, cfg, nil)
	health := func() subgraphs.Status {
		for _, s := range g.Transport.Health() {
			if s.Name == "side" {
				return s
			}
		}
		return subgraphs.Status{}
	}
	waitFor(t, "side unhealthy", func() bool { s := health(); return s.Healthy != nil && !*s.Healthy && s.Breaker == "open" })
	if s := health(); s.LastError != "status 503" {
		t.Errorf("last error %q, want status 503", s.LastError)
	}
	resp, _ := postQuery(t, g, `{ things { id name extra } }`)
	if got := decode(t, resp.Body).codes(); len(got) != 1 || got[0] != subgraphs.CodeCircuitOpen {
		t.Fatalf("codes %v, want [%s]", got, subgraphs.CodeCircuitOpen)
	}
	side.failing.Store(false)
	waitFor(t, "side healthy", func() bool { s := health(); return s.Healthy != nil && *s.Healthy })
	resp, _ = postQuery(t, g, `{ things { id name extra } }`)
	if a := decode(t, resp.Body); len(a.Errors) != 0 {
		t.Fatalf("after recovery: %s", resp.Body)
	}
	if s := health().Breaker; s != "closed" {
		t.Errorf("breaker %s after a good probe, want closed", s)
	}
	// /ready of the metrics listener (ReadyHandler) reports it; the
	// public /ready says only whether the gateway is ready.
	so := server.DefaultOptions()
	so.Observe.Health = func() any { return g.Transport.Health() }
	ready := startFault(t, faultSupergraph(t), side, nil, &so)
	ready.Handler.Drain()
	details := httptest.NewServer(ready.Handler.ReadyHandler())
	defer details.Close()
	req, _ := http.NewRequest(http.MethodGet, details.URL+"/ready", nil)
	r, err := ready.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusServiceUnavailable || !strings.Contains(string(r.Body), `"name":"side","breaker":"closed","healthy":true`) {
		t.Errorf("/ready while draining: %d %s", r.Status, r.Body)
	}
	req, _ = http.NewRequest(http.MethodGet, ready.BaseURL+"/ready", nil)
	if r, err = ready.Do(req); err != nil {
		t.Fatal(err)
	}
	if r.Status != http.StatusServiceUnavailable || strings.Contains(string(r.Body), "side") {
		t.Errorf("public /ready while draining: %d %s; want 503 without subgraph names", r.Status, r.Body)
	}
}

// switchable is a side subgraph whose fault can change while it serves.
type switchable struct {
	mode atomic.Value // string: "" healthy, or a fault name
}

// fiftyMB is a 50 MB body, made once and only by the tests that need it.
var fiftyMB = sync.OnceValue(func() string { return strings.Repeat("x", 50<<20) })

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	mode, _ := s.mode.Load().(string)
	switch mode {
	case "hang":
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		return
	case "slow":
		select {
		case <-r.Context().Done():
			return
		case <-time.After(time.Second):
		}
	case "500":
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	case "html":
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1></body></html>"))
		return
	case "invalid json":
		sideHandler(faultBadJSON).ServeHTTP(w, r)
		return
	case "50MB":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", fmt.Sprint(len(fiftyMB())))
		_, _ = io.WriteString(w, fiftyMB())
		return
	}
	sideHandler(faultNone).ServeHTTP(w, r)
}

// TestFaultMatrixUnderLoad runs, for each kind of fault, four clients
// for about two seconds: side healthy, then faulty for 800ms, then healthy
// again until its breaker has closed. Throughout, /health answers, every
// answer is 200 with main's data, latency stays bounded by the subgraph
// timeout (300ms), the breaker opens during the fault and closes after.
// The figures are logged.
func TestFaultMatrixUnderLoad(t *testing.T) {
	serial.Timing(t)
	for _, mode := range []string{"hang", "slow", "500", "html", "invalid json", "50MB"} {
		t.Run(mode, func(t *testing.T) {
			side := &switchable{}
			cfg := settings(func(s *subgraphs.Settings) {
				s.Timeout = 300 * time.Millisecond
				s.MaxResponseBytes = 1 << 20
				s.Breaker = subgraphs.Breaker{Enabled: true, Window: 2 * time.Second, MinRequests: 10, FailureRatio: 0.5,
					ConsecutiveFailures: 5, OpenTimeout: 200 * time.Millisecond, HalfOpenRequests: 1}
			})
			patientMain(cfg)
			g := startFault(t, faultSupergraph(t), side, cfg, nil)
			postQuery(t, g, `{ things { id name extra } }`) // warm the plan

			sawOpen := false
			stop := make(chan struct{})
			got, wait := askThings(t, g, 4, stop)
			healthy := func() {
				req, _ := http.NewRequest(http.MethodGet, g.BaseURL+"/health", nil)
				if r, err := g.Do(req); err != nil || r.Status != 200 {
					t.Errorf("/health failed during the fault: %v %v", err, r)
				}
			}
			time.Sleep(200 * time.Millisecond)
			side.mode.Store(mode)
			for range 8 {
				time.Sleep(100 * time.Millisecond)
				healthy()
				if breakerOf(g, "side") != "closed" {
					sawOpen = true
				}
			}
			side.mode.Store("")
			deadline := time.Now().Add(5 * time.Second)
			for breakerOf(g, "side") != "closed" && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			closed := breakerOf(g, "side") == "closed"
			time.Sleep(100 * time.Millisecond)
			close(stop)
			wait()
			kinds, lat := got.kinds, got.lat
			total := 0
			for _, n := range kinds {
				total += n
			}
			p99 := percentile(lat, 0.99)
			t.Logf("fault %-12s %5d requests, p50 %v, p99 %v, by outcome %v", mode, total, percentile(lat, 0.5).Round(10*time.Microsecond), p99.Round(10*time.Microsecond), kinds)
			for k, n := range kinds {
				if strings.HasPrefix(k, "lost main") {
					t.Errorf("%d answers lost main's data (%s)", n, k)
				}
			}
			if !sawOpen {
				t.Error("the breaker never opened during the fault")
			}
			if !closed {
				t.Errorf("the breaker did not close after the fault (%s)", breakerOf(g, "side"))
			}
			if p99 > time.Second {
				t.Errorf("p99 %v; the subgraph timeout is 300ms", p99)
			}
			if kinds["ok"] == 0 {
				t.Error("no request was served whole")
			}
		})
	}
}
