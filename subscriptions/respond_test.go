package subscriptions_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

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
