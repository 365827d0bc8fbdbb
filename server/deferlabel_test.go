package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// TestDeferLabelsValidated: a @defer label is a static string unique in
// the document (the incremental delivery draft's rule, which Hive Gateway
// applies with @defer on): two fragments deferred with one label, or a
// label from a variable or null, are refused with 400 GRAPHQL_VALIDATION_FAILED
// before anything is fetched, whichever answer the client accepts. Before,
// both ran, and a client could not tell the parts labelled alike apart.
func TestDeferLabelsValidated(t *testing.T) {
	g := gatewaytest.Start(t)
	do := func(body, accept string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, g.URL, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", accept)
		resp, err := g.Client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(b)
	}
	for _, tc := range []struct {
		name, body, message string
	}{
		{"duplicate", `{"query":"{ topProducts(first: 1) { upc ... @defer(label: \"a\") { name } ... @defer(label: \"a\") { price } } }"}`,
			"Defer/Stream directive label argument must be unique."},
		{"duplicate in a fragment and inline", `{"query":"{ topProducts(first: 1) { upc ...F ... @defer(label: \"a\") { price } } } fragment F on Product { ... @defer(label: \"a\") { name } }"}`,
			"Defer/Stream directive label argument must be unique."},
		{"variable", `{"query":"query($l: String) { topProducts(first: 1) { upc ... @defer(label: $l) { name } } }","variables":{"l":"a"}}`,
			`Directive \"defer\"'s label argument must be a static string.`},
		{"null", `{"query":"{ topProducts(first: 1) { upc ... @defer(label: null) { name } } }"}`,
			`Directive \"defer\"'s label argument must be a static string.`},
	} {
		for _, accept := range []string{"application/graphql-response+json", "multipart/mixed;deferSpec=20220824"} {
			t.Run(tc.name+" "+accept, func(t *testing.T) {
				before := g.Requests()
				status, b := do(tc.body, accept)
				if status != http.StatusBadRequest || !strings.Contains(b, `"GRAPHQL_VALIDATION_FAILED"`) || !strings.Contains(b, tc.message) {
					t.Fatalf("status %d (want 400): %s", status, b)
				}
				if n := g.Requests() - before; n != 0 {
					t.Errorf("%d subgraph fetches for a refused document", n)
				}
			})
		}
	}
	// Distinct labels, and one deferred fragment spread at two places,
	// run.
	for _, body := range []string{
		`{"query":"{ topProducts(first: 1) { upc ... @defer(label: \"a\") { name } ... @defer(label: \"b\") { price } } }"}`,
		`{"query":"{ topProducts(first: 1) { upc ...F } topProducts2: topProducts(first: 2) { ...F } } fragment F on Product { ... @defer(label: \"a\") { name } }"}`,
	} {
		resp, a := post(t, g, body, nil)
		if resp.Status != 200 || len(a.Errors) > 0 {
			t.Errorf("status %d: %s", resp.Status, resp.Body)
		}
	}
}
