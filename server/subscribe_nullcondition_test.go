package server_test

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// TestSubscriptionRootNullCondition: a subscription whose root field has
// @skip/@include with a null condition (a Boolean variable with a default,
// sent as null) cannot collect its root fields (spec 6.4.1); the client
// hears so with BAD_USER_INPUT and 400, not a planning failure with 500,
// and no subgraph subscription starts. A false condition leaves no root
// field (the single root field rule); true subscribes.
func TestSubscriptionRootNullCondition(t *testing.T) {
	g := gatewaytest.Start(t)
	serveStreams(t, g)
	for _, tc := range []struct {
		name, vars string
		status     int
		code       string
	}{
		{"null", `{"s":null}`, 400, "BAD_USER_INPUT"},
		{"false", `{"s":false}`, 400, "GRAPHQL_VALIDATION_FAILED"},
		{"true", `{"s":true}`, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			q := `{"query":"subscription ($s: Boolean = true) { reviewAdded @include(if: $s) { rating } }","variables":` + tc.vars + `}`
			resp := postSSE(t, ctx, g, q)
			defer resp.Body.Close()
			if resp.StatusCode != tc.status {
				b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.status, b)
			}
			if tc.code == "" {
				return
			}
			b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
			if !strings.Contains(string(b), tc.code) {
				t.Fatalf("answer %s, want code %s", b, tc.code)
			}
		})
	}
}
