package subscriptions_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subscriptions"
)

// reload swaps in the demo supergraph with edit applied to its text.
func (e *env) reload(edit func(string) string) {
	e.t.Helper()
	sdl := edit(gateway.DemoSupergraph)
	if sdl == gateway.DemoSupergraph {
		e.t.Fatal("the edit changed nothing")
	}
	sg, err := schema.Load(sdl)
	if err != nil {
		e.t.Fatal(err)
	}
	client := subgraphs.NewClient(e.urls, subgraphs.Options{Timeout: 10 * time.Second})
	e.t.Cleanup(client.Close)
	if err := e.Server.Swap(sg, client); err != nil {
		e.t.Fatal(err)
	}
}

const rootField = "reviewAdded(productUpc: String): Review!"

// errorCode is the extensions.code of the first error of an error
// message's payload (a list) or of a response's errors.
func errorCode(t *testing.T, payload []byte) string {
	t.Helper()
	var list []struct {
		Message    string
		Extensions struct{ Code string }
	}
	if strings.HasPrefix(strings.TrimSpace(string(payload)), "{") {
		var r struct {
			Errors json.RawMessage
		}
		_ = json.Unmarshal(payload, &r)
		payload = r.Errors
	}
	if err := json.Unmarshal(payload, &list); err != nil || len(list) == 0 {
		t.Fatalf("no errors in %s", payload)
	}
	return list[0].Extensions.Code
}

func TestHotReloadEndsSubscriptionsWhoseRootFieldChanged(t *testing.T) {
	cases := []struct {
		name string
		edit func(string) string
		// ended are the subscriptions (by id) the reload ends; the
		// others keep receiving events on their old plan.
		ended map[string]bool
	}{
		{"root field removed", func(s string) string {
			return strings.Replace(s, rootField, "reviewPosted(productUpc: String): Review!", 1)
		}, map[string]bool{"withArg": true, "noArg": true}},
		{"argument of another type", func(s string) string {
			return strings.Replace(s, rootField, "reviewAdded(productUpc: Int): Review!", 1)
		}, map[string]bool{"withArg": true}},
		{"new required argument", func(s string) string {
			return strings.Replace(s, rootField, "reviewAdded(productUpc: String, since: Int!): Review!", 1)
		}, map[string]bool{"withArg": true, "noArg": true}},
		{"nullable return type", func(s string) string {
			return strings.Replace(s, rootField, "reviewAdded(productUpc: String): Review", 1)
		}, map[string]bool{"withArg": true, "noArg": true}},
		{"description only", func(s string) string {
			return strings.Replace(s, "Each review as it is added", "Every review as it is added", 1)
		}, map[string]bool{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			w := dialWS(t, e.WSURL, nil)
			w.init("")
			w.subscribe("withArg", reviewAdded, map[string]any{"upc": "1"})
			w.subscribe("noArg", `subscription { reviewAdded { body product { upc name inStock } } }`, nil)
			sse := openSSE(t, e.URL, `{"query":"subscription { reviewAdded(productUpc: \"1\") { body } }"}`)
			e.subscribed(3)
			e.reload(c.edit)
			ended := map[string]bool{}
			for range c.ended {
				m := w.next()
				if m.Type != "error" {
					t.Fatalf("got %s %s, want error", m.Type, m.Payload)
				}
				if code := errorCode(t, m.Payload); code != subscriptions.CodeSchemaChanged {
					t.Fatalf("code %s, want %s", code, subscriptions.CodeSchemaChanged)
				}
				ended[m.ID] = true
			}
			for id := range c.ended {
				if !ended[id] {
					t.Fatalf("ended %v, want %v", ended, c.ended)
				}
			}
			// The SSE subscription passes the argument: it ends with an
			// error event then complete, unless the change was harmless.
			if c.ended["withArg"] {
				name, data := sse.next()
				if name != "next" || errorCode(t, []byte(data)) != subscriptions.CodeSchemaChanged {
					t.Fatalf("sse: %s %s", name, data)
				}
				if name, _ := sse.next(); name != "complete" {
					t.Fatalf("sse: %s, want complete", name)
				}
			}
			// The others still run on their old plan, completed through
			// the other subgraphs; the connection stayed open.
			e.add("1", "after the reload")
			want := 2 - len(c.ended)
			for i := 0; i < want; i++ {
				m := w.next()
				if c.ended[m.ID] {
					t.Fatalf("event for ended subscription %s", m.ID)
				}
				if m.ID == "noArg" && !strings.Contains(string(m.Payload), `"name":"Table"`) {
					t.Fatalf("not completed: %s", m.Payload)
				}
				if m.ID == "withArg" {
					eventBody(t, m)
				}
			}
			if !c.ended["withArg"] {
				if name, data := sse.next(); name != "next" || !strings.Contains(data, "after the reload") {
					t.Fatalf("sse: %s %s", name, data)
				}
			}
			waitFor(t, "ended subscriptions released", func() bool {
				return e.Engine.Stats.Active.Load() == int64(3-len(c.ended)-map[bool]int{true: 1}[c.ended["withArg"]])
			})
		})
	}
}

// racingGateway prepares with the server, then lets a reload happen
// before the engine starts the subscription.
type racingGateway struct {
	subscriptions.Gateway
	before func()
}

func (g racingGateway) Prepare(ctx context.Context, r *http.Request, req request.Request) (*subscriptions.Prepared, *subscriptions.RequestError) {
	p, rerr := g.Gateway.Prepare(ctx, r, req)
	g.before()
	return p, rerr
}

// A subscription prepared against the old schema that starts after the
// reload is refused when its root field is gone: the engine checks the
// schema it was planned against.
func TestSubscribeRacingAReload(t *testing.T) {
	var e *env
	var once sync.Once
	e = newEnv(t, envOptions{gateway: func(g subscriptions.Gateway) subscriptions.Gateway {
		return racingGateway{g, func() {
			once.Do(func() {
				e.reload(func(s string) string {
					return strings.Replace(s, rootField, "reviewPosted(productUpc: String): Review!", 1)
				})
			})
		}}
	}})
	w := dialWS(t, e.WSURL, nil)
	w.init("")
	w.subscribe("late", reviewAdded, nil)
	m := w.next()
	if m.Type != "error" || errorCode(t, m.Payload) != subscriptions.CodeSchemaChanged {
		t.Fatalf("got %s %s", m.Type, m.Payload)
	}
	// After the reload, the pipeline refuses it itself.
	w.subscribe("later", reviewAdded, nil)
	if m := w.next(); m.Type != "error" || errorCode(t, m.Payload) != "GRAPHQL_VALIDATION_FAILED" {
		t.Fatalf("got %s %s", m.Type, m.Payload)
	}
	if n := e.Engine.Stats.Active.Load(); n != 0 {
		t.Fatalf("%d active", n)
	}
}

// next returns the name and data of the next event.
func (s *sseStream) next() (string, string) {
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			s.t.Fatalf("sse: %v", err)
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimSpace(strings.TrimPrefix(line, "data:"))
		case line == "" && name != "":
			return name, data
		}
	}
}
