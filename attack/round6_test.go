//go:build attack

package attack

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// recursiveChain is the demo's recursive chain, topProducts { reviews {
// author { reviews { product { reviews ..., levels fields deep, aliased
// aliases times side by side (salt keeps the response cache out).
func recursiveChain(levels, aliases int, salt string) string {
	names := []string{"reviews", "author", "reviews", "product"}
	key := func(field string) string {
		if field == "product" {
			return "upc"
		}
		return "id"
	}
	inner := ""
	for i := levels - 2; i >= 0; i-- {
		inner = " " + names[i%4] + " { " + key(names[i%4]) + inner + " }"
	}
	var b strings.Builder
	b.WriteString("{")
	for i := range aliases {
		fmt.Fprintf(&b, " %s%d: topProducts { upc%s }", salt, i, inner)
	}
	b.WriteString(" }")
	return b.String()
}

// chainAnswer is what one request of a chain cost: the gateway
// process's CPU (gateway demo: the demo subgraphs run in it), the answer.
type chainAnswer struct {
	status int
	code   string
	bytes  int
	cpu    time.Duration
	took   time.Duration
}

func (g *gateway) askChain(t *testing.T, query string) chainAnswer {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	cpu0, start := g.cpu(), time.Now()
	req, _ := http.NewRequest(http.MethodPost, g.url, strings.NewReader(string(body)))
	req.Header.Set("Content-Type", "application/json")
	// graphql-over-http: a request error is 400 for this media type (200
	// for application/json alone).
	req.Header.Set("Accept", "application/graphql-response+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	a := chainAnswer{status: resp.StatusCode, bytes: len(raw), took: time.Since(start)}
	// The process's CPU clock ticks every 10 ms: let it settle.
	time.Sleep(50 * time.Millisecond)
	a.cpu = g.cpu() - cpu0
	var out struct {
		Errors []struct {
			Extensions struct{ Code string }
		}
	}
	_ = json.Unmarshal(raw, &out)
	if len(out.Errors) > 0 {
		a.code = out.Errors[0].Extensions.Code
	}
	return a
}

// TestRecursiveChain: a recursive schema lets a small document ask for a
// nested list per level (the demo: Product.reviews, Review.author,
// User.reviews, Review.product), each level multiplying the answer, all
// within every static limit, and cost enforcement is off by default: 23
// levels (360 bytes) answered 233 KB for 0.15-0.3 s of CPU, and 29
// aliases of it timed the demo subgraphs out (30 s) and took them to 1 GB
// of RSS. limits.max_field_cycles: 3 refuses a field selected more than 3
// times on one path (MAX_FIELD_CYCLES_EXCEEDED, 400) before any fetch;
// it is off by default (it would refuse 117 of 19,526 generated
// operations, limits.TestGeneratedOperationsWithinFieldCycles). Reported:
// 4 aliases of 23 levels with the default configuration; asserted: the
// refusals at 3, and the longest chain 3 admits (13 levels) with 29
// aliases served.
func TestRecursiveChain(t *testing.T) {
	t.Run("default configuration", func(t *testing.T) {
		g := start(t, "", false)
		q := recursiveChain(23, 4, "before")
		a := g.askChain(t, q)
		t.Logf("FIGURE recursive chain, default configuration: 23 levels x 4 aliases (%d bytes): %d %s, answer %d bytes, gateway demo CPU %v, %v",
			len(q), a.status, a.code, a.bytes, a.cpu, a.took.Round(time.Millisecond))
	})
	t.Run("max_field_cycles 3", func(t *testing.T) {
		g := startLimits(t, "limits:\n  max_field_cycles: 3\n  tiers:\n    default: {requests: 100000, window: 1s}", "")
		for _, tc := range []struct {
			levels, aliases int
		}{{23, 1}, {23, 4}, {23, 29}, {14, 29}} {
			q := recursiveChain(tc.levels, tc.aliases, "after")
			a := g.askChain(t, q)
			t.Logf("FIGURE recursive chain, max_field_cycles 3: %d levels x %d aliases (%d bytes): %d %s, answer %d bytes, gateway demo CPU %v, %v",
				tc.levels, tc.aliases, len(q), a.status, a.code, a.bytes, a.cpu, a.took.Round(time.Millisecond))
			if a.status != http.StatusBadRequest || a.code != "MAX_FIELD_CYCLES_EXCEEDED" {
				t.Errorf("%d levels x %d aliases: %d %s, want 400 MAX_FIELD_CYCLES_EXCEEDED", tc.levels, tc.aliases, a.status, a.code)
			}
			if a.bytes > 1024 {
				t.Errorf("%d levels x %d aliases: the refusal is %d bytes", tc.levels, tc.aliases, a.bytes)
			}
		}
		q := recursiveChain(13, 29, "left")
		a := g.askChain(t, q)
		t.Logf("FIGURE recursive chain, max_field_cycles 3: the longest admitted, 13 levels x 29 aliases (%d bytes): %d, answer %d bytes, gateway demo CPU %v, %v",
			len(q), a.status, a.bytes, a.cpu, a.took.Round(time.Millisecond))
		if a.status != 200 || a.code != "" {
			t.Errorf("13 levels x 29 aliases: %d %s, want it served", a.status, a.code)
		}
	})
}
