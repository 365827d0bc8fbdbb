package schema

import (
	"os"
	"strings"
	"testing"

	gateway "github.com/fedgate/gateway"
)

func loadFile(t *testing.T, path string) *Supergraph {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := Load(string(b))
	if err != nil {
		t.Fatalf("Load(%s): %v", path, err)
	}
	return sg
}

func TestLoadDemo(t *testing.T) {
	sg, err := Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range sg.Graphs {
		names = append(names, g.Name)
	}
	if got := strings.Join(names, ","); got != "accounts,inventory,products,reviews" {
		t.Errorf("graphs = %s", got)
	}
	product := sg.Types["Product"]
	if product == nil {
		t.Fatal("no Product type")
	}
	tests := []struct {
		graph, field string
		external     bool
		requires     bool
	}{
		{"INVENTORY", "price", true, false},
		{"INVENTORY", "shippingEstimate", false, true},
		{"PRODUCTS", "price", false, false},
	}
	for _, tt := range tests {
		fg := product.Fields[tt.field].Graphs[tt.graph]
		if fg == nil {
			t.Errorf("Product.%s has no @join__field for %s", tt.field, tt.graph)
			continue
		}
		if fg.External != tt.external || (len(fg.Requires) > 0) != tt.requires {
			t.Errorf("Product.%s in %s: external=%v requires=%v", tt.field, tt.graph, fg.External, fg.Requires)
		}
	}
	keys := product.Graphs["INVENTORY"].Keys
	if len(keys) != 1 || keys[0].Fields != "upc sku" || len(keys[0].Selection) != 2 {
		t.Errorf("inventory Product keys = %+v", keys)
	}
	if sg.API.Types["join__Graph"] != nil || sg.API.Types["link__Import"] != nil {
		t.Error("API schema keeps federation machinery")
	}
	if sg.Version == "" {
		t.Error("no version")
	}
}

func TestAPISchemaRemovesInaccessible(t *testing.T) {
	sg := loadFile(t, "../testdata/supergraphs/inaccessible.graphql")
	api := sg.API
	if api.Types["Secret"] != nil {
		t.Error("inaccessible type Secret is in the API schema")
	}
	q := api.Query
	if q.Fields.ForName("secret") != nil {
		t.Error("inaccessible field Query.secret is in the API schema")
	}
	if u := q.Fields.ForName("user"); u == nil || u.Arguments.ForName("debug") != nil || u.Arguments.ForName("id") == nil {
		t.Errorf("Query.user arguments wrong: %+v", u)
	}
	user := api.Types["User"]
	if user.Fields.ForName("password") != nil || user.Fields.ForName("name") == nil {
		t.Error("User fields wrong in the API schema")
	}
	role := api.Types["Role"]
	if role.EnumValues.ForName("ADMIN") != nil || role.EnumValues.ForName("USER") == nil {
		t.Error("Role values wrong in the API schema")
	}
	for _, d := range api.Directives {
		if strings.HasPrefix(d.Name, "join__") || d.Name == "inaccessible" || d.Name == "link" {
			t.Errorf("API schema defines @%s", d.Name)
		}
	}
	// The full schema keeps everything for planning.
	if sg.Types["Secret"] == nil || sg.Types["User"].Fields["password"] == nil {
		t.Error("supergraph model lost inaccessible elements")
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name, sdl, want string
	}{
		{"syntax", "type Query {", "line 1"},
		{"not a supergraph", "type Query { a: Int }", "join spec"},
		{"unknown type", `schema @link(url: "https://specs.apollo.dev/link/v1.0") @link(url: "https://specs.apollo.dev/join/v0.3") { query: Query }
directive @link(url: String, as: String, for: String, import: [String]) repeatable on SCHEMA
type Query { a: Missing }`, "Missing"},
		{"unknown graph", strings.Replace(mustRead(t, "../testdata/supergraphs/inaccessible.graphql"), "@join__type(graph: B)\n  @inaccessible", "@join__type(graph: C)\n  @inaccessible", 1), "C"},
		{"bad key", strings.Replace(mustRead(t, "../testdata/supergraphs/inaccessible.graphql"), `key: "id")`, `key: "id {")`, 1), "@key"},
		// A field @external in the only subgraph that declares it (no
		// composition writes one): no plan could fetch it.
		{"field no subgraph resolves", strings.Replace(mustRead(t, "../testdata/supergraphs/inaccessible.graphql"), "  score: Int",
			"  nameCopy: String @join__field(graph: B, external: true)\n  score: Int", 1), "User.nameCopy is resolved by no subgraph"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.sdl)
			if err == nil {
				t.Fatal("Load succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not mention %q", err, tt.want)
			}
		})
	}
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func FuzzLoad(f *testing.F) {
	f.Add(gateway.DemoSupergraph)
	f.Add("type Query { a: Int }")
	f.Add(`schema @link(url: "https://specs.apollo.dev/join/v0.3") { query: Query }`)
	f.Fuzz(func(t *testing.T, sdl string) {
		sg, err := Load(sdl)
		if err == nil && (sg.API == nil || sg.Full == nil) {
			t.Fatal("Load returned no schema and no error")
		}
	})
}

// TestAPISchemaRemovesRenamedInaccessible loads a supergraph whose link
// imports @inaccessible under another name (as Apollo's composition writes
// when the subgraphs do): the renamed directive still hides.
func TestAPISchemaRemovesRenamedInaccessible(t *testing.T) {
	sg := loadFile(t, "../testdata/compose/renamed_carried_directives/supergraph.graphql")
	q := sg.API.Query
	if q.Fields.ForName("b") != nil || q.Fields.ForName("c") != nil {
		t.Error("fields marked @hidden (@inaccessible imported as @hidden) are in the API schema")
	}
	if q.Fields.ForName("a") == nil || q.Fields.ForName("d") == nil {
		t.Error("visible fields missing from the API schema")
	}
}
