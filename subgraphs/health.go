package subgraphs

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// health is the outcome of a subgraph's health checks.
type health struct {
	mu          sync.Mutex
	checked     bool
	healthy     bool
	consecutive int
	lastError   string
	lastCheck   time.Time
}

// Status is what the gateway knows about a subgraph's health, as shown
// at /ready.
type Status struct {
	Name string `json:"name"`
	// Breaker is closed, half-open or open.
	Breaker string `json:"breaker"`
	// Healthy is the health check's verdict; absent when no check is
	// configured or none has run yet.
	Healthy *bool `json:"healthy,omitempty"`
	// LastError is the last failed check's reason.
	LastError string `json:"last_error,omitempty"`
	// InFlight is the number of requests in flight.
	InFlight int `json:"in_flight"`
}

// Health reports every subgraph's status, sorted by name.
func (c *Client) Health() []Status {
	out := make([]Status, 0, len(c.subgraphs))
	for _, sg := range c.subgraphs {
		s := Status{Name: sg.name, Breaker: sg.breaker.State().String(), InFlight: len(sg.bulkhead)}
		sg.health.mu.Lock()
		if sg.health.checked {
			h := sg.health.healthy
			s.Healthy = &h
			if !h {
				s.LastError = sg.health.lastError
			}
		}
		sg.health.mu.Unlock()
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// healthLoop checks sg every interval until ctx ends.
func (c *Client) healthLoop(ctx context.Context, sg *subgraph) {
	hc := sg.set.HealthCheck
	t := time.NewTicker(hc.Interval)
	defer t.Stop()
	for {
		err := c.check(ctx, sg)
		if ctx.Err() != nil {
			return
		}
		c.recordCheck(sg, err)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// recordCheck updates the health and feeds the breaker: enough failures
// in a row open it, a success lets it probe at once.
func (c *Client) recordCheck(sg *subgraph, err error) {
	h := &sg.health
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checked = true
	h.lastCheck = time.Now()
	if err == nil {
		if !h.healthy {
			c.logger.Info("subgraph healthy", "subgraph", sg.name)
		}
		h.healthy, h.consecutive, h.lastError = true, 0, ""
		sg.breaker.Probe()
		return
	}
	h.consecutive++
	h.lastError = err.Error()
	if h.consecutive < sg.set.HealthCheck.UnhealthyThreshold {
		return
	}
	if h.consecutive == sg.set.HealthCheck.UnhealthyThreshold {
		c.logger.Warn("subgraph unhealthy", "subgraph", sg.name, "err", err.Error())
	}
	h.healthy = false
	sg.breaker.Trip()
}

// check runs one health check.
func (c *Client) check(ctx context.Context, sg *subgraph) error {
	hc := sg.set.HealthCheck
	ctx, cancel := context.WithTimeout(ctx, hc.Timeout)
	defer cancel()
	var req *http.Request
	var err error
	if hc.URL != "" {
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, hc.URL, nil)
	} else {
		body, _ := json.Marshal(map[string]string{"query": hc.Query})
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, sg.url, bytes.NewReader(body))
		if req != nil {
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/graphql-response+json, application/json")
		}
	}
	if err != nil {
		return fmt.Errorf("health check request: %w", err)
	}
	resp, err := sg.http.RoundTrip(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("timed out after %v", hc.Timeout)
		}
		// The cause (connection refused, no such host, TLS) is what the
		// operator reading the log or the metrics listener's /ready needs;
		// neither is served to clients.
		return fmt.Errorf("request failed: %w", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading the answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	if hc.URL != "" {
		return nil
	}
	var answer struct {
		Data   json.RawMessage   `json:"data"`
		Errors []json.RawMessage `json:"errors"`
	}
	if err := json.Unmarshal(b, &answer); err != nil {
		return fmt.Errorf("the answer is not JSON")
	}
	if len(answer.Errors) > 0 || len(answer.Data) == 0 {
		return fmt.Errorf("the answer has errors or no data")
	}
	return nil
}
