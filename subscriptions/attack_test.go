package subscriptions_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/subscriptions"
	"github.com/golang-jwt/jwt/v5"
)

// heldGateway holds every Prepare until release is closed, so that the
// operations a test sends stay in progress.
type heldGateway struct {
	subscriptions.Gateway
	entered chan struct{}
	release chan struct{}
}

func (g *heldGateway) Prepare(ctx context.Context, r *http.Request, req request.Request) (*subscriptions.Prepared, *subscriptions.RequestError) {
	g.entered <- struct{}{}
	<-g.release
	return g.Gateway.Prepare(ctx, r, req)
}

// TestOperationsInProgressPerConnection: a WebSocket client that sends
// subscribes faster than they are answered has at most
// subscriptions.max_inflight_per_connection in progress: its next
// message waits for one to end, and is refused with OPERATION_LIMIT
// after write_timeout; the connection stays usable (before, each
// subscribe started a goroutine: 20,000 queries on one connection held
// 3,600 goroutines and +55 MB at once).
func TestOperationsInProgressPerConnection(t *testing.T) {
	cases := []struct {
		name     string
		limit, n int
		// freeInTime ends the operations in progress before the waiting
		// subscribe's write_timeout.
		freeInTime bool
		wantRefuse int
	}{
		{"one in progress", 1, 3, false, 2},
		{"under the limit", 4, 4, false, 0},
		{"past the limit", 4, 7, false, 3},
		{"a slot frees in time", 1, 3, true, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &heldGateway{entered: make(chan struct{}, 64), release: make(chan struct{})}
			e := newEnv(t, envOptions{engine: subscriptions.Options{MaxInflightPerConnection: tc.limit, WriteTimeout: 200 * time.Millisecond},
				gateway: func(gw subscriptions.Gateway) subscriptions.Gateway { g.Gateway = gw; return g }})
			w := dialWS(t, e.WSURL, nil)
			w.init("")
			for i := range tc.n {
				w.subscribe(fmt.Sprint(i), `{ topProducts(first: 1) { upc } }`, nil)
			}
			if tc.freeInTime {
				<-g.entered
				close(g.release)
			}
			refused := map[string]bool{}
			for range tc.wantRefuse {
				m := w.next()
				if m.Type != "error" || !strings.Contains(string(m.Payload), subscriptions.CodeOperationLimit) {
					t.Fatalf("got %s %s, want an error %s", m.Type, m.Payload, subscriptions.CodeOperationLimit)
				}
				refused[m.ID] = true
			}
			if !tc.freeInTime {
				for i := range min(tc.n, tc.limit) {
					<-g.entered
					if refused[fmt.Sprint(i)] {
						t.Fatalf("operation %d, within the limit, was refused", i)
					}
				}
				close(g.release)
			}
			answered := map[string]bool{}
			for len(answered) < tc.n-tc.wantRefuse {
				m := w.next()
				switch {
				case m.Type == "next" && strings.Contains(string(m.Payload), `"upc"`):
				case m.Type == "complete":
					answered[m.ID] = true
				default:
					t.Fatalf("got %s %s, want the answers of the operations in progress", m.Type, m.Payload)
				}
			}
			// The slots are free again: the connection serves a new one.
			w.subscribe("again", `{ topProducts(first: 1) { upc } }`, nil)
			if m := w.next(); m.Type != "next" || m.ID != "again" {
				t.Fatalf("got %s %s for a subscribe after the others ended, want next", m.Type, m.Payload)
			}
		})
	}
}

// sseQuery posts query over GraphQL over SSE (distinct connections) and
// returns the status and body.
func sseQuery(t *testing.T, url, query string) (int, string) {
	t.Helper()
	return sseQueryAccept(t, url, query, "text/event-stream")
}

// sseQueryAccept posts query with the Accept header accept (SSE or
// multipart) and returns the status and body.
func sseQueryAccept(t *testing.T, url, query, accept string) (int, string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"query": query})
	req, _ := http.NewRequest(http.MethodPost, url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", accept)
	// A stream that does not end (a subscription that started) ends
	// the request after 5s.
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, string(out) + err.Error()
	}
	return resp.StatusCode, string(out)
}

// TestStreamOperationsCountAsInflight: server.max_inflight_requests
// bounds the operations of the stream transports as it bounds HTTP
// requests (before, an operation over WebSocket or SSE was never
// counted: 3,000 queries on one WebSocket ran at once with the limit
// at 20), and server.max_inflight_per_client bounds a client's stream
// operations with its HTTP requests (CLIENT_INFLIGHT_LIMIT).
func TestStreamOperationsCountAsInflight(t *testing.T) {
	for _, bound := range []struct {
		name string
		set  func(*server.Options)
		code string
	}{
		{"max_inflight_requests", func(o *server.Options) { o.Observe.MaxInflightRequests = 1 }, "SERVICE_OVERLOADED"},
		// The per-client bound binds while the gateway is busy: here one
		// operation in flight is half of max_inflight_requests.
		{"max_inflight_per_client", func(o *server.Options) {
			o.HTTP.MaxInflightPerClient, o.Observe.MaxInflightRequests = 1, 2
		}, server.CodeClientInflightLimit},
	} {
		t.Run(bound.name, func(t *testing.T) { streamOperationsBounded(t, bound.set, bound.code) })
	}
}

func streamOperationsBounded(t *testing.T, set func(*server.Options), code string) {
	cases := []struct {
		name string
		// second sends a query while the first holds the only slot and
		// returns what it was answered.
		second func(t *testing.T, e *env) string
	}{
		{"websocket", func(t *testing.T, e *env) string {
			w := dialWS(t, e.WSURL, nil)
			w.init("")
			w.subscribe("1", `{ topProducts(first: 1) { upc } }`, nil)
			m := w.next()
			return m.Type + " " + string(m.Payload)
		}},
		{"sse", func(t *testing.T, e *env) string {
			status, body := sseQuery(t, e.URL, `{ topProducts(first: 1) { upc } }`)
			return fmt.Sprint(status, " ", body)
		}},
		{"sse subscription", func(t *testing.T, e *env) string {
			status, body := sseQuery(t, e.URL, `subscription { reviewAdded { body } }`)
			return fmt.Sprint(status, " ", body)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			entered, release := make(chan struct{}), make(chan struct{})
			var held atomic.Bool
			opts := server.DefaultOptions()
			set(&opts)
			e := newEnv(t, envOptions{server: &opts, products: func(h http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					if !held.Swap(true) {
						close(entered)
						<-release // the first query holds its slot
					}
					h.ServeHTTP(w, r)
				})
			}})
			first := make(chan string, 1)
			go func() {
				_, body := sseQuery(t, e.URL, `{ topProducts(first: 1) { upc } }`)
				first <- body
			}()
			<-entered
			got := tc.second(t, e)
			close(release)
			if !strings.Contains(got, code) {
				t.Errorf("an operation past the bound got %s, want %s", got, code)
			}
			if body := <-first; !strings.Contains(body, `"upc"`) {
				t.Errorf("the operation in flight got %s, want its data", body)
			}
			// The slot is free again.
			if status, body := sseQuery(t, e.URL, `{ topProducts(first: 1) { upc } }`); status != 200 || !strings.Contains(body, `"upc"`) {
				t.Errorf("after the first ended: %d %s, want the data", status, body)
			}
		})
	}
}

// TestInvalidStreamDocumentsAreCharged: a document refused before
// admission (unparsable, invalid, bad variables) counts one request
// against the client's rate limit over WebSocket and SSE as over HTTP
// (before, a client could send invalid documents over a stream without
// end, each parsed and validated).
func TestInvalidStreamDocumentsAreCharged(t *testing.T) {
	bad := []struct{ name, query string }{
		{"unparsable", `subscription { reviewAdded { body `},
		{"invalid", `subscription { reviewAdded { nope } }`},
		{"bad variables", `subscription($upc: String!) { reviewAdded(productUpc: $upc) { body } }`},
	}
	transports := []struct {
		name string
		send func(t *testing.T, e *env, query string) string
	}{
		{"websocket", func(t *testing.T, e *env, query string) string {
			w := dialWS(t, e.WSURL, nil)
			w.init("")
			w.subscribe("1", query, nil)
			m := w.next()
			return string(m.Payload)
		}},
		{"sse", func(t *testing.T, e *env, query string) string {
			_, body := sseQuery(t, e.URL, query)
			return body
		}},
	}
	for _, tr := range transports {
		for _, b := range bad {
			t.Run(tr.name+"/"+b.name, func(t *testing.T) {
				cfg := limits.DefaultConfig()
				cfg.Tiers = map[string]limits.TierConfig{"default": {Requests: 2, Window: time.Minute}}
				if err := cfg.Validate(); err != nil {
					t.Fatal(err)
				}
				opts := server.DefaultOptions()
				opts.Policy = limits.NewPolicy(cfg, limits.PolicyOptions{})
				e := newEnv(t, envOptions{server: &opts})
				for i := range 2 {
					if got := tr.send(t, e, b.query); strings.Contains(got, "RATE_LIMITED") {
						t.Fatalf("request %d of 2 was rate limited: %s", i+1, got)
					}
				}
				if got := tr.send(t, e, b.query); !strings.Contains(got, "RATE_LIMITED") {
					t.Errorf("the third invalid document got %s, want RATE_LIMITED", got)
				}
			})
		}
	}
}

// TestDeferredStreamOperationReleasesItsSlot: a query with @defer over
// WebSocket counts as in flight until its last payload, then no more.
func TestDeferredStreamOperationReleasesItsSlot(t *testing.T) {
	e := newEnv(t, envOptions{})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("d", `{ topProducts(first: 2) { upc ... @defer { name } } }`, nil)
	nexts := 0
	for m := w.next(); m.Type != "complete"; m = w.next() {
		if m.Type != "next" {
			t.Fatalf("got %s %s, want next", m.Type, m.Payload)
		}
		nexts++
	}
	if nexts < 2 {
		t.Fatalf("got %d next messages, want the primary and the deferred payloads", nexts)
	}
	waitFor(t, "no request in flight", func() bool { return e.Server.InFlight() == 0 })
}

// regionProducts wraps the products subgraph: the product named Table is
// named after the X-Region header of the fetch instead.
func regionProducts(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		body := bytes.ReplaceAll(rec.Body.Bytes(), []byte(`"Table"`), []byte(strconv.Quote(r.Header.Get("X-Region"))))
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	})
}

// regionHooks carry the X-Client-Region header of the subscriber's
// request to the entity fetches of its events, through the hook Context.
var regionHooks = hooks.Hooks{
	RouterRequest: func(_ context.Context, c *hooks.Call) error {
		c.Context["region"] = c.Header.Get("X-Client-Region")
		return nil
	},
	SubgraphRequest: func(_ context.Context, c *hooks.Call) error {
		region, _ := c.Context["region"].(string)
		c.Header.Set("X-Region", region)
		return nil
	},
}

// TestEventFetchesRunHooksWithTheSubscribersState: the Subgraph hooks
// of a subscription's event fetches see the hook state of the request
// that subscribed, and subscribers whose state differs do not share the
// completion of events (before, the hooks saw an empty Context: both
// subscribers got the product named "").
func TestEventFetchesRunHooksWithTheSubscribersState(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Hooks = []hooks.Hooks{regionHooks}
	e := newEnv(t, envOptions{server: &opts, products: regionProducts})
	regions := []string{"eu", "us", "eu"}
	var clients []*wsClient
	for _, region := range regions {
		w := dialWS(t, e.WSURL, http.Header{"X-Client-Region": {region}})
		w.init("")
		w.subscribe("1", reviewAdded, map[string]any{"upc": "1"})
		clients = append(clients, w)
	}
	expectOwnProducts(t, e, clients, regions)
}

// TestEventFetchesDoNotShareAcrossClaims: subscribers whose tokens carry
// different claims that a SubgraphRequest hook reads (a tenant) do not
// share the completion of events, although their hook Context, headers
// and grants are equal. Before, the second subscriber's events were
// completed with the first one's claims: tenant b got tenant a's product.
func TestEventFetchesDoNotShareAcrossClaims(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Auth.JWT.Keys = []auth.KeyConfig{{Secret: jwtSecret, Algorithms: []string{"HS256"}}}
	opts.Hooks = []hooks.Hooks{{
		SubgraphRequest: func(_ context.Context, c *hooks.Call) error {
			tenant, _ := c.Claims["tenant"].(string)
			c.Header.Set("X-Region", tenant)
			return nil
		},
	}}
	e := newEnv(t, envOptions{server: &opts, products: regionProducts})
	tenants := []string{"a", "b", "a"}
	// One expiry for every token: the claims of the two tenant a tokens
	// must be equal for their subscriptions to share a group, and an exp
	// read per token differed when a loaded machine crossed a second
	// between them (three groups: the wait below timed out).
	exp := time.Now().Add(time.Hour).Unix()
	var clients []*wsClient
	for _, tenant := range tenants {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"tenant": tenant, "exp": exp}).SignedString([]byte(jwtSecret))
		if err != nil {
			t.Fatal(err)
		}
		w := dialWS(t, e.WSURL, nil)
		w.init(`{"Authorization":"Bearer ` + tok + `"}`)
		w.subscribe("1", reviewAdded, map[string]any{"upc": "1"})
		clients = append(clients, w)
	}
	expectOwnProducts(t, e, clients, tenants)
}

// TestEventCompletionPanicCostsTheEvent: a panic while completing an
// event (here a hook's at SubgraphRequest) answers that event with an
// INTERNAL_SERVER_ERROR; the subscription and the gateway go on (before,
// it ended the process).
func TestEventCompletionPanicCostsTheEvent(t *testing.T) {
	cases := []struct {
		name string
		// panics reports whether the hook panics on the nth fetch.
		panics func(n int64) bool
		// want are the events' markers, in order
		want []string
	}{
		{"every event", func(int64) bool { return true }, []string{"INTERNAL_SERVER_ERROR", "INTERNAL_SERVER_ERROR"}},
		{"the first event", func(n int64) bool { return n == 1 }, []string{"INTERNAL_SERVER_ERROR", `"body":"second"`}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var fetches atomic.Int64
			opts := server.DefaultOptions()
			opts.Hooks = []hooks.Hooks{{SubgraphRequest: func(_ context.Context, c *hooks.Call) error {
				if tc.panics(fetches.Add(1)) {
					panic("a hook's bug")
				}
				return nil
			}}}
			e := newEnv(t, envOptions{server: &opts})
			w := dialWS(t, e.WSURL, nil)
			w.init("")
			w.subscribe("1", reviewAdded, map[string]any{"upc": "1"})
			e.subscribed(1)
			for i, body := range []string{"first", "second"} {
				e.add("1", body)
				if m := w.next(); m.Type != "next" || !strings.Contains(string(m.Payload), tc.want[i]) {
					t.Fatalf("event %d: got %s %s, want %s", i+1, m.Type, m.Payload, tc.want[i])
				}
			}
			if got := e.post(`{ topProducts(first: 1) { upc } }`); !strings.Contains(got, `"upc"`) && !strings.Contains(got, "INTERNAL_SERVER_ERROR") {
				t.Fatalf("the gateway after the panics answered %s", got)
			}
		})
	}
}

// TestConcurrentOperationsHaveTheirOwnHookContext: the operations of one
// WebSocket run at once, each with its own copy of the connection's hook
// Context (before, they shared one map, and hooks writing to it ended
// the process with concurrent map writes).
func TestConcurrentOperationsHaveTheirOwnHookContext(t *testing.T) {
	opts := server.DefaultOptions()
	var mismatched atomic.Int64
	opts.Hooks = []hooks.Hooks{{
		RouterRequest: func(_ context.Context, c *hooks.Call) error { c.Context["connection"] = "yes"; return nil },
		SupergraphRequest: func(_ context.Context, c *hooks.Call) error {
			c.Context["op"] = c.OperationName
			return nil
		},
		ExecutionRequest: func(_ context.Context, c *hooks.Call) error {
			if c.Context["op"] != c.OperationName || c.Context["connection"] != "yes" {
				mismatched.Add(1)
			}
			return nil
		},
	}}
	e := newEnv(t, envOptions{server: &opts})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	const n = 60
	for i := range n {
		p, _ := json.Marshal(map[string]any{"query": fmt.Sprintf(`query Q%d { topProducts(first: 1) { upc } }`, i), "operationName": fmt.Sprintf("Q%d", i)})
		w.send(msg{ID: fmt.Sprint(i), Type: "subscribe", Payload: p})
	}
	for completed := 0; completed < n; {
		switch m := w.next(); m.Type {
		case "complete":
			completed++
		case "next":
		default:
			t.Fatalf("got %s %s", m.Type, m.Payload)
		}
	}
	if n := mismatched.Load(); n > 0 {
		t.Errorf("%d operations saw another operation's hook Context", n)
	}
}

// TestForwardAllSharesUpstreamStreams: with forward ["*"], the handshake
// headers of each client's WebSocket (Sec-WebSocket-Key, a random value
// per connection) are not forwarded, so identical subscriptions of two
// connections share one upstream stream (before, each connection opened
// its own: N clients, N subgraph streams and N completions per event).
func TestForwardAllSharesUpstreamStreams(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Auth.Headers.All.Forward = []string{"*"}
	e := newEnv(t, envOptions{server: &opts})
	var clients []*wsClient
	for range 3 {
		w := dialWS(t, e.WSURL, http.Header{"X-Team": {"blue"}})
		w.init("")
		w.subscribe("1", reviewAdded, map[string]any{"upc": "1"})
		clients = append(clients, w)
	}
	waitFor(t, "3 subscriptions", func() bool { return e.Engine.Stats.Active.Load() == 3 })
	// The groups are made when the subscriptions start; their upstream
	// streams connect meanwhile.
	waitFor(t, "an upstream stream", func() bool { return e.Feed.Subscribers() > 0 })
	time.Sleep(100 * time.Millisecond)
	if n := e.Feed.Subscribers(); n != 1 {
		t.Errorf("the reviews subgraph has %d streams for 3 identical subscriptions, want 1", n)
	}
	e.add("1", "shared")
	for _, w := range clients {
		if got := eventBody(t, w.next()); got != "shared" {
			t.Errorf("event %q", got)
		}
	}
}

// TestRateLimitedStreamClientIsWalled: once the rate limit refused a
// client, its next operations over WebSocket are refused RATE_LIMITED
// before anything runs (no hook, no parse), as its HTTP requests are
// (before, each was parsed, validated and planned, and asked the limiter
// again), and its connection's next subscribe is read only after
// Retry-After (at most write_timeout): a client flooding a WebSocket
// with refused operations made 21,000 refusals a second.
func TestRateLimitedStreamClientIsWalled(t *testing.T) {
	cfg := limits.DefaultConfig()
	cfg.Tiers = map[string]limits.TierConfig{"default": {Requests: 2, Window: time.Minute}}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	opts := server.DefaultOptions()
	var started atomic.Int64
	opts.Hooks = []hooks.Hooks{{SupergraphRequest: func(context.Context, *hooks.Call) error { started.Add(1); return nil }}}
	opts.Policy = limits.NewPolicy(cfg, limits.PolicyOptions{})
	const pause = 300 * time.Millisecond
	e := newEnv(t, envOptions{server: &opts, engine: subscriptions.Options{WriteTimeout: pause}})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	limited := 0
	// firstRefusal is when the subscribe that was refused first was
	// sent, before the server refused it: the time the refusal is read
	// comes later by however long this goroutine waits to be scheduled,
	// and measuring from there made the three pauses look shorter (739 ms
	// for 3 × 300 ms, under -race beside a benchmark).
	var firstRefusal time.Time
	for i := range 6 {
		sent := time.Now()
		w.subscribe(fmt.Sprint(i), `{ topProducts(first: 1) { upc } }`, nil)
		m := w.next()
		for m.Type == "next" {
			m = w.next()
		}
		if m.Type == "error" && strings.Contains(string(m.Payload), "RATE_LIMITED") {
			if limited++; limited == 1 {
				firstRefusal = sent
			}
		}
	}
	if d := time.Since(firstRefusal); d < 3*pause {
		t.Errorf("3 subscribes after the rate limit's refusal were answered in %v, want each read after a pause of %v", d, pause)
	}
	if limited != 4 {
		t.Errorf("%d of 6 operations were RATE_LIMITED, want 4 (a tier of 2)", limited)
	}
	// Two admitted, one refused by the limiter, three by the wall.
	if n := started.Load(); n != 3 {
		t.Errorf("%d operations reached the SupergraphRequest stage, want 3", n)
	}
}

// TestSlowStreamBodyHoldsNoConnection: a client that announces an SSE
// request's body and sends it slowly holds none of the
// subscriptions.max_connections slots (before, it did until the server's
// read deadline, and every other stream was refused 503).
func TestSlowStreamBodyHoldsNoConnection(t *testing.T) {
	cases := []struct{ name, accept string }{
		{"sse", "text/event-stream"},
		{"multipart", "multipart/mixed;subscriptionSpec=1.0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{engine: subscriptions.Options{MaxConnections: 1}})
			addr := strings.TrimSuffix(strings.TrimPrefix(e.URL, "http://"), "/graphql")
			slow, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer slow.Close()
			fmt.Fprintf(slow, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: %s\r\nContent-Length: 100\r\n\r\n{", tc.accept)
			time.Sleep(100 * time.Millisecond) // the slow request is being served
			status, body := sseQuery(t, e.URL, `{ topProducts(first: 1) { upc } }`)
			if status != http.StatusOK || !strings.Contains(body, `"upc"`) {
				t.Errorf("a stream request beside a slow body got %d %s, want the data", status, body)
			}
		})
	}
}

// TestSubscriptionVariablesBoundedPerClient: each subscription holds its
// variables for its life, so one client with 900 KB of variables per
// subscription held about 100 times that (its MaxPerClient) before.
// Past MaxVariableBytesPerClient, over any of its connections, a
// subscribe is refused with SUBSCRIPTION_VARIABLES_LIMIT; small ones
// still fit, and a subscription that ends frees its bytes.
func TestSubscriptionVariablesBoundedPerClient(t *testing.T) {
	e := newEnv(t, envOptions{engine: subscriptions.Options{MaxVariableBytesPerClient: 2 << 20}})
	big := func(c string) map[string]any { return map[string]any{"upc": strings.Repeat(c, 900<<10)} }
	refused := func(w *wsClient, id string) {
		t.Helper()
		m := w.next()
		if m.Type != "error" || m.ID != id || !strings.Contains(string(m.Payload), `"code":"`+subscriptions.CodeVariablesLimit+`"`) {
			t.Fatalf("got %s %s %.200s, want an error with %s", m.Type, m.ID, m.Payload, subscriptions.CodeVariablesLimit)
		}
	}
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("1", reviewAdded, big("a"))
	w.subscribe("2", reviewAdded, big("b"))
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	w.subscribe("3", reviewAdded, big("c"))
	refused(w, "3")
	// Another connection of the same client shares its allowance.
	w2 := dialWS(t, e.WSURL, nil)
	w2.init("")
	w2.subscribe("x", reviewAdded, big("d"))
	refused(w2, "x")
	w.subscribe("4", reviewAdded, map[string]any{"upc": "1"})
	waitFor(t, "3 active", func() bool { return e.Engine.Stats.Active.Load() == 3 })
	w.send(msg{ID: "1", Type: "complete"})
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	w.subscribe("5", reviewAdded, big("e"))
	waitFor(t, "3 active again", func() bool { return e.Engine.Stats.Active.Load() == 3 })
}

// TestStreamConnectionsPerClient: one client (here one address, then one
// token subject) has at most MaxConnectionsPerClient stream connections
// open, WebSocket, SSE and multipart together: past it an upgrade or a
// stream request is answered 429 CONNECTION_LIMIT, and a WebSocket whose
// connection_init names a caller at its bound is closed with 1008. Before,
// one address could open every one of max_connections (20,000), each with
// its own max_inflight_per_connection operations.
func TestStreamConnectionsPerClient(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Auth.JWT.Keys = []auth.KeyConfig{{Secret: jwtSecret, Algorithms: []string{"HS256"}}}
	e := newEnv(t, envOptions{server: &opts, engine: subscriptions.Options{MaxConnectionsPerClient: 2}})
	refused := func(what string, status int, body string) {
		t.Helper()
		if status != http.StatusTooManyRequests || !strings.Contains(body, `"code":"`+subscriptions.CodeConnectionLimit+`"`) {
			t.Fatalf("%s: got %d %s, want 429 %s", what, status, body, subscriptions.CodeConnectionLimit)
		}
	}
	dialRefused := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, resp, err := websocket.Dial(ctx, e.WSURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
		if err == nil {
			_ = c.CloseNow()
			t.Fatalf("%s: the upgrade was accepted", what)
		}
		if resp == nil {
			t.Fatalf("%s: %v", what, err)
		}
		b, _ := io.ReadAll(resp.Body)
		refused(what, resp.StatusCode, string(b))
	}
	w1 := dialWS(t, e.WSURL, nil)
	w2 := dialWS(t, e.WSURL, nil)
	waitFor(t, "2 connections", func() bool { return e.Engine.Stats.Connections.Load() == 2 })
	dialRefused("a third WebSocket of the address")
	for _, accept := range []string{"text/event-stream", "multipart/mixed;subscriptionSpec=1.0"} {
		status, body := sseQueryAccept(t, e.URL, `subscription { reviewAdded { body } }`, accept)
		refused(accept+" stream of the address", status, body)
	}
	// connection_init moves a connection to the caller its token names.
	token := `{"Authorization":"Bearer ` + signToken(t, "ada", time.Now().Add(time.Hour)) + `"}`
	w1.init(token)
	w2.init(token)
	w3 := dialWS(t, e.WSURL, nil) // the address has none left
	w4 := dialWS(t, e.WSURL, nil)
	dialRefused("a third WebSocket of the address, again")
	w3.send(msg{Type: "connection_init", Payload: json.RawMessage(token)})
	if code := w3.closeCode(); code != subscriptions.CloseConnectionLimit {
		t.Fatalf("a third connection of ada closed with %d, want %d", code, subscriptions.CloseConnectionLimit)
	}
	waitFor(t, "3 connections", func() bool { return e.Engine.Stats.Connections.Load() == 3 })
	w4.init("") // anonymous: stays the address's
	_ = w1.c.CloseNow()
	waitFor(t, "2 connections", func() bool { return e.Engine.Stats.Connections.Load() == 2 })
	status, body := sseQueryAccept(t, e.URL, `{ topProducts(first: 1) { upc } }`, "text/event-stream")
	if status != http.StatusOK || !strings.Contains(body, `"upc"`) {
		t.Fatalf("a stream of the address with one connection left got %d %s", status, body)
	}
}

// TestStreamConnectionsClosedMidHandshakeReleaseTheirSlot: a client that
// opens connections and drops them half way (an upgrade request cut off,
// an upgrade with no subprotocol, a WebSocket closed before its
// connection_init) gets every slot of MaxConnectionsPerClient back: its
// next connections are accepted.
func TestStreamConnectionsClosedMidHandshakeReleaseTheirSlot(t *testing.T) {
	e := newEnv(t, envOptions{engine: subscriptions.Options{MaxConnectionsPerClient: 2}})
	host := strings.TrimPrefix(strings.TrimPrefix(e.WSURL, "ws://"), "http://")
	if i := strings.IndexByte(host, '/'); i >= 0 {
		host = host[:i]
	}
	for range 4 {
		// An upgrade request cut off before its end.
		nc, err := net.Dial("tcp", host)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.WriteString(nc, "GET /graphql HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Ver")
		_ = nc.Close()
		// An upgrade without the subprotocol.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if c, _, err := websocket.Dial(ctx, e.WSURL, nil); err == nil {
			_ = c.CloseNow()
		}
		// A WebSocket gone before its connection_init.
		if c, _, err := websocket.Dial(ctx, e.WSURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}}); err == nil {
			_ = c.CloseNow()
		} else {
			t.Fatalf("dial: %v", err)
		}
		cancel()
	}
	waitFor(t, "no connections", func() bool { return e.Engine.Stats.Connections.Load() == 0 })
	w1 := dialWS(t, e.WSURL, nil)
	w2 := dialWS(t, e.WSURL, nil)
	w1.init("")
	w2.init("")
	waitFor(t, "2 connections", func() bool { return e.Engine.Stats.Connections.Load() == 2 })
}

// TestStreamBodiesShareTheReadBudget: the body of an SSE or multipart
// request is read under the server's read budget and body deadline, as
// a plain request's. Before, it was read with neither: clients sending
// stream bodies of 1 MiB (each buffered as it arrived) held that memory
// beside server.max_reading_bytes, until the connection's backstop
// (read_header_timeout + read_timeout).
func TestStreamBodiesShareTheReadBudget(t *testing.T) {
	for _, accept := range []string{"text/event-stream", "multipart/mixed;subscriptionSpec=1.0"} {
		t.Run(accept, func(t *testing.T) {
			opts := server.DefaultOptions()
			opts.HTTP.MaxReadingBytes = 256 << 10
			opts.HTTP.ReadTimeout = time.Second
			e := newEnv(t, envOptions{server: &opts})
			addr := strings.TrimSuffix(strings.TrimPrefix(e.URL, "http://"), "/graphql")
			start := func() net.Conn {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = c.Close() })
				fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nAccept: %s\r\nContent-Length: %d\r\n\r\n{\"query\":\"%s",
					accept, 1<<20, strings.Repeat(" ", 200<<10))
				return c
			}
			status := func(c net.Conn, within time.Duration) int {
				_ = c.SetReadDeadline(time.Now().Add(within))
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					return 0
				}
				resp.Body.Close()
				return resp.StatusCode
			}
			first := start()
			// Its 200 KiB are being read: wait until the server holds
			// them, so that the second body is the one past the budget
			// however slowly a loaded machine schedules the reads (a
			// fixed 200 ms sleep let the second body be read first).
			budget := e.Server.ReadBudget()
			waitFor(t, "the first body's bytes taken from the read budget", func() bool {
				return budget.Left() <= opts.HTTP.MaxReadingBytes-200<<10
			})
			second := start()
			if got := status(second, 3*time.Second); got != http.StatusServiceUnavailable {
				t.Errorf("a second stream body past the read budget: status %d, want 503", got)
			}
			if got := status(first, 5*time.Second); got != http.StatusRequestTimeout {
				t.Errorf("a stream body that stalls: status %d, want 408 at read_timeout", got)
			}
		})
	}
}

// TestSlowStreamBodiesGetTheBodyDeadline: a body sent a byte at a time
// (never idle long enough for an idle timer) is cut at
// server.read_timeout, counted from when the handler starts reading it,
// on every transport that reads a body: plain POST, SSE, multipart and
// an operation of graphql-sse's single connection mode, with the same
// answer (408 REQUEST_TIMEOUT, connection closed). Before the stream
// bodies were read through Gateway.ReadRequests they had no deadline
// and such a client held its body's reading until net/http's backstop.
func TestSlowStreamBodiesGetTheBodyDeadline(t *testing.T) {
	const readTimeout = 800 * time.Millisecond
	opts := server.DefaultOptions()
	opts.HTTP.ReadTimeout = readTimeout
	e := newEnv(t, envOptions{server: &opts})
	addr := strings.TrimSuffix(strings.TrimPrefix(e.URL, "http://"), "/graphql")
	sc := &single{t: t, url: e.URL}
	sc.reserve()
	cases := []struct {
		name    string
		headers string
	}{
		{"plain POST", "Accept: application/json\r\n"},
		{"SSE", "Accept: text/event-stream\r\n"},
		{"multipart", "Accept: multipart/mixed;subscriptionSpec=1.0\r\n"},
		{"SSE single connection operation", subscriptions.TokenHeader + ": " + sc.token + "\r\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			start := time.Now()
			fmt.Fprintf(conn, "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n%sContent-Length: %d\r\n\r\n{\"query\":\"",
				c.headers, 64<<10)
			stop := make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
						if _, err := conn.Write([]byte(" ")); err != nil {
							return
						}
					}
				}
			}()
			_ = conn.SetReadDeadline(time.Now().Add(readTimeout + 3*time.Second))
			resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("no answer to a body sent a byte at a time: %v", err)
			}
			took := time.Since(start)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "REQUEST_TIMEOUT") || !resp.Close {
				t.Errorf("got %d %s (close %v), want 408 REQUEST_TIMEOUT and the connection closed", resp.StatusCode, body, resp.Close)
			}
			if took < readTimeout {
				t.Errorf("cut after %v, before read_timeout (%v)", took, readTimeout)
			}
		})
	}
}

// expectOwnProducts waits for one subscription per client, for each
// group of subscribers (one per distinct name: subscribers whose states
// differ are not grouped) to listen to the upstream stream, and for the
// subgraph to have that stream; then it adds a review of product 1 and
// checks that subscriber i gets the product named names[i] (each
// completed with its own subgraph headers). A group joins its stream
// after its first subscription counts as active, and a review sent
// before then does not reach it: waiting for the subscriptions only, 5
// of 120 runs on a loaded machine got no message within 10s.
func expectOwnProducts(t *testing.T, e *env, clients []*wsClient, names []string) {
	t.Helper()
	waitFor(t, "every subscription", func() bool { return e.Engine.Stats.Active.Load() == int64(len(clients)) })
	distinct := map[string]bool{}
	for _, n := range names {
		distinct[n] = true
	}
	waitFor(t, "every group on its upstream stream", func() bool {
		groups, joined := e.Engine.JoinedGroups()
		return groups == len(distinct) && joined == groups
	})
	waitFor(t, "the upstream stream", func() bool { return e.Feed.Subscribers() > 0 })
	e.add("1", "hello")
	for i, w := range clients {
		m := w.next()
		if m.Type != "next" || !strings.Contains(string(m.Payload), `"name":"`+names[i]+`"`) {
			t.Errorf("subscriber %d (%s) got %s %s, want the product named %q", i, names[i], m.Type, m.Payload, names[i])
		}
	}
}

// TestConnectRateBounded: a client sets up at most ConnectBurst
// WebSockets at once and ConnectRate a second after them; past it
// connection_init is answered with close 1013 (which graphql-ws retries
// with its backoff), whoever else connects meanwhile. Before, a client
// reconnecting in a loop set up WebSockets as fast as it could (the
// attack suite's TestWebSocketReconnectStorm: 5,187 in 3s from 20
// goroutines), bounded only by the connections it held
// open at once.
func TestConnectRateBounded(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Auth.JWT.Keys = []auth.KeyConfig{{Secret: jwtSecret, Algorithms: []string{"HS256"}}}
	e := newEnv(t, envOptions{server: &opts, engine: subscriptions.Options{ConnectRate: 2, ConnectBurst: 3}})
	token := func(sub string) string {
		return `{"Authorization":"Bearer ` + signToken(t, sub, time.Now().Add(time.Hour)) + `"}`
	}
	setUp := func(payload string) websocket.StatusCode {
		t.Helper()
		w := dialWS(t, e.WSURL, nil)
		defer w.c.CloseNow()
		m := msg{Type: "connection_init", Payload: json.RawMessage(payload)}
		w.send(m)
		select {
		case got, ok := <-w.msgs:
			if ok && got.Type == "connection_ack" {
				return 0
			}
			return <-w.closed
		case <-time.After(10 * time.Second):
			t.Fatal("no answer to connection_init")
		}
		return 0
	}
	for i := range 3 {
		if code := setUp(token("alice")); code != 0 {
			t.Fatalf("setup %d of a burst of 3: closed %d", i+1, code)
		}
	}
	if code := setUp(token("alice")); code != websocket.StatusTryAgainLater {
		t.Fatalf("a fourth setup at once: close %d, want 1013", code)
	}
	// Another caller has a bucket of its own.
	if code := setUp(token("bob")); code != 0 {
		t.Fatalf("another caller: closed %d", code)
	}
	time.Sleep(600 * time.Millisecond) // one token at 2 a second
	if code := setUp(token("alice")); code != 0 {
		t.Fatalf("a setup after the bucket refilled: closed %d", code)
	}
}
