package server_test

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// TestWideIDReachesTheSubgraphExactly: an ID given as an Int literal
// beyond 64 bits, inline or as a variable's default, reaches the
// subgraph with every digit (graphql-js's ID reads the literal's text),
// never rounded to a float64 (1.2345678901234568e+29).
func TestWideIDReachesTheSubgraphExactly(t *testing.T) {
	const wide = "123456789012345678901234567890"
	var mu sync.Mutex
	var bodies []string
	accounts := demo.Handlers()["accounts"]
	record := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(b))
		accounts.ServeHTTP(w, r)
	})
	g := gatewaytest.Start(t, gatewaytest.WithHandler("accounts", record))
	for _, q := range []string{
		`{ user(id: ` + wide + `) { id } }`,
		`query($id: ID! = ` + wide + `) { user(id: $id) { id } }`,
	} {
		mu.Lock()
		bodies = nil
		mu.Unlock()
		resp := postJSON(t, g, map[string]any{"query": q}, nil)
		if resp.Status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", q, resp.Status, resp.Body)
		}
		mu.Lock()
		got := strings.Join(bodies, "\n")
		mu.Unlock()
		if !strings.Contains(got, wide) || strings.Contains(got, "e+29") {
			t.Errorf("%s: the subgraph got %q, want the digits %s", q, got, wide)
		}
	}
}
