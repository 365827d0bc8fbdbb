package server_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// TestUnreadBudgetNeverRefusesAMutation: while clients that do not read
// hold the whole writing budget, a mutation whose answer is large still
// gets its answer, alone or in a batch. The budget is checked once the
// operation has run: refusing a mutation's answer then with 503
// SERVICE_OVERLOADED and Retry-After ("retry later") told its client that
// nothing was done although the subgraph had run it, and a retry ran it
// again.
func TestUnreadBudgetNeverRefusesAMutation(t *testing.T) {
	var ran atomic.Int32
	reviews := demo.Handlers()["reviews"]
	counting := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if bytes.Contains(b, []byte("addReview")) {
			ran.Add(1)
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		reviews.ServeHTTP(w, r)
	})
	opts := server.DefaultOptions()
	opts.Introspection = true
	opts.AllowBatch, opts.MaxBatch = true, 10
	opts.HTTP.WriteTimeout = 60 * time.Second // the unread answers stay for the test
	opts.HTTP.MaxWritingBytes = 8 << 20
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts), gatewaytest.WithHandler("reviews", counting))
	addr := strings.TrimPrefix(g.BaseURL, "http://")
	// Two clients that do not read take the whole budget (as in
	// TestUnreadAnswerRefused).
	for _, from := range []string{"127.0.0.3", "127.0.0.3", "127.0.0.5"} {
		resp, err := askUnread(t, addr, from, bigAnswerBatch())
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("unread batch from %s: %v %v", from, resp, err)
		}
	}
	// A query of the same size is refused: the budget is full.
	if resp, err := g.Client.Post(g.URL, "application/json", strings.NewReader(bigAnswer())); err != nil {
		t.Fatal(err)
	} else {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("a large query beside the unread answers: %d, want 503 (the budget is not full; the test proves nothing)", resp.StatusCode)
		}
	}
	mutation := fmt.Sprintf(`{"query":"mutation { addReview(productUpc: \"1\", authorId: \"1\", body: \"%s\", rating: 5) { id body } }"}`, strings.Repeat("x", 600<<10))
	for _, tc := range []struct{ name, body string }{
		{"plain", mutation},
		{"in a batch", "[" + mutation + "]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := ran.Load()
			resp, err := g.Client.Post(g.URL, "application/json", strings.NewReader(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			answer, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if n := ran.Load() - before; n != 1 {
				t.Fatalf("the subgraph ran the mutation %d times, want 1", n)
			}
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(answer), `"addReview":{"id":`) {
				t.Errorf("the mutation ran, but its client got %d, Retry-After %q: %.200s", resp.StatusCode, resp.Header.Get("Retry-After"), answer)
			}
		})
	}
}
