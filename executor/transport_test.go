package executor_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/valyala/fastjson"
	"github.com/vektah/gqlparser/v2"
)

// handlerTransport is the one-method Transport over in-process handlers:
// no sockets, the subgraph answers as it would over HTTP.
type handlerTransport struct {
	handlers map[string]http.Handler
	mu       sync.Mutex
	sent     []string // request bodies, in order
}

func (t *handlerTransport) Fetch(ctx context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	h := t.handlers[subgraph]
	if h == nil {
		return nil, fmt.Errorf("no subgraph %q", subgraph)
	}
	t.mu.Lock()
	t.sent = append(t.sent, string(req.Body))
	t.mu.Unlock()
	r := httptest.NewRequest(http.MethodPost, demo.Path, bytes.NewReader(req.Body)).WithContext(ctx)
	r.Header.Set("Content-Type", "application/json")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return &executor.Response{Body: w.Body.Bytes()}, nil
}

// cannedTransport answers each subgraph with fixed bodies, in turn.
type cannedTransport struct {
	answers map[string][]string
	mu      sync.Mutex
	sent    map[string][]string
}

func (t *cannedTransport) Fetch(_ context.Context, subgraph string, req *executor.Request) (*executor.Response, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.sent == nil {
		t.sent = map[string][]string{}
	}
	t.sent[subgraph] = append(t.sent[subgraph], string(req.Body))
	list := t.answers[subgraph]
	if len(list) == 0 {
		return nil, &executor.FetchError{Code: "SUBREQUEST_HTTP_ERROR", Message: "no canned answer"}
	}
	t.answers[subgraph] = list[1:]
	return &executor.Response{Body: []byte(list[0])}, nil
}

var demoGraph = func() func(t *testing.T) *schema.Supergraph {
	var once sync.Once
	var sg *schema.Supergraph
	var err error
	return func(t *testing.T) *schema.Supergraph {
		t.Helper()
		once.Do(func() { sg, err = schema.Load(gateway.DemoSupergraph) })
		if err != nil {
			t.Fatal(err)
		}
		return sg
	}
}()

// loadSupergraph loads the supergraph in file.
func loadSupergraph(t *testing.T, file string) *schema.Supergraph {
	t.Helper()
	sdl, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

// run plans and executes query and returns the decoded response.
func run(t *testing.T, sg *schema.Supergraph, tr executor.Transport, query string) *fastjson.Value {
	t.Helper()
	out := execute(t, sg, tr, query)
	v, err := fastjson.ParseBytes([]byte(out))
	if err != nil {
		t.Fatalf("%s: %v: %s", query, err, out)
	}
	return v
}

// planQuery validates, normalizes and plans query against sg; a query
// that does not plan fails the test.
func planQuery(t *testing.T, sg *schema.Supergraph, query string) *planner.Plan {
	t.Helper()
	doc, errs := gqlparser.LoadQuery(sg.API, query)
	if len(errs) > 0 {
		t.Fatalf("%s: %v", query, errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		t.Fatalf("%s: plan: %v", query, err)
	}
	return p
}

// execute validates, normalizes and plans query against sg, executes the
// plan over tr and returns the response as it is; a query that does not
// plan fails the test.
func execute(t *testing.T, sg *schema.Supergraph, tr executor.Transport, query string) string {
	t.Helper()
	p := planQuery(t, sg, query)
	return string(executor.Execute(context.Background(), p, executor.Input{}, tr, nil))
}

// TestAliasesNamedLikePlannerFields runs, on the demo subgraphs, operations
// whose aliases take the names of fields the planner adds for itself
// (keys, compound key parts, __typename, the reserved prefix) and compares
// each with the same operation without those aliases: only the response
// keys may differ.
func TestAliasesNamedLikePlannerFields(t *testing.T) {
	sg := demoGraph(t)
	tr := &handlerTransport{handlers: demo.Handlers()}
	cases := []struct {
		aliased, plain string
	}{
		{`{ latestReviews(first: 2) { product { upc: name inStock } } }`,
			`{ latestReviews(first: 2) { product { name inStock } } }`},
		{`{ latestReviews(first: 2) { product { sku: name upc: price inStock } } }`,
			`{ latestReviews(first: 2) { product { name price inStock } } }`},
		{`{ latestReviews(first: 2) { product { __typename: name inStock } } }`,
			`{ latestReviews(first: 2) { product { name inStock } } }`},
		{`{ latestReviews(first: 2) { product { _fed_k0_upc: name _fed_c_x: upc inStock } } }`,
			`{ latestReviews(first: 2) { product { name upc inStock } } }`},
		{`{ latestReviews(first: 2) { id: body author { id: name } } }`,
			`{ latestReviews(first: 2) { body author { name } } }`},
		{`{ topProducts { upc: inStock reviews { id: body } } }`,
			`{ topProducts { inStock reviews { body } } }`},
	}
	for _, c := range cases {
		got := run(t, sg, tr, c.aliased)
		want := run(t, sg, tr, c.plain)
		if got.Get("errors") != nil || want.Get("errors") != nil || got.Get("data").Type() != fastjson.TypeObject {
			t.Errorf("%s:\n got %s\nwant %s", c.aliased, got, want)
			continue
		}
		if !reflect.DeepEqual(values(got.Get("data")), values(want.Get("data"))) {
			t.Errorf("%s:\n got %s\nwant %s", c.aliased, got, want)
		}
	}
}

// values lists the values of v in document order without object keys, so
// responses that differ only in response keys compare equal.
func values(v *fastjson.Value) []string {
	var out []string
	var walk func(v *fastjson.Value)
	walk = func(v *fastjson.Value) {
		switch v.Type() {
		case fastjson.TypeObject:
			out = append(out, "{")
			v.GetObject().Visit(func(_ []byte, x *fastjson.Value) { walk(x) })
			out = append(out, "}")
		case fastjson.TypeArray:
			out = append(out, "[")
			for _, x := range v.GetArray() {
				walk(x)
			}
			out = append(out, "]")
		default:
			out = append(out, v.String())
		}
	}
	walk(v)
	return out
}

// TestOutputRewritesAndErrorPaths runs a hand-built plan whose fetch had
// to alias a field (a type conflict inside an abstract selection): the
// answer is merged under the data key and the subgraph's error path names
// the client's response key, not the alias.
func TestOutputRewritesAndErrorPaths(t *testing.T) {
	sg := demoGraph(t)
	doc, errs := gqlparser.LoadQuery(sg.API, `{ search(term: "a") { ... on Product { name } ... on User { name } } }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	plan := &planner.Plan{Operation: op, Shape: shapeOf(t, op), Fetches: 1, Root: &planner.Fetch{Subgraph: "products", OperationKind: "query",
		Operation:      `{search(term:"a"){__typename ...on Product{name} ...on User{_fed_t0_name:name}}}`,
		OutputRewrites: []*planner.OutputRewrite{{Path: []string{"search"}, From: "_fed_t0_name", To: "name"}}}}
	tr := &cannedTransport{answers: map[string][]string{"products": {
		`{"data":{"search":[{"__typename":"Product","name":"Chair"},{"__typename":"User","_fed_t0_name":"Ann"}]},` +
			`"errors":[{"message":"boom","path":["search",1,"_fed_t0_name"]}]}`}}}
	got := string(executor.Execute(context.Background(), plan, executor.Input{}, tr, nil))
	want := `{"data":{"search":[{"name":"Chair"},{"name":"Ann"}]},"errors":[{"message":"boom","path":["search",1,"name"],"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"products"}}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestConflictAliasOfEscapedKeyErrorPath: a fetch's conflict alias of a
// client key the gateway escaped already (the client's __typename: name
// has the data key _fed_c___typename, which the fetch aliases again as
// _fed_t0__fed_c___typename) names the client's key in an error path, as
// both reference gateways do; it named the inner data key
// (graphgen 1960, seed 18001, DIFFTEST_ERRORS=2).
func TestConflictAliasOfEscapedKeyErrorPath(t *testing.T) {
	sg := demoGraph(t)
	doc, errs := gqlparser.LoadQuery(sg.API, `{ search(term: "a") { ... on Product { __typename: name } ... on User { __typename: name } } }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	plan := &planner.Plan{Operation: op, Shape: shapeOf(t, op), Fetches: 1, Root: &planner.Fetch{Subgraph: "products", OperationKind: "query",
		Operation:      `{search(term:"a"){__typename ...on Product{_fed_c___typename:name} ...on User{_fed_t0__fed_c___typename:name}}}`,
		OutputRewrites: []*planner.OutputRewrite{{Path: []string{"search"}, From: "_fed_t0__fed_c___typename", To: "_fed_c___typename"}}}}
	tr := &cannedTransport{answers: map[string][]string{"products": {
		`{"data":{"search":[{"__typename":"Product","_fed_c___typename":"Chair"},{"__typename":"User","_fed_t0__fed_c___typename":"Ann"}]},` +
			`"errors":[{"message":"boom","path":["search",1,"_fed_t0__fed_c___typename"]}]}`}}}
	got := string(executor.Execute(context.Background(), plan, executor.Input{}, tr, nil))
	want := `{"data":{"search":[{"__typename":"Chair"},{"__typename":"Ann"}]},"errors":[{"message":"boom","path":["search",1,"__typename"],"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"products"}}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

// TestEntityFetchMergeNullsAndErrorPaths runs a hand-built two-fetch plan
// through the canned transport: the entity answers are merged into the
// objects whose representations they answer (one representation shared by
// two objects, over three Flatten paths), an entity error is re-pathed to
// the object that sent that representation, and a null non-null field
// propagates to the nearest nullable parent.
func TestEntityFetchMergeNullsAndErrorPaths(t *testing.T) {
	sg := demoGraph(t)
	doc, errs := gqlparser.LoadQuery(sg.API, `{ a: review(id: "1") { body product { upc inStock } } b: review(id: "2") { body product { upc inStock } } c: review(id: "3") { body product { upc inStock } } }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	root := &planner.Fetch{Subgraph: "reviews", OperationKind: "query",
		Operation: `{a:review(id:"1"){body product{__typename upc}} b:review(id:"2"){body product{__typename upc}} c:review(id:"3"){body product{__typename upc}}}`}
	inv := &planner.Fetch{Subgraph: "inventory", OperationKind: "query",
		Operation: `query($representations:[_Any!]!){_entities(representations:$representations){...on Product{inStock}}}`,
		Requires: []*planner.Requirement{{TypeName: "Product", RepresentationType: "Product",
			Fields: []*planner.RequiredField{{Name: "upc", Key: "upc"}}}}}
	plan := &planner.Plan{Operation: op, Shape: shapeOf(t, op), Fetches: 2, Root: &planner.Sequence{Nodes: []planner.Node{root,
		&planner.Flatten{Path: []string{"a", "product"}, Paths: [][]string{{"a", "product"}, {"b", "product"}, {"c", "product"}}, Node: inv}}}}
	tr := &cannedTransport{answers: map[string][]string{
		"reviews": {`{"data":{` +
			`"a":{"body":"a","product":{"__typename":"Product","upc":"1"}},` +
			`"b":{"body":"b","product":{"__typename":"Product","upc":"2"}},` +
			`"c":{"body":"c","product":{"__typename":"Product","upc":"1"}}}}`},
		"inventory": {`{"data":{"_entities":[{"inStock":true},{"inStock":null}]},` +
			`"errors":[{"message":"no stock data","path":["_entities",1,"inStock"]}]}`},
	}}
	got := string(executor.Execute(context.Background(), plan, executor.Input{}, tr, nil))
	want := `{"data":{"a":{"body":"a","product":{"upc":"1","inStock":true}},"b":null,"c":{"body":"c","product":{"upc":"1","inStock":true}}},` +
		`"errors":[{"message":"no stock data","path":["b","product","inStock"],"extensions":{"code":"DOWNSTREAM_SERVICE_ERROR","serviceName":"inventory"}}]}`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Two objects, one representation: the subgraph saw it once.
	if sent := tr.sent["inventory"]; len(sent) != 1 || !strings.Contains(sent[0], `"representations":[{"__typename":"Product","upc":"1"},{"__typename":"Product","upc":"2"}]`) {
		t.Errorf("inventory request: %v", sent)
	}
}

// TestSharedRepresentationGetsOwnObjects: two objects with one
// representation get the entity answer each in objects of their own, so
// that later fetches along one path (here name, and sku under the alias
// name along the other) do not write into the other's objects.
func TestSharedRepresentationGetsOwnObjects(t *testing.T) {
	sg := demoGraph(t)
	doc, errs := gqlparser.LoadQuery(sg.API, `{ a: review(id: "1") { product { name } } b: review(id: "1") { product { name: sku } } }`)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	key := []*planner.RequiredField{{Name: "upc", Key: "upc"}}
	root := &planner.Fetch{Subgraph: "reviews", OperationKind: "query", Operation: `{ irrelevant }`}
	reviews := &planner.Fetch{Subgraph: "reviews", OperationKind: "query", Operation: `{ irrelevant }`,
		Requires: []*planner.Requirement{{TypeName: "Review", RepresentationType: "Review", Fields: []*planner.RequiredField{{Name: "id", Key: "id"}}}}}
	names := &planner.Fetch{Subgraph: "products", OperationKind: "query", Operation: `{ irrelevant }`,
		Requires: []*planner.Requirement{{TypeName: "Product", RepresentationType: "Product", Fields: key}}}
	skus := &planner.Fetch{Subgraph: "products", OperationKind: "query", Operation: `{ irrelevant }`,
		Requires: []*planner.Requirement{{TypeName: "Product", RepresentationType: "Product", Fields: key}}}
	plan := &planner.Plan{Operation: op, Shape: shapeOf(t, op), Fetches: 4, Root: &planner.Sequence{Nodes: []planner.Node{root,
		&planner.Flatten{Path: []string{"a"}, Paths: [][]string{{"a"}, {"b"}}, Node: reviews},
		&planner.Parallel{Nodes: []planner.Node{
			&planner.Flatten{Path: []string{"a", "product"}, Node: names},
			&planner.Flatten{Path: []string{"b", "product"}, Node: skus},
		}},
	}}}
	tr := &cannedTransport{answers: map[string][]string{
		"reviews": {`{"data":{"a":{"__typename":"Review","id":"1"},"b":{"__typename":"Review","id":"1"}}}`,
			`{"data":{"_entities":[{"product":{"__typename":"Product","upc":"1"}}]}}`},
		"products": {`{"data":{"_entities":[{"name":"Table"}]}}`, `{"data":{"_entities":[{"name":"SKU-1"}]}}`},
	}}
	got := string(executor.Execute(context.Background(), plan, executor.Input{}, tr, nil))
	a, b := `{"a":{"product":{"name":"Table"}}`, `"b":{"product":{"name":"SKU-1"}}`
	c, d := `{"a":{"product":{"name":"SKU-1"}}`, `"b":{"product":{"name":"Table"}}`
	// The two products fetches run in parallel: either answer may come
	// first, each must land on its own path.
	if got != `{"data":`+a+","+b+`}}` && got != `{"data":`+c+","+d+`}}` {
		t.Errorf("got %s", got)
	}
	if strings.Count(got, "Table") != 1 || strings.Count(got, "SKU-1") != 1 {
		t.Errorf("one answer landed on both paths: %s", got)
	}
}

// shapeOf is the render shape of op with nothing denied, for hand-built
// plans.
func shapeOf(t *testing.T, op *planner.Operation) *planner.Shape {
	t.Helper()
	s, err := planner.BuildShape(op, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
