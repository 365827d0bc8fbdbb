package executor_test

import "testing"

// TestRenderMemberOrders: the renderer notes per field where it found the
// field's member last; objects of one list whose members come in
// different orders (or go missing) still render in the selection's order,
// and an error the renderer records on the way (an invalid value, a
// non-null violation) carries its response path, which the renderer keeps
// only once it knows it needs one.
func TestRenderMemberOrders(t *testing.T) {
	sg := demoGraph(t)
	cases := []struct {
		name, query, products, want string
	}{
		{name: "orders differ",
			query:    `{ topProducts { upc name price } }`,
			products: `{"data":{"topProducts":[{"__typename":"Product","upc":"1","name":"A","price":1},{"price":2,"name":"B","upc":"2","__typename":"Product"},{"name":"C","__typename":"Product","price":3,"upc":"3"},{"upc":"4","price":4,"name":"D"}]}}`,
			want:     `{"data":{"topProducts":[{"upc":"1","name":"A","price":1},{"upc":"2","name":"B","price":2},{"upc":"3","name":"C","price":3},{"upc":"4","name":"D","price":4}]}}`},
		{name: "invalid value in a later item",
			query:    `{ topProducts { upc name } }`,
			products: `{"data":{"topProducts":[{"upc":"1","name":"A"},{"name":"B","upc":"2"},"C"]}}`,
			want:     `{"data":null,"errors":[{"message":"Invalid value for field Query.topProducts","path":["topProducts",2],"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}}]}`},
		{name: "non-null violation in a later item",
			query:    `{ topProducts { name upc } }`,
			products: `{"data":{"topProducts":[{"upc":"1","name":"A"},{"name":"B"}]}}`,
			want:     `{"data":null,"errors":[{"message":"Cannot return null for non-nullable field Product.upc.","path":["topProducts",1,"upc"]}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkBothModes(t, sg, map[string][]string{"products": {c.products}}, c.query, c.want)
		})
	}
}
