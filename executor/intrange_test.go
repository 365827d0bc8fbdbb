package executor_test

import "testing"

// TestIntBeyond32Bits: an Int value a subgraph answers outside the 32-bit
// range is a field error (spec 3.5.1, result coercion), with graphql-js's
// message, and null in its place, propagated like any other null (Hive
// Gateway answers so); before, fedgate passed the digits through. Values
// in range pass, also at the range's ends, and written with a fraction
// or an exponent they are written as integers (as JavaScript writes the
// number: both references do).
func TestIntBeyond32Bits(t *testing.T) {
	sg := demoGraph(t)
	product := func(price string) string {
		return `{"data":{"product":{"upc":"1","price":` + price + `}}}`
	}
	const ext = `"extensions":{"code":"INVALID_SUBGRAPH_RESPONSE"}`
	cases := []struct {
		name, query, subgraph, answer, want string
	}{
		{"just beyond, non-null", `{ product(upc: "1") { upc price } }`, "products", product("2147483648"),
			`{"data":{"product":null},"errors":[{"message":"Int cannot represent non 32-bit signed integer value: 2147483648","path":["product","price"],` + ext + `}]}`},
		{"far beyond", `{ product(upc: "1") { price } }`, "products", product("-123456789012345678901"),
			`{"data":{"product":null},"errors":[{"message":"Int cannot represent non 32-bit signed integer value: -123456789012345678901","path":["product","price"],` + ext + `}]}`},
		{"an exponent beyond", `{ product(upc: "1") { price } }`, "products", product("3.0e9000000"),
			`{"data":{"product":null},"errors":[{"message":"Int cannot represent non 32-bit signed integer value: 3.0e9000000","path":["product","price"],` + ext + `}]}`},
		{"a short exponent beyond", `{ product(upc: "1") { price } }`, "products", product("1e10"),
			`{"data":{"product":null},"errors":[{"message":"Int cannot represent non 32-bit signed integer value: 1e10","path":["product","price"],` + ext + `}]}`},
		{"not an integer", `{ product(upc: "1") { price } }`, "products", product("1.5"),
			`{"data":{"product":null},"errors":[{"message":"Int cannot represent non-integer value: 1.5","path":["product","price"],` + ext + `}]}`},
		// Written as an integer, as both references write it.
		{"a short exponent in range", `{ product(upc: "1") { price } }`, "products", product("2e3"),
			`{"data":{"product":{"price":2000}}}`},
		{"the largest", `{ product(upc: "1") { price } }`, "products", product("2147483647"),
			`{"data":{"product":{"price":2147483647}}}`},
		{"the smallest", `{ product(upc: "1") { price } }`, "products", product("-2147483648"),
			`{"data":{"product":{"price":-2147483648}}}`},
		{"an integral number with a fraction", `{ product(upc: "1") { price } }`, "products", product("2147483647.0"),
			`{"data":{"product":{"price":2147483647}}}`},
		{"nullable", `{ me { id birthYear } }`, "accounts", `{"data":{"me":{"id":"1","birthYear":99999999999}}}`,
			`{"data":{"me":{"id":"1","birthYear":null}},"errors":[{"message":"Int cannot represent non 32-bit signed integer value: 99999999999","path":["me","birthYear"],` + ext + `}]}`},
		{"an aliased item of a list", `{ topProducts { upc p: price } }`, "products",
			`{"data":{"topProducts":[{"upc":"1","p":1},{"upc":"2","p":4294967296}]}}`,
			`{"data":null,"errors":[{"message":"Int cannot represent non 32-bit signed integer value: 4294967296","path":["topProducts",1,"p"],` + ext + `}]}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			checkBothModes(t, sg, map[string][]string{c.subgraph: {c.answer}}, c.query, c.want)
		})
	}
}
