package subscriptions_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/fedgate/gateway/subscriptions"
)

// TestOriginRefusalIsAGraphQLError: a WebSocket upgrade from a browser
// origin that is not allowed is answered 403 with a GraphQL error body
// and extensions.code, as every other refusal; before, the WebSocket
// library wrote its own plain-text 403. Allowed origins still upgrade.
func TestOriginRefusalIsAGraphQLError(t *testing.T) {
	e := newEnv(t, envOptions{engine: subscriptions.Options{OriginPatterns: []string{"*.app.example", "https://exact.example"}}})
	host := func() string { u, _ := url.Parse(e.URL); return u.Host }()
	for _, tc := range []struct {
		name, origin string
		refused      bool
	}{
		{"no origin", "", false},
		{"own host", "http://" + host, false},
		{"host pattern", "https://ui.app.example", false},
		{"scheme pattern", "https://exact.example", false},
		{"other scheme than the pattern's", "http://exact.example", true},
		{"foreign", "https://evil.example", true},
		{"suffix trick", "https://app.example.evil.example", true},
		{"not a URL", "%zz://host", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, resp, err := websocket.Dial(ctx, e.WSURL, &websocket.DialOptions{Subprotocols: []string{"graphql-transport-ws"}, HTTPHeader: h})
			if !tc.refused {
				if err != nil {
					t.Fatalf("dial from %q: %v", tc.origin, err)
				}
				_ = c.CloseNow()
				return
			}
			if err == nil {
				_ = c.CloseNow()
				t.Fatalf("a WebSocket from %q was accepted", tc.origin)
			}
			if resp == nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			var out struct {
				Errors []struct {
					Message    string
					Extensions struct{ Code string }
				}
			}
			if resp.StatusCode != http.StatusForbidden || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
				json.Unmarshal(body, &out) != nil || len(out.Errors) != 1 || out.Errors[0].Extensions.Code != "ORIGIN_NOT_ALLOWED" {
				t.Fatalf("refusal: %d %q %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
		})
	}
}
