package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// TestResponsesGoldenConcurrent sends the demo supergraph's
// testdata/responses cases to one gateway from several goroutines at
// once, each in its own shuffled order, and compares every answer's
// status and body with the case's golden file. TestResponsesGolden asks
// each case alone on a fresh gateway; here the answers are rendered,
// parsed and sent at the same time through the pools the gateway keeps
// between requests (subgraph answer buffers, parsers, response buffers,
// header maps): a buffer handed to two requests, or reused while one
// still reads it, shows as another case's bytes in an answer.
func TestResponsesGoldenConcurrent(t *testing.T) {
	const workers, rounds = 8, 3
	type want struct {
		c      *responseCase
		status int
		body   []byte
	}
	var cases []want
	for _, c := range loadResponseCases(t) {
		if c.supergraph != "" {
			continue // a gateway of its own (fault fixtures)
		}
		b, err := os.ReadFile(strings.TrimSuffix(c.path, ".graphql") + ".json")
		if err != nil {
			t.Fatal(err)
		}
		var g struct {
			Status int             `json:"status"`
			Body   json.RawMessage `json:"body"`
		}
		if err := json.Unmarshal(b, &g); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		cases = append(cases, want{c, g.Status, compact(t, g.Body)})
	}
	if len(cases) < 10 {
		t.Fatalf("only %d demo cases", len(cases))
	}
	g := gatewaytest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	failures := 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(w), 7))
			for range rounds {
				for _, i := range r.Perm(len(cases)) {
					c := cases[i]
					resp, err := c.c.send(ctx, g)
					if err != nil {
						t.Errorf("%s: %v", c.c.name, err)
						return
					}
					body := loopbackPort.ReplaceAll(compact(t, resp.Body), []byte("127.0.0.1:PORT"))
					if resp.Status != c.status || !bytes.Equal(body, c.body) {
						mu.Lock()
						failures++
						if failures <= 3 {
							t.Errorf("%s asked concurrently: %d %s\nwant %d %s", c.c.name, resp.Status, body, c.status, c.body)
						}
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	if failures > 0 {
		t.Errorf("%d of %d answers differ from their golden", failures, workers*rounds*len(cases))
	}
}

// compact is b without insignificant space, key order kept.
func compact(t *testing.T, b []byte) []byte {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("not JSON: %v: %q", err, clip(b))
	}
	return out.Bytes()
}
