package cache

import (
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

const policySchema = `
enum CacheControlScope { PUBLIC PRIVATE }
directive @cacheControl(maxAge: Int, scope: CacheControlScope, inheritMaxAge: Boolean) on FIELD_DEFINITION | OBJECT | INTERFACE | UNION

type Query {
  products: [Product!]! @cacheControl(maxAge: 60)
  product(upc: ID!): Product @cacheControl(maxAge: 30)
  me: User @cacheControl(maxAge: 10, scope: PRIVATE)
  plain: String
  plainProduct: Product
  search: [SearchResult!]! @cacheControl(maxAge: 50)
  inherited: Review @cacheControl(inheritMaxAge: true)
  publicUser: User @cacheControl(maxAge: 40, scope: PUBLIC)
}
type Product @cacheControl(maxAge: 120) {
  upc: ID!
  name: String
  price: Int @cacheControl(maxAge: 5)
  reviews: [Review!]!
  owner: User
}
type Review {
  body: String
  product: Product @cacheControl(inheritMaxAge: true)
  similar: Review @cacheControl(inheritMaxAge: true)
}
type User @cacheControl(scope: PRIVATE) {
  id: ID!
  name: String
}
type Mutation { rate(upc: ID!): Int }
union SearchResult = Product | Review
`

func TestOperationPolicy(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: policySchema})
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	for _, tc := range []struct {
		name       string
		query      string
		defaultAge time.Duration
		hints      map[string]Hint
		want       Policy
	}{
		{"field hint", `{ products { upc name } }`, 0, nil, Policy{sec(60), Public}},
		{"least of the fields", `{ products { upc price } }`, 0, nil, Policy{sec(5), Public}},
		{"root field with arguments", `{ product(upc: "1") { name } }`, 0, nil, Policy{sec(30), Public}},
		{"two root fields", `{ products { upc } product(upc: "1") { upc } }`, 0, nil, Policy{sec(30), Public}},
		{"object field without hint gets the default", `{ products { reviews { body } } }`, 0, nil, Policy{0, Public}},
		{"default maxAge configured", `{ products { reviews { body } } }`, sec(100), nil, Policy{sec(60), Public}},
		{"private field", `{ me { id } }`, 0, nil, Policy{sec(10), Private}},
		{"root without hint", `{ plain }`, 0, nil, Policy{0, Public}},
		{"root without hint, default configured", `{ plain }`, sec(100), nil, Policy{sec(100), Public}},
		{"root takes its type's hint", `{ plainProduct { upc } }`, 0, nil, Policy{sec(120), Public}},
		{"private type without maxAge", `{ products { owner { id } } }`, 0, nil, Policy{0, Private}},
		{"private type, default configured", `{ products { owner { id } } }`, sec(100), nil, Policy{sec(60), Private}},
		{"field scope overrides the type's", `{ publicUser { id } }`, 0, nil, Policy{sec(40), Public}},
		{"typename only", `{ __typename }`, 0, nil, Policy{0, Public}},
		{"named fragment", `query { ...F } fragment F on Query { products { upc } }`, 0, nil, Policy{sec(60), Public}},
		{"union members", `{ search { ... on Product { name } ... on Review { body } } }`, sec(100), nil, Policy{sec(50), Public}},
		{"union members are not fields: the field hint counts", `{ search { ... on Review { body } } }`, 0, nil, Policy{sec(50), Public}},
		{"inheritMaxAge", `{ products { reviews { product { name } } } }`, sec(100), nil, Policy{sec(60), Public}},
		{"inheritMaxAge chain", `{ product(upc: "1") { reviews { similar { similar { body } } } } }`, sec(100), nil, Policy{sec(30), Public}},
		{"inheritMaxAge on a root field gets the default", `{ inherited { body } }`, 0, nil, Policy{0, Public}},
		{"skipped fields still count", `query($s: Boolean!) { products { upc price @skip(if: $s) } }`, 0, nil, Policy{sec(5), Public}},
		{"configured field hint", `{ plain }`, 0, map[string]Hint{"Query.plain": {MaxAge: sec(40)}}, Policy{sec(40), Public}},
		{"configured hint overrides the schema", `{ products { upc } }`, 0, map[string]Hint{"Query.products": {MaxAge: sec(7)}}, Policy{sec(7), Public}},
		{"configured type hint", `{ products { upc } }`, 0, map[string]Hint{"Product": {MaxAge: sec(300), Scope: "PRIVATE"}}, Policy{sec(60), Private}},
		{"mutation", `mutation { rate(upc: "1") }`, sec(100), nil, Policy{0, Public}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, errs := gqlparser.LoadQuery(schema, tc.query)
			if errs != nil {
				t.Fatal(errs)
			}
			h := NewHints(schema, ResponseConfig{DefaultMaxAge: tc.defaultAge, Hints: tc.hints})
			op := doc.Operations[0]
			var got Policy
			if op.Operation == ast.Query {
				got = h.Operation(doc, op)
			}
			if got != tc.want {
				t.Fatalf("policy %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseCacheControl(t *testing.T) {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	for _, tc := range []struct {
		header string
		want   Policy
		ok     bool
	}{
		{"", Policy{Unlimited, Public}, false},
		{"max-age=60", Policy{sec(60), Public}, true},
		{"public, max-age=60", Policy{sec(60), Public}, true},
		{"private, max-age=30", Policy{sec(30), Private}, true},
		{"max-age=60, PRIVATE", Policy{sec(60), Private}, true},
		{"no-store", Policy{}, true},
		{"max-age=60, no-cache", Policy{}, true},
		{"public, s-maxage=10, max-age=60", Policy{sec(10), Public}, true},
		{`max-age="20"`, Policy{sec(20), Public}, true},
		{"max-age=abc", Policy{0, Public}, true},
		{"max-age=-5", Policy{0, Public}, true},
		{"public", Policy{Unlimited, Public}, true},
	} {
		got, ok := ParseCacheControl(tc.header)
		if got != tc.want || ok != tc.ok {
			t.Errorf("ParseCacheControl(%q) = %+v, %v; want %+v, %v", tc.header, got, ok, tc.want, tc.ok)
		}
	}
}

func TestPolicyHeader(t *testing.T) {
	for _, tc := range []struct {
		p    Policy
		want string
	}{
		{Policy{60 * time.Second, Public}, "max-age=60, public"},
		{Policy{90 * time.Second, Private}, "max-age=90, private"},
		{Policy{}, "no-store"},
		{Policy{Unlimited, Public}, "no-store"},
	} {
		if got := tc.p.Header(); got != tc.want {
			t.Errorf("%+v.Header() = %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestPolicyRestrict(t *testing.T) {
	a := Policy{60 * time.Second, Public}
	b := Policy{30 * time.Second, Private}
	if got := a.Restrict(b); got != (Policy{30 * time.Second, Private}) {
		t.Fatalf("Restrict = %+v", got)
	}
	if got := b.Restrict(a); got != (Policy{30 * time.Second, Private}) {
		t.Fatalf("Restrict is not symmetric: %+v", got)
	}
}

func TestSelectionScope(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: policySchema})
	h := NewHints(schema, ResponseConfig{})
	for _, tc := range []struct {
		query string
		want  Scope
	}{
		{`{ products { upc name } }`, Public},
		{`{ products { owner { name } } }`, Private},
		{`{ me { id } }`, Private},
	} {
		doc, errs := gqlparser.LoadQuery(schema, tc.query)
		if errs != nil {
			t.Fatal(errs)
		}
		if got := h.Scope("Query", doc.Operations[0].SelectionSet); got != tc.want {
			t.Errorf("Scope(%s) = %v, want %v", tc.query, got, tc.want)
		}
	}
}
