package executor_test

import (
	"strings"
	"testing"
)

// TestDeferNoFetchUnderNulledParents: a deferred part fetches nothing for
// an object the primary part nulled (here a non-null price the products
// subgraph leaves null nulls the product in the initial payload, while
// the merged data still holds it). graphql-js delivers no deferred
// fragment there, so a fetch for it only costs the subgraph a call (and
// lets a client who can provoke the null make the gateway fetch for
// objects the answer never contains). Before, inventory got s1's
// representation in every case below.
func TestDeferNoFetchUnderNulledParents(t *testing.T) {
	sg := demoGraph(t)
	const nulledA = `{"data":{"a":{"__typename":"Product","upc":"1","sku":"s1","price":null},"b":{"__typename":"Product","upc":"2","sku":"s2","price":20}}}`
	cases := []struct {
		name, query string
		answers     map[string][]string
		// sent is the fetches each subgraph must get; absent must be in
		// none of them, present in one.
		sent             map[string]int
		absent, present  string
		wantLast         string
		wantPayloadCount int
	}{
		{name: "one of two objects nulled",
			query: `{ a: product(upc: "1") { upc price ... @defer(label: "a") { inStock } } b: product(upc: "2") { upc price ... @defer(label: "b") { inStock } } }`,
			answers: map[string][]string{"products": {nulledA},
				"inventory": {`{"data":{"_entities":[{"inStock":true}]}}`}},
			sent: map[string]int{"products": 1, "inventory": 1}, absent: `"s1"`, present: `"s2"`,
			wantLast:         `{"hasNext":false,"incremental":[{"data":{"inStock":true},"path":["b"],"label":"b"}]}`,
			wantPayloadCount: 2},
		{name: "every object of a part nulled, another part delivered",
			query: `{ a: product(upc: "1") { upc price ... @defer(label: "a") { inStock } } b: product(upc: "2") { upc price ... @defer(label: "b") { reviews { body } } } }`,
			answers: map[string][]string{"products": {nulledA},
				"reviews": {`{"data":{"_entities":[{"reviews":[{"body":"ok"}]}]}}`}},
			sent: map[string]int{"products": 1, "reviews": 1, "inventory": 0}, absent: `"s1"`, present: `"2"`,
			wantLast:         `{"hasNext":false,"incremental":[{"data":{"reviews":[{"body":"ok"}]},"path":["b"],"label":"b"}]}`,
			wantPayloadCount: 2},
		{name: "nothing nulled: both fetched",
			query: `{ a: product(upc: "1") { upc price ... @defer(label: "a") { inStock } } b: product(upc: "2") { upc price ... @defer(label: "b") { inStock } } }`,
			answers: map[string][]string{"products": {strings.Replace(nulledA, `"price":null`, `"price":10`, 1)},
				"inventory": {`{"data":{"_entities":[{"inStock":true}]}}`, `{"data":{"_entities":[{"inStock":true}]}}`}},
			sent: map[string]int{"products": 1, "inventory": 2}, present: `"s1"`,
			// Two parts, in one payload or two, in either order.
			wantPayloadCount: -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &cannedTransport{answers: c.answers}
			got := executeIncremental(t, sg, tr, c.query)
			for subgraph, n := range c.sent {
				if len(tr.sent[subgraph]) != n {
					t.Errorf("%s got %d fetches, want %d: %q", subgraph, len(tr.sent[subgraph]), n, tr.sent[subgraph])
				}
			}
			all := ""
			for _, bodies := range tr.sent {
				for _, b := range bodies {
					if strings.Contains(b, "_entities") {
						all += b + "\n"
					}
				}
			}
			if c.absent != "" && strings.Contains(all, c.absent) {
				t.Errorf("an entity fetch carries %s, the representation of an object the primary part nulled:\n%s", c.absent, all)
			}
			if !strings.Contains(all, c.present) {
				t.Errorf("no entity fetch carries %s:\n%s", c.present, all)
			}
			if c.wantPayloadCount > 0 && len(got) != c.wantPayloadCount || c.wantLast != "" && got[len(got)-1] != c.wantLast {
				t.Errorf("payloads\n%s\nwant %d, the last\n%s", strings.Join(got, "\n"), c.wantPayloadCount, c.wantLast)
			}
		})
	}
}
