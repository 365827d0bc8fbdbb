package executor

import (
	"encoding/json"
	"testing"

	"github.com/fedgate/gateway/internal/jsonvalue"
)

// TestConvertSubgraphErrorRedacts: redacted, a subgraph error keeps its
// path and a string code; its message and other extensions are gone.
func TestConvertSubgraphErrorRedacts(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		redact   bool
		want     string
	}{
		{"kept", `{"message":"db-7.internal down","path":["a",0],"extensions":{"code":"X","exception":{"stacktrace":["s"]}}}`, false,
			`{"message":"db-7.internal down","path":["a",0],"extensions":{"code":"X","exception":{"stacktrace":["s"]},"serviceName":"sg"}}`},
		{"redacted", `{"message":"db-7.internal down","path":["a",0],"extensions":{"code":"X","exception":{"stacktrace":["s"]}}}`, true,
			`{"message":"Subgraph errors redacted","path":["a",0],"extensions":{"code":"X","serviceName":"sg"}}`},
		{"redacted without code", `{"message":"boom","extensions":{"host":"h"}}`, true,
			`{"message":"Subgraph errors redacted","extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"sg"}}`},
		{"redacted, a code that is not a string", `{"message":"boom","extensions":{"code":{"host":"h"}}}`, true,
			`{"message":"Subgraph errors redacted","extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"sg"}}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := mustParse(tc.in)
			err := convertSubgraphError(v, "sg", tc.redact, func(p []*jsonvalue.Value) []any { return jsonPath(nil, p) })
			got, _ := json.Marshal(err)
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// TestDistinctErrors: errors equal in message, path and extensions are
// reported once (a field the plan selects twice, the client's and the
// planner's copy, fails twice in one subgraph answer); errors that differ
// in any of them all stay, in order.
func TestDistinctErrors(t *testing.T) {
	ext := func() map[string]any { return map[string]any{"code": "DOWNSTREAM_SERVICE_ERROR", "serviceName": "a"} }
	in := []*Error{
		{Message: "boom", Path: []any{"shelf", "size"}, Extensions: ext()},
		{Message: "boom", Path: []any{"shelf", "size"}, Extensions: ext()},
		{Message: "boom", Path: []any{"shelf", 0}, Extensions: ext()},
		{Message: "other", Path: []any{"shelf", "size"}, Extensions: ext()},
		{Message: "boom", Path: []any{"shelf", "size"}, Extensions: map[string]any{"code": "X"}},
		{Message: "boom", Path: []any{"shelf", "size"}, Extensions: ext()},
	}
	got := distinctErrors(in)
	if len(got) != 4 || got[0] != in[0] || got[1] != in[2] || got[2] != in[3] || got[3] != in[4] {
		t.Errorf("got %d errors: %v", len(got), got)
	}
}
