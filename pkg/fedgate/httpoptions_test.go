package fedgate

import (
	"testing"

	"github.com/fedgate/gateway/config"
	"github.com/fedgate/gateway/server"
)

// TestDefaultConfigHTTPOptions: the default configuration gives the
// listener server.DefaultHTTPOptions, options without a configuration key
// included. The gateway built its HTTPOptions field by field from zero,
// so ConnectionsBusyAt (no key; by default half the descriptor limit) was
// 0 in `gateway serve` and `gateway demo`: the per-address connection
// bound applied always, and a load balancer's 1,001st connection was
// refused while descriptors were plentiful, unlike what docs/config.md
// and docs/deployment.md say.
func TestDefaultConfigHTTPOptions(t *testing.T) {
	got, want := httpOptions(config.Default().Server), server.DefaultHTTPOptions()
	if got != want {
		t.Fatalf("the default configuration's listener options:\n got %+v\nwant %+v", got, want)
	}
	if got.ConnectionsBusyAt <= 0 && want.ConnectionsBusyAt > 0 {
		t.Fatalf("ConnectionsBusyAt %d: the per-address bound would apply always", got.ConnectionsBusyAt)
	}
}

// TestConfigHTTPOptions: each server key reaches its listener option.
func TestConfigHTTPOptions(t *testing.T) {
	s := config.Default().Server
	s.MaxConnectionsPerAddress, s.MaxHeaderCount, s.MaxInflightPerClient = 7, 9, 11
	s.MaxHeaderBytes, s.MaxReadingBytes, s.MaxWritingBytes = 1234, 5678, 91011
	h := httpOptions(s)
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"max_connections_per_address", int64(h.MaxConnectionsPerAddress), 7},
		{"max_header_count", int64(h.MaxHeaderCount), 9},
		{"max_inflight_per_client", int64(h.MaxInflightPerClient), 11},
		{"max_header_bytes", int64(h.MaxHeaderBytes), 1234},
		{"max_reading_bytes", h.MaxReadingBytes, 5678},
		{"max_writing_bytes", h.MaxWritingBytes, 91011},
		{"connections busy at (no key: the default)", int64(h.ConnectionsBusyAt), int64(server.DefaultHTTPOptions().ConnectionsBusyAt)},
	} {
		if c.got != c.want {
			t.Errorf("%s: %d, want %d", c.name, c.got, c.want)
		}
	}
}
