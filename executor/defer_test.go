package executor_test

import (
	"context"
	"strings"
	"testing"

	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/schema"
)

// executeIncremental plans query for incremental delivery and returns the
// payloads ExecuteIncremental emits through tr.
func executeIncremental(t *testing.T, sg *schema.Supergraph, tr executor.Transport, query string) []string {
	t.Helper()
	p := planQuery(t, sg, query)
	if p.Defer == nil {
		t.Fatalf("%s: the plan has no @defer split", query)
	}
	var out []string
	executor.ExecuteIncremental(context.Background(), p, executor.Input{}, tr, func(payload []byte) bool {
		out = append(out, string(payload))
		return true
	})
	return out
}

// TestIncrementalPayloadsAsGraphQLJS checks the subsequent payloads
// against what graphql-js 17 (17.0.0-alpha.2, the deferSpec=20220824
// format: yieldSubsequentPayloads, getCompletedIncrementalResults) sends
// for the same data: a deferred fragment that applies to no object (an
// empty list) gets no payload and keeps no stream open (graphql-js makes
// no record for it: the last payload with entries has hasNext false, or
// the initial payload when no fragment applies), never an empty
// "incremental" list; a
// fetch that failed for a whole list nulls each object's entry, and each
// entry carries an error at its own path (graphql-js raises one in each
// deferred fragment), where an error below one entry stays with that one.
func TestIncrementalPayloadsAsGraphQLJS(t *testing.T) {
	sg := demoGraph(t)
	const two = `{"data":{"topProducts":[{"__typename":"Product","upc":"1","sku":"s1","price":10,"weight":2},{"__typename":"Product","upc":"2","sku":"s2","price":20,"weight":3}]}}`
	const failed = `"extensions":{"code":"SUBREQUEST_HTTP_ERROR","serviceName":"inventory"}`
	cases := []struct {
		name, query string
		answers     map[string][]string
		want        []string
	}{
		{name: "no entries, the last part",
			query:   `{ topProducts { upc ... @defer { inStock } } }`,
			answers: map[string][]string{"products": {`{"data":{"topProducts":[]}}`}},
			want:    []string{`{"data":{"topProducts":[]},"hasNext":false}`}},
		{name: "no entries before a part with entries",
			query: `{ topProducts { upc ... @defer(label: "none") { inStock } } product(upc: "1") { upc ... @defer(label: "one") { inStock } } }`,
			answers: map[string][]string{
				"products":  {`{"data":{"topProducts":[],"product":{"__typename":"Product","upc":"1","sku":"s1"}}}`},
				"inventory": {`{"data":{"_entities":[{"inStock":true}]}}`}},
			want: []string{`{"data":{"topProducts":[],"product":{"upc":"1"}},"hasNext":true}`,
				`{"hasNext":false,"incremental":[{"data":{"inStock":true},"path":["product"],"label":"one"}]}`}},
		{name: "a fetch failed for the whole list",
			query:   `{ topProducts { upc ... @defer { inStock } } }`,
			answers: map[string][]string{"products": {two}},
			want: []string{`{"data":{"topProducts":[{"upc":"1"},{"upc":"2"}]},"hasNext":true}`,
				`{"hasNext":false,"incremental":[` +
					`{"data":null,"path":["topProducts",0],"errors":[{"message":"HTTP fetch failed from 'inventory': no canned answer","path":["topProducts",0],` + failed + `}]},` +
					`{"data":null,"path":["topProducts",1],"errors":[{"message":"HTTP fetch failed from 'inventory': no canned answer","path":["topProducts",1],` + failed + `}]}]}`}},
		{name: "an error below one entry",
			query: `{ topProducts { upc ... @defer { inStock } } }`,
			answers: map[string][]string{"products": {two},
				"inventory": {`{"data":{"_entities":[null,{"inStock":true}]},"errors":[{"message":"boom","path":["_entities",0,"inStock"]}]}`}},
			want: []string{`{"data":{"topProducts":[{"upc":"1"},{"upc":"2"}]},"hasNext":true}`,
				`{"hasNext":false,"incremental":[` +
					`{"data":null,"path":["topProducts",0],"errors":[{"message":"boom","path":["topProducts",0,"inStock"],"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"inventory"}}]},` +
					`{"data":{"inStock":true},"path":["topProducts",1]}]}`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &cannedTransport{answers: c.answers}
			got := executeIncremental(t, sg, tr, c.query)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("payloads\n%s\nwant\n%s\nsent %v", strings.Join(got, "\n"), strings.Join(c.want, "\n"), tr.sent)
			}
		})
	}
}
