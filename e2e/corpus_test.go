package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/corpus"
	"github.com/fedgate/gateway/internal/gatewaytest"
)

// corpusSkips names the corpus lines the gateway cannot pass yet because a
// feature is missing. Each is skipped with that reason; the assertions stay
// as strict as for every other line. None is: every line runs.
var corpusSkips = map[string]string{}

// corpusRefused holds checks run after a line's request: what a refused
// request must not have left behind.
var corpusRefused = map[string]func(t *testing.T, g *gatewaytest.Gateway, l corpus.Line){
	// A document sent with a hash it does not match is not stored under
	// that hash: asking by the hash alone finds nothing (no APQ poisoning).
	"apq_hash_mismatch": func(t *testing.T, g *gatewaytest.Gateway, l corpus.Line) {
		var sent struct {
			Extensions json.RawMessage `json:"extensions"`
		}
		if err := json.Unmarshal(l.BodyJSON, &sent); err != nil {
			t.Fatal(err)
		}
		body, _ := json.Marshal(map[string]any{"extensions": sent.Extensions})
		resp, err := g.Post(context.Background(), body)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(resp.Body), `"PERSISTED_QUERY_NOT_FOUND"`) {
			t.Errorf("the hash alone got %d %s, want PERSISTED_QUERY_NOT_FOUND", resp.Status, resp.Body)
		}
	},
}

// maxCorpusResponse bounds every answer: error messages must not echo a
// large input.
const maxCorpusResponse = 64 << 10

// TestHostileCorpus replays every line of the hostile corpus against a
// gateway over real HTTP. Each answer must be no 5xx, a status the line
// allows, small, a GraphQL error with extensions.code when not 200, and a
// rejected request must reach no subgraph.
//
// The corpus is written against Query { me, topProducts(first) }, User { id
// name reviews }, Review { id body author product } and Product { upc name
// price reviews }: the demo graph has those exact names, so no line needs
// its fields mapped.
func TestHostileCorpus(t *testing.T) {
	lines := corpus.Load(t)
	g := gatewaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	for _, l := range lines {
		t.Run(l.Name, func(t *testing.T) {
			if reason, ok := corpusSkips[l.Name]; ok {
				t.Skip(reason)
			}
			lctx, lcancel := context.WithTimeout(ctx, 20*time.Second)
			defer lcancel()
			req, err := l.NewRequest(g.URL)
			if err != nil {
				t.Fatal(err)
			}
			req = req.WithContext(lctx)
			before := g.Counts()
			start := time.Now()
			resp, err := g.Do(req)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			elapsed := time.Since(start)
			after := g.Counts()
			sent := 0
			for name, n := range after {
				sent += n - before[name]
			}
			t.Logf("status %d, %d bytes, %v, %d subgraph requests: %s", resp.Status, len(resp.Body), elapsed.Round(time.Millisecond), sent, clip(resp.Body))

			if resp.Status >= 500 {
				t.Errorf("status %d: a hostile request must never cause a 5xx", resp.Status)
			}
			if !slices.Contains(l.ExpectStatus, resp.Status) {
				t.Errorf("status %d, want one of %v", resp.Status, l.ExpectStatus)
			}
			if len(resp.Body) >= maxCorpusResponse {
				t.Errorf("the answer has %d bytes, want < %d", len(resp.Body), maxCorpusResponse)
			}
			if elapsed > 10*time.Second {
				t.Errorf("the answer took %v", elapsed)
			}
			if resp.Status != http.StatusOK {
				if sent != 0 {
					t.Errorf("rejected with %d but sent %d subgraph requests", resp.Status, sent)
				}
				var body struct {
					Errors []struct {
						Message    string         `json:"message"`
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(resp.Body, &body); err != nil {
					t.Fatalf("the error answer is not JSON: %v", err)
				}
				if len(body.Errors) == 0 {
					t.Fatal("the error answer has no errors")
				}
				for i, e := range body.Errors {
					if code, _ := e.Extensions["code"].(string); code == "" {
						t.Errorf("errors[%d] has no extensions.code: %q", i, e.Message)
					}
				}
			}
			if check := corpusAccepted[l.Name]; check != nil && resp.Status == http.StatusOK {
				check(t, resp.Body, after, before)
			}
			if check := corpusRefused[l.Name]; check != nil {
				check(t, g, l)
			}
		})
	}
}

// corpusAccepted holds extra checks for lines that may be answered 200:
// the document that ran must be the one the gateway checked.
var corpusAccepted = map[string]func(t *testing.T, body []byte, after, before map[string]int){
	// {"query":"{me{id}}","Query":"{topProducts...}"}: only the exact key
	// "query" counts, so only accounts may be asked.
	"json_case_variant_key": func(t *testing.T, body []byte, after, before map[string]int) {
		if want := `{"data":{"me":{"id":"1"}}}`; string(body) != want {
			t.Errorf("ran another document: got %s, want %s", body, want)
		}
		for _, name := range []string{"products", "reviews", "inventory"} {
			if after[name] != before[name] {
				t.Errorf("subgraph %s was called: the case-variant key ran", name)
			}
		}
	},
	// 1024 aliases of one field: at most one products fetch.
	"shareable_alias_1024": func(t *testing.T, body []byte, after, before map[string]int) {
		if n := after["products"] - before["products"]; n > 1 {
			t.Errorf("%d products fetches, want 1", n)
		}
	},
}
