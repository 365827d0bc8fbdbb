package gatewaytest

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// HarnessSubgraphs returns handlers for the four subgraphs of the shared
// load harness that answer the requests recorded in
// testdata/bench/harness-answers.json (dir is the path of testdata/bench)
// with the answers recorded for them, and any other request with 404: a
// plan that asks differently fails instead of measuring something else.
// With WithSupergraph of dir/supergraph.graphql they serve the harness's
// query (dir/query.graphql).
func HarnessSubgraphs(t testing.TB, dir string) map[string]http.Handler {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(dir, "harness-answers.json"))
	if err != nil {
		t.Fatal(err)
	}
	var entries []struct {
		Subgraph string          `json:"subgraph"`
		Request  string          `json:"request"`
		Answer   json.RawMessage `json:"answer"`
	}
	if err := json.Unmarshal(raw, &entries); err != nil {
		t.Fatalf("harness-answers.json: %v", err)
	}
	answers := map[string]map[string][]byte{}
	for _, e := range entries {
		if answers[e.Subgraph] == nil {
			answers[e.Subgraph] = map[string][]byte{}
		}
		answers[e.Subgraph][e.Request] = e.Answer
	}
	handlers := map[string]http.Handler{}
	for name, byRequest := range answers {
		handlers[name] = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, "reading the body failed", http.StatusBadRequest)
				return
			}
			a, ok := byRequest[string(body)]
			if !ok {
				http.Error(w, "no recorded answer", http.StatusNotFound)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Length", strconv.Itoa(len(a)))
			_, _ = w.Write(a)
		})
	}
	return handlers
}
