package server_test

import (
	"context"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/server"
)

// BenchmarkHooks is BenchmarkServeCached/memoized-nodedupe without hooks
// and with a hook at each of the eight stages that reads a header (the
// Subgraph stages once per fetch: the demo query makes several): the
// difference is the cost of the hook points.
func BenchmarkHooks(b *testing.B) {
	read := func(ctx context.Context, c *hooks.Call) error {
		_ = c.Header.Get("X-Tenant")
		return nil
	}
	all := hooks.Hooks{RouterRequest: read, RouterResponse: read, SupergraphRequest: read, SupergraphResponse: read,
		ExecutionRequest: read, ExecutionResponse: read, SubgraphRequest: read, SubgraphResponse: read}
	for _, bc := range []struct {
		name  string
		hooks []hooks.Hooks
	}{
		{"none", nil},
		{"all-stages", []hooks.Hooks{all}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			o := server.DefaultOptions()
			o.Cache.Dedupe = false
			o.Hooks = bc.hooks
			g := gatewaytest.Start(b, gatewaytest.WithMemoizedSubgraphs(), gatewaytest.WithServerOptions(o))
			benchDemoQuery(b, g, nil)
		})
	}
}
