package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	goldenfile "github.com/fedgate/gateway/internal/golden"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/responses")

// repoRoot is the module root, seen from this package's directory.
const repoRoot = ".."

// responseCase is one testdata/responses/<name>.graphql file, sent as the
// query of one request. Leading comment lines are headers:
//
//	# supergraph: testdata/supergraphs/fault.graphql   (default: the demo supergraph)
//	# fault: 500|badjson|hang|errors                   (fault fixture only: how side fails)
//	# method: GET                                      (default POST)
//	# operation: Name                                  (operationName to send)
//
// <name>.vars.json, when present, is sent as the variables.
type responseCase struct {
	name       string
	path       string
	query      string
	variables  json.RawMessage
	supergraph string
	fault      string
	method     string
	operation  string
}

func loadResponseCases(t *testing.T) []*responseCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "testdata", "responses", "*.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/responses/*.graphql cases")
	}
	var cases []*responseCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &responseCase{name: strings.TrimSuffix(filepath.Base(f), ".graphql"), path: f, query: string(b), method: http.MethodPost}
		for _, line := range strings.Split(c.query, "\n") {
			if !strings.HasPrefix(line, "#") {
				break
			}
			key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
			if !ok {
				continue
			}
			value = strings.TrimSpace(value)
			switch key {
			case "supergraph":
				c.supergraph = value
			case "fault":
				c.fault = value
			case "method":
				c.method = value
			case "operation":
				c.operation = value
			}
		}
		if v, err := os.ReadFile(strings.TrimSuffix(f, ".graphql") + ".vars.json"); err == nil {
			if !json.Valid(v) {
				t.Fatalf("%s.vars.json is not valid JSON", c.name)
			}
			c.variables = v
		}
		cases = append(cases, c)
	}
	return cases
}

// gatewayFor starts the gateway a case runs against.
func gatewayFor(t *testing.T, c *responseCase) *gatewaytest.Gateway {
	t.Helper()
	if c.supergraph == "" {
		return gatewaytest.Start(t)
	}
	sdl, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(c.supergraph)))
	if err != nil {
		t.Fatal(err)
	}
	opts := []gatewaytest.Option{gatewaytest.WithSupergraph(string(sdl))}
	if c.supergraph == faultFixture {
		opts = append(opts,
			gatewaytest.WithHandler("main", mainHandler()),
			gatewaytest.WithHandler("side", sideHandler(c.fault)),
			faultClient(c.fault))
	}
	return gatewaytest.Start(t, opts...)
}

// send makes the case's request and returns the answer.
func (c *responseCase) send(ctx context.Context, g *gatewaytest.Gateway) (*gatewaytest.Response, error) {
	if c.method == http.MethodGet {
		q := url.Values{"query": {c.query}}
		if c.operation != "" {
			q.Set("operationName", c.operation)
		}
		if c.variables != nil {
			q.Set("variables", string(c.variables))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.URL+"?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Accept", "application/graphql-response+json, application/json")
		// A GET needs a header a browser cannot send cross-site (CSRF).
		req.Header.Set("Apollo-Require-Preflight", "true")
		return g.Do(req)
	}
	body := map[string]any{"query": c.query}
	if c.operation != "" {
		body["operationName"] = c.operation
	}
	if c.variables != nil {
		body["variables"] = c.variables
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	return g.Post(ctx, b)
}

var loopbackPort = regexp.MustCompile(`127\.0\.0\.1:[0-9]+`)

// golden renders what a case's golden file holds: the status, the content
// type, the body (indented, key order kept) and the requests each subgraph
// received.
func golden(resp *gatewaytest.Response, counts map[string]int) ([]byte, error) {
	var body bytes.Buffer
	if err := json.Indent(&body, resp.Body, "  ", "  "); err != nil {
		return nil, fmt.Errorf("the body is not JSON: %v: %q", err, clip(resp.Body))
	}
	names := make([]string, 0, len(counts))
	for n := range counts {
		names = append(names, n)
	}
	sort.Strings(names)
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"status\": %d,\n  \"contentType\": %q,\n  \"subgraphRequests\": {", resp.Status, resp.Header.Get("Content-Type"))
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "\n    %q: %d", n, counts[n])
	}
	b.WriteString("\n  },\n  \"body\": ")
	b.Write(loopbackPort.ReplaceAll(body.Bytes(), []byte("127.0.0.1:PORT")))
	b.WriteString("\n}\n")
	return b.Bytes(), nil
}

func clip(b []byte) []byte {
	if len(b) > 200 {
		return b[:200]
	}
	return b
}

// TestResponsesGolden runs every testdata/responses case over HTTP against
// a fresh gateway and compares the answer with <case>.json. Run with
// -update to rewrite; a missing golden fails.
func TestResponsesGolden(t *testing.T) {
	for _, c := range loadResponseCases(t) {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			g := gatewayFor(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			resp, err := c.send(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			got, err := golden(resp, g.Counts())
			if err != nil {
				t.Fatal(err)
			}
			goldenfile.Check(t, strings.TrimSuffix(c.path, ".graphql")+".json", got, *update, pinned)
		})
	}
}

// pinned lists goldens written by hand because the gateway's answer was
// wrong when they were recorded; -update does not overwrite them. Remove an
// entry once the gateway gets the case right.
var pinned = goldenfile.Pinned{}
