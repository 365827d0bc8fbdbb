package products

import (
	"strings"

	"github.com/fedgate/gateway/subgraphs/demo/products/generated"
)

// products is the static catalogue, ordered by upc. Prices are in cents and
// weights in grams. Resolvers hand out copies.
var products = []generated.Product{
	{Upc: "1", Sku: "SKU-1", Name: "Table", Price: 899, Weight: 100},
	{Upc: "2", Sku: "SKU-2", Name: "Couch", Price: 1299, Weight: 1000},
	{Upc: "3", Sku: "SKU-3", Name: "Chair", Price: 54, Weight: 50},
	{Upc: "4", Sku: "SKU-4", Name: "Lamp", Price: 35, Weight: 12},
	{Upc: "5", Sku: "SKU-5", Name: "Desk", Price: 1499, Weight: 800},
}

// bundle is a static bundle; its products are listed by upc.
type bundle struct {
	upc, name string
	price     int
	products  []string
}

var bundles = []bundle{
	{upc: "b1", name: "Dining Set", price: 929, products: []string{"1", "3"}},
}

// userIDs are the ids of the users owned by the accounts subgraph, which
// search can return as references.
var userIDs = []string{"1", "2", "3"}

// productByUPC returns a copy of the product with the given upc, or nil.
func productByUPC(upc string) *generated.Product {
	for _, p := range products {
		if p.Upc == upc {
			return &p
		}
	}
	return nil
}

// bundleByUPC returns the bundle with the given upc, or nil.
func bundleByUPC(upc string) *generated.Bundle {
	for _, b := range bundles {
		if b.upc == upc {
			return b.toModel()
		}
	}
	return nil
}

func (b bundle) toModel() *generated.Bundle {
	out := &generated.Bundle{Upc: b.upc, Name: b.name, Price: b.price}
	for _, upc := range b.products {
		out.Products = append(out.Products, productByUPC(upc))
	}
	return out
}

// search returns the products whose name contains term, ignoring case, then
// references to the users whose id equals term.
func search(term string) []generated.SearchResult {
	out := []generated.SearchResult{}
	needle := strings.ToLower(term)
	for _, p := range products {
		if strings.Contains(strings.ToLower(p.Name), needle) {
			out = append(out, &p)
		}
	}
	for _, id := range userIDs {
		if id == term {
			out = append(out, &generated.User{ID: id})
		}
	}
	return out
}
