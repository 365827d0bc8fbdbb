package inventory

import "github.com/fedgate/gateway/subgraphs/demo/inventory/generated"

// stock is the static stock table: upc, sku and whether it is in stock.
var stock = []struct {
	upc, sku string
	inStock  bool
}{
	{upc: "1", sku: "SKU-1", inStock: true},
	{upc: "2", sku: "SKU-2", inStock: false},
	{upc: "3", sku: "SKU-3", inStock: true},
	{upc: "4", sku: "SKU-4", inStock: true},
	{upc: "5", sku: "SKU-5", inStock: false},
}

// freeShippingAbove is the price (in cents) above which shipping is free.
const freeShippingAbove = 1000

// shippingEstimate is free above freeShippingAbove, else half the weight.
func shippingEstimate(price, weight int) int {
	if price > freeShippingAbove {
		return 0
	}
	return weight / 2
}

// resolveProduct resolves one representation, or returns nil for an unknown
// key or one that lacks its @requires fields.
func resolveProduct(rep *generated.ProductRepresentation) *generated.Product {
	if rep.Upc == nil || rep.Sku == nil {
		return nil
	}
	for _, s := range stock {
		if s.upc != *rep.Upc || s.sku != *rep.Sku {
			continue
		}
		p := &generated.Product{Upc: s.upc, Sku: s.sku, InStock: s.inStock}
		// price and weight are @external: they come from the representation,
		// never from a table of ours.
		if rep.Price != nil && rep.Weight != nil {
			p.Price, p.Weight = *rep.Price, *rep.Weight
			p.HasRequires = true
		}
		return p
	}
	return nil
}
