package subscriptions_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subscriptions"
	"github.com/golang-jwt/jwt/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

func TestProtocolCloseCodes(t *testing.T) {
	// Only the init timeout case runs with a short InitTimeout: with 300
	// ms for every case, a loaded machine took longer to dial and send
	// connection_init, and a case expecting another code got 4408.
	e := newEnv(t, envOptions{})
	quickInit := newEnv(t, envOptions{engine: subscriptions.Options{InitTimeout: 300 * time.Millisecond}})
	cases := []struct {
		name string
		run  func(w *wsClient)
		want websocket.StatusCode
	}{
		{"subscribe before connection_ack", func(w *wsClient) { w.subscribe("1", reviewAdded, nil) }, subscriptions.CloseUnauthorized},
		{"second connection_init", func(w *wsClient) { w.init(""); w.send(msg{Type: "connection_init"}) }, subscriptions.CloseTooManyInitialise},
		{"duplicate subscription id", func(w *wsClient) {
			w.init("")
			w.subscribe("a", reviewAdded, nil)
			w.subscribe("a", reviewAdded, nil)
		}, subscriptions.CloseSubscriberExists},
		{"invalid JSON", func(w *wsClient) { w.sendRaw("{nope") }, subscriptions.CloseBadRequest},
		{"unknown message type", func(w *wsClient) { w.init(""); w.sendRaw(`{"type":"gimme"}`) }, subscriptions.CloseBadRequest},
		{"subscribe without id", func(w *wsClient) { w.init(""); w.sendRaw(`{"type":"subscribe","payload":{"query":"{__typename}"}}`) }, subscriptions.CloseBadRequest},
		{"no connection_init in time", func(w *wsClient) {}, subscriptions.CloseInitTimeout},
		{"subscription id over 128 bytes", func(w *wsClient) {
			w.init("")
			w.subscribe(strings.Repeat("i", subscriptions.MaxOperationIDBytes+1), reviewAdded, nil)
		}, subscriptions.CloseBadRequest},
		{"message over 1 MiB", func(w *wsClient) {
			w.init("")
			w.subscribe("big", reviewAdded, map[string]any{"upc": strings.Repeat("u", 1<<20)})
		}, websocket.StatusMessageTooBig},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ce := e
			if c.want == subscriptions.CloseInitTimeout {
				ce = quickInit
			}
			w := dialWS(t, ce.WSURL, nil)
			w.t = t
			c.run(w)
			if got := w.closeCode(); got != c.want {
				t.Fatalf("close code %d, want %d", got, c.want)
			}
		})
	}
	waitFor(t, "subscriptions released", func() bool { return e.Engine.Stats.Active.Load() == 0 })
}

func TestEventsCompletedInOrderAndShared(t *testing.T) {
	e := newEnv(t, envOptions{})
	a, b, c := dialWS(t, e.WSURL, nil), dialWS(t, e.WSURL, nil), dialWS(t, e.WSURL, nil)
	for _, w := range []*wsClient{a, b, c} {
		w.init("")
	}
	a.subscribe("s", reviewAdded, map[string]any{"upc": "1"})
	b.subscribe("s", reviewAdded, map[string]any{"upc": "1"})
	c.subscribe("s", reviewAdded, map[string]any{"upc": "2"})
	// Named differently: completes on its own, shares the upstream stream.
	d := dialWS(t, e.WSURL, nil)
	d.init("")
	d.subscribe("s", strings.Replace(reviewAdded, "subscription(", "subscription Named(", 1), map[string]any{"upc": "2"})
	e.subscribed(2)
	waitFor(t, "4 subscriptions", func() bool { return e.Engine.Stats.Active.Load() == 4 })
	if n := e.Up.Stats.Conns.Load(); n != 1 {
		t.Fatalf("upstream connections = %d, want 1", n)
	}
	const n = 20
	for i := 0; i < n; i++ {
		e.add("1", fmt.Sprintf("one-%d", i))
		e.add("2", fmt.Sprintf("two-%d", i))
	}
	for _, w := range []*wsClient{a, b} {
		for i := 0; i < n; i++ {
			if got, want := eventBody(t, w.next()), fmt.Sprintf("one-%d", i); got != want {
				t.Fatalf("event %d = %q, want %q (in order)", i, got, want)
			}
		}
	}
	for _, w := range []*wsClient{c, d} {
		for i := 0; i < n; i++ {
			if got, want := eventBody(t, w.next()), fmt.Sprintf("two-%d", i); got != want {
				t.Fatalf("event %d = %q, want %q", i, got, want)
			}
		}
	}
	// a and b share the completion of each event: 3n completions for 4n
	// deliveries. A delivery is counted once its write returned, which
	// may be after the client read it.
	waitFor(t, "4n deliveries counted", func() bool { return e.Engine.Figures().Events["reviews"].Out >= 4*n })
	if in, out := e.Engine.Stats.EventsIn.Load(), e.Engine.Stats.EventsOut.Load(); in != 3*n || out != 4*n {
		t.Fatalf("events in %d out %d, want %d and %d", in, out, 3*n, 4*n)
	}
	if f := e.Engine.Figures(); f.Events["reviews"].In != 3*n || f.Events["reviews"].Out != 4*n || f.Active != 4 || f.UpstreamStreams != 2 || f.UpstreamConnections != 1 {
		t.Fatalf("figures %+v", f)
	}
	// complete from one client leaves the shared upstream stream running;
	// from both, it ends upstream.
	a.send(msg{ID: "s", Type: "complete"})
	waitFor(t, "3 active", func() bool { return e.Engine.Stats.Active.Load() == 3 })
	if e.Feed.Subscribers() != 2 {
		t.Fatal("the upstream stream ended while b still uses it")
	}
	b.send(msg{ID: "s", Type: "complete"})
	e.subscribed(1)
}

func TestSlowEntityFetchDelaysOnlyItsSubscriptions(t *testing.T) {
	// The entity fetch of upc 1 is held until the fast subscription's
	// event has arrived: an engine that made one subscription wait for
	// another's fetch never delivers it (no message within 10s). Before,
	// the fetch slept 1.5 s and the fast event had to arrive within 1 s,
	// a wall-clock bound.
	release, held := make(chan struct{}), make(chan struct{}, 1)
	var once sync.Once
	releaseSlow := func() { once.Do(func() { close(release) }) }
	t.Cleanup(releaseSlow)
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte(`"upc":"1"`)) {
				select {
				case held <- struct{}{}:
				default:
				}
				<-release
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			next.ServeHTTP(w, r)
		})
	}
	e := newEnv(t, envOptions{products: slow})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("slow", reviewAdded, map[string]any{"upc": "1"})
	w.subscribe("fast", reviewAdded, map[string]any{"upc": "2"})
	e.subscribed(2)
	e.add("1", "slow")
	select { // the slow event's fetch is under way
	case <-held:
	case <-time.After(15 * time.Second):
		t.Fatal("the slow event's entity fetch never reached the products subgraph")
	}
	e.add("2", "fast")
	m := w.next()
	if m.ID != "fast" {
		t.Fatalf("first message %s, want the fast subscription's event while the slow one's fetch is held", m.ID)
	}
	releaseSlow()
	if m := w.next(); m.ID != "slow" {
		t.Fatalf("then %s, want slow", m.ID)
	}
}

func TestSubgraphRestartMidStream(t *testing.T) {
	e := newEnv(t, envOptions{})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("s", reviewAdded, nil)
	e.subscribed(1)
	e.add("1", "before")
	if got := eventBody(t, w.next()); got != "before" {
		t.Fatal(got)
	}
	e.Reviews.kill()
	waitFor(t, "upstream connection lost", func() bool { return e.Up.Stats.Conns.Load() == 0 })
	// The killed subgraph's stream is gone before it serves again: the
	// subscriber counted next is the gateway's new one.
	e.subscribed(0)
	e.Reviews.restart()
	e.subscribed(1)
	e.add("2", "after")
	if got := eventBody(t, w.next()); got != "after" {
		t.Fatal(got)
	}
	if n := e.Engine.Stats.Active.Load(); n != 1 {
		t.Fatalf("active = %d", n)
	}
}

func TestSubgraphGoneEndsWithError(t *testing.T) {
	e := newEnv(t, envOptions{upstream: subgraphsRetry(300 * time.Millisecond)})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("s", reviewAdded, nil)
	w.subscribe("q", `{ product(upc: "1") { name } }`, nil)
	if m := w.next(); m.Type != "next" || m.ID != "q" {
		t.Fatalf("got %+v", m)
	}
	if m := w.next(); m.Type != "complete" || m.ID != "q" {
		t.Fatalf("got %+v", m)
	}
	e.subscribed(1)
	e.Reviews.kill()
	m := w.next()
	if m.Type != "error" || m.ID != "s" || !strings.Contains(string(m.Payload), "SUBSCRIPTION_UPSTREAM_FAILED") {
		t.Fatalf("got %s %s, want an error with SUBSCRIPTION_UPSTREAM_FAILED", m.Type, m.Payload)
	}
	waitFor(t, "released", func() bool { return e.Engine.Stats.Active.Load() == 0 && e.Up.Stats.Streams.Load() == 0 })
	// The connection is still usable.
	w.subscribe("q2", `{ product(upc: "2") { name } }`, nil)
	if m := w.next(); m.Type != "next" || !strings.Contains(string(m.Payload), "Couch") {
		t.Fatalf("got %s %s", m.Type, m.Payload)
	}
}

func TestSlowClientIsDisconnected(t *testing.T) {
	e := newEnv(t, envOptions{engine: subscriptions.Options{Buffer: 8, WriteTimeout: 500 * time.Millisecond}})
	ctx := t.Context()
	c, _, err := websocket.Dial(ctx, e.WSURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"connection_init"}`))
	if _, b, err := c.Read(ctx); err != nil || !strings.Contains(string(b), "connection_ack") {
		t.Fatalf("%s %v", b, err)
	}
	_ = c.Write(ctx, websocket.MessageText, []byte(`{"id":"1","type":"subscribe","payload":{"query":"subscription { reviewAdded { body } }"}}`))
	e.subscribed(1)
	// The client reads nothing more while large events keep coming.
	big := strings.Repeat("x", 256<<10)
	for i := 0; i < 400 && e.Engine.Stats.SlowClients.Load() == 0; i++ {
		e.add("1", big)
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, "slow client disconnected", func() bool {
		return e.Engine.Stats.SlowClients.Load() >= 1 && e.Engine.Stats.Active.Load() == 0 && e.Engine.Stats.Connections.Load() == 0
	})
	e.subscribed(0)
}

func TestManyIdleConnections(t *testing.T) {
	const n = 2000
	e := newEnv(t, envOptions{engine: subscriptions.Options{MaxPerClient: n, MaxConnectionsPerClient: n, SubscribeRate: 1e6, SubscribeBurst: n}})
	clients := make([]*wsClient, n)
	for i := range clients {
		w := dialWS(t, e.WSURL, nil)
		w.init("")
		w.subscribe("s", reviewAdded, map[string]any{"upc": "3"})
		clients[i] = w
	}
	waitFor(t, fmt.Sprintf("%d active", n), func() bool { return e.Engine.Stats.Active.Load() == n })
	if s, c := e.Up.Stats.Streams.Load(), e.Up.Stats.Conns.Load(); s != 1 || c != 1 {
		t.Fatalf("upstream streams %d connections %d, want 1 and 1", s, c)
	}
	e.add("3", "to all")
	for _, w := range clients {
		if got := eventBody(t, w.next()); got != "to all" {
			t.Fatal(got)
		}
	}
	if in := e.Engine.Stats.EventsIn.Load(); in != 1 {
		t.Fatalf("completions = %d, want 1 for %d identical subscriptions", in, n)
	}
	for _, w := range clients {
		_ = w.c.CloseNow()
	}
	waitFor(t, "all released", func() bool { return e.Engine.Stats.Active.Load() == 0 && e.Engine.Stats.Connections.Load() == 0 })
	e.subscribed(0)
}

const jwtSecret = "0123456789abcdef0123456789abcdef"

// jwtEnv serves with HS256 tokens required.
func jwtEnv(t *testing.T) (*env, func(exp time.Time) string) {
	opts := server.DefaultOptions()
	opts.Auth.RequireAuthentication = true
	opts.Auth.JWT.Keys = []auth.KeyConfig{{Secret: jwtSecret, Algorithms: []string{"HS256"}}}
	e := newEnv(t, envOptions{server: &opts})
	return e, func(exp time.Time) string { return signToken(t, "ada", exp) }
}

func signToken(t *testing.T, sub string, exp time.Time) string {
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": sub, "exp": exp.Unix()}).SignedString([]byte(jwtSecret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestClaimsBecomeSubgraphHeaders(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Auth.JWT.Keys = []auth.KeyConfig{{Secret: jwtSecret, Algorithms: []string{"HS256"}}}
	opts.Auth.Headers.All.Claims = []auth.ClaimHeader{{Claim: "sub", Header: "X-User"}}
	var mu sync.Mutex
	seen := map[string][]string{} // subgraph -> X-User values received
	record := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[name] = append(seen[name], r.Header.Get("X-User"))
				mu.Unlock()
				next.ServeHTTP(w, r)
			})
		}
	}
	e := newEnv(t, envOptions{server: &opts, reviews: record("reviews"), products: record("products")})
	for _, sub := range []string{"ada", "alan"} {
		// A client's own X-User is never forwarded: the claim decides.
		w := dialWS(t, e.WSURL, http.Header{"X-User": {"forged"}})
		w.init(`{"Authorization":"Bearer ` + signToken(t, sub, time.Now().Add(time.Hour)) + `"}`)
		w.subscribe("s", reviewAdded, nil)
		t.Cleanup(func() { _ = w.c.CloseNow() })
	}
	e.subscribed(2)
	if n := e.Up.Stats.Conns.Load(); n != 2 {
		t.Fatalf("upstream connections = %d, want one per forwarded header set", n)
	}
	e.add("1", "x")
	waitFor(t, "entity fetches with both users", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return strings.Contains(strings.Join(seen["products"], ","), "ada") && strings.Contains(strings.Join(seen["products"], ","), "alan")
	})
	mu.Lock()
	defer mu.Unlock()
	for _, sg := range []string{"reviews", "products"} {
		got := strings.Join(seen[sg], ",")
		if !strings.Contains(got, "ada") || !strings.Contains(got, "alan") || strings.Contains(got, "forged") {
			t.Fatalf("%s received X-User %q, want ada and alan, never forged", sg, got)
		}
	}
}

func TestTokenVerifiedAtConnectAndExpiryEndsSubscriptions(t *testing.T) {
	e, sign := jwtEnv(t)
	t.Run("no token", func(t *testing.T) {
		w := dialWS(t, e.WSURL, nil)
		w.send(msg{Type: "connection_init"})
		if got := w.closeCode(); got != subscriptions.CloseForbidden {
			t.Fatalf("close %d, want 4403", got)
		}
	})
	t.Run("two tokens", func(t *testing.T) {
		// A valid token beside a forged one: a subgraph given the payload
		// (forward_init_payload) may read the forged one.
		tok := sign(time.Now().Add(time.Hour))
		for _, p := range []string{
			`{"Authorization":"Bearer ` + tok + `","headers":{"Authorization":"Bearer forged"}}`,
			`{"Authorization":"Bearer ` + tok + `","authorization":"Bearer forged"}`,
			`{"authorization":"Bearer forged","Authorization":"Bearer ` + tok + `"}`,
		} {
			w := dialWS(t, e.WSURL, nil)
			w.send(msg{Type: "connection_init", Payload: json.RawMessage(p)})
			if got := w.closeCode(); got != subscriptions.CloseForbidden {
				t.Fatalf("%s: close %d, want 4403", p, got)
			}
		}
	})
	t.Run("forged token", func(t *testing.T) {
		w := dialWS(t, e.WSURL, nil)
		tok := sign(time.Now().Add(time.Hour))
		w.send(msg{Type: "connection_init", Payload: json.RawMessage(`{"Authorization":"Bearer ` + tok[:len(tok)-3] + `abc"}`)})
		if got := w.closeCode(); got != subscriptions.CloseForbidden {
			t.Fatalf("close %d, want 4403", got)
		}
	})
	t.Run("expiry", func(t *testing.T) {
		w := dialWS(t, e.WSURL, nil)
		w.init(`{"headers":{"authorization":"Bearer ` + sign(time.Now().Add(2*time.Second)) + `"}}`)
		w.subscribe("s", reviewAdded, nil)
		e.subscribed(1)
		e.add("1", "while valid")
		if got := eventBody(t, w.next()); got != "while valid" {
			t.Fatal(got)
		}
		m := w.next()
		if m.Type != "error" || !strings.Contains(string(m.Payload), "UNAUTHENTICATED") {
			t.Fatalf("got %s %s, want an UNAUTHENTICATED error", m.Type, m.Payload)
		}
		if got := w.closeCode(); got != subscriptions.CloseForbidden {
			t.Fatalf("close %d, want 4403", got)
		}
		e.subscribed(0)
	})
	t.Run("sse with the token in the header", func(t *testing.T) {
		req, _ := http.NewRequest("POST", e.URL, strings.NewReader(`{"query":"subscription { reviewAdded { body } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "text/event-stream")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status %d without a token, want 401", resp.StatusCode)
		}
	})
}

func TestShutdownCompletesEveryStream(t *testing.T) {
	e := newEnv(t, envOptions{})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("s", reviewAdded, nil)
	sse := openSSE(t, e.URL, `{"query":"subscription { reviewAdded { body } }"}`)
	e.subscribed(2)
	e.Engine.Shutdown()
	if m := w.next(); m.Type != "complete" || m.ID != "s" {
		t.Fatalf("got %+v, want complete", m)
	}
	if got := w.closeCode(); got != websocket.StatusGoingAway {
		t.Fatalf("close %d, want 1001", got)
	}
	if ev := sse.event(); ev != "complete" {
		t.Fatalf("sse got %q, want complete", ev)
	}
	e.subscribed(0)
	// New streams are refused while shutting down.
	_, resp, err := websocket.Dial(t.Context(), e.WSURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}})
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("dial after shutdown: %v, want 503", err)
	}
}

func TestHotReloadKeepsRunningSubscriptions(t *testing.T) {
	e := newEnv(t, envOptions{})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("old", reviewAdded, nil)
	e.subscribed(1)
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	client := subgraphs.NewClient(e.urls, subgraphs.Options{Timeout: 10 * time.Second})
	defer client.Close()
	if err := e.Server.Swap(sg, client); err != nil {
		t.Fatal(err)
	}
	w.subscribe("new", reviewAdded, nil)
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	e.add("5", "across the reload")
	seen := map[string]bool{}
	for i := 0; i < 2; i++ {
		m := w.next()
		if got := eventBody(t, m); got != "across the reload" {
			t.Fatal(got)
		}
		seen[m.ID] = true
	}
	if !seen["old"] || !seen["new"] {
		t.Fatalf("events for %v, want old and new", seen)
	}
}

func TestPerClientLimits(t *testing.T) {
	e := newEnv(t, envOptions{engine: subscriptions.Options{MaxPerClient: 2, SubscribeRate: 0.001, SubscribeBurst: 3}})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("1", reviewAdded, map[string]any{"upc": "1"})
	w.subscribe("2", reviewAdded, map[string]any{"upc": "2"})
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	w.subscribe("3", reviewAdded, map[string]any{"upc": "3"})
	if m := w.next(); m.Type != "error" || m.ID != "3" || !strings.Contains(string(m.Payload), "SUBSCRIPTION_LIMIT") {
		t.Fatalf("got %s %s, want SUBSCRIPTION_LIMIT", m.Type, m.Payload)
	}
	w.send(msg{ID: "1", Type: "complete"})
	waitFor(t, "1 active", func() bool { return e.Engine.Stats.Active.Load() == 1 })
	// Under the concurrency limit again, but the burst of 3 is spent.
	w.subscribe("4", reviewAdded, map[string]any{"upc": "4"})
	if m := w.next(); m.Type != "error" || m.ID != "4" || !strings.Contains(string(m.Payload), "RATE_LIMITED") {
		t.Fatalf("got %s %s, want RATE_LIMITED", m.Type, m.Payload)
	}
}

func TestHTTPTransportsRefuseCSRFAndBadInput(t *testing.T) {
	e := newEnv(t, envOptions{})
	cases := []struct {
		name, method, accept, ctype, body string
		status                            int
		code                              string
	}{
		{"SSE GET without a preflight header", "GET", "text/event-stream", "", "subscription%7BreviewAdded%7Bbody%7D%7D", 400, "CSRF"},
		{"SSE GET of a mutation", "GET", "text/event-stream", "preflight", `mutation%7BaddReview(productUpc:"1",authorId:"1",body:"x",rating:1)%7Bid%7D%7D`, 405, "METHOD_NOT_ALLOWED"},
		{"SSE POST as a simple request", "POST", "text/event-stream", "text/plain", `{"query":"subscription { reviewAdded { body } }"}`, 400, "CSRF"},
		{"multipart POST as a simple request", "POST", `multipart/mixed;subscriptionSpec="1.0"`, "text/plain", `{"query":"subscription { reviewAdded { body } }"}`, 400, "CSRF"},
		{"SSE with a broken body", "POST", "text/event-stream", "application/json", `{"query":`, 400, ""},
		{"SSE with an invalid subscription", "POST", "text/event-stream", "application/json", `{"query":"subscription { reviewAdded { nope } }"}`, 400, "GRAPHQL_VALIDATION_FAILED"},
		{"SSE with two root fields", "POST", "text/event-stream", "application/json", `{"query":"subscription { a: reviewAdded { body } b: reviewAdded { body } }"}`, 400, "GRAPHQL_VALIDATION_FAILED"},
		{"SSE with two root fields through a fragment", "POST", "text/event-stream", "application/json", `{"query":"subscription { ...F __typename } fragment F on Subscription { reviewAdded { body } }"}`, 400, "GRAPHQL_VALIDATION_FAILED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			url := e.URL
			var body io.Reader
			if c.method == "GET" {
				url += "?query=" + c.body
			} else {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, url, body)
			req.Header.Set("Accept", c.accept)
			switch c.ctype {
			case "":
			case "preflight":
				req.Header.Set("Apollo-Require-Preflight", "true")
			default:
				req.Header.Set("Content-Type", c.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			out, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(out), c.code) {
				t.Fatalf("%d %s, want %d with %s", resp.StatusCode, out, c.status, c.code)
			}
		})
	}
	if n := e.Engine.Stats.Active.Load(); n != 0 {
		t.Fatalf("active = %d", n)
	}
}

func TestMultipartFraming(t *testing.T) {
	e := newEnv(t, envOptions{})
	req, _ := http.NewRequest("POST", e.URL, strings.NewReader(`{"query":"subscription { reviewAdded { body product { name } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", `multipart/mixed;boundary="graphql";subscriptionSpec=1.0,application/json`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, `multipart/mixed;boundary="graphql"`) {
		t.Fatalf("content type %q", ct)
	}
	e.subscribed(1)
	e.add("2", "multi")
	r := bufio.NewReader(resp.Body)
	var got strings.Builder
	for !strings.Contains(got.String(), `"name":"Couch"`) {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%v after %q", err, got.String())
		}
		got.WriteString(line)
	}
	want := "\r\n--graphql\r\ncontent-type: application/json\r\n\r\n" + `{"payload":{"data":{"reviewAdded":{"body":"multi","product":{"name":"Couch"}}}}}`
	if !strings.HasPrefix(got.String(), want) {
		t.Fatalf("body %q, want prefix %q", got.String(), want)
	}
}

// sseStream reads events of a GraphQL over SSE response.
type sseStream struct {
	t *testing.T
	r *bufio.Reader
}

func openSSE(t *testing.T, url, body string) *sseStream {
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	return &sseStream{t: t, r: bufio.NewReader(resp.Body)}
}

// event returns the name of the next event.
func (s *sseStream) event() string {
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("sse: %v", err)
		}
		if name, ok := strings.CutPrefix(line, "event: "); ok {
			return strings.TrimSpace(name)
		}
	}
}

func TestEachEventIsTraced(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	defer tp.Shutdown(t.Context())
	e := newEnv(t, envOptions{engine: subscriptions.Options{Tracer: tp.Tracer("test")}})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("s", strings.Replace(reviewAdded, "subscription(", "subscription Traced(", 1), nil)
	e.subscribed(1)
	e.add("1", "one")
	e.add("2", "two")
	eventBody(t, w.next())
	eventBody(t, w.next())
	var events int
	for _, s := range rec.Ended() {
		if s.Name() == subscriptions.SpanEvent {
			events++
			var op string
			for _, a := range s.Attributes() {
				if a.Key == "graphql.operation.name" {
					op = a.Value.AsString()
				}
			}
			if op != "Traced" {
				t.Fatalf("span attributes %v", s.Attributes())
			}
		}
	}
	if events != 2 {
		t.Fatalf("%d event spans, want 2", events)
	}
}

func TestSSEToTheSubgraph(t *testing.T) {
	e := newEnv(t, envOptions{sseReviews: true})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("a", reviewAdded, map[string]any{"upc": "1"})
	w.subscribe("b", reviewAdded, map[string]any{"upc": "1"})
	// The upstream stream starts with a's subscribe; b joins it when its
	// own subscribe is handled, which on a loaded machine may be after
	// the stream is up: an event sent before that never reaches b.
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	e.subscribed(1)
	e.add("1", "through sse")
	for i := 0; i < 2; i++ {
		if got := eventBody(t, w.next()); got != "through sse" {
			t.Fatal(got)
		}
	}
	if n := e.Up.Stats.Streams.Load(); n != 1 {
		t.Fatalf("upstream streams = %d, want 1", n)
	}
	w.send(msg{ID: "a", Type: "complete"})
	w.send(msg{ID: "b", Type: "complete"})
	e.subscribed(0)
}

func TestStaticLimitsAtSubscribe(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Limits.MaxDepth = 2
	e := newEnv(t, envOptions{server: &opts})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("deep", `subscription { reviewAdded { product { name } } }`, nil)
	m := w.next()
	if m.Type != "error" || m.ID != "deep" || !strings.Contains(string(m.Payload), "MAX_DEPTH_EXCEEDED") {
		t.Fatalf("got %s %s, want a depth limit error", m.Type, m.Payload)
	}
	w.subscribe("flat", `subscription { reviewAdded { body } }`, nil)
	e.subscribed(1)
	if n := e.Engine.Stats.Active.Load(); n != 1 {
		t.Fatalf("active = %d, want only the shallow subscription", n)
	}
}

func TestFieldAuthorizationInEvents(t *testing.T) {
	sdl := strings.Replace(gateway.DemoSupergraph, "inStock: Boolean! @join__field(graph: INVENTORY)",
		"inStock: Boolean! @join__field(graph: INVENTORY) @authenticated", 1)
	if sdl == gateway.DemoSupergraph {
		t.Fatal("the demo supergraph changed: Product.inStock not found")
	}
	sdl += "\ndirective @authenticated on FIELD_DEFINITION | OBJECT | INTERFACE | SCALAR | ENUM\n"
	opts := server.DefaultOptions()
	opts.Auth.JWT.Keys = []auth.KeyConfig{{Secret: jwtSecret, Algorithms: []string{"HS256"}}}
	e := newEnv(t, envOptions{server: &opts, sdl: sdl})
	anon := dialWS(t, e.WSURL, nil)
	anon.init("")
	anon.subscribe("s", reviewAdded, nil)
	authed := dialWS(t, e.WSURL, nil)
	authed.init(`{"Authorization":"Bearer ` + signToken(t, "ada", time.Now().Add(time.Hour)) + `"}`)
	authed.subscribe("s", reviewAdded, nil)
	// Two plans (by grants), one upstream stream.
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	e.subscribed(1)
	e.add("1", "secret stock")
	if got := eventBody(t, authed.next()); got != "secret stock" {
		t.Fatal(got)
	}
	m := anon.next()
	var ev struct {
		Data   map[string]any
		Errors []struct {
			Path       []any
			Extensions map[string]any
		}
	}
	if err := json.Unmarshal(m.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	// Review.product and Product.inStock are non-null: the denied field
	// nulls the whole event, with the error at its path.
	if m.Type != "next" || ev.Data["reviewAdded"] != nil || len(ev.Errors) != 1 || ev.Errors[0].Extensions["code"] != "UNAUTHORIZED_FIELD_OR_TYPE" ||
		fmt.Sprint(ev.Errors[0].Path) != "[reviewAdded product inStock]" {
		t.Fatalf("anonymous event %s %s, want inStock denied", m.Type, m.Payload)
	}
}

func TestInitPayloadForwarding(t *testing.T) {
	for _, forward := range []bool{false, true} {
		t.Run(fmt.Sprintf("forward=%v", forward), func(t *testing.T) {
			e := newEnv(t, envOptions{engine: subscriptions.Options{ForwardInitPayload: forward}})
			for _, tenant := range []string{"a", "b"} {
				w := dialWS(t, e.WSURL, nil)
				w.init(`{"tenant":"` + tenant + `"}`)
				w.subscribe("s", reviewAdded, nil)
			}
			waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
			want := int64(1) // one stream, one connection for both clients
			if forward {
				want = 2 // the payloads differ: a connection and a stream each
			}
			waitFor(t, "upstream", func() bool { return e.Up.Stats.Conns.Load() == want && e.Up.Stats.Streams.Load() == want })
			e.subscribed(int(want))
		})
	}
}

func TestSlowSSEClientIsDisconnected(t *testing.T) {
	e := newEnv(t, envOptions{engine: subscriptions.Options{Buffer: 4, WriteTimeout: 300 * time.Millisecond}})
	req, _ := http.NewRequest("POST", e.URL, strings.NewReader(`{"query":"subscription { reviewAdded { body } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close() // never read
	e.subscribed(1)
	big := strings.Repeat("y", 256<<10)
	for i := 0; i < 400 && e.Engine.Stats.Active.Load() > 0; i++ {
		e.add("1", big)
		time.Sleep(2 * time.Millisecond)
	}
	waitFor(t, "slow SSE client dropped", func() bool {
		return e.Engine.Stats.Active.Load() == 0 && e.Engine.Stats.Connections.Load() == 0
	})
	e.subscribed(0)
}

// TestHTTPStreamClientLeaves checks that an SSE or multipart subscription
// (whose connection the gateway hijacks) ends when its client closes the
// connection, and that bytes a client sends after its request are
// dropped without disturbing the stream.
func TestHTTPStreamClientLeaves(t *testing.T) {
	e := newEnv(t, envOptions{})
	host := strings.TrimPrefix(strings.TrimSuffix(e.URL, "/graphql"), "http://")
	body := `{"query":"subscription { reviewAdded(productUpc: \"2\") { body } }"}`
	for _, accept := range []string{"text/event-stream", `multipart/mixed;subscriptionSpec="1.0"`} {
		c, err := net.DialTimeout("tcp", host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "POST /graphql HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nAccept: %s\r\nContent-Length: %d\r\n\r\n%sGET / HTTP/1.1\r\n\r\nnoise", host, accept, len(body), body)
		e.subscribed(1)
		if _, err := c.Write([]byte("more noise after the stream started")); err != nil {
			t.Fatal(err)
		}
		e.add("2", "still streaming")
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		got, err := readUntil(c, "still streaming")
		if err != nil {
			t.Fatalf("%s: %v after %q", accept, err, got)
		}
		if !strings.HasPrefix(got, "HTTP/1.1 200 OK\r\n") || !strings.Contains(got, "Transfer-Encoding: chunked\r\n") {
			t.Fatalf("%s: response head %q", accept, got)
		}
		_ = c.Close()
		waitFor(t, accept+" subscription ended", func() bool {
			return e.Engine.Stats.Active.Load() == 0 && e.Engine.Stats.Connections.Load() == 0
		})
		e.subscribed(0)
	}
}

// readUntil reads c until what it read contains s.
func readUntil(c net.Conn, s string) (string, error) {
	var got []byte
	buf := make([]byte, 4096)
	for !bytes.Contains(got, []byte(s)) {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return string(got), err
		}
	}
	return string(got), nil
}

// TestHTTPStreamEndsCleanly checks that a hijacked SSE or multipart
// stream that ends (here at shutdown) ends its chunked body, so that a
// client reads it to the end without an error.
func TestHTTPStreamEndsCleanly(t *testing.T) {
	for _, tc := range []struct{ accept, last string }{
		{"text/event-stream", "event: complete\ndata:\n\n"},
		{`multipart/mixed;subscriptionSpec="1.0"`, "--graphql--\r\n"},
	} {
		e := newEnv(t, envOptions{})
		req, _ := http.NewRequest("POST", e.URL, strings.NewReader(`{"query":"subscription { reviewAdded { body } }"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", tc.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		e.subscribed(1)
		e.Engine.Shutdown()
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || !strings.HasSuffix(string(body), tc.last) {
			t.Fatalf("%s: read %q, %v; want a body ending with %q", tc.accept, body, err, tc.last)
		}
	}
}
