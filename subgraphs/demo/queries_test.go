package demo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// queryCase is one operation against one subgraph and the data it must return.
type queryCase struct {
	name      string
	subgraph  string
	query     string
	variables map[string]any
	want      string   // JSON of the data
	wantErrs  []string // substrings of the expected error messages, in order
}

// run sends c twice, checks the data and errors, and checks that both
// answers are byte-identical.
func (c queryCase) run(t *testing.T, urls map[string]string) {
	t.Helper()
	raw, r := post(t, urls[c.subgraph], c.query, c.variables)
	if len(r.Errors) != len(c.wantErrs) {
		t.Fatalf("errors %+v, want %d matching %q", r.Errors, len(c.wantErrs), c.wantErrs)
	}
	for i, e := range r.Errors {
		if !strings.Contains(e.Message, c.wantErrs[i]) {
			t.Errorf("error %d %q, want it to contain %q", i, e.Message, c.wantErrs[i])
		}
	}
	assertJSON(t, r.Data, c.want)
	again, _ := post(t, urls[c.subgraph], c.query, c.variables)
	if !bytes.Equal(raw, again) {
		t.Errorf("second answer differs:\n%s\n%s", raw, again)
	}
}

func TestRootQueries(t *testing.T) {
	urls := serveHandlers(t)
	cases := []queryCase{
		{
			name: "accounts/me", subgraph: "accounts",
			query: `{ me { id name username birthYear } }`,
			want:  `{"me":{"id":"1","name":"Ada Lovelace","username":"@ada","birthYear":1815}}`,
		},
		{
			name: "accounts/user", subgraph: "accounts",
			query:     `query($id: ID!) { user(id: $id) { id name } }`,
			variables: map[string]any{"id": "3"},
			want:      `{"user":{"id":"3","name":"Grace Hopper"}}`,
		},
		{
			name: "accounts/user unknown", subgraph: "accounts",
			query: `{ user(id: "42") { id } }`,
			want:  `{"user":null}`,
		},
		{
			name: "accounts/users", subgraph: "accounts",
			query: `{ users { id username birthYear } }`,
			want: `{"users":[
				{"id":"1","username":"@ada","birthYear":1815},
				{"id":"2","username":"@alan","birthYear":1912},
				{"id":"3","username":"@grace","birthYear":1906}]}`,
		},
		{
			name: "products/topProducts default", subgraph: "products",
			query: `{ topProducts { upc sku name price weight } }`,
			want: `{"topProducts":[
				{"upc":"1","sku":"SKU-1","name":"Table","price":899,"weight":100},
				{"upc":"2","sku":"SKU-2","name":"Couch","price":1299,"weight":1000},
				{"upc":"3","sku":"SKU-3","name":"Chair","price":54,"weight":50},
				{"upc":"4","sku":"SKU-4","name":"Lamp","price":35,"weight":12},
				{"upc":"5","sku":"SKU-5","name":"Desk","price":1499,"weight":800}]}`,
		},
		{
			name: "products/topProducts first", subgraph: "products",
			query: `{ a: topProducts(first: 2) { upc } b: topProducts(first: 0) { upc } c: topProducts(first: 99) { upc } }`,
			want:  `{"a":[{"upc":"1"},{"upc":"2"}],"b":[],"c":[{"upc":"1"},{"upc":"2"},{"upc":"3"},{"upc":"4"},{"upc":"5"}]}`,
		},
		{
			name: "products/product", subgraph: "products",
			query: `{ lamp: product(upc: "4") { upc name } none: product(upc: "b1") { upc } }`,
			want:  `{"lamp":{"upc":"4","name":"Lamp"},"none":null}`,
		},
		{
			name: "products/items", subgraph: "products",
			query: `{ items { __typename upc name price ... on Product { sku } ... on Bundle { products { upc } } } }`,
			want: `{"items":[
				{"__typename":"Product","upc":"1","name":"Table","price":899,"sku":"SKU-1"},
				{"__typename":"Product","upc":"2","name":"Couch","price":1299,"sku":"SKU-2"},
				{"__typename":"Product","upc":"3","name":"Chair","price":54,"sku":"SKU-3"},
				{"__typename":"Product","upc":"4","name":"Lamp","price":35,"sku":"SKU-4"},
				{"__typename":"Product","upc":"5","name":"Desk","price":1499,"sku":"SKU-5"},
				{"__typename":"Bundle","upc":"b1","name":"Dining Set","price":929,"products":[{"upc":"1"},{"upc":"3"}]}]}`,
		},
		{
			name: "products/search", subgraph: "products",
			query:     `query($t: String!) { search(term: $t) { __typename ... on Product { upc name } ... on User { id } } }`,
			variables: map[string]any{"t": "CH"},
			want:      `{"search":[{"__typename":"Product","upc":"2","name":"Couch"},{"__typename":"Product","upc":"3","name":"Chair"}]}`,
		},
		{
			name: "products/search user", subgraph: "products",
			query: `{ one: search(term: "1") { __typename ... on User { id } } none: search(term: "sofa") { __typename } }`,
			want:  `{"one":[{"__typename":"User","id":"1"}],"none":[]}`,
		},
		{
			name: "reviews/latestReviews default", subgraph: "reviews",
			query: `{ latestReviews { id rating author { id username } product { upc } } }`,
			want: `{"latestReviews":[
				{"id":"6","rating":3,"author":{"id":"1","username":"@ada"},"product":{"upc":"3"}},
				{"id":"5","rating":4,"author":{"id":"2","username":"@alan"},"product":{"upc":"1"}},
				{"id":"4","rating":5,"author":{"id":"3","username":"@grace"},"product":{"upc":"4"}}]}`,
		},
		{
			name: "reviews/latestReviews first", subgraph: "reviews",
			query: `{ one: latestReviews(first: 1) { id } none: latestReviews(first: -1) { id } }`,
			want:  `{"one":[{"id":"6"}],"none":[]}`,
		},
		{
			name: "reviews/review", subgraph: "reviews",
			query: `{ r: review(id: "1") { id body author { id reviews { id } } product { upc reviews { id } } } none: review(id: "7") { id } }`,
			want: `{"r":{"id":"1","body":"Sturdy and beautifully finished.",
				"author":{"id":"1","reviews":[{"id":"1"},{"id":"6"}]},
				"product":{"upc":"1","reviews":[{"id":"1"},{"id":"5"}]}},"none":null}`,
		},
		{
			name: "inventory/typename", subgraph: "inventory",
			query: `{ __typename }`,
			want:  `{"__typename":"Query"}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, urls) })
	}
}

// entitiesQuery builds an _entities operation selecting sel on the entities.
func entitiesQuery(sel string) string {
	return `query($r: [_Any!]!) { _entities(representations: $r) { __typename ` + sel + ` } }`
}

// reps builds representations from alternating typename and JSON objects.
func reps(objs ...string) map[string]any {
	list := make([]any, len(objs))
	for i, o := range objs {
		var v any
		if err := json.Unmarshal([]byte(o), &v); err != nil {
			panic(o + ": " + err.Error())
		}
		list[i] = v
	}
	return map[string]any{"r": list}
}

func TestEntities(t *testing.T) {
	urls := serveHandlers(t)
	cases := []queryCase{
		{
			name: "accounts/User id", subgraph: "accounts",
			query: entitiesQuery(`... on User { id name username birthYear }`),
			variables: reps(
				`{"__typename":"User","id":"2"}`,
				`{"__typename":"User","id":"0"}`,
				`{"__typename":"User","id":"1"}`,
			),
			want: `{"_entities":[
				{"__typename":"User","id":"2","name":"Alan Turing","username":"@alan","birthYear":1912},
				null,
				{"__typename":"User","id":"1","name":"Ada Lovelace","username":"@ada","birthYear":1815}]}`,
		},
		{
			name: "products/Product upc", subgraph: "products",
			query: entitiesQuery(`... on Product { upc sku name price weight }`),
			variables: reps(
				`{"__typename":"Product","upc":"3"}`,
				`{"__typename":"Product","upc":"99"}`,
				`{"__typename":"Product","upc":"1"}`,
			),
			want: `{"_entities":[
				{"__typename":"Product","upc":"3","sku":"SKU-3","name":"Chair","price":54,"weight":50},
				null,
				{"__typename":"Product","upc":"1","sku":"SKU-1","name":"Table","price":899,"weight":100}]}`,
		},
		{
			name: "products/Product upc sku", subgraph: "products",
			query: entitiesQuery(`... on Product { upc sku name }`),
			variables: reps(
				`{"__typename":"Product","upc":"5","sku":"SKU-5"}`,
				`{"__typename":"Product","upc":"2","sku":"SKU-9"}`,
				`{"__typename":"Product","upc":"2","sku":"SKU-2"}`,
			),
			want: `{"_entities":[
				{"__typename":"Product","upc":"5","sku":"SKU-5","name":"Desk"},
				null,
				{"__typename":"Product","upc":"2","sku":"SKU-2","name":"Couch"}]}`,
		},
		{
			name: "products/Bundle upc", subgraph: "products",
			query: entitiesQuery(`... on Bundle { upc name price products { upc name } }`),
			variables: reps(
				`{"__typename":"Bundle","upc":"b1"}`,
				`{"__typename":"Bundle","upc":"1"}`,
			),
			want: `{"_entities":[
				{"__typename":"Bundle","upc":"b1","name":"Dining Set","price":929,"products":[{"upc":"1","name":"Table"},{"upc":"3","name":"Chair"}]},
				null]}`,
		},
		{
			name: "products/mixed types and keys", subgraph: "products",
			query: entitiesQuery(`... on Item { upc name }`),
			variables: reps(
				`{"__typename":"Bundle","upc":"b1"}`,
				`{"__typename":"Product","upc":"4","sku":"SKU-4"}`,
				`{"__typename":"Bundle","upc":"b2"}`,
				`{"__typename":"Product","upc":"5"}`,
			),
			want: `{"_entities":[
				{"__typename":"Bundle","upc":"b1","name":"Dining Set"},
				{"__typename":"Product","upc":"4","name":"Lamp"},
				null,
				{"__typename":"Product","upc":"5","name":"Desk"}]}`,
		},
		{
			name: "reviews/Review id", subgraph: "reviews",
			query: entitiesQuery(`... on Review { id body rating author { id username } product { upc } }`),
			variables: reps(
				`{"__typename":"Review","id":"2"}`,
				`{"__typename":"Review","id":"42"}`,
			),
			want: `{"_entities":[
				{"__typename":"Review","id":"2","body":"Too soft for long afternoons of proof reading.","rating":2,
				 "author":{"id":"2","username":"@alan"},"product":{"upc":"2"}},
				null]}`,
		},
		{
			name: "reviews/User id", subgraph: "reviews",
			query: entitiesQuery(`... on User { id reviews { id product { upc } } }`),
			variables: reps(
				`{"__typename":"User","id":"3"}`,
				`{"__typename":"User","id":"9"}`,
				`{"__typename":"User","id":"2"}`,
			),
			want: `{"_entities":[
				{"__typename":"User","id":"3","reviews":[{"id":"3","product":{"upc":"3"}},{"id":"4","product":{"upc":"4"}}]},
				null,
				{"__typename":"User","id":"2","reviews":[{"id":"2","product":{"upc":"2"}},{"id":"5","product":{"upc":"1"}}]}]}`,
		},
		{
			name: "reviews/Product upc", subgraph: "reviews",
			query: entitiesQuery(`... on Product { upc reviews { id rating } }`),
			variables: reps(
				`{"__typename":"Product","upc":"1"}`,
				`{"__typename":"Product","upc":"5"}`,
				`{"__typename":"Product","upc":"b1"}`,
			),
			want: `{"_entities":[
				{"__typename":"Product","upc":"1","reviews":[{"id":"1","rating":5},{"id":"5","rating":4}]},
				{"__typename":"Product","upc":"5","reviews":[]},
				null]}`,
		},
		{
			name: "inventory/Product upc sku", subgraph: "inventory",
			query: entitiesQuery(`... on Product { upc sku inStock }`),
			variables: reps(
				`{"__typename":"Product","upc":"2","sku":"SKU-2"}`,
				`{"__typename":"Product","upc":"9","sku":"SKU-9"}`,
				`{"__typename":"Product","upc":"1","sku":"SKU-2"}`,
				`{"__typename":"Product","upc":"1","sku":"SKU-1"}`,
			),
			want: `{"_entities":[
				{"__typename":"Product","upc":"2","sku":"SKU-2","inStock":false},
				null,
				null,
				{"__typename":"Product","upc":"1","sku":"SKU-1","inStock":true}]}`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, urls) })
	}
}

// TestShippingEstimate checks that inventory computes shippingEstimate from
// the price and weight in the representation, never from its own data.
func TestShippingEstimate(t *testing.T) {
	urls := serveHandlers(t)
	cases := []queryCase{
		{
			name: "from representation", subgraph: "inventory",
			query: entitiesQuery(`... on Product { upc price weight shippingEstimate }`),
			variables: reps(
				// The products subgraph's own values: 899/100 -> 50.
				`{"__typename":"Product","upc":"1","sku":"SKU-1","price":899,"weight":100}`,
				// Same product, other values: the representation wins.
				`{"__typename":"Product","upc":"1","sku":"SKU-1","price":1001,"weight":100}`,
				`{"__typename":"Product","upc":"2","sku":"SKU-2","price":1000,"weight":7}`,
				`{"__typename":"Product","upc":"9","sku":"SKU-9","price":1,"weight":1}`,
			),
			want: `{"_entities":[
				{"__typename":"Product","upc":"1","price":899,"weight":100,"shippingEstimate":50},
				{"__typename":"Product","upc":"1","price":1001,"weight":100,"shippingEstimate":0},
				{"__typename":"Product","upc":"2","price":1000,"weight":7,"shippingEstimate":3},
				null]}`,
		},
		{
			name: "missing requires", subgraph: "inventory",
			query: entitiesQuery(`... on Product { upc shippingEstimate }`),
			variables: reps(
				`{"__typename":"Product","upc":"3","sku":"SKU-3"}`,
				`{"__typename":"Product","upc":"4","sku":"SKU-4","price":35,"weight":12}`,
			),
			// shippingEstimate is non-null, so the failing entity is nulled.
			want:     `{"_entities":[null,{"__typename":"Product","upc":"4","shippingEstimate":6}]}`,
			wantErrs: []string{"needs price and weight"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.run(t, urls) })
	}
}

// TestProvidedUsernames checks that the usernames reviews provides on
// Review.author equal the accounts subgraph's.
func TestProvidedUsernames(t *testing.T) {
	urls := serveHandlers(t)
	_, acc := post(t, urls["accounts"], `{ users { id username } }`, nil)
	_, rev := post(t, urls["reviews"], `{ latestReviews(first: 100) { author { id username } } }`, nil)
	if len(acc.Errors)+len(rev.Errors) > 0 {
		t.Fatalf("errors %v %v", acc.Errors, rev.Errors)
	}
	var users struct {
		Users []struct{ ID, Username string }
	}
	var latest struct {
		LatestReviews []struct{ Author struct{ ID, Username string } }
	}
	if err := json.Unmarshal(acc.Data, &users); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(rev.Data, &latest); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for _, u := range users.Users {
		want[u.ID] = u.Username
	}
	authors := map[string]bool{}
	for _, r := range latest.LatestReviews {
		a := r.Author
		authors[a.ID] = true
		if w, ok := want[a.ID]; !ok || w != a.Username {
			t.Errorf("author %s: provided username %q, accounts has %q", a.ID, a.Username, w)
		}
	}
	if len(authors) != len(want) {
		t.Errorf("reviews are by %d users, want all %d", len(authors), len(want))
	}
}
