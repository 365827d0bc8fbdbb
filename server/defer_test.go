package server

import "testing"

// TestAcceptsIncremental: only multipart/mixed with deferSpec=20220824
// (or none) turns on incremental delivery; other specs, lookalike types
// and forged parameters do not.
func TestAcceptsIncremental(t *testing.T) {
	cases := []struct {
		accept string
		want   bool
	}{
		{"multipart/mixed;deferSpec=20220824,application/json", true},
		{"multipart/mixed; deferSpec=20220824", true},
		{`multipart/mixed;deferSpec="20220824"`, true},
		{"application/json, MULTIPART/MIXED", true},
		{"multipart/mixed;subscriptionSpec=1.0", true},
		{"multipart/mixed;deferSpec=20990101", false},
		{"multipart/mixedx;deferSpec=20220824", false},
		{"multipart/form-data;deferSpec=20220824", false},
		{"application/json;deferSpec=20220824", false},
		{"application/graphql-response+json", false},
		{"", false},
		{"multipart/mixed;", true},
		{"application/json,", false},
		{",;,;", false},
		{"multipart/mixed;deferSpec=20990101;deferSpec=20220824", true},
		{"multipart/mixed;deferSpec=20220824;deferSpec=20990101", false},
		{"application/json , multipart/mixed ; deferSpec=20220824", true},
	}
	for _, c := range cases {
		if got := acceptsIncremental(c.accept); got != c.want {
			t.Errorf("acceptsIncremental(%q) = %v, want %v", c.accept, got, c.want)
		}
	}
}
