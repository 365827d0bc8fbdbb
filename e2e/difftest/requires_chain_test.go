package difftest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/schema"
)

// The references answer few operations of the requires_chain fixture
// alike (docs/differential.md), so TestRequiresChain checks fedgate's
// answers there against the fixture subgraphs themselves: total(discount:)
// must be the ship subgraph's answer for the tax at rate 0.1, which must
// be the tax subgraph's answer for the price in euros, which must be the
// catalog's; along the chain and for the products of a list below a list.

// entityField asks the fixture subgraph graph of sg for field (with its
// arguments, e.g. "tax(rate: 0.1)") of the Product of representation rep,
// the way a gateway asks it, and returns the value's JSON.
func entityField(t *testing.T, sg *schema.Supergraph, graph string, rep map[string]any, field string) string {
	t.Helper()
	reps, _ := json.Marshal([]any{rep})
	body, _ := json.Marshal(map[string]any{
		"query":     `query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { v: ` + field + ` } } }`,
		"variables": map[string]any{"r": json.RawMessage(reps)},
	})
	rec := httptest.NewRecorder()
	fixturesub.Handlers(sg)[graph].ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body)))
	var out struct {
		Data struct {
			Entities []map[string]json.RawMessage `json:"_entities"`
		} `json:"data"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || len(out.Data.Entities) != 1 {
		t.Fatalf("subgraph %s, %s for %v: %s", graph, field, rep, rec.Body)
	}
	return string(out.Data.Entities[0]["v"])
}

func TestRequiresChain(t *testing.T) {
	sdl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "compose", "requires_chain", "supergraph.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	st, err := start(t, graphSource{name: "requires_chain", sdl: string(sdl)})
	if err != nil {
		t.Fatal(err)
	}
	type product struct {
		ID    string          `json:"id"`
		Name  json.RawMessage `json:"name"`
		EUR   json.RawMessage `json:"eur"`
		Tax   json.RawMessage `json:"tax"`
		Total json.RawMessage `json:"total"`
		// price: an alias named like the @requires input of tax, which
		// must not be taken for it.
		Price json.RawMessage `json:"price"`
	}
	sel := `id name eur: price(currency: EUR) price: total(discount: 2) tax(rate: 0.1) total(discount: 1)`
	type related struct {
		product
		Related []*product `json:"related"`
	}
	var data struct {
		Products []*struct {
			product
			Related []*related `json:"related"`
		} `json:"products"`
		More []*struct {
			product
			Related []*related `json:"related"`
		} `json:"more"`
		Orders []*struct {
			Items []*struct {
				product
				Related []*product `json:"related"`
			} `json:"items"`
		} `json:"orders"`
	}
	deep := `related { ` + sel + ` related { ` + sel + ` } }`
	askFedgate(t, st.fedgate, `{ products(first: 5) { `+sel+` `+deep+` } more: products { `+sel+` `+deep+` } orders { items { `+sel+` related { `+sel+` } } } }`, &data)
	var all []*product
	for _, p := range append(data.Products, data.More...) {
		if p == nil {
			continue
		}
		all = append(all, &p.product)
		for _, r := range p.Related {
			if r != nil {
				all = append(all, &r.product)
				all = append(all, r.Related...)
			}
		}
	}
	for _, o := range data.Orders {
		if o == nil {
			continue
		}
		for _, it := range o.Items {
			if it != nil {
				all = append(all, &it.product)
				all = append(all, it.Related...)
			}
		}
	}
	checked := 0
	for _, p := range all {
		if p == nil {
			continue
		}
		key := map[string]any{"__typename": "Product", "id": p.ID}
		eur := entityField(t, sg, "catalog", key, "price(currency: EUR)")
		name := entityField(t, sg, "catalog", key, "name")
		if string(p.EUR) != eur || string(p.Name) != name {
			t.Errorf("product %s: price in euros %s and name %s, want the catalog's %s and %s", p.ID, p.EUR, p.Name, eur, name)
		}
		tax := entityField(t, sg, "tax", map[string]any{"__typename": "Product", "id": p.ID, "price": json.RawMessage(eur)}, "tax(rate: 0.1)")
		if string(p.Tax) != tax {
			t.Errorf("product %s: tax(rate: 0.1) = %s, want the tax subgraph's %s for the price in euros %s", p.ID, p.Tax, tax, eur)
		}
		rep := map[string]any{"__typename": "Product", "id": p.ID, "tax": json.RawMessage(tax), "name": json.RawMessage(name)}
		if want := entityField(t, sg, "ship", rep, "total(discount: 1)"); string(p.Total) != want {
			t.Errorf("product %s: total(discount: 1) = %s, want the ship subgraph's %s for tax %s and name %s", p.ID, p.Total, want, tax, name)
		}
		if want := entityField(t, sg, "ship", rep, "total(discount: 2)"); string(p.Price) != want {
			t.Errorf("product %s: price: total(discount: 2) = %s, want the ship subgraph's %s", p.ID, p.Price, want)
		}
		checked++
	}
	if checked < 10 {
		t.Fatalf("only %d products to check: %+v", checked, data)
	}
}
