package e2e

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestInflightBudget checks the memory budget of executing plans: with
// room for one request, a second waits while the first is executing, and
// a request whose client gives up while waiting gets 503, not a hang.
func TestInflightBudget(t *testing.T) {
	sdl, err := os.ReadFile(filepath.Join(repoRoot, faultFixture))
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var inMain, maxInMain atomic.Int32
	main := mainHandler()
	slowMain := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := inMain.Add(1)
		defer inMain.Add(-1)
		for {
			m := maxInMain.Load()
			if n <= m || maxInMain.CompareAndSwap(m, n) {
				break
			}
		}
		select {
		case <-release:
		case <-time.After(5 * time.Second):
		}
		main.ServeHTTP(w, r)
	})
	opts := server.DefaultOptions()
	opts.MaxInflightBytes = 64 << 10 // the least one request reserves: one at a time
	g := gatewaytest.Start(t,
		gatewaytest.WithSupergraph(string(sdl)),
		gatewaytest.WithHandler("main", slowMain),
		gatewaytest.WithHandler("side", sideHandler(faultErrors)),
		gatewaytest.WithServerOptions(opts))
	body := []byte(`{"query":"{ things { id name } }"}`)

	first := make(chan *gatewaytest.Response, 1)
	go func() {
		resp, err := g.Post(context.Background(), body)
		if err != nil {
			t.Error(err)
		}
		first <- resp
	}()
	deadline := time.Now().Add(3 * time.Second)
	for inMain.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if inMain.Load() != 1 {
		t.Fatal("the first request never reached the subgraph")
	}

	// The slot is taken: a request whose client gives up while it waits
	// is answered 503 and never reaches the subgraph.
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if resp, err := g.Post(ctx, body); err == nil && resp.Status != http.StatusServiceUnavailable {
		t.Errorf("waiting request: status %d, want 503 or a cancelled request", resp.Status)
	}

	close(release)
	if resp := <-first; resp == nil || resp.Status != http.StatusOK {
		t.Fatalf("first request failed: %+v", resp)
	}
	if resp, err := g.Post(context.Background(), body); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("request after the slot freed: %v %+v", err, resp)
	}
	if m := maxInMain.Load(); m != 1 {
		t.Errorf("%d requests executed at once, want 1", m)
	}
}
