package fedgate

import (
	"testing"

	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/config"
)

// TestMemoryLimit: the soft memory limit leaves room for the plans in
// flight and for every in-process cache that is on, filled to its bound,
// so that full caches never hold the heap above the limit.
func TestMemoryLimit(t *testing.T) {
	const mib = 1 << 20
	on := true
	tests := []struct {
		name string
		edit func(*config.Config)
		want int64
	}{
		// 2*16 + 12, documents and plans 2*64, responses 64, APQ 16.
		{name: "defaults", edit: func(*config.Config) {}, want: 252 * mib},
		{name: "no execution budget", edit: func(c *config.Config) { c.Server.MaxInflightBytes = 0 }, want: 0},
		{name: "response cache and APQ off", edit: func(c *config.Config) {
			c.Cache.Response.Enabled, c.Cache.APQ.Enabled = false, false
		}, want: 172 * mib},
		{name: "entity cache on", edit: func(c *config.Config) { c.Cache.Entity.Enabled = true }, want: 284 * mib},
		{name: "entity cache on for one subgraph", edit: func(c *config.Config) {
			c.Cache.Entity.Subgraphs = map[string]cache.SubgraphEntityConfig{"products": {Enabled: &on}}
		}, want: 284 * mib},
		{name: "large response cache", edit: func(c *config.Config) { c.Cache.Response.MaxBytes = 1 << 30 }, want: 252*mib - 64*mib + 1<<30},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			// The default budget follows the cores (4 MiB each); 16 MiB
			// is a 4-core machine's, whatever this one has.
			cfg.Server.MaxInflightBytes = 16 * mib
			tt.edit(&cfg)
			if got := memoryLimit(cfg); got != tt.want {
				t.Errorf("memoryLimit = %d MiB, want %d MiB", got/mib, tt.want/mib)
			}
		})
	}
}
