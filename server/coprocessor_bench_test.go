package server_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/fedgate/gateway/coprocessor"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/internal/testsys"
	"github.com/fedgate/gateway/server"
)

// BenchmarkCoprocessor is BenchmarkServeCached/memoized-nodedupe with no
// coprocessor, with a RouterRequest stage (once per request) and with a
// SubgraphRequest stage (once per fetch; it reports fetches/op) sending
// headers, then headers and body, to a local coprocessor that answers the
// stage unchanged (so the body it echoes replaces the fetch's).
func BenchmarkCoprocessor(b *testing.B) {
	cp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer cp.Close()
	sel := &coprocessor.Selection{Headers: true}
	withBody := &coprocessor.Selection{Headers: true, Body: true}
	for _, bc := range []struct {
		name string
		cfg  coprocessor.Config
	}{
		{"none", coprocessor.Config{}},
		{"router-request", coprocessor.Config{URL: cp.URL, Timeout: time.Second, Router: coprocessor.Stages{Request: sel}}},
		{"subgraph-request", coprocessor.Config{URL: cp.URL, Timeout: time.Second, Subgraph: coprocessor.SubgraphStages{All: coprocessor.Stages{Request: sel}}}},
		{"subgraph-request-body", coprocessor.Config{URL: cp.URL, Timeout: time.Second, Subgraph: coprocessor.SubgraphStages{All: coprocessor.Stages{Request: withBody}}}},
		{"router-request-body", coprocessor.Config{URL: cp.URL, Timeout: time.Second, Router: coprocessor.Stages{Request: withBody}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := server.DefaultOptions()
			o.Cache.Dedupe = false
			o.Coprocessor = bc.cfg
			g := gatewaytest.Start(b, gatewaytest.WithMemoizedSubgraphs(), gatewaytest.WithServerOptions(o))
			var before int
			var cpu time.Duration
			benchDemoQuery(b, g, func() { before, cpu = g.Requests(), processCPU() })
			b.ReportMetric(float64(g.Requests()-before)/float64(b.N), "fetches/op")
			// CPU time of the process (gateway, subgraphs and coprocessor
			// alike) per request: steadier than wall time on a shared
			// machine, where other jobs stretch the latter.
			b.ReportMetric(float64((processCPU()-cpu).Microseconds())/float64(b.N), "cpu-µs/op")
		})
	}
}

// processCPU is the user and system CPU time this process has used (0
// where it cannot be read).
func processCPU() time.Duration {
	d, _ := testsys.ProcessCPU()
	return d
}
