package executor_test

import "testing"

// TestEntityNullReportsItsErrorOnce runs entity fetches whose answer for
// an object is null because one non-null field failed: the fields of that
// fetch are all missing, and the response must carry the subgraph's error
// only, not a "Cannot return null" for every missing sibling (spec 6.4.4:
// one error for the field that caused the null), whatever the order of
// the fields. A null without any error stays a non-null violation.
func TestEntityNullReportsItsErrorOnce(t *testing.T) {
	sg := demoGraph(t)
	product := `{"data":{"product":{"__typename":"Product","upc":"1","sku":"s1","price":10,"weight":2}}}`
	products := `{"data":{"topProducts":[{"__typename":"Product","upc":"1","sku":"s1","price":10,"weight":2},{"__typename":"Product","upc":"2","sku":"s2","price":20,"weight":3}]}}`
	ext := `"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"inventory"}`
	cases := []struct {
		name, query, products, inventory, want string
	}{
		{name: "failed field after its sibling",
			query:     `{ product(upc: "1") { inStock shippingEstimate } }`,
			products:  product,
			inventory: `{"data":{"_entities":[null]},"errors":[{"message":"boom","path":["_entities",0,"shippingEstimate"]}]}`,
			want:      `{"data":{"product":null},"errors":[{"message":"boom","path":["product","shippingEstimate"],` + ext + `}]}`},
		{name: "failed field before its sibling",
			query:     `{ product(upc: "1") { shippingEstimate inStock } }`,
			products:  product,
			inventory: `{"data":{"_entities":[null]},"errors":[{"message":"boom","path":["_entities",0,"shippingEstimate"]}]}`,
			want:      `{"data":{"product":null},"errors":[{"message":"boom","path":["product","shippingEstimate"],` + ext + `}]}`},
		{name: "other list item keeps its violation",
			query:     `{ topProducts { upc inStock shippingEstimate } }`,
			products:  products,
			inventory: `{"data":{"_entities":[{"inStock":null,"shippingEstimate":1},null]},"errors":[{"message":"boom","path":["_entities",1,"shippingEstimate"]}]}`,
			want:      `{"data":null,"errors":[{"message":"boom","path":["topProducts",1,"shippingEstimate"],` + ext + `},{"message":"Cannot return null for non-nullable field Product.inStock.","path":["topProducts",0,"inStock"]}]}`},
		{name: "null without an error",
			query:     `{ product(upc: "1") { inStock shippingEstimate } }`,
			products:  product,
			inventory: `{"data":{"_entities":[{"inStock":null,"shippingEstimate":1}]}}`,
			want:      `{"data":{"product":null},"errors":[{"message":"Cannot return null for non-nullable field Product.inStock.","path":["product","inStock"]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &cannedTransport{answers: map[string][]string{"products": {c.products}, "inventory": {c.inventory}}}
			got := execute(t, sg, tr, c.query)
			if got != c.want {
				t.Errorf("got  %s\nwant %s\nsent %v", got, c.want, tr.sent)
			}
		})
	}
}

// TestRootFetchNullDataReportsItsErrorOnce: a root fetch whose subgraph
// nulls its whole data (a non-null field of one root field failed) leaves
// every root field it answers missing, also one whose other fields come
// from another subgraph (settings { units } from specs, settings { format }
// from catalog, fixture parent_call): the response carries the subgraph's
// error, not a "Cannot return null" for each field that fetch would have
// answered, as Apollo Gateway and Hive Gateway answer (difftest seed 13 with
// DIFFTEST_ERRORS=2). A value missing from an answer with data stays a
// non-null violation.
func TestRootFetchNullDataReportsItsErrorOnce(t *testing.T) {
	sg := loadSupergraph(t, "../testdata/supergraphs/parent_call.graphql")
	const query = `{ settings { units format { date } } products { details { a9: care { washing } } } }`
	ext := `"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"catalog"}`
	cases := []struct {
		name, catalog, want string
	}{
		{name: "catalog nulls its data",
			catalog: `{"data":null,"errors":[{"message":"boom","path":["products",0,"details"]}]}`,
			want:    `{"data":null,"errors":[{"message":"boom","path":["products",0,"details"],` + ext + `}]}`},
		{name: "catalog answers without format",
			catalog: `{"data":{"settings":{},"products":[]}}`,
			want:    `{"data":null,"errors":[{"message":"Cannot return null for non-nullable field Settings.format.","path":["settings","format"]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := &cannedTransport{answers: map[string][]string{"catalog": {c.catalog}, "specs": {`{"data":{"settings":{"units":"metric"}}}`}}}
			got := execute(t, sg, tr, query)
			if got != c.want {
				t.Errorf("got  %s\nwant %s\nsent %v", got, c.want, tr.sent)
			}
		})
	}
}
