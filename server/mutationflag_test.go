package server

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/schema"
)

// kindTransport records whether each fetch was marked a mutation, by
// subgraph, and answers with body.
type kindTransport struct {
	mu    sync.Mutex
	kinds map[string][]bool
	body  string
}

func (k *kindTransport) Fetch(_ context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	k.mu.Lock()
	k.kinds[subgraph] = append(k.kinds[subgraph], req.Mutation)
	k.mu.Unlock()
	return &executor.Response{Body: []byte(k.body)}, nil
}

// TestFetchMutationFlag: the subgraph client sends a fetch not marked a
// mutation more than once (a retry, a second sending on a new connection:
// subgraphs.Client.post), so every fetch of a mutation must be marked,
// also when the document holds a query too and the operation is picked by
// name, and no fetch of the query picked from the same document is.
func TestFetchMutationFlag(t *testing.T) {
	const doc = `query Q { topProducts(first: 1) { upc } } ` +
		`mutation M { addReview(productUpc: "1", authorId: "1", body: "b", rating: 5) { id } }`
	tests := []struct {
		op       string
		body     string
		subgraph string
		want     bool
	}{
		{"M", `{"data":{"addReview":{"id":"9"}}}`, "reviews", true},
		{"Q", `{"data":{"topProducts":[{"upc":"1"}]}}`, "products", false},
	}
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			tr := &kindTransport{kinds: map[string][]bool{}, body: tt.body}
			s, err := New(sg, tr, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			b, _ := json.Marshal(map[string]string{"query": doc, "operationName": tt.op})
			r := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(string(b)))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"errors"`) {
				t.Fatalf("%d %s", w.Code, w.Body)
			}
			tr.mu.Lock()
			defer tr.mu.Unlock()
			if len(tr.kinds) != 1 || len(tr.kinds[tt.subgraph]) != 1 {
				t.Fatalf("fetches %v, want one to %s", tr.kinds, tt.subgraph)
			}
			if got := tr.kinds[tt.subgraph][0]; got != tt.want {
				t.Errorf("fetch to %s marked a mutation %v, want %v", tt.subgraph, got, tt.want)
			}
		})
	}
}
