package e2e

import (
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/golang-jwt/jwt/v5"
)

// requiresAuthGraphs serves testdata/auth/requires_supergraph.graphql:
// inventory owns the products, shipping computes fields from what its
// @requires reads.
func requiresAuthGraphs() (inventory, shipping *staticGraph) {
	p := obj("__typename", "Product", "id", "p1", "name", "Box", "weight", 42, "dimensions", obj("__typename", "Dimensions", "size", 7))
	inventory = &staticGraph{root: obj("products", []any{p}), entities: map[string]map[string]map[string]any{"Product": {"p1": p}}}
	s := obj("__typename", "Product", "id", "p1", "shippingEstimate", 420, "insuranceFee", 70, "handlingFee", 3)
	shipping = &staticGraph{entities: map[string]map[string]map[string]any{"Product": {"p1": s}}}
	return inventory, shipping
}

// TestRequiresAuthorizationAtRequestTime runs a supergraph our composer
// would refuse (a field @requires data with stricter requirements than its
// own): a field whose @requires reads what the caller may not see is
// denied like that data, and the data is never fetched for it.
func TestRequiresAuthorizationAtRequestTime(t *testing.T) {
	sdl, err := os.ReadFile("../testdata/auth/requires_supergraph.graphql")
	if err != nil {
		t.Fatal(err)
	}
	const query = `{ products { name shippingEstimate insuranceFee handlingFee } }`
	denied := func(paths ...string) string {
		var b strings.Builder
		for _, p := range paths {
			b.WriteString(`,{"message":"Unauthorized field or type","path":["products",0,"` + p + `"],"extensions":{"code":"UNAUTHORIZED_FIELD_OR_TYPE"}}`)
		}
		return b.String()
	}
	cases := []struct {
		name   string
		claims jwt.MapClaims // nil: anonymous
		want   string
		// unsent are fields no subgraph may be asked for.
		unsent []string
	}{
		{"anonymous", nil,
			`{"data":{"products":[{"name":"Box","shippingEstimate":null,"insuranceFee":null,"handlingFee":3}]},"errors":[` +
				denied("shippingEstimate", "insuranceFee")[1:] + `]}`,
			[]string{"weight", "shippingEstimate", "dimensions", "insuranceFee"}},
		{"authenticated without the scope", jwt.MapClaims{"scope": "other"},
			`{"data":{"products":[{"name":"Box","shippingEstimate":null,"insuranceFee":70,"handlingFee":3}]},"errors":[` +
				denied("shippingEstimate")[1:] + `]}`,
			[]string{"weight", "shippingEstimate"}},
		{"with the scope", jwt.MapClaims{"scope": "weight:read"},
			`{"data":{"products":[{"name":"Box","shippingEstimate":420,"insuranceFee":70,"handlingFee":3}]}}`, nil},
	}
	inventory, shipping := requiresAuthGraphs()
	g := gatewaytest.Start(t, gatewaytest.WithSupergraph(string(sdl)),
		gatewaytest.WithHandler("inventory", inventory), gatewaytest.WithHandler("shipping", shipping),
		gatewaytest.WithServerOptions(authOptions(nil)))
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inventory.Reset()
			shipping.Reset()
			bearer := ""
			if c.claims != nil {
				bearer = token(t, c.claims)
			}
			resp := post(t, g, query, bearer, nil)
			if resp.Status != http.StatusOK || string(resp.Body) != c.want {
				t.Errorf("status %d body %s\nwant 200 %s", resp.Status, resp.Body, c.want)
			}
			sent := append(inventory.Queries(), shipping.Queries()...)
			for _, f := range c.unsent {
				word := regexp.MustCompile(`\b` + f + `\b`)
				for _, q := range sent {
					if word.MatchString(q) {
						t.Errorf("a subgraph was asked for %s: %s", f, q)
					}
				}
			}
		})
	}

	// In reject mode the operation is refused whole, before any fetch.
	inventory, shipping = requiresAuthGraphs()
	rg := gatewaytest.Start(t, gatewaytest.WithSupergraph(string(sdl)),
		gatewaytest.WithHandler("inventory", inventory), gatewaytest.WithHandler("shipping", shipping),
		gatewaytest.WithServerOptions(authOptions(func(c *auth.Config) { c.Authorization.RejectUnauthorized = true })))
	resp := post(t, rg, `{ products { name shippingEstimate } }`, token(t, jwt.MapClaims{"scope": "other"}), nil)
	want := `{"errors":[{"message":"Unauthorized field or type","path":["products","@","shippingEstimate"],"extensions":{"code":"UNAUTHORIZED_FIELD_OR_TYPE"}}]}`
	if resp.Status != http.StatusForbidden || string(resp.Body) != want {
		t.Errorf("reject mode: status %d body %s\nwant 403 %s", resp.Status, resp.Body, want)
	}
	if n := rg.Requests(); n != 0 {
		t.Errorf("reject mode: %d subgraph requests", n)
	}
	resp = post(t, rg, `{ products { name shippingEstimate } }`, token(t, jwt.MapClaims{"scope": "weight:read"}), nil)
	if resp.Status != http.StatusOK || !strings.Contains(string(resp.Body), `"shippingEstimate":420`) {
		t.Errorf("reject mode, with the scope: %d %s", resp.Status, resp.Body)
	}
}
