package server_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// TestIntLiteralRange: digits beyond 32 bits are refused only where the
// position is an Int (GRAPHQL_VALIDATION_FAILED, 400); as an ID (or a
// Float, a custom scalar) they are a valid literal, answered as the
// references answer them. The static checks before validation cannot know
// the position and refused both.
func TestIntLiteralRange(t *testing.T) {
	g := gatewaytest.Start(t)
	for _, tc := range []struct {
		name, query string
		status      int
		code        string
		// passed: the gateway runs the operation; the demo's accounts
		// subgraph (gqlgen, whose validation reads an Int literal as an
		// int64 too) may refuse the ID it is passed.
		passed bool
	}{
		{"ID position", `{ user(id: 99999999999) { id } }`, http.StatusOK, "", false},
		{"ID in a variable default", `query($id: ID! = 99999999999) { user(id: $id) { id } }`, http.StatusOK, "", false},
		{"ID beyond 64 bits", `{ user(id: 123456789012345678901234567890) { id } }`, http.StatusOK, "", true},
		{"ID beyond 64 bits in a variable default", `query($id: ID! = 123456789012345678901234567890) { user(id: $id) { id } }`, http.StatusOK, "", true},
		{"String position beyond 64 bits", `{ product(upc: 123456789012345678901234567890) { upc } }`, http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED", false},
		{"Int position", `{ topProducts(first: 2147483648) { upc } }`, http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED", false},
		{"Int variable default", `query($n: Int = -2147483649) { topProducts(first: $n) { upc } }`, http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED", false},
		{"huge Int, message clipped", `{ topProducts(first: ` + strings.Repeat("9", 5000) + `) { upc } }`, http.StatusBadRequest, "GRAPHQL_VALIDATION_FAILED", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := postJSON(t, g, map[string]any{"query": tc.query}, nil)
			if resp.Status != tc.status {
				t.Fatalf("status %d, want %d: %.300s", resp.Status, tc.status, resp.Body)
			}
			if tc.passed {
				var a struct {
					Data   map[string]any `json:"data"`
					Errors []struct {
						Extensions map[string]any `json:"extensions"`
					} `json:"errors"`
				}
				if err := json.Unmarshal(resp.Body, &a); err != nil || a.Data == nil {
					t.Fatalf("no data (%v): %.300s", err, resp.Body)
				}
				for _, e := range a.Errors {
					if e.Extensions["serviceName"] != "accounts" {
						t.Fatalf("an error of the gateway's own: %.300s", resp.Body)
					}
				}
				return
			}
			got := codes(t, resp.Body)
			if (tc.code == "") != (len(got) == 0) || (tc.code != "" && !slices.Contains(got, tc.code)) {
				t.Fatalf("codes %v, want %q: %.300s", got, tc.code, resp.Body)
			}
			if len(resp.Body) > 2000 {
				t.Errorf("answer of %d bytes: the literal is echoed whole", len(resp.Body))
			}
		})
	}
}

// TestIDVariableBeyondFloatPrecision: an ID variable given an integer
// beyond 2^53 (a JSON number, as JavaScript clients write large ids) is
// run, with the digits the client sent; it was refused with BAD_USER_INPUT
// ("integers beyond 2^53-1 may have been rounded") where the references
// answer. A fraction in an ID position is still refused.
func TestIDVariableBeyondFloatPrecision(t *testing.T) {
	g := gatewaytest.Start(t)
	query := `query($id: ID!) { user(id: $id) { id } }`
	for _, tc := range []struct {
		name, vars string
		code       string
	}{
		{"beyond 2^53", `{"id": 12345678901234567}`, ""},
		{"beyond 64 bits", `{"id": 123456789012345678901234567890}`, ""},
		{"a fraction", `{"id": 1.5}`, "BAD_USER_INPUT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := postJSON(t, g, map[string]any{"query": query, "variables": json.RawMessage(tc.vars)}, nil)
			got := codes(t, resp.Body)
			if tc.code != "" {
				if !slices.Contains(got, tc.code) {
					t.Fatalf("codes %v, want %s: %.300s", got, tc.code, resp.Body)
				}
				return
			}
			if resp.Status != http.StatusOK || len(got) > 0 || !strings.Contains(string(resp.Body), `"data":{"user":`) {
				t.Fatalf("status %d: %.300s", resp.Status, resp.Body)
			}
		})
	}
}
