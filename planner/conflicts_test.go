package planner_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// sendToDemo posts every fetch of p to the in-process demo subgraph it
// names (no representations, so only validation and the root fields
// run) and returns the errors the subgraphs answered.
func sendToDemo(t *testing.T, p *planner.Plan) []string {
	t.Helper()
	handlers := demo.Handlers()
	var out []string
	for _, f := range corpusFetches(p.Root) {
		vars := map[string]any{}
		if len(f.Requires) > 0 {
			vars["representations"] = []any{}
		}
		body, err := json.Marshal(map[string]any{"query": f.Operation, "variables": vars})
		if err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, demo.Path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		handlers[f.Subgraph].ServeHTTP(rec, req)
		var resp struct {
			Errors []struct {
				Message string `json:"message"`
			} `json:"errors"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("%s: %v: %s", f.Subgraph, err, rec.Body.String())
		}
		for _, e := range resp.Errors {
			out = append(out, f.Subgraph+": "+e.Message)
		}
	}
	return out
}

// TestConflictingSelectionsOfMergedPaths: one entity fetch serving two
// paths puts their selections of different types side by side; where one
// response key holds fields of other shapes there (a leaf and an object,
// String and Int, __typename and a field) the subgraph would reject the
// operation, so the planner aliases one of them and renames it back.
func TestConflictingSelectionsOfMergedPaths(t *testing.T) {
	for _, c := range []struct{ name, query string }{
		{"leaf and object under one key", `{ a3: user(id: "4") { reviews { id } } product(upc: "4") { reviews { id: product { upc } } } }`},
		{"String and Int under one key", `{ product(upc: "1") { reviews { body } } user(id: "1") { reviews { body: rating } } }`},
		{"__typename and a field under one key", `{ users { reviews { rating: __typename id } } topProducts { reviews { rating: body } } }`},
		{"deeper conflict", `{ me { reviews { product { x: name } } } topProducts { reviews { product { x: price } } } }`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := planDemo(t, c.query)
			if errs := sendToDemo(t, p); len(errs) > 0 {
				t.Errorf("subgraphs rejected the plan's operations: %s\n%s", strings.Join(errs, "; "), p)
			}
			merged := false
			for _, paths := range flattenPaths(p.Root, "reviews") {
				merged = merged || strings.Contains(paths, " ")
			}
			if !merged {
				t.Errorf("the reviews fetches are no longer merged, the case tests nothing:\n%s", p)
			}
		})
	}
}
