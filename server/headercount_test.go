package server_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestHeaderCountBounded: a request with more header lines than
// max_header_count (100) is refused 431 REQUEST_HEADERS_TOO_MANY before
// anything reads its operation, whether the lines have distinct names or
// repeat one; at the bound it is served. Before, max_header_bytes (64 KiB)
// alone admitted some 9,000 tiny headers, each of which a forward "*" rule
// copied to every subgraph fetch and the dedupe and caller keys sorted
// and hashed (the attack suite's TestManyHeaders: 19 ms of CPU per
// request instead of 0.5).
func TestHeaderCountBounded(t *testing.T) {
	o := server.DefaultOptions()
	o.Auth.Headers.All.Forward = []string{"*"}
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(o), gatewaytest.WithMemoizedSubgraphs())
	for _, tc := range []struct {
		name    string
		headers func(h http.Header)
		status  int
	}{
		{"100 lines", func(h http.Header) {
			for i := range 99 { // and Content-Type
				h[fmt.Sprintf("X-H%d", i)] = []string{"v"}
			}
		}, 200},
		{"101 names", func(h http.Header) {
			for i := range 100 {
				h[fmt.Sprintf("X-H%d", i)] = []string{"v"}
			}
		}, 431},
		{"one name, 101 lines", func(h http.Header) {
			h["X-H"] = strings.Split(strings.Repeat("v,", 100)+"v", ",")
		}, 431},
		{"9,000 names", func(h http.Header) {
			for i := range 9000 {
				h[fmt.Sprintf("X-H%d", i)] = []string{"v"}
			}
		}, 431},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/graphql", strings.NewReader(`{"query":"{ topProducts(first: 1) { upc } }"}`))
			req.Header.Set("Content-Type", "application/json")
			tc.headers(req.Header)
			rec := httptest.NewRecorder()
			g.Handler.ServeHTTP(rec, req)
			if rec.Code != tc.status {
				t.Fatalf("%d %s, want %d", rec.Code, rec.Body.Bytes(), tc.status)
			}
			if tc.status != 431 {
				return
			}
			var body struct {
				Errors []struct {
					Extensions struct{ Code string } `json:"extensions"`
				} `json:"errors"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || len(body.Errors) != 1 || body.Errors[0].Extensions.Code != server.CodeHeadersTooMany {
				t.Fatalf("%s: want one error %s", rec.Body.Bytes(), server.CodeHeadersTooMany)
			}
		})
	}
}
