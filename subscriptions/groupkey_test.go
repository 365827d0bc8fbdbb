package subscriptions

import (
	"net/http"
	"testing"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/planner"
)

// TestGroupKeyHeaders: subscriptions share an upstream's events only when
// their forwarded headers are equal. A name sent as two lines (X: a,
// X: b) and as one line holding both (X: a,b) may be read apart by the
// subgraph (the first as two values, a list in its parser), and a hostile
// caller choosing one form could join another caller's group; the key
// joined the values with "," and shared them.
func TestGroupKeyHeaders(t *testing.T) {
	key := func(h http.Header) string {
		return groupKey(&Prepared{Key: "op", Plan: &planner.SubscriptionPlan{Primary: &planner.Fetch{Subgraph: "reviews"}},
			Input: executor.Input{Header: h}})
	}
	for _, tc := range []struct {
		name string
		a, b http.Header
		same bool
	}{
		{"two lines and one joined", http.Header{"X": {"a", "b"}}, http.Header{"X": {"a,b"}}, false},
		{"a value holding the next name", http.Header{"X": {"a\x00Y=b"}}, http.Header{"X": {"a"}, "Y": {"b"}}, false},
		{"an empty value and none", http.Header{"X": {""}}, http.Header{"X": {}}, false},
		{"values in another order", http.Header{"X": {"a", "b"}}, http.Header{"X": {"b", "a"}}, false},
		{"equal headers", http.Header{"X": {"a", "b"}, "Y": {"c"}}, http.Header{"Y": {"c"}, "X": {"a", "b"}}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if same := key(tc.a) == key(tc.b); same != tc.same {
				t.Errorf("%v and %v share a key: %v, want %v", tc.a, tc.b, same, tc.same)
			}
		})
	}
}
