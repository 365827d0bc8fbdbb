package executor_test

import (
	"strings"
	"testing"
)

// TestDeferAboveNulledObjectStillDelivered: a deferred fragment at or
// above an object the primary part nulled (not under it) is delivered
// with the fields it selects itself. graphql-js 17.0.0-alpha.2 executes a
// deferred fragment's fields anew from its parent and filters out only
// the payloads whose path lies under the nulled path
// (filterSubsequentPayloads), so the fragment at [] below, which does
// not select the failing non-null price, answers product { inStock }.
// Pruning the nulled object out of the merged data before the parts run
// turned it into "product": null, a null without an error.
func TestDeferAboveNulledObjectStillDelivered(t *testing.T) {
	sg := demoGraph(t)
	tr := &cannedTransport{answers: map[string][]string{
		"products":  {`{"data":{"product":{"__typename":"Product","upc":"1","sku":"s1","price":null}}}`},
		"inventory": {`{"data":{"_entities":[{"inStock":true}]}}`}}}
	got := executeIncremental(t, sg, tr, `{ product(upc: "1") { upc price } ... @defer(label: "d") { product(upc: "1") { inStock } } }`)
	want := []string{
		`{"data":{"product":null},"errors":[{"message":"Cannot return null for non-nullable field Product.price.","path":["product","price"]}],"hasNext":true}`,
		`{"hasNext":false,"incremental":[{"data":{"product":{"inStock":true}},"path":[],"label":"d"}]}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("payloads\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
