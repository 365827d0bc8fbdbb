package server_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/server"
)

// TestPlanningBudgetOverHTTP: over real HTTP, an operation whose planning
// needs more options than the configured budget gets a fast 400
// QUERY_PLANNING_FAILED naming the budget, not a 500 or a hang, and no
// subgraph is called; with the default budget the same operation plans and
// is answered. The operation stays within the default document limits
// (25 root fields, 25 aliases, depth 14): only planning refuses it.
func TestPlanningBudgetOverHTTP(t *testing.T) {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < 25; i++ {
		b.WriteString(" a" + string(rune('a'+i)) + ": topProducts { " + strings.Repeat("reviews { product { ", 6) + "inStock shippingEstimate" + strings.Repeat(" } }", 6) + " }")
	}
	b.WriteString(" }")
	body, err := json.Marshal(map[string]string{"query": b.String()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		budget int
		status int
	}{{"over budget", 1000, 400}, {"default budget", 0, 200}} {
		t.Run(c.name, func(t *testing.T) {
			opts := server.DefaultOptions()
			opts.PlanningBudget = c.budget
			g := gatewaytest.Start(t, gatewaytest.WithServerOptions(opts))
			start := time.Now()
			resp, a := post(t, g, string(body), nil)
			took := time.Since(start)
			if resp.Status != c.status {
				t.Fatalf("status %d, want %d: %.300s", resp.Status, c.status, resp.Body)
			}
			if c.status == 200 {
				if len(a.Errors) > 0 || !strings.Contains(string(a.Data), `"shippingEstimate"`) {
					t.Fatalf("want data and no errors: %.300s", resp.Body)
				}
				return
			}
			if code(a) != "QUERY_PLANNING_FAILED" || !strings.Contains(a.Errors[0].Message, "budget of 1000") {
				t.Fatalf("want QUERY_PLANNING_FAILED naming the budget: %s", resp.Body)
			}
			if string(a.Data) != "" && string(a.Data) != "null" {
				t.Errorf("data = %s, want none", a.Data)
			}
			// Generous bound for a shared -race machine; a runaway plan
			// takes far longer than this.
			if took > 5*time.Second {
				t.Errorf("answered in %v", took)
			}
		})
	}
}
