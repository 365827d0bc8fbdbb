package server_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// TestNoSuggestionsForLargeDocuments: a document over 2 KiB is validated
// without "Did you mean" suggestions, each a Levenshtein distance from an
// unknown name to every candidate: unknown field names filling a 2 MiB
// body cost 243 ms of CPU (BenchmarkHostileDocuments/long_unknown_field_names),
// a 1 MB name on a type of 300 fields 4.6 s. A short document still gets
// them, and both get the same errors otherwise.
func TestNoSuggestionsForLargeDocuments(t *testing.T) {
	g := gatewaytest.Start(t) // introspection on: suggestions are shown
	const typo = `{ me { nam } topProduct { upc } }`
	for _, c := range []struct {
		name    string
		query   string
		suggest bool
	}{
		{"short", typo, true},
		{"long", "# " + strings.Repeat("x", 2<<10) + "\n" + typo, false},
		{"long name", "{ me { n" + strings.Repeat("a", 2<<10) + " } }", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := postJSON(t, g, map[string]any{"query": c.query}, nil)
			body := string(resp.Body)
			if resp.Status != 400 || !strings.Contains(body, `Cannot query field \"n`) {
				t.Fatalf("%d %.300s, want 400 naming the unknown field", resp.Status, body)
			}
			if got := strings.Contains(body, "Did you mean"); got != c.suggest {
				t.Errorf("suggestions %t, want %t: %.300s", got, c.suggest, body)
			}
		})
	}
}
