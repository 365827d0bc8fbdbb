package server_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/subgraphs/wsclient"
	"github.com/fedgate/gateway/subscriptions"
)

// TestSubscriptionRootNullCondition: a subscription whose root field has
// @skip/@include with a null condition (a Boolean variable with a default,
// sent as null) cannot collect its root fields (spec 6.4.1); the client
// hears so with BAD_USER_INPUT and 400, not a planning failure with 500,
// and no subgraph subscription starts. A false condition leaves no root
// field (the single root field rule); true subscribes.
func TestSubscriptionRootNullCondition(t *testing.T) {
	g := gatewaytest.Start(t)
	urls := map[string]string{}
	for name, rec := range g.Subgraphs {
		urls[name] = rec.URL
	}
	up := wsclient.New(wsclient.Options{URLs: urls})
	engine := subscriptions.New(g.Handler, up, subscriptions.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	g.Handler.HandleStreams(engine)
	t.Cleanup(engine.Shutdown)
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
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, g.URL, strings.NewReader(q))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "text/event-stream")
			resp, err := g.Client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
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
