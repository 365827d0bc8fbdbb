package subgraphs

import (
	"net/http"
	"testing"
)

// TestVaryCacheControl: an answer's Vary naming a header its request
// carried makes the answer no-store, or private for a credential header,
// unless the caches key by the header or the gateway sends it alike for
// every caller; "*" is no-store; a header the request did not carry
// changes nothing.
func TestVaryCacheControl(t *testing.T) {
	sent := http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"},
		"X-Tenant": {"a"}, "Accept-Language": {"fr"}, "Authorization": {"Bearer x"}, "X-Token": {"t"}, "cookie": {"s=1"}}
	keyed := map[string]bool{"Accept-Language": true}
	identity := map[string]bool{"Authorization": true, "Cookie": true, "X-Token": true}
	for _, tc := range []struct{ cc, vary, want string }{
		{"max-age=60", "X-Tenant", "max-age=60, no-store"},
		{"", "x-tenant", "no-store"},
		{"max-age=60", "Origin, X-Tenant", "max-age=60, no-store"},
		{"max-age=60", "*", "max-age=60, no-store"},
		{"max-age=60", "Origin", "max-age=60"},
		{"max-age=60", "Accept, Content-Type", "max-age=60"},
		{"max-age=60", "Accept-Language", "max-age=60"},
		{"max-age=60", "Authorization", "max-age=60, private"},
		{"max-age=60", "x-token", "max-age=60, private"},
		{"max-age=60", "Cookie", "max-age=60, private"},
		{"max-age=60", "Authorization, X-Tenant", "max-age=60, no-store"},
		{"max-age=60", " , ", "max-age=60"},
	} {
		if got := varyCacheControl(tc.cc, tc.vary, sent, keyed, identity); got != tc.want {
			t.Errorf("Cache-Control %q, Vary %q: %q, want %q", tc.cc, tc.vary, got, tc.want)
		}
	}
}
