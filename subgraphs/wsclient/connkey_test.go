package wsclient

import (
	"net/http"
	"testing"
)

// TestConnKeyHeaders: streams share an upstream WebSocket connection,
// which the first stream's headers opened, only when their headers are
// equal. A name sent as two lines (X: a, X: b) and as one holding both
// (X: a,b) made one key (the values were joined with ","), so a caller
// choosing the other form had its subscriptions run on a connection
// another caller's headers (its Authorization, say) had opened.
func TestConnKeyHeaders(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b http.Header
		same bool
	}{
		{"two lines and one joined", http.Header{"Authorization": {"Bearer a", "Bearer b"}}, http.Header{"Authorization": {"Bearer a,Bearer b"}}, false},
		{"a value holding the next name", http.Header{"X": {"a\x00Y=b"}}, http.Header{"X": {"a"}, "Y": {"b"}}, false},
		{"an empty value and none", http.Header{"X": {""}}, http.Header{"X": {}}, false},
		{"equal headers", http.Header{"X": {"a", "b"}, "Y": {"c"}}, http.Header{"Y": {"c"}, "X": {"a", "b"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := connKey("reviews", "ws://127.0.0.1:1/graphql", tc.a, nil)
			b := connKey("reviews", "ws://127.0.0.1:1/graphql", tc.b, nil)
			if (a == b) != tc.same {
				t.Errorf("%v and %v share a key: %v, want %v", tc.a, tc.b, a == b, tc.same)
			}
		})
	}
}
