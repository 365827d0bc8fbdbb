package server

import (
	"crypto/sha256"
	"strings"
	"testing"
)

// TestQueryHash: the hash read in place equals the SHA-256 of the
// document's bytes, for empty, short, long and non-ASCII documents, and
// costs no allocation.
func TestQueryHash(t *testing.T) {
	tests := []struct {
		name  string
		query string
	}{
		{name: "empty", query: ""},
		{name: "short", query: "{a}"},
		{name: "long", query: "query Q { " + strings.Repeat("f ", 5000) + "}"},
		{name: "non-ASCII and NUL", query: "{ a(s: \"é\x00日本\") }"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := queryHash(tt.query), sha256.Sum256([]byte(tt.query)); got != want {
				t.Errorf("queryHash = %x, want %x", got, want)
			}
			if n := testing.AllocsPerRun(10, func() { _ = queryHash(tt.query) }); n != 0 {
				t.Errorf("%v allocations per hash, want 0", n)
			}
		})
	}
}
