package server_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/wsclient"
	"github.com/fedgate/gateway/subscriptions"
)

// TestHookDeferParts: the SupergraphResponse hooks run on each part of an
// incremental (@defer) answer before it is written, may rewrite it, and a
// break ends the stream with a last part carrying the error.
func TestHookDeferParts(t *testing.T) {
	var mu sync.Mutex
	var parts []string
	breakAt := -1
	h := hooks.Hooks{
		Bodies: []hooks.Stage{hooks.SupergraphResponse},
		SupergraphResponse: func(_ context.Context, c *hooks.Call) error {
			mu.Lock()
			defer mu.Unlock()
			parts = append(parts, string(c.Body))
			if len(parts)-1 == breakAt {
				return &hooks.Break{Code: "STOPPED_BY_HOOK", Message: "stopped"}
			}
			c.Body = []byte(strings.ReplaceAll(string(c.Body), `"Table"`, `"Hooked"`))
			return nil
		},
	}
	g := startWithHooks(t, h)
	query := `{"query":"{ topProducts(first: 1) { name ... @defer { reviews { rating } } } }"}`
	get := func() string {
		req, _ := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(query))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824")
		resp, err := g.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/mixed") {
			t.Fatalf("not incremental: %s", b)
		}
		return string(b)
	}
	body := get()
	mu.Lock()
	n := len(parts)
	mu.Unlock()
	if n != 2 || !strings.Contains(body, `"Hooked"`) || strings.Contains(body, `"Table"`) || !strings.Contains(parts[1], `"hasNext":false`) {
		t.Fatalf("%d parts seen by the hook: %q\nanswer: %s", n, parts, body)
	}
	mu.Lock()
	parts, breakAt = nil, 1
	mu.Unlock()
	body = get()
	if !strings.Contains(body, "STOPPED_BY_HOOK") || strings.Contains(body, `"rating"`) || !strings.HasSuffix(body, "\r\n-----\r\n") {
		t.Fatalf("break at the deferred part: %s", body)
	}
}

// TestHookSubscriptionStart: a subscription's start runs the RouterRequest,
// SupergraphRequest and ExecutionRequest hooks, and a break at
// ExecutionRequest refuses it with the hook's status and code.
func TestHookSubscriptionStart(t *testing.T) {
	var mu sync.Mutex
	var stages []string
	record := func(_ context.Context, c *hooks.Call) error {
		mu.Lock()
		stages = append(stages, string(c.Stage)+" "+c.OperationName)
		mu.Unlock()
		if c.Stage == hooks.ExecutionRequest && c.OperationName == "Blocked" {
			return &hooks.Break{Status: http.StatusForbidden, Code: "SUBSCRIPTION_BLOCKED", Message: "blocked by a hook"}
		}
		return nil
	}
	o := server.DefaultOptions()
	o.Hooks = []hooks.Hooks{{RouterRequest: record, SupergraphRequest: record, ExecutionRequest: record}}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(o))
	serveStreams(t, g)
	subscribe := func(name string) (int, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		q := `{"query":"subscription ` + name + ` { reviewAdded { rating } }"}`
		resp := postSSE(t, ctx, g, q)
		defer resp.Body.Close()
		if resp.StatusCode != 200 {
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		line, _ := bufio.NewReader(resp.Body).ReadString('\n')
		return resp.StatusCode, line
	}
	if status, body := subscribe("Blocked"); status != 403 || !strings.Contains(body, "SUBSCRIPTION_BLOCKED") {
		t.Fatalf("Blocked: %d %s", status, body)
	}
	if status, body := subscribe("Allowed"); status != 200 {
		t.Fatalf("Allowed: %d %s", status, body)
	}
	mu.Lock()
	defer mu.Unlock()
	// SupergraphRequest runs before parsing: the name is the request's
	// operationName, none here.
	want := []string{"RouterRequest ", "SupergraphRequest ", "ExecutionRequest Blocked", "RouterRequest ", "SupergraphRequest ", "ExecutionRequest Allowed"}
	if strings.Join(stages, "|") != strings.Join(want, "|") {
		t.Fatalf("stages %q, want %q", stages, want)
	}
}

// serveStreams serves subscriptions on g's handler through a real engine
// that subscribes to g's subgraphs over WebSocket.
func serveStreams(t *testing.T, g *gatewaytest.Gateway) {
	t.Helper()
	urls := map[string]string{}
	for name, rec := range g.Subgraphs {
		urls[name] = rec.URL
	}
	up := wsclient.New(wsclient.Options{URLs: urls})
	engine := subscriptions.New(g.Handler, up, subscriptions.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	g.Handler.HandleStreams(engine)
	t.Cleanup(engine.Shutdown)
}

// postSSE posts the JSON request body to g asking for an event stream;
// the caller closes the answer's body.
func postSSE(t *testing.T, ctx context.Context, g *gatewaytest.Gateway, body string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := g.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// TestHookDeferPartsExecutionResponse: the ExecutionResponse hooks run on
// each part of an incremental answer too, before SupergraphResponse, as
// for a one-body answer. Before, they did not run for a stream: a hook
// scrubbing answers at ExecutionResponse was passed by adding @defer.
func TestHookDeferPartsExecutionResponse(t *testing.T) {
	var mu sync.Mutex
	var stages []string
	record := func(c *hooks.Call) {
		mu.Lock()
		defer mu.Unlock()
		stages = append(stages, string(c.Stage))
	}
	h := hooks.Hooks{
		Bodies: []hooks.Stage{hooks.ExecutionResponse},
		ExecutionResponse: func(_ context.Context, c *hooks.Call) error {
			record(c)
			c.Body = []byte(strings.ReplaceAll(string(c.Body), `"Table"`, `"Scrubbed"`))
			return nil
		},
		SupergraphResponse: func(_ context.Context, c *hooks.Call) error {
			record(c)
			return nil
		},
	}
	g := startWithHooks(t, h)
	req, _ := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(`{"query":"{ topProducts(first: 1) { name ... @defer { reviews { rating } } } }"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824")
	resp, err := g.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	body := string(b)
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/mixed") || !strings.Contains(body, `"rating"`) {
		t.Fatalf("not an incremental answer: %s", body)
	}
	if !strings.Contains(body, `"Scrubbed"`) || strings.Contains(body, `"Table"`) {
		t.Errorf("the ExecutionResponse hook's rewrite is not in the answer: %s", body)
	}
	mu.Lock()
	defer mu.Unlock()
	want := "ExecutionResponse SupergraphResponse ExecutionResponse SupergraphResponse"
	if got := strings.Join(stages, " "); got != want {
		t.Errorf("stages per part: %s, want %s", got, want)
	}
}
