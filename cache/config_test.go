package cache

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConfigValidate(t *testing.T) {
	if err := DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*Config)
		want   string
	}{
		{"negative default max age", func(c *Config) { c.Response.DefaultMaxAge = -time.Second }, "cache.response.default_max_age"},
		{"zero response size", func(c *Config) { c.Response.MaxBytes = 0 }, "cache.response.max_bytes"},
		{"empty vary header", func(c *Config) { c.Response.VaryHeaders = []string{"X-A", ""} }, "cache.response.vary_headers[1]"},
		{"bad hint name", func(c *Config) { c.Response.Hints = map[string]Hint{"Query.a.b": {}} }, "cache.response.hints.Query.a.b"},
		{"bad hint scope", func(c *Config) { c.Response.Hints = map[string]Hint{"Query.a": {Scope: "SECRET"}} }, "cache.response.hints.Query.a.scope"},
		{"zero entity ttl", func(c *Config) { c.Entity.TTL = 0 }, "cache.entity.ttl"},
		{"negative subgraph ttl", func(c *Config) { c.Entity.Subgraphs = map[string]SubgraphEntityConfig{"a": {TTL: -1}} }, "cache.entity.subgraphs.a.ttl"},
		{"zero apq ttl", func(c *Config) { c.APQ.TTL = 0 }, "cache.apq.ttl"},
		{"unknown mode", func(c *Config) { c.TrustedDocuments.Mode = "strict" }, "cache.trusted_documents.mode"},
		{"mode without manifest", func(c *Config) { c.TrustedDocuments.Mode = TrustedSafelist }, "cache.trusted_documents.manifest"},
		{"missing manifest", func(c *Config) {
			c.TrustedDocuments = TrustedDocumentsConfig{Mode: TrustedIDsOnly, Manifest: filepath.Join(t.TempDir(), "none.json")}
		}, "cache.trusted_documents.manifest"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.change(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want+":") {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
		})
	}
}

func TestEntitySubgraph(t *testing.T) {
	off := false
	on := true
	c := EntityConfig{Enabled: true, TTL: time.Minute, Subgraphs: map[string]SubgraphEntityConfig{
		"slow": {TTL: time.Hour}, "live": {Enabled: &off}, "other": {Enabled: &on, TTL: 0},
	}}
	for _, tc := range []struct {
		name string
		on   bool
		ttl  time.Duration
	}{{"any", true, time.Minute}, {"slow", true, time.Hour}, {"live", false, time.Minute}, {"other", true, time.Minute}} {
		gotOn, gotTTL := c.EntitySubgraph(tc.name)
		if gotOn != tc.on || gotTTL != tc.ttl {
			t.Errorf("%s: %v %v, want %v %v", tc.name, gotOn, gotTTL, tc.on, tc.ttl)
		}
	}
}
