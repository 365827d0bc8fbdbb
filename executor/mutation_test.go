package executor_test

import "testing"

// TestMutationStopsAfterNullData runs mutations whose root fields live in
// two subgraphs (one root fetch each) through the real planner: once a
// root field has become null where its type is non-null, data is null and
// the later mutation fields must not run (the spec's serial execution);
// after a nullable root field fails, the later ones do run.
func TestMutationStopsAfterNullData(t *testing.T) {
	cases := []struct {
		name, supergraph, query string
		answers                 map[string][]string
		want                    string
		// sent is the number of requests each subgraph must see.
		sent map[string]int
	}{
		{name: "non-null field errors", supergraph: "../testdata/supergraphs/mutations.graphql",
			query: `mutation { setPrice(productId: "1", price: 5) { id } placeOrder(productId: "1", quantity: 1) { id } }`,
			answers: map[string][]string{
				"catalog": {`{"data":null,"errors":[{"message":"price locked","path":["setPrice"]}]}`},
				"orders":  {`{"data":{"placeOrder":{"id":"o1"}}}`},
			},
			want: `{"data":null,"errors":[{"message":"price locked","path":["setPrice"],"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"catalog"}}]}`,
			sent: map[string]int{"catalog": 1, "orders": 0}},
		{name: "null propagates from a non-null subfield", supergraph: "../testdata/supergraphs/mutations.graphql",
			query: `mutation { setPrice(productId: "1", price: 5) { id } placeOrder(productId: "1", quantity: 1) { id } }`,
			answers: map[string][]string{
				"catalog": {`{"data":{"setPrice":{"id":null}}}`},
				"orders":  {`{"data":{"placeOrder":{"id":"o1"}}}`},
			},
			want: `{"data":null,"errors":[{"message":"Cannot return null for non-nullable field Product.id.","path":["setPrice","id"]}]}`,
			sent: map[string]int{"catalog": 1, "orders": 0}},
		{name: "second field fails", supergraph: "../testdata/supergraphs/mutations.graphql",
			query: `mutation { setPrice(productId: "1", price: 5) { id } placeOrder(productId: "1", quantity: 1) { id } }`,
			answers: map[string][]string{
				"catalog": {`{"data":{"setPrice":{"id":"1"}}}`},
				"orders":  {`{"data":null,"errors":[{"message":"out of stock","path":["placeOrder"]}]}`},
			},
			want: `{"data":null,"errors":[{"message":"out of stock","path":["placeOrder"],"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"orders"}}]}`,
			sent: map[string]int{"catalog": 1, "orders": 1}},
		{name: "nullable field errors", supergraph: "../testdata/compose/mutation_subscription/supergraph.graphql",
			query: `mutation { createPost(title: "t") { id } likePost(id: "1") { id likes } }`,
			answers: map[string][]string{
				"a": {`{"data":{"createPost":null},"errors":[{"message":"no","path":["createPost"]}]}`},
				"b": {`{"data":{"likePost":{"id":"1","likes":2}}}`},
			},
			want: `{"data":{"createPost":null,"likePost":{"id":"1","likes":2}},"errors":[{"message":"no","path":["createPost"],"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"a"}}]}`,
			sent: map[string]int{"a": 1, "b": 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sg := loadSupergraph(t, c.supergraph)
			tr := &cannedTransport{answers: c.answers}
			got := execute(t, sg, tr, c.query)
			if got != c.want {
				t.Errorf("got  %s\nwant %s", got, c.want)
			}
			for sub, n := range c.sent {
				if len(tr.sent[sub]) != n {
					t.Errorf("%s got %d requests, want %d: %v", sub, len(tr.sent[sub]), n, tr.sent[sub])
				}
			}
		})
	}
}
