package subscriptions_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
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
)

func TestProtocolCloseCodes(t *testing.T) {
	e := newEnv(t, envOptions{engine: subscriptions.Options{InitTimeout: 300 * time.Millisecond}})
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
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := dialWS(t, e.WSURL, nil)
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
	e.subscribed(2)
	waitFor(t, "3 subscriptions", func() bool { return e.Engine.Stats.Active.Load() == 3 })
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
	for i := 0; i < n; i++ {
		if got, want := eventBody(t, c.next()), fmt.Sprintf("two-%d", i); got != want {
			t.Fatalf("event %d = %q, want %q", i, got, want)
		}
	}
	// a and b share the completion of each event: 2n completions for 3n
	// deliveries.
	if in, out := e.Engine.Stats.EventsIn.Load(), e.Engine.Stats.EventsOut.Load(); in != 2*n || out != 3*n {
		t.Fatalf("events in %d out %d, want %d and %d", in, out, 2*n, 3*n)
	}
	if f := e.Engine.Figures(); f.Events["reviews"].In != 2*n || f.Events["reviews"].Out != 3*n || f.Active != 3 || f.UpstreamStreams != 2 || f.UpstreamConnections != 1 {
		t.Fatalf("figures %+v", f)
	}
	// complete from one client leaves the shared upstream stream running;
	// from both, it ends upstream.
	a.send(msg{ID: "s", Type: "complete"})
	waitFor(t, "2 active", func() bool { return e.Engine.Stats.Active.Load() == 2 })
	if e.Feed.Subscribers() != 2 {
		t.Fatal("the upstream stream ended while b still uses it")
	}
	b.send(msg{ID: "s", Type: "complete"})
	e.subscribed(1)
}

func TestSlowEntityFetchDelaysOnlyItsSubscriptions(t *testing.T) {
	slow := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, _ := io.ReadAll(r.Body)
			if bytes.Contains(body, []byte(`"upc":"1"`)) {
				time.Sleep(1500 * time.Millisecond)
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
	time.Sleep(50 * time.Millisecond)
	e.add("2", "fast")
	start := time.Now()
	m := w.next()
	if m.ID != "fast" || time.Since(start) > time.Second {
		t.Fatalf("first message %s after %v, want the fast subscription's event at once", m.ID, time.Since(start))
	}
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
	e := newEnv(t, envOptions{engine: subscriptions.Options{MaxPerClient: n, SubscribeRate: 1e6, SubscribeBurst: n}})
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

// jwtEnv serves with HS256 tokens required.
func jwtEnv(t *testing.T) (*env, func(exp time.Time) string) {
	secret := "0123456789abcdef0123456789abcdef"
	opts := server.DefaultOptions()
	opts.Auth.RequireAuthentication = true
	opts.Auth.JWT.Keys = []auth.KeyConfig{{Secret: secret, Algorithms: []string{"HS256"}}}
	e := newEnv(t, envOptions{server: &opts})
	sign := func(exp time.Time) string {
		tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "ada", "exp": exp.Unix()}).SignedString([]byte(secret))
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	return e, sign
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
		{"SSE GET without a preflight header", "GET", "text/event-stream", "", "", 400, "CSRF"},
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
				url += "?query=" + "subscription%7BreviewAdded%7Bbody%7D%7D"
			} else {
				body = strings.NewReader(c.body)
			}
			req, _ := http.NewRequest(c.method, url, body)
			req.Header.Set("Accept", c.accept)
			if c.ctype != "" {
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
