package subgraphs

import (
	"net"
	"strings"
	"testing"
	"time"
)

// TestHealthCheckSaysWhy: a subgraph nothing listens for is reported
// unhealthy with the cause an operator can act on (connection refused),
// not a bare "request failed".
func TestHealthCheckSaysWhy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	cfg := DefaultConfig()
	cfg.All.HealthCheck = HealthCheck{Enabled: true, Interval: 20 * time.Millisecond, Timeout: time.Second,
		Query: "{ __typename }", UnhealthyThreshold: 1}
	c := NewClient(map[string]string{"a": "http://" + addr + "/graphql"}, Options{Config: &cfg})
	defer c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		st := c.Health()[0]
		if st.Healthy != nil && !*st.Healthy {
			if !strings.Contains(st.LastError, "connection refused") {
				t.Errorf("last error %q does not say why", st.LastError)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failed check in 5s: %+v", st)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
