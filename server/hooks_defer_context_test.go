package server_test

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/fedgate/gateway/pkg/hooks"
)

// TestHookContextDeferParts: the SupergraphResponse hooks of an
// incremental answer's parts run while later parts' fetches run their
// Subgraph hooks; a SupergraphResponse hook writing Call.Context beside
// Subgraph hooks that only read it (as pkg/hooks allows) must not end the
// process. Before contextMu it did within a few requests: "fatal error:
// concurrent map iteration and map write" (the coprocessor, which
// rewrites the context after a SupergraphResponse exchange and encodes it
// for a Subgraph one, too).
func TestHookContextDeferParts(t *testing.T) {
	h := hooks.Hooks{
		SupergraphResponse: func(_ context.Context, c *hooks.Call) error {
			for i := 0; i < 2000; i++ {
				c.Context["k"+strconv.Itoa(i%64)] = i
			}
			return nil
		},
		SubgraphRequest: func(_ context.Context, c *hooks.Call) error {
			for i := 0; i < 200; i++ {
				for range c.Context {
				}
			}
			return nil
		},
	}
	h.SubgraphResponse = h.SubgraphRequest
	g := startWithHooks(t, h)
	query := `{"query":"{ topProducts(first: 5) { name ... @defer { reviews { rating } } ... @defer { inStock } ... @defer { shippingEstimate } ... @defer { reviews { body } } } }"}`
	var wg sync.WaitGroup
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 60; i++ {
				req, _ := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(query))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Accept", "multipart/mixed;deferSpec=20220824")
				resp, err := g.Client.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if body := string(b); !strings.Contains(body, `"inStock"`) || !strings.Contains(body, `"shippingEstimate"`) || !strings.HasSuffix(body, "\r\n-----\r\n") {
					t.Errorf("incomplete answer: %s", body)
					return
				}
			}
		}()
	}
	wg.Wait()
}
