package limits

import (
	"encoding/json"
	"errors"
	"os"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/validator"
)

// costFixture is a schema to cost operations against: the schema used to
// validate and normalize them and the cost model read from it.
type costFixture struct {
	api   *ast.Schema
	model *CostModel
}

// loadSupergraph loads an Apollo-composed supergraph from testdata/cost.
func loadSupergraph(t *testing.T, name string) costFixture {
	t.Helper()
	sdl, err := os.ReadFile("testdata/cost/" + name)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return costFixture{api: sg.API, model: NewCostModel(sg.Full)}
}

// loadPlainSchema loads a schema that is not a supergraph (IBM style).
func loadPlainSchema(t *testing.T, name string) costFixture {
	t.Helper()
	sdl, err := os.ReadFile("testdata/cost/" + name)
	if err != nil {
		t.Fatal(err)
	}
	s, gerr := gqlparser.LoadSchema(&ast.Source{Name: name, Input: string(sdl)})
	if gerr != nil {
		t.Fatalf("load %s: %v", name, gerr)
	}
	return costFixture{api: s, model: NewCostModel(s)}
}

// operation validates, coerces and normalizes query as the server does.
func (f costFixture) operation(t *testing.T, query, vars string) (*planner.Operation, map[string]any) {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(f.api, query)
	if len(errs) > 0 {
		t.Fatalf("invalid query: %v", errs)
	}
	raw := map[string]any{}
	if vars != "" {
		if err := json.Unmarshal([]byte(vars), &raw); err != nil {
			t.Fatal(err)
		}
	}
	coerced, err := validator.VariableValues(f.api, doc.Operations[0], raw)
	if err != nil {
		t.Fatalf("variables: %v", err)
	}
	op, err := planner.Normalize(f.api, doc, "", coerced)
	if err != nil {
		t.Fatal(err)
	}
	return op, coerced
}

// TestEstimate costs worked examples; each comment shows the sum.
func TestEstimate(t *testing.T) {
	library := loadSupergraph(t, "supergraph.graphql")
	renamed := loadSupergraph(t, "renamed.graphql")
	ibm := loadPlainSchema(t, "ibm.graphql")
	tests := []struct {
		name     string
		fixture  costFixture
		query    string
		vars     string
		listSize int
		want     float64
		code     string // expected error code, if any
	}{
		{name: "one object", query: `{ book(id: 1) { title } }`,
			want: 1}, // Book 1 + title 0
		{name: "nested objects and a type weight", query: `{ book(id: 1) { title author { name } publisher { name address { zip } } } }`,
			want: 8}, // Book 1 + Author 1 + Publisher @cost 5 + Address 1
		{name: "scalar type weight", query: `{ book(id: 1) { price } money }`,
			want: 7}, // Book 1 + Money @cost 3, twice
		{name: "enum type weight", query: `{ book(id: 1) { rating } }`,
			want: 3}, // Book 1 + Rating @cost 2
		{name: "field weight", query: `{ expensive }`,
			want: 50},
		{name: "assumedSize", query: `{ bestsellers { title author { name } } }`,
			want: 10}, // 5 × (Book 1 + Author 1)
		{name: "default list size", query: `{ catalog { title } }`,
			want: 10}, // 10 × Book 1
		{name: "configured list size", query: `{ catalog { title } }`, listSize: 4,
			want: 4}, // 4 × Book 1
		{name: "slicing argument literal", query: `{ newest(limit: 3) { title } }`,
			want: 3}, // 3 × Book 1
		{name: "slicing argument default value", query: `{ newest { title } }`,
			want: 7}, // limit defaults to 7
		{name: "slicing argument from a variable", query: `query Q($n: Int!) { newest(limit: $n) { id } }`, vars: `{"n": 20}`,
			want: 20}, // 20 × Book 1
		{name: "slicing argument from a variable default", query: `query Q($n: Int! = 6) { newest(limit: $n) { id } }`,
			want: 6},
		{name: "largest of several slicing arguments", query: `{ books(first: 2, last: 6) { id } }`,
			want: 6}, // max(2, 6) × Book 1
		{name: "no slicing argument and no assumedSize", query: `{ books { id } }`,
			want: 10}, // default list size; requireOneSlicingArgument is false
		{name: "null variable slicing argument", query: `query Q($n: Int) { books(first: $n) { id } }`,
			want: 10},
		{name: "requireOneSlicingArgument with two", query: `{ strictBooks(first: 1, last: 2) { id } }`,
			want: 2, code: CodeValidationFailed},
		{name: "requireOneSlicingArgument with none", query: `{ strictBooks { id } }`,
			want: 10, code: CodeValidationFailed},
		{name: "requireOneSlicingArgument with one", query: `{ strictBooks(last: 4) { id } }`,
			want: 4},
		{name: "sizedFields", query: `{ authors(first: 4) { edges { cursor node { name } } pageInfo { hasNext } } }`,
			want: 10}, // AuthorConnection 1 + 4 × (AuthorEdge 1 + Author 1) + PageInfo 1
		{name: "sizedFields from a variable", query: `query Q($first: Int) { authors(first: $first) { edges { node { name } } } }`, vars: `{"first": 25}`,
			want: 51}, // 1 + 25 × (1 + 1)
		{name: "list of lists", query: `{ shelves { title } }`,
			want: 9}, // 3 × 3 × Book 1
		{name: "list of lists of scalars and a weighted scalar list", query: `{ grid tags }`,
			want: 8}, // grid 10 × 10 × Int 0 + tags 4 × @cost 2
		{name: "lists inside lists", query: `{ bestsellers { author { books { title reviews { body } } } } }`,
			want: 80}, // 5 × (Book 1 + Author 1 + 2 × (Book 1 + 3 × Review @cost 2))
		{name: "slicing argument on a nested field and a field weight", query: `{ book(id: 1) { reviews(first: 2) { stars } } }`,
			want: 7}, // Book 1 + 2 × (Review 2 + stars @cost 1)
		{name: "union: the most expensive member", query: `{ search(max: 2) { ... on Book { title publisher { name } } ... on Author { name books { id } } } }`,
			want: 12}, // 2 × max(Book 1 + Publisher 5, Author 1 + 2 × Book 1)
		{name: "interface with inline and named fragments", query: `query { node(id: 1) { id ... on Book { author { name } } ...A } } fragment A on Author { books { publisher { name } } }`,
			want: 13}, // max(Book 1 + Author 1, Author 1 + 2 × (Book 1 + Publisher 5))
		{name: "named fragments nested", query: `query { book(id: 1) { ...B } } fragment B on Book { author { ...Au } } fragment Au on Author { books { title } }`,
			want: 4}, // Book 1 + Author 1 + 2 × Book 1
		{name: "fragment spread twice counts once", query: `query { book(id: 1) { ...P ...P publisher { name } } } fragment P on Book { publisher { address { zip } } }`,
			want: 7}, // Book 1 + Publisher 5 + Address 1: fields merge by response key
		{name: "aliases count separately", query: `{ a: book(id: 1) { title } b: book(id: 2) { title } }`,
			want: 2},
		{name: "__typename is free", query: `{ __typename book(id: 1) { __typename } }`,
			want: 1},
		{name: "skipped field", query: `query Q($s: Boolean!) { book(id: 1) { publisher @skip(if: $s) { name } } }`, vars: `{"s": true}`,
			want: 1},
		{name: "mutation base and input object arguments", query: `mutation { addBook(input: {title: "x", isbn: "y", author: {name: "z"}}) { id } }`,
			want: 17}, // mutation 10 + Book 1 + BookInput 1 + isbn @cost 4 + AuthorInput 1
		{name: "input object from a variable", query: `mutation M($in: BookInput!) { addBook(input: $in) { id } }`, vars: `{"in": {"title": "x", "isbn": "y"}}`,
			want: 16}, // 10 + 1 + BookInput 1 + isbn 4
		{name: "argument weight on list elements", query: `{ lookup(ids: [1, 2, 3]) { id } }`,
			want: 10}, // 1 × Book 1 + 3 × @cost 3
		{name: "argument weight on list elements from a variable", query: `query Q($ids: [ID!]!) { lookup(ids: $ids) { id } }`, vars: `{"ids": ["a", "b", "c", "d", "e"]}`,
			want: 16}, // 1 + 5 × 3
		{name: "enum argument", query: `{ byRating(rating: GOOD) { id } }`,
			want: 4}, // 2 × Book 1 + Rating @cost 2
		{name: "renamed directives: type weight", fixture: renamed, query: `{ book(id: 1) { title author { name } publisher { name address { zip } } } }`,
			want: 8},
		{name: "renamed directives: list size", fixture: renamed, query: `{ newest(limit: 3) { id } bestsellers { id } }`,
			want: 8}, // 3 + 5
		{name: "IBM: nested slicing argument and string weights", fixture: ibm, query: `{ users(filter: {max: 4}) { name age } }`,
			want: 13}, // 4 × (User 1 + age "2.0") + the Filter argument 1
		{name: "IBM: nested slicing argument default", fixture: ibm, query: `{ users(filter: {active: true}) { name } }`,
			want: 4}, // Filter.max defaults to 3: 3 × User 1 + the Filter argument 1
		{name: "IBM: a weight on an interface field applies to its implementations", fixture: ibm, query: `{ items { price label } }`,
			want: 10}, // 2 × (Item 1 + Priced.price "4")
		{name: "IBM: sizedFields path", fixture: ibm, query: `{ friends(first: 2) { edges { node { name friends { name } } } } }`,
			want: 41}, // Connection 1 + 10 × (UserEdge 1 + User 1 + 2 × User 1): the path sizes friends, not edges
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := tt.fixture
			if f.model == nil {
				f = library
			}
			op, vars := f.operation(t, tt.query, tt.vars)
			got, err := f.model.Estimate(op, vars, CostOptions{ListSize: tt.listSize})
			if tt.code == "" && err != nil {
				t.Fatalf("error %v", err)
			}
			if tt.code != "" {
				var e *Error
				if !errors.As(err, &e) || e.Code != tt.code {
					t.Fatalf("error %v, want code %s", err, tt.code)
				}
			}
			if got != tt.want {
				t.Fatalf("cost %g, want %g", got, tt.want)
			}
		})
	}
}

// TestActual costs responses: real list lengths, nulls, __typename.
func TestActual(t *testing.T) {
	library := loadSupergraph(t, "supergraph.graphql")
	tests := []struct {
		name     string
		query    string
		vars     string
		response string
		want     float64
	}{
		{name: "list shorter than assumed, a null object",
			query:    `{ bestsellers { title author { name } } }`,
			response: `{"data":{"bestsellers":[{"title":"a","author":{"name":"x"}},{"title":"b","author":null}]}}`,
			want:     3}, // 2 books + 1 author
		{name: "list of lists",
			query:    `{ shelves { title } }`,
			response: `{"data":{"shelves":[[{"title":"a"},{"title":"b"}],[{"title":"c"}],null]}}`,
			want:     3},
		{name: "union by __typename",
			query:    `{ search(max: 5) { __typename ... on Book { publisher { name } } ... on Author { books { id } } } }`,
			response: `{"data":{"search":[{"__typename":"Book","publisher":{"name":"p"}},{"__typename":"Author","books":[{"id":"1"}]}]}}`,
			want:     8}, // Book 1 + Publisher 5, Author 1 + Book 1
		{name: "union without __typename: the most expensive type",
			query:    `{ search(max: 5) { ... on Book { publisher { name } } ... on Author { name } } }`,
			response: `{"data":{"search":[{"name":"a"}]}}`,
			want:     1}, // as Book: 1 + no publisher; as Author: 1
		{name: "sizedFields connection",
			query:    `{ authors(first: 50) { edges { node { name } } } }`,
			response: `{"data":{"authors":{"edges":[{"node":{"name":"a"}},{"node":{"name":"b"}},{"node":null}]}}}`,
			want:     6}, // Connection 1 + 3 edges + 2 authors
		{name: "aliases and weighted scalars",
			query:    `{ a: book(id: 1) { price } b: book(id: 2) { price } tags }`,
			response: `{"data":{"a":{"price":1},"b":null,"tags":["x","y"]}}`,
			want:     8}, // a: 1 + 3, b: null, tags 2 × 2
		{name: "mutation with arguments",
			query:    `mutation { addBook(input: {title: "x", isbn: "y"}) { id } }`,
			response: `{"data":{"addBook":{"id":"1"}}}`,
			want:     16}, // mutation 10 + Book 1 + BookInput 1 + isbn @cost 4
		{name: "no data", query: `{ book(id: 1) { title } }`, response: `{"errors":[{"message":"x"}]}`, want: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			op, vars := library.operation(t, tt.query, tt.vars)
			got, err := library.model.ActualFromResponse(op, vars, []byte(tt.response))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("actual cost %g, want %g", got, tt.want)
			}
		})
	}
}

// TestActualMatchesEstimate checks that a response whose lists have
// exactly the assumed sizes costs what was estimated.
func TestActualMatchesEstimate(t *testing.T) {
	library := loadSupergraph(t, "supergraph.graphql")
	op, vars := library.operation(t, `{ bestsellers { author { books { title } } } }`, "")
	est, err := library.model.Estimate(op, vars, CostOptions{})
	if err != nil {
		t.Fatal(err)
	}
	book := `{"author":{"books":[{"title":"a"},{"title":"b"}]}}`
	resp := `{"data":{"bestsellers":[` + book + `,` + book + `,` + book + `,` + book + `,` + book + `]}}`
	act, err := library.model.ActualFromResponse(op, vars, []byte(resp))
	if err != nil {
		t.Fatal(err)
	}
	if est != 20 || act != est { // 5 × (1 + 1 + 2 × 1)
		t.Fatalf("estimated %g, actual %g, want 20 and 20", est, act)
	}
}

// TestEstimateSaturates checks that costs cap instead of overflowing.
func TestEstimateSaturates(t *testing.T) {
	library := loadSupergraph(t, "supergraph.graphql")
	op, vars := library.operation(t, `{ books(first: 2000000000) { reviews(first: 2000000000) { id } } }`, "")
	got, _ := library.model.Estimate(op, vars, CostOptions{})
	if got != maxCost {
		t.Fatalf("cost %g, want the cap %g", got, float64(maxCost))
	}
}

func TestCostDirectiveNames(t *testing.T) {
	for _, tt := range []struct{ file, cost, size string }{
		{"supergraph.graphql", "cost", "listSize"},
		{"renamed.graphql", "weight", "size"},
	} {
		sdl, err := os.ReadFile("testdata/cost/" + tt.file)
		if err != nil {
			t.Fatal(err)
		}
		sg, err := schema.Load(string(sdl))
		if err != nil {
			t.Fatal(err)
		}
		cost, size := costDirectiveNames(sg.Full)
		if cost != tt.cost || size != tt.size {
			t.Errorf("%s: names %q %q, want %q %q", tt.file, cost, size, tt.cost, tt.size)
		}
	}
}

// FuzzEstimate checks that costing any valid operation of the fixture, with
// any response, neither panics nor leaves the range [0, maxCost].
func FuzzEstimate(f *testing.F) {
	for _, s := range []string{
		`{ books(first: 3) { reviews(first: 2) { body } author { books { id } } } }`,
		`{ search(max: 2) { ... on Book { title } ... on Author { name } } shelves { id } grid }`,
		`{ authors(first: 4) { edges { node { name } } } node(id: 1) { id } }`,
		`mutation { addBook(input: {title: "x", author: {name: "y"}}) { id } }`,
		`{ lookup(ids: ["1", "2"]) { price rating } tags money expensive }`,
	} {
		f.Add(s, `{"data":{"books":[{"reviews":[{"body":"x"}],"author":null}],"search":[{"__typename":"Author"}]}}`)
	}
	sdl, err := os.ReadFile("testdata/cost/supergraph.graphql")
	if err != nil {
		f.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		f.Fatal(err)
	}
	m := NewCostModel(sg.Full)
	f.Fuzz(func(t *testing.T, query, response string) {
		if len(query) > 4096 || len(response) > 4096 {
			return
		}
		doc, err := DefaultStatic().Parse(query)
		if err != nil || DefaultStatic().Check(doc) != nil {
			return
		}
		if errs := validator.Validate(sg.API, doc); len(errs) > 0 || len(doc.Operations) != 1 {
			return
		}
		op, err := planner.Normalize(sg.API, doc, "", nil)
		if err != nil {
			return
		}
		est, _ := m.Estimate(op, nil, CostOptions{ListSize: 1 << 20})
		if !(est >= 0 && est <= maxCost) {
			t.Fatalf("estimate %g", est)
		}
		if act, err := m.ActualFromResponse(op, nil, []byte(response)); err == nil && !(act >= 0 && act <= maxCost) {
			t.Fatalf("actual %g", act)
		}
	})
}

// TestEstimateMemo: a memo gives the estimate Estimate gives, remembered
// only for an operation without variables and without error, and made
// again for another operation, model or list size.
func TestEstimateMemo(t *testing.T) {
	f := loadSupergraph(t, "supergraph.graphql")
	other := loadSupergraph(t, "supergraph.graphql")
	var m EstimateMemo
	catalog, _ := f.operation(t, `{ catalog { title } }`, "")
	check := func(name string, model *CostModel, op *planner.Operation, vars map[string]any, listSize int, want float64, remembered bool) {
		t.Helper()
		got, err := m.estimate(model, op, vars, CostOptions{ListSize: listSize})
		if err != nil || got != want {
			t.Fatalf("%s: estimate %g, %v; want %g", name, got, err, want)
		}
		if r := m.last.Load(); (r != nil && r.op == op && r.model == model && r.listSize == listSize) != remembered {
			t.Fatalf("%s: remembered %v, want %v", name, r != nil, remembered)
		}
	}
	check("first", f.model, catalog, nil, 0, 10, true)
	check("again", f.model, catalog, nil, 0, 10, true)
	check("another list size", f.model, catalog, nil, 4, 4, true)
	check("another model", other.model, catalog, nil, 4, 4, true)
	best, _ := f.operation(t, `{ bestsellers { title author { name } } }`, "")
	check("another operation", f.model, best, nil, 0, 10, true)
	newest, vars := f.operation(t, `query Q($n: Int!) { newest(limit: $n) { id } }`, `{"n": 20}`)
	check("variables", f.model, newest, vars, 0, 20, false)
	check("other variables", f.model, newest, map[string]any{"n": 3}, 0, 3, false)
	strict, _ := f.operation(t, `{ strictBooks(first: 1, last: 2) { id } }`, "")
	for range 2 {
		if _, err := m.estimate(f.model, strict, nil, CostOptions{}); err == nil {
			t.Fatal("an estimate's error was remembered away")
		}
	}
	var none *EstimateMemo
	if got, err := none.estimate(f.model, catalog, nil, CostOptions{}); err != nil || got != 10 {
		t.Fatalf("no memo: %g, %v", got, err)
	}
}
