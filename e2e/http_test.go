package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// errorCodes returns the extensions.code of every error of a response.
func errorCodes(t *testing.T, body []byte) []string {
	t.Helper()
	var resp struct {
		Errors []struct {
			Extensions struct {
				Code string `json:"code"`
			} `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("not JSON: %v: %s", err, clip(body))
	}
	var codes []string
	for _, e := range resp.Errors {
		codes = append(codes, e.Extensions.Code)
	}
	return codes
}

// TestGetMutationIs405 checks GraphQL over HTTP's rule for GET: a document
// whose operation is a mutation is answered 405 Method Not Allowed, with an
// Allow header (RFC 9110, 15.5.6), and reaches no subgraph. The demo schema
// has no Mutation type, so this also fixes the order of the checks: the
// method rule is about the request, and comes before validation.
func TestGetMutationIs405(t *testing.T) {
	g := gatewaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"?"+url.Values{"query": {"mutation { __typename }"}}.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != http.StatusMethodNotAllowed {
		t.Errorf("status %d, want 405: %s", resp.Status, resp.Body)
	}
	if allow := resp.Header.Get("Allow"); !strings.Contains(allow, "POST") {
		t.Errorf("Allow header %q, want one that names POST", allow)
	}
	if codes := errorCodes(t, resp.Body); len(codes) != 1 || codes[0] != "METHOD_NOT_ALLOWED" {
		t.Errorf("codes %v, want [METHOD_NOT_ALLOWED]", codes)
	}
	if n := g.Requests(); n != 0 {
		t.Errorf("%d subgraph requests, want 0", n)
	}
}

// TestVariablesCoercedBeforeForwarding sends variable values the gateway
// must either reject (400 BAD_USER_INPUT, no subgraph request) or coerce
// and forward in the form it validated. What it must not do is accept a
// value and let the subgraph see a different one (or fail on it).
func TestVariablesCoercedBeforeForwarding(t *testing.T) {
	const query = `query ($n: Int) { topProducts(first: $n) { upc } }`
	all := `{"data":{"topProducts":[{"upc":"1"},{"upc":"2"},{"upc":"3"},{"upc":"4"},{"upc":"5"}]}}`
	for _, tc := range []struct {
		name      string
		variables string
		// accept is the answer if the gateway accepts the value; "" means
		// it must be rejected.
		accept string
	}{
		// 1e3 is the JSON number 1000, an integral value: graphql-js
		// coerces it to the Int 1000.
		{"exponent", `{"n": 1e3}`, all},
		{"trailing_zero_fraction", `{"n": 2.0}`, `{"data":{"topProducts":[{"upc":"1"},{"upc":"2"}]}}`},
		// Int is a signed 32-bit integer (GraphQL spec, 3.5.1).
		{"int32_overflow", `{"n": 2147483648}`, ""},
		{"int32_underflow", `{"n": -2147483649}`, ""},
		{"fraction", `{"n": 1.5}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := gatewaytest.Start(t)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			body := `{"query":` + quote(query) + `,"variables":` + tc.variables + `}`
			resp, err := g.Post(ctx, []byte(body))
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status == http.StatusBadRequest {
				if codes := errorCodes(t, resp.Body); len(codes) != 1 || codes[0] != "BAD_USER_INPUT" {
					t.Errorf("rejected with codes %v, want [BAD_USER_INPUT]", codes)
				}
				if n := g.Requests(); n != 0 {
					t.Errorf("rejected, but %d subgraph requests were sent", n)
				}
				return
			}
			if tc.accept == "" {
				t.Fatalf("status %d, want 400 BAD_USER_INPUT: %s", resp.Status, resp.Body)
			}
			if resp.Status != http.StatusOK || string(resp.Body) != tc.accept {
				t.Errorf("status %d, body %s\nwant 400 BAD_USER_INPUT, or 200 %s\nsubgraph requests: %q",
					resp.Status, resp.Body, tc.accept, g.Subgraphs["products"].Bodies())
			}
		})
	}
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
