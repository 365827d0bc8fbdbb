package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/redistest"
	"github.com/fedgate/gateway/server"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
)

// fragmentFlood is a document of n distinct fragments, each selecting id,
// spread side by side: small, within the token and field limits, and
// quadratic for the fields-can-merge validation rule.
func fragmentFlood(n int) string {
	var b strings.Builder
	b.WriteString("{ me { ")
	for i := range n {
		fmt.Fprintf(&b, "...F%d ", i)
	}
	b.WriteString("} }")
	for i := range n {
		fmt.Fprintf(&b, " fragment F%d on User { id }", i)
	}
	return b.String()
}

func postJSON(t testing.TB, g *gatewaytest.Gateway, body any, header map[string]string) *gatewaytest.Response {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, g.URL, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/graphql-response+json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := g.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func codes(t testing.TB, body []byte) []string {
	t.Helper()
	var a struct {
		Errors []struct {
			Extensions map[string]any `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatalf("not JSON: %v: %.200s", err, body)
	}
	var out []string
	for _, e := range a.Errors {
		c, _ := e.Extensions["code"].(string)
		out = append(out, c)
	}
	return out
}

// TestFieldMergeWorkRefused is issue 15 item 4: a 52 KB document of 1,400
// fragment spreads, inside the token and field limits, is refused before
// validation (it took validation 1.5 s and more).
func TestFieldMergeWorkRefused(t *testing.T) {
	g := gatewaytest.Start(t)
	resp := postJSON(t, g, map[string]any{"query": fragmentFlood(1400)}, nil)
	if c := codes(t, resp.Body); resp.Status != 400 || len(c) != 1 || c[0] != "MAX_FIELD_MERGES_EXCEEDED" {
		t.Fatalf("got %d %.300s, want 400 MAX_FIELD_MERGES_EXCEEDED", resp.Status, resp.Body)
	}
	// An ordinary document with fragments still runs.
	resp = postJSON(t, g, map[string]any{"query": fragmentFlood(20)}, nil)
	if resp.Status != 200 {
		t.Fatalf("20 fragments: %d %s", resp.Status, resp.Body)
	}
}

// TestRefusedRequestsNeverValidate is issue 15 item 4: a GET refused by
// CSRF prevention, and a query text refused by trusted documents in
// ids_only mode, are refused before validation (and ids_only before
// parsing): the trace has no validate (parse) span.
func TestRefusedRequestsNeverValidate(t *testing.T) {
	manifest := filepath.Join(t.TempDir(), "manifest.json")
	if err := os.WriteFile(manifest, []byte(`{"format":"apollo-persisted-query-manifest","version":1,"operations":[{"id":"top","name":"Top","type":"query","body":"{ topProducts { upc } }"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	spans := func() map[string]int {
		out := map[string]int{}
		for _, s := range rec.Ended() {
			out[s.Name()]++
		}
		return out
	}
	for _, tc := range []struct {
		name      string
		mode      string
		send      func(g *gatewaytest.Gateway) *gatewaytest.Response
		code      string
		forbidden []string
	}{
		{"GET without CSRF header", "", func(g *gatewaytest.Gateway) *gatewaytest.Response {
			req, _ := http.NewRequest(http.MethodGet, g.URL+"?"+url.Values{"query": {fragmentFlood(100)}}.Encode(), nil)
			req.Header.Set("Accept", "application/graphql-response+json")
			resp, err := g.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			return resp
		}, "CSRF_ERROR", []string{"validate"}},
		{"query text in ids_only mode", "ids_only", func(g *gatewaytest.Gateway) *gatewaytest.Response {
			return postJSON(t, g, map[string]any{"query": fragmentFlood(100)}, nil)
		}, cache.CodePersistedQueryIDRequired, []string{"parse", "validate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := server.DefaultOptions()
			opts.Observe.Tracer = tp.Tracer("test")
			if tc.mode != "" {
				opts.Cache.TrustedDocuments = cache.TrustedDocumentsConfig{Mode: tc.mode, Manifest: manifest}
			}
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
			before := spans()
			resp := tc.send(g)
			if c := codes(t, resp.Body); len(c) != 1 || c[0] != tc.code {
				t.Fatalf("got %d %s, want %s", resp.Status, resp.Body, tc.code)
			}
			after := spans()
			if after["request"] == before["request"] {
				t.Fatal("no request span recorded: the test cannot see the stages")
			}
			for _, name := range tc.forbidden {
				if after[name] != before[name] {
					t.Errorf("a %s span was recorded for a request refused before it", name)
				}
			}
		})
	}
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// apqKeys counts the APQ entries in Redis.
func apqKeys(t testing.TB, srv *redistest.Server) int {
	t.Helper()
	keys, err := srv.Client().Keys(context.Background(), cache.KeyPrefix+"apq:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// TestAPQRegistersOnlyAcceptedDocuments is issue 15 item 5: documents that
// do not parse, or are larger than cache.apq.max_document_bytes, are never
// stored, in process or in Redis; a valid one is.
func TestAPQRegistersOnlyAcceptedDocuments(t *testing.T) {
	srv := redistest.Start(t)
	opts := server.DefaultOptions()
	opts.Redis = newRedis(t, srv.URL())
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	register := func(q string) *gatewaytest.Response {
		return postJSON(t, g, map[string]any{"query": q,
			"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(q)}}}, nil)
	}
	for i := range 20 {
		q := fmt.Sprintf("{ %d %s", i, strings.Repeat("{", 10)+strings.Repeat("x ", 50<<10))
		if resp := register(q); resp.Status != 400 {
			t.Fatalf("unparsable document: %d %.200s", resp.Status, resp.Body)
		}
	}
	big := "{ topProducts(first: 1) { upc } } #" + strings.Repeat("x", 70<<10)
	if resp := register(big); resp.Status != 200 {
		t.Fatalf("a large valid document: %d %.200s", resp.Status, resp.Body)
	}
	if n := apqKeys(t, srv); n != 0 {
		t.Fatalf("%d documents registered in Redis; unparsable and oversized ones must not be", n)
	}
	ok := "{ topProducts(first: 1) { upc } }"
	if resp := register(ok); resp.Status != 200 {
		t.Fatalf("valid document: %d %s", resp.Status, resp.Body)
	}
	if n := apqKeys(t, srv); n != 1 {
		t.Fatalf("%d documents in Redis after registering a valid one, want 1", n)
	}
	resp := postJSON(t, g, map[string]any{"extensions": map[string]any{"persistedQuery": map[string]any{"version": 1, "sha256Hash": sha(ok)}}}, nil)
	if resp.Status != 200 || len(codes(t, resp.Body)) != 0 {
		t.Fatalf("by hash: %d %s", resp.Status, resp.Body)
	}
}

// TestClientFieldsClippedInLog is issue 15 item 10: an operation named
// with 100 KB reaches the request log clipped.
func TestClientFieldsClippedInLog(t *testing.T) {
	var mu sync.Mutex
	var logs bytes.Buffer
	opts := server.DefaultOptions()
	opts.Observe.RequestLog = slog.New(slog.NewJSONHandler(&lockedWriter{mu: &mu, w: &logs}, nil))
	g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
	name := strings.Repeat("N", 100<<10)
	resp := postJSON(t, g, map[string]any{"query": "query " + name + " { __typename }", "operationName": name}, nil)
	if resp.Status != 200 {
		t.Fatalf("%d %.200s", resp.Status, resp.Body)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		line := logs.String()
		mu.Unlock()
		if strings.Contains(line, `"msg":"request"`) {
			if len(line) > 2048 {
				t.Fatalf("the log line is %d bytes for a 100 KB operation name; client fields must be clipped", len(line))
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("no log line")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestInboundDedupeSharesIdenticalRequests is issue 17 item 2: identical
// concurrent queries of one caller share one execution (the response cache
// and subgraph dedupe are off, so only inbound dedupe can share), and each
// gets the whole answer.
func TestInboundDedupeSharesIdenticalRequests(t *testing.T) {
	env := newCacheEnv(t)
	env.catalog.delay = 200 * time.Millisecond
	opts := server.DefaultOptions()
	opts.Cache.Response.Enabled = false
	opts.Cache.Dedupe = false
	g := env.rawGateway(t, opts)
	const n = 10
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a := g.postWith(t, `{ products { upc name } }`, nil, nil)
			if a.Status != 200 || len(a.Data["products"].([]any)) != 2 {
				t.Errorf("request %d: %d %s", i, a.Status, a.Body)
			}
		}()
	}
	wg.Wait()
	if c := env.catalog.calls.Load(); c > 2 {
		t.Errorf("%d identical concurrent requests called the subgraph %d times; want 1 (2 if one came late)", n, c)
	}
	off := server.DefaultOptions()
	off.Cache.Response.Enabled = false
	off.Cache.Dedupe = false
	off.Cache.InboundDedupe = false
	g2 := env.rawGateway(t, off)
	before := env.catalog.calls.Load()
	for range 3 {
		wg.Add(1)
		go func() { defer wg.Done(); g2.postWith(t, `{ products { upc name } }`, nil, nil) }()
	}
	wg.Wait()
	if c := env.catalog.calls.Load() - before; c != 3 {
		t.Errorf("with cache.inbound_dedupe off: %d subgraph calls for 3 requests, want 3", c)
	}
}
