package server_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/coprocessor"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
)

// The response stages and subscription events: ExecutionResponse and
// SupergraphResponse (Go hooks and the coprocessor) run on each event of
// a subscription before it is sent, per subscriber, as on each part of a
// @defer answer. Before, the events passed no response hook: a filter
// scrubbing answers there was passed by subscribing.

// secretReview is the body of the reviews the tests add; the hooks scrub
// it.
const secretReview = "secret review text"

// sseSubscriber reads the events of one GraphQL over SSE subscription.
type sseSubscriber struct {
	events chan string // the data of each next event
	done   chan struct{}
	// all is the whole stream read so far, for failure messages.
	mu  sync.Mutex
	all strings.Builder
}

// subscribeSSE subscribes to reviewAdded over SSE with header; the
// stream is read in the background until it ends or ctx does.
func subscribeSSE(t *testing.T, ctx context.Context, g *gatewaytest.Gateway, header map[string]string) *sseSubscriber {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, strings.NewReader(`{"query":"subscription { reviewAdded { body product { name } } }"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := g.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		resp.Body.Close()
		t.Fatalf("subscribe: status %d", resp.StatusCode)
	}
	s := &sseSubscriber{events: make(chan string, 64), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		event := ""
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.all.WriteString(line + "\n")
			s.mu.Unlock()
			switch {
			case strings.HasPrefix(line, "event:"):
				event = strings.TrimSpace(line[len("event:"):])
			case strings.HasPrefix(line, "data:") && event == "next":
				select {
				case s.events <- strings.TrimSpace(line[len("data:"):]):
				default:
				}
			}
		}
	}()
	return s
}

func (s *sseSubscriber) stream() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.all.String()
}

// addReviewsUntil adds a review through g every 100 ms until until
// returns true (the subgraph stream may not be set up when the first is
// added), for at most 10 s.
func addReviewsUntil(t *testing.T, g *gatewaytest.Gateway, until func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !until(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no event within 10 s")
		}
		resp, a := post(t, g, `{"query":"mutation { addReview(productUpc: \"1\", authorId: \"1\", body: \"`+secretReview+`\", rating: 5) { id } }"}`, nil)
		if resp.Status != 200 || len(a.Errors) > 0 {
			t.Fatalf("addReview: %d %s", resp.Status, resp.Body)
		}
	}
}

// firstEvent returns the first next event s received, "" if none yet.
func (s *sseSubscriber) firstEvent(got *string) func() bool {
	return func() bool {
		if *got != "" {
			return true
		}
		select {
		case e := <-s.events:
			*got = e
			return true
		default:
			return false
		}
	}
}

// TestHookSubscriptionEvents: three subscribers of one subscription (one
// group: no Subgraph hook keeps them apart) whose hook state differs
// (RouterRequest copies X-Filter into Context): the ExecutionResponse
// hook scrubs the events of the first, leaves the second's, and refuses
// the third's with a break, which ends that subscription with the hook's
// error; SupergraphResponse runs after it on each event of each.
func TestHookSubscriptionEvents(t *testing.T) {
	var mu sync.Mutex
	var stages []string
	h := hooks.Hooks{
		Bodies: []hooks.Stage{hooks.ExecutionResponse},
		RouterRequest: func(_ context.Context, c *hooks.Call) error {
			c.Context["filter"] = c.Header.Get("X-Filter")
			return nil
		},
		ExecutionResponse: func(_ context.Context, c *hooks.Call) error {
			if !strings.Contains(string(c.Body), "reviewAdded") {
				return nil // the mutations adding reviews
			}
			mu.Lock()
			stages = append(stages, "ExecutionResponse "+c.Context["filter"].(string))
			mu.Unlock()
			switch c.Context["filter"] {
			case "scrub":
				c.Body = []byte(strings.ReplaceAll(string(c.Body), secretReview, "[scrubbed]"))
			case "refuse":
				return &hooks.Break{Code: "EVENT_REFUSED", Message: "refused by a hook"}
			}
			return nil
		},
		SupergraphResponse: func(_ context.Context, c *hooks.Call) error {
			if f, _ := c.Context["filter"].(string); f != "" {
				mu.Lock()
				stages = append(stages, "SupergraphResponse "+f)
				mu.Unlock()
			}
			return nil
		},
	}
	g := startWithHooks(t, h)
	serveStreams(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	scrubbed := subscribeSSE(t, ctx, g, map[string]string{"X-Filter": "scrub"})
	kept := subscribeSSE(t, ctx, g, map[string]string{"X-Filter": "keep"})
	refused := subscribeSSE(t, ctx, g, map[string]string{"X-Filter": "refuse"})
	var a, b string
	addReviewsUntil(t, g, func() bool { return scrubbed.firstEvent(&a)() && kept.firstEvent(&b)() })
	if strings.Contains(a, secretReview) || !strings.Contains(a, "[scrubbed]") {
		t.Errorf("the scrubbed subscriber's event: %s", a)
	}
	if !strings.Contains(b, secretReview) {
		t.Errorf("the other subscriber's event: %s", b)
	}
	select {
	case <-refused.done:
	case <-time.After(10 * time.Second):
		t.Fatalf("the refused subscription did not end: %s", refused.stream())
	}
	if s := refused.stream(); !strings.Contains(s, "EVENT_REFUSED") || strings.Contains(s, secretReview) {
		t.Errorf("the refused subscriber's stream: %s", s)
	}
	mu.Lock()
	defer mu.Unlock()
	seen := strings.Join(stages, "|")
	for _, want := range []string{"ExecutionResponse scrub|SupergraphResponse scrub", "ExecutionResponse keep|SupergraphResponse keep", "ExecutionResponse refuse"} {
		if !strings.Contains(seen, want) {
			t.Errorf("stages %q lack %q", seen, want)
		}
	}
	if strings.Contains(seen, "SupergraphResponse refuse") {
		t.Errorf("SupergraphResponse ran after a break: %q", seen)
	}
}

// TestCoprocessorSubscriptionEvents: a coprocessor at the Execution and
// Supergraph response stages receives each event of a subscription (its
// body, status 200) and its rewrite is what the subscriber gets.
func TestCoprocessorSubscriptionEvents(t *testing.T) {
	var mu sync.Mutex
	var stages []string
	cp := apolloStyleCoprocessor(0, func(p map[string]any) any {
		body, _ := p["body"].(map[string]any)
		raw, _ := json.Marshal(body)
		if !strings.Contains(string(raw), "reviewAdded") {
			return p // the mutations adding reviews
		}
		mu.Lock()
		stages = append(stages, p["stage"].(string))
		mu.Unlock()
		if p["stage"] == "ExecutionResponse" {
			scrubbed := strings.ReplaceAll(string(raw), secretReview, "[scrubbed by the coprocessor]")
			var out map[string]any
			_ = json.Unmarshal([]byte(scrubbed), &out)
			p["body"] = out
		}
		return p
	})
	defer cp.Close()
	o := server.DefaultOptions()
	o.Cache.Dedupe = false
	sel := &coprocessor.Selection{Body: true, StatusCode: true}
	o.Coprocessor = coprocessor.Config{URL: cp.URL, Timeout: 2 * time.Second,
		Execution:  coprocessor.Stages{Response: sel},
		Supergraph: coprocessor.Stages{Response: sel}}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(o))
	serveStreams(t, g)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	sub := subscribeSSE(t, ctx, g, nil)
	var event string
	addReviewsUntil(t, g, sub.firstEvent(&event))
	if strings.Contains(event, secretReview) || !strings.Contains(event, "[scrubbed by the coprocessor]") {
		t.Errorf("the event: %s", event)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(stages) < 2 || stages[0] != "ExecutionResponse" || stages[1] != "SupergraphResponse" {
		t.Errorf("coprocessor stages of the events: %q", stages)
	}
}
