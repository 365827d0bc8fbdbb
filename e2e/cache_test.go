package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestResponsesGoldenThroughCaches runs every testdata/responses case
// three times against a gateway whose caches all take part (every field
// cacheable for a minute, the entity cache on): each answer has the
// golden's status, content type and body, byte for byte once ports are
// normalized, whether it was computed, assembled from cached entities or
// served whole from the response cache.
func TestResponsesGoldenThroughCaches(t *testing.T) {
	both := server.DefaultOptions()
	both.Introspection = true
	both.Cache.Response.DefaultMaxAge = time.Minute
	both.Cache.Entity.Enabled = true
	entities := both
	entities.Cache.Response.Enabled = false
	for _, c := range loadResponseCases(t) {
		for name, opts := range map[string]server.Options{"responses": both, "entities": entities} {
			t.Run(name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				want := readGolden(t, strings.TrimSuffix(c.path, ".graphql")+".json")
				g := cachedGatewayFor(t, c, opts)
				for i := 0; i < 3; i++ {
					ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
					resp, err := c.send(ctx, g)
					cancel()
					if err != nil {
						t.Fatal(err)
					}
					body := loopbackPort.ReplaceAll(resp.Body, []byte("127.0.0.1:PORT"))
					if resp.Status != want.Status || resp.Header.Get("Content-Type") != want.ContentType || !jsonEqual(body, want.Body) {
						t.Fatalf("request %d: %d %s\n%s\nwant %d %s\n%s", i+1, resp.Status, resp.Header.Get("Content-Type"), body,
							want.Status, want.ContentType, want.Body)
					}
				}
			})
		}
	}
}

type goldenAnswer struct {
	Status      int             `json:"status"`
	ContentType string          `json:"contentType"`
	Body        json.RawMessage `json:"body"`
}

func readGolden(t *testing.T, path string) goldenAnswer {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var g goldenAnswer
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return g
}

// jsonEqual compares two JSON texts without their spacing, keeping key
// order (which GraphQL responses must follow).
func jsonEqual(a, b []byte) bool {
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

// cachedGatewayFor is gatewayFor with server options.
func cachedGatewayFor(t *testing.T, c *responseCase, o server.Options) *gatewaytest.Gateway {
	t.Helper()
	opts := []gatewaytest.Option{gatewaytest.WithServerOptions(o)}
	if c.supergraph != "" {
		sdl, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(c.supergraph)))
		if err != nil {
			t.Fatal(err)
		}
		opts = append(opts, gatewaytest.WithSupergraph(string(sdl)))
		if c.supergraph == faultFixture {
			opts = append(opts,
				gatewaytest.WithHandler("main", mainHandler()),
				gatewaytest.WithHandler("side", sideHandler(c.fault)),
				faultClient(c.fault))
		}
	}
	return gatewaytest.Start(t, opts...)
}
