package executor

import (
	"encoding/json"
	"testing"

	"github.com/valyala/fastjson"
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
			v := fastjson.MustParse(tc.in)
			err := convertSubgraphError(v, "sg", tc.redact, func(p []*fastjson.Value) []any { return jsonPath(nil, p) })
			got, _ := json.Marshal(err)
			if string(got) != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}
