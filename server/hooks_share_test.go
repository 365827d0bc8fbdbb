package server_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
)

// regionSubgraph answers topProducts with one product named after the
// X-Region header of the fetch. It holds each request until a second
// one arrives (or 300ms passed), so that two callers' requests overlap
// and inbound dedupe would share them.
func regionSubgraph() http.Handler {
	var mu sync.Mutex
	arrived := make(chan struct{})
	n := 0
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		if n++; n == 2 {
			close(arrived)
		}
		mu.Unlock()
		select {
		case <-arrived:
		case <-time.After(300 * time.Millisecond):
		}
		b, _ := json.Marshal(map[string]any{"data": map[string]any{"topProducts": []any{map[string]any{"name": r.Header.Get("X-Region")}}}})
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
}

// regionFromHeader keeps the caller's X-Client-Region header in the hook
// Context and sends it to subgraphs as X-Region.
var regionFromHeader = hooks.Hooks{
	RouterRequest: func(_ context.Context, c *hooks.Call) error {
		c.Context["region"] = c.Header.Get("X-Client-Region")
		return nil
	},
	SubgraphRequest: func(_ context.Context, c *hooks.Call) error {
		c.Header.Set("X-Region", c.Context["region"].(string))
		return nil
	},
}

// TestHookStateSplitsSharedAnswers: two anonymous callers whose requests
// differ only in what hooks carry from the request to the fetches (a
// Context entry taken from a header no rule forwards, the request path)
// never share an answer through inbound dedupe (before, the second
// caller got the first one's answer: the fetch was made with the first
// caller's hook state).
func TestHookStateSplitsSharedAnswers(t *testing.T) {
	cases := []struct {
		name  string
		hooks hooks.Hooks
		// path and header of each caller's request
		paths   [2]string
		regions [2]string
		// want is each caller's answer; fetches the subgraph requests
		want    [2]string
		fetches int
		// subgraphDedupe shares subgraph fetches instead of client
		// requests (inbound dedupe off).
		subgraphDedupe bool
	}{
		{"context from a header", regionFromHeader, [2]string{"/graphql", "/graphql"}, [2]string{"eu", "us"}, [2]string{"eu", "us"}, 2, false},
		{"same hook state shares", regionFromHeader, [2]string{"/graphql", "/graphql"}, [2]string{"eu", "eu"}, [2]string{"eu", "eu"}, 1, false},
		{"subgraph dedupe, context from a header", regionFromHeader, [2]string{"/graphql", "/graphql"}, [2]string{"eu", "us"}, [2]string{"eu", "us"}, 2, true},
		{"subgraph dedupe, same hook state shares", regionFromHeader, [2]string{"/graphql", "/graphql"}, [2]string{"eu", "eu"}, [2]string{"eu", "eu"}, 1, true},
		{"request path", hooks.Hooks{
			SubgraphRequest: func(_ context.Context, c *hooks.Call) error {
				c.Header.Set("X-Region", strings.Split(c.Path, "/")[1])
				return nil
			},
		}, [2]string{"/eu/graphql", "/us/graphql"}, [2]string{"", ""}, [2]string{"eu", "us"}, 2, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := server.DefaultOptions()
			o.Cache.Dedupe = tc.subgraphDedupe
			o.Cache.InboundDedupe = !tc.subgraphDedupe
			o.Hooks = []hooks.Hooks{tc.hooks}
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(o), gatewaytest.WithHandler("products", regionSubgraph()))
			want := tc.want
			var got [2]string
			var wg sync.WaitGroup
			for i := range 2 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					req, _ := http.NewRequest(http.MethodPost, g.BaseURL+tc.paths[i], strings.NewReader(`{"query":"{ topProducts { name } }"}`))
					req.Header.Set("Content-Type", "application/json")
					if tc.regions[i] != "" {
						req.Header.Set("X-Client-Region", tc.regions[i])
					}
					resp, err := g.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					got[i] = string(resp.Body)
				}()
			}
			wg.Wait()
			for i := range 2 {
				if !strings.Contains(got[i], `"name":"`+want[i]+`"`) {
					t.Errorf("caller %d (%s) got %s, want its own answer (%s)", i, want[i], got[i], want[i])
				}
			}
			if n := g.Subgraphs["products"].Count(); n != tc.fetches {
				t.Errorf("the subgraph served %d requests, want %d", n, tc.fetches)
			}
		})
	}
}
