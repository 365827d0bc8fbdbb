package executor_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestDeferErrorsDoNotMultiply: errors of a deferred part's fetch above
// its entries' paths (none, from a subgraph, or the list's) are copied
// to the entries they null, one copy each; the rest go once. Before, each
// such error went to every entry: errors x entries, from a subgraph's
// few kilobytes of errors.
func TestDeferErrorsDoNotMultiply(t *testing.T) {
	sg := demoGraph(t)
	const n, nerr = 500, 100
	var prods, ents, errs []string
	for i := 0; i < n; i++ {
		prods = append(prods, fmt.Sprintf(`{"__typename":"Product","upc":"%d","sku":"s%d","price":1,"weight":1}`, i, i))
		ents = append(ents, `{"inStock":true}`)
	}
	for i := 0; i < nerr; i++ {
		errs = append(errs, fmt.Sprintf(`{"message":"e%d"}`, i))
	}
	products := `{"data":{"topProducts":[` + strings.Join(prods, ",") + `]}}`
	cases := []struct {
		name, inventory string
		// want is the errors the payloads carry.
		want int
	}{
		{name: "entries with data", inventory: `{"data":{"_entities":[` + strings.Join(ents, ",") + `]},"errors":[` + strings.Join(errs, ",") + `]}`,
			want: nerr},
		{name: "entries nulled", inventory: `{"data":{"_entities":null},"errors":[` + strings.Join(errs, ",") + `]}`,
			// one per entry, the 99 others once
			want: n + nerr - 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &cannedTransport{answers: map[string][]string{"products": {products}, "inventory": {c.inventory}}}
			got := executeIncremental(t, sg, tr, `{ topProducts(first: 500) { upc ... @defer { inStock } } }`)
			all := strings.Join(got, "\n")
			if len(got) != 2 {
				t.Fatalf("%d payloads:\n%.2000s", len(got), all)
			}
			if errors := strings.Count(all, `"message"`); errors != c.want {
				t.Errorf("%d errors in %d bytes of payloads, want %d:\n%.2000s", errors, len(all), c.want, got[1])
			}
		})
	}
}
