package subscriptions_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
)

// filterHooks copy the X-Filter header of the subscriber's request into
// the hook Context, and their ExecutionResponse acts on each event by it:
// scrub rewrites the review's body, refuse breaks, panic panics.
var filterHooks = hooks.Hooks{
	Bodies: []hooks.Stage{hooks.ExecutionResponse},
	RouterRequest: func(_ context.Context, c *hooks.Call) error {
		c.Context["filter"] = c.Header.Get("X-Filter")
		return nil
	},
	ExecutionResponse: func(_ context.Context, c *hooks.Call) error {
		switch c.Context["filter"] {
		case "scrub":
			c.Body = []byte(strings.ReplaceAll(string(c.Body), "secret", "[scrubbed]"))
		case "refuse":
			return &hooks.Break{Code: "EVENT_REFUSED", Message: "refused by a hook"}
		case "panic":
			panic("a response hook failed")
		}
		return nil
	},
}

// TestResponseHooksRunPerSubscriber: four WebSocket subscribers of one
// subscription share its upstream stream and each event's completion (no
// Subgraph hook keeps them apart), and each event then passes the
// response hooks of each subscriber with its own hook state: one gets it
// scrubbed, one as it is, one's subscription ends with the hook's error,
// and one whose hook panics gets INTERNAL_SERVER_ERROR for that event
// while its subscription goes on. Before, events passed no response hook.
func TestResponseHooksRunPerSubscriber(t *testing.T) {
	opts := server.DefaultOptions()
	opts.Hooks = []hooks.Hooks{filterHooks}
	e := newEnv(t, envOptions{server: &opts})
	clients := map[string]*wsClient{}
	for _, filter := range []string{"scrub", "keep", "refuse", "panic"} {
		w := dialWS(t, e.WSURL, http.Header{"X-Filter": {filter}})
		w.init("")
		w.subscribe("1", reviewAdded, map[string]any{"upc": "1"})
		clients[filter] = w
	}
	e.subscribed(1)
	// The four join one group; an event published before the last has
	// joined would not reach it.
	waitFor(t, "4 subscriptions", func() bool { return e.Engine.Stats.Active.Load() == 4 })
	e.add("1", "a secret review")
	if got := eventBody(t, clients["scrub"].next()); got != "a [scrubbed] review" {
		t.Errorf("scrub: got %q", got)
	}
	if got := eventBody(t, clients["keep"].next()); got != "a secret review" {
		t.Errorf("keep: got %q", got)
	}
	if m := clients["refuse"].next(); m.Type != "error" || !strings.Contains(string(m.Payload), "EVENT_REFUSED") {
		t.Errorf("refuse: got %s %s, want an error with EVENT_REFUSED", m.Type, m.Payload)
	}
	for i := range 2 {
		if m := clients["panic"].next(); m.Type != "next" || !strings.Contains(string(m.Payload), "INTERNAL_SERVER_ERROR") || strings.Contains(string(m.Payload), "secret") {
			t.Fatalf("panic, event %d: got %s %s, want the event answered with INTERNAL_SERVER_ERROR", i, m.Type, m.Payload)
		}
		if i == 0 {
			e.add("1", "another secret review")
		}
	}
	if got := eventBody(t, clients["keep"].next()); got != "another secret review" {
		t.Errorf("keep, second event: got %q", got)
	}
}

// TestResponseHooksRunConcurrently: the response hooks of one event run
// for the group's subscribers at once, not one after another on the
// group's goroutine. Each subscriber's hook here waits (up to 2 s) until
// the hooks of all of them have started: run one after another, all but
// the last wait in vain and every event is late by the sum of the hooks'
// times (a coprocessor exchange each), so a few hundred subscribers of a
// popular subscription, an attacker's included, made its events minutes
// late and then ended it for everyone (max_pending, SUBSCRIPTION_OVERLOADED).
func TestResponseHooksRunConcurrently(t *testing.T) {
	const n = 4
	var mu sync.Mutex
	started, timedOut := 0, 0
	all := make(chan struct{})
	barrier := hooks.Hooks{
		ExecutionResponse: func(ctx context.Context, _ *hooks.Call) error {
			mu.Lock()
			if started++; started == n {
				close(all)
			}
			mu.Unlock()
			select {
			case <-all:
			case <-time.After(2 * time.Second):
				mu.Lock()
				timedOut++
				mu.Unlock()
			case <-ctx.Done():
			}
			return nil
		},
	}
	opts := server.DefaultOptions()
	opts.Hooks = []hooks.Hooks{barrier}
	e := newEnv(t, envOptions{server: &opts})
	clients := make([]*wsClient, n)
	for i := range clients {
		clients[i] = dialWS(t, e.WSURL, nil)
		clients[i].init("")
		clients[i].subscribe("1", reviewAdded, map[string]any{"upc": "1"})
	}
	e.subscribed(1) // one group: one upstream stream
	e.add("1", "a review")
	for i, w := range clients {
		if got := eventBody(t, w.next()); got != "a review" {
			t.Errorf("subscriber %d: got %q", i, got)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if timedOut > 0 {
		t.Errorf("%d of %d subscribers' hooks waited 2 s for the others to start: they ran one after another", timedOut, n)
	}
}
