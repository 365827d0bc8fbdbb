package fixturesub_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/schema/compose"
)

// handlers builds, with opts, the fixture subgraphs of the supergraph in
// file.
func handlers(t *testing.T, file string, opts ...fixturesub.Option) map[string]http.Handler {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := schema.Load(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return fixturesub.Handlers(sg, opts...)
}

func post(t *testing.T, h http.Handler, query string, vars map[string]any) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"query": query, "variables": vars})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/graphql", bytes.NewReader(body)))
	if rec.Code != http.StatusOK {
		t.Fatalf("HTTP %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}

// faultGraph is the supergraph whose subgraph "side" answers Thing
// entities with a nullable (extra) and a non-null (extraCount) field.
const faultGraph = "../../testdata/supergraphs/fault.graphql"

// thingVars are variables "r" for n representations of Thing, ids 1 to n.
func thingVars(n int) map[string]any {
	var reps []any
	for i := 1; i <= n; i++ {
		reps = append(reps, map[string]any{"__typename": "Thing", "id": strconv.Itoa(i)})
	}
	return map[string]any{"r": reps}
}

// entitiesAnswer is an _entities response with the paths of its errors.
type entitiesAnswer struct {
	Data struct {
		Entities []map[string]any `json:"_entities"`
	} `json:"data"`
	Errors []struct {
		Path []any `json:"path"`
	} `json:"errors"`
}

// postEntities posts the _entities query q with vars to h and decodes the
// answer, which it also returns as it came.
func postEntities(t *testing.T, h http.Handler, q string, vars map[string]any) (entitiesAnswer, string) {
	t.Helper()
	out := post(t, h, q, vars)
	var got entitiesAnswer
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return got, out
}

// TestEntitiesAgreeAcrossSubgraphs: an entity a root field of one subgraph
// returns is found again by its key in the others, which echo the key and
// answer deterministically; a fixed-up key changes the answer.
func TestEntitiesAgreeAcrossSubgraphs(t *testing.T) {
	hs := handlers(t, "../../testdata/supergraphs/key_chain.graphql")
	root := post(t, hs["stock"], `{ restock { __typename id inStock } }`, nil)
	var got struct {
		Data struct {
			Restock []map[string]any `json:"restock"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(root), &got); err != nil || len(got.Data.Restock) == 0 {
		t.Fatalf("restock: %v %s", err, root)
	}
	first := got.Data.Restock[0]
	id := first["id"].(string)
	q := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id upc name } } }`
	reps := map[string]any{"r": []any{map[string]any{"__typename": "Product", "id": id}}}
	a := post(t, hs["catalog"], q, reps)
	if b := post(t, hs["catalog"], q, reps); a != b {
		t.Fatalf("not deterministic:\n%s\n%s", a, b)
	}
	if !strings.Contains(a, `"id":"`+id+`"`) {
		t.Fatalf("key not echoed: %s", a)
	}
	// The upc key encodes the same identity, so reviews, which knows the
	// product by upc, reaches the same entity.
	var cat struct {
		Data struct {
			Entities []map[string]any `json:"_entities"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(a), &cat); err != nil {
		t.Fatal(err)
	}
	if upc := cat.Data.Entities[0]["upc"]; upc != id {
		t.Fatalf("upc %v does not encode the identity %s", upc, id)
	}
	other := post(t, hs["catalog"], q, map[string]any{"r": []any{map[string]any{"__typename": "Product", "id": id + "1"}}})
	if other == a {
		t.Fatal("another key gave the same entity")
	}
}

func TestRequiresInputsChangeTheAnswer(t *testing.T) {
	hs := handlers(t, "../../testdata/supergraphs/requires_nested.graphql")
	q := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Parcel { insurance } } }`
	rep := func(postage int) map[string]any {
		return map[string]any{"r": []any{map[string]any{"__typename": "Parcel", "id": "3", "postage": postage}}}
	}
	a, b := post(t, hs["insure"], q, rep(10)), post(t, hs["insure"], q, rep(11))
	if a == b {
		t.Fatalf("@requires input ignored: %s", a)
	}
	if c := post(t, hs["insure"], q, rep(10)); c != a {
		t.Fatalf("not deterministic: %s %s", a, c)
	}
}

func TestRejectsWhatTheSubgraphDoesNotDefine(t *testing.T) {
	hs := handlers(t, "../../testdata/supergraphs/key_chain.graphql")
	for _, tc := range []struct{ name, graph, query string }{
		{"field of another subgraph", "stock", `{ restock { name } }`},
		{"root field of another subgraph", "stock", `{ reviews { body } }`},
		{"not GraphQL", "stock", `{ restock {`},
		{"unknown fragment", "stock", `{ restock { ...F } }`},
	} {
		out := post(t, hs[tc.graph], tc.query, nil)
		if !strings.Contains(out, `"data":null`) || !strings.Contains(out, `"errors"`) {
			t.Errorf("%s: %s", tc.name, out)
		}
	}
	rec := httptest.NewRecorder()
	hs["stock"].ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{")))
	if rec.Code != http.StatusBadRequest {
		t.Errorf("bad JSON: HTTP %d", rec.Code)
	}
}

// TestErrorsCarryTheirPath: WithErrors turns some nullable values into
// null plus an error whose path leads to that null.
func TestErrorsCarryTheirPath(t *testing.T) {
	plain := handlers(t, faultGraph)["side"]
	withErrors := handlers(t, faultGraph, fixturesub.WithErrors())["side"]
	q := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { extra extraCount } } }`
	vars := thingVars(200)
	if out := post(t, plain, q, vars); strings.Contains(out, "errors") {
		t.Fatalf("errors without WithErrors: %s", out)
	}
	got, out := postEntities(t, withErrors, q, vars)
	// Thing.extra is nullable: some of 200 entities get an error, each
	// at the path of a null.
	if len(got.Errors) == 0 {
		t.Fatalf("no errors in 200 entities: %s", out)
	}
	for _, e := range got.Errors {
		if len(e.Path) != 3 || e.Path[0] != "_entities" {
			t.Fatalf("error path %v", e.Path)
		}
		i := int(e.Path[1].(float64))
		if v, ok := got.Data.Entities[i][e.Path[2].(string)]; !ok || v != nil {
			t.Fatalf("error at %v but the value is %v", e.Path, v)
		}
	}
}

// TestNonNullErrorsPropagate: WithNonNullErrors makes some non-null
// values fail; the subgraph nulls the nearest nullable position (here the
// _entities item), the error at the failed field's path, and answers the
// other entities in full.
func TestNonNullErrorsPropagate(t *testing.T) {
	q := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Thing { extraCount } } }`
	vars := thingVars(200)
	if out := post(t, handlers(t, faultGraph, fixturesub.WithErrors())["side"], q, vars); strings.Contains(out, "errors") {
		t.Fatalf("non-null errors with WithErrors alone: %s", out)
	}
	got, out := postEntities(t, handlers(t, faultGraph, fixturesub.WithNonNullErrors())["side"], q, vars)
	if len(got.Errors) == 0 || len(got.Data.Entities) != 200 {
		t.Fatalf("want some errors and 200 entities: %s", out)
	}
	failed := map[int]bool{}
	for _, e := range got.Errors {
		if len(e.Path) != 3 || e.Path[0] != "_entities" || e.Path[2] != "extraCount" {
			t.Fatalf("error path %v", e.Path)
		}
		failed[int(e.Path[1].(float64))] = true
	}
	for i, ent := range got.Data.Entities {
		switch {
		case failed[i] && ent != nil:
			t.Errorf("entity %d failed but is %v", i, ent)
		case !failed[i] && (ent == nil || ent["extraCount"] == nil):
			t.Errorf("entity %d did not fail but is %v", i, ent)
		}
	}
}

// TestListKeyEntityAnswersAlike: an entity whose key selects a list
// (Shelf @key(fields: "books { isbn }")) answers, resolved through that
// key, the objects its representation names, as at the root.
func TestListKeyEntityAnswersAlike(t *testing.T) {
	hs := handlers(t, "../../testdata/compose/nested_key_jump/supergraph.graphql")
	root := post(t, hs["shelf"], `{ shelf { books { isbn } } }`, nil)
	var got struct {
		Data struct {
			Shelf map[string]any `json:"shelf"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(root), &got); err != nil || got.Data.Shelf == nil {
		t.Fatalf("%v: %s", err, root)
	}
	rep := map[string]any{"__typename": "Shelf", "books": got.Data.Shelf["books"]}
	ent := post(t, hs["shelf"], `query($r: [_Any!]!) { _entities(representations: $r) { ... on Shelf { books { isbn } } } }`,
		map[string]any{"r": []any{rep}})
	want, _ := json.Marshal(map[string]any{"data": map[string]any{"_entities": []any{map[string]any{"books": got.Data.Shelf["books"]}}}})
	if ent != string(want) {
		t.Errorf("root %s\nentity %s, want %s", root, ent, want)
	}
}

// TestArgumentsHashAfterCoercion: one argument value written in the ways
// input coercion makes equal (spec 3.5, 3.11) gives one answer: an ID as
// a string or an Int, one item or a list of it, inline or as a variable.
// Gateways differ in how they forward arguments (Apollo Gateway prints
// the ID "4" as 4).
func TestArgumentsHashAfterCoercion(t *testing.T) {
	hs := handlers(t, "../../testdata/compose/input_types/supergraph.graphql")
	same := func(name string, queries ...string) {
		t.Helper()
		first := post(t, hs["a"], queries[0], map[string]any{"v": []any{"e"}, "w": "e"})
		for _, q := range queries[1:] {
			if got := post(t, hs["a"], q, map[string]any{"v": []any{"e"}, "w": "e"}); got != first {
				t.Errorf("%s: %s answers %s, %s answers %s", name, queries[0], first, q, got)
			}
		}
	}
	same("one item for a list",
		`{ a(f: { x: 1, y: ["e"] }) }`,
		`{ a(f: { x: 1, y: "e" }) }`,
		`query($v: [String]) { a(f: { x: 1, y: $v }) }`,
		`query($w: String) { a(f: { x: 1, y: $w }) }`)
	other := post(t, hs["a"], `{ a(f: { x: 1, y: ["a"] }) }`, nil)
	if other == post(t, hs["a"], `{ a(f: { x: 1, y: ["e"] }) }`, nil) {
		t.Errorf("other arguments give the same answer %s: the test shows nothing", other)
	}
	ids := handlers(t, "../../testdata/compose/descriptions/supergraph.graphql")["a"]
	str := post(t, ids, `{ user(id: "4") { id name } }`, nil)
	if got := post(t, ids, `{ user(id: 4) { id name } }`, nil); got != str {
		t.Errorf(`user(id: "4") answers %s, user(id: 4) answers %s`, str, got)
	}
	if got := post(t, ids, `query($i: ID!) { user(id: $i) { id name } }`, map[string]any{"i": 4}); got != str {
		t.Errorf(`user(id: "4") answers %s, user(id: $i) with i 4 answers %s`, str, got)
	}
	// -0.0 is 0: a gateway that parses the literal and prints the number
	// (JavaScript prints -0 as 0) forwards 0.
	shapes := handlers(t, "../../testdata/compose/client_shapes/supergraph.graphql")["grid"]
	same = func(name string, queries ...string) {
		t.Helper()
		first := post(t, shapes, queries[0], map[string]any{"s": 0})
		for _, q := range queries[1:] {
			if got := post(t, shapes, q, map[string]any{"s": 0}); got != first {
				t.Errorf("%s: %s answers %s, %s answers %s", name, queries[0], first, q, got)
			}
		}
	}
	same("negative zero", `{ matrix(scale: 0) }`, `{ matrix(scale: -0.0) }`, `{ matrix(scale: -0) }`, `query($s: Float) { matrix(scale: $s) }`)
	// An Int literal beyond 64 bits is a valid Float, ID or custom scalar
	// value (the subgraph failed on it): the number a gateway that parses
	// it (as JavaScript does) forwards, or its digits for an ID.
	sameWith := func(name string, vars map[string]any, queries ...string) {
		t.Helper()
		first := post(t, shapes, queries[0], vars)
		if strings.Contains(first, "errors") {
			t.Errorf("%s: %s answers %s", name, queries[0], first)
		}
		for _, q := range queries[1:] {
			if got := post(t, shapes, q, vars); got != first {
				t.Errorf("%s: %s answers %s, %s answers %s", name, queries[0], first, q, got)
			}
		}
	}
	const wide = "123456789012345678901234567890"
	sameWith("wide Float", map[string]any{"s": 1.2345678901234568e29}, `{ matrix(scale: `+wide+`) }`, `query($s: Float) { matrix(scale: $s) }`, `query($s: Float = `+wide+`) { matrix(scale: $s) }`)
	sameWith("wide custom scalar", map[string]any{"s": 1.2345678901234568e29}, `{ grid(filter: `+wide+`) { id } }`, `query($s: JSON) { grid(filter: $s) { id } }`)
	sameWith("wide ID", map[string]any{"s": wide}, `{ node(id: `+wide+`) { id } }`, `query($s: ID!) { node(id: $s) { id } }`)
}

// TestNestedKeyObjectEncodesTheEntity: a key object a root field answers
// (no representation names it) shares the entity's identity, so its key
// leaves are the entity's small number (an Int key within 32 bits) and a
// subgraph asked with that key finds the same entity.
func TestNestedKeyObjectEncodesTheEntity(t *testing.T) {
	res, err := compose.Compose([]compose.Subgraph{
		{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
type Query { products: [Product!]! }
type Product @key(fields: "id loc { code zone }") { id: ID! loc: Loc! name: String }
type Loc @shareable { code: String! zone: Int! }`},
		{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
type Product @key(fields: "id loc { code zone }") { id: ID! loc: Loc! price: Int }
type Loc @shareable { code: String! zone: Int! }`},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := fixturesub.Handlers(res.Supergraph)
	root := post(t, hs["a"], `{ products { id loc { code zone } } }`, nil)
	var got struct {
		Data struct {
			Products []struct {
				ID  string `json:"id"`
				Loc struct {
					Code string `json:"code"`
					Zone int64  `json:"zone"`
				} `json:"loc"`
			} `json:"products"`
		} `json:"data"`
	}
	if err := json.Unmarshal([]byte(root), &got); err != nil || len(got.Data.Products) == 0 {
		t.Fatalf("%v: %s", err, root)
	}
	for _, p := range got.Data.Products {
		if p.Loc.Code != p.ID || strconv.FormatInt(p.Loc.Zone, 10) != p.ID {
			t.Errorf("product %s: loc %+v does not encode its identity", p.ID, p.Loc)
		}
	}
}

// TestRequiresInputsKeepTheIdentity: the @requires inputs of a
// representation (here a number that sorts before the key) do not change
// which entity it names: a field that requires nothing answers alike.
func TestRequiresInputsKeepTheIdentity(t *testing.T) {
	res, err := compose.Compose([]compose.Subgraph{
		{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@external", "@requires"])
type User @key(fields: "upc") { upc: String! flag: Boolean name: String a7: Int @external needs: Int @requires(fields: "a7") }`},
		{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key"])
type Query { users: [User!] }
type User @key(fields: "upc") { upc: String! a7: Int }`},
	})
	if err != nil {
		t.Fatal(err)
	}
	hs := fixturesub.Handlers(res.Supergraph)
	q := `query($r: [_Any!]!) { _entities(representations: $r) { ... on User { flag name } } }`
	for _, upc := range []string{"3", "20"} {
		plain := post(t, hs["a"], q, map[string]any{"r": []any{map[string]any{"__typename": "User", "upc": upc}}})
		with := post(t, hs["a"], q, map[string]any{"r": []any{map[string]any{"__typename": "User", "upc": upc, "a7": 29}}})
		if plain != with {
			t.Errorf("upc %s: %s without the @requires input, %s with it", upc, plain, with)
		}
	}
}

// TestPlantedAnswers: a field WithAnswers plants is answered with the raw
// JSON, whatever its type, under its alias, for the arguments the plant
// asks about; other fields and arguments keep the generated data.
func TestPlantedAnswers(t *testing.T) {
	plant := func(typ, field, args string) (string, bool) {
		if field == "int" && args == `{"shape":"object"}` {
			return `{"a":[1,"x"]}`, true
		}
		if typ == "Strict" && field == "id" {
			return `5`, true
		}
		return "", false
	}
	file := "../../testdata/supergraphs/leaf_coercion.graphql"
	h := handlers(t, file, fixturesub.WithAnswers(plant))["leaves"]
	got := post(t, h, `{ x: int(shape: "object") y: int(shape: "other") strict { id(shape: "s") } }`, nil)
	plain := post(t, handlers(t, file)["leaves"], `{ x: int(shape: "object") y: int(shape: "other") strict { id(shape: "s") } }`, nil)
	var a, b struct {
		Data struct {
			X, Y   json.RawMessage
			Strict struct{ ID json.RawMessage }
		}
	}
	if err := json.Unmarshal([]byte(got), &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(plain), &b); err != nil {
		t.Fatal(err)
	}
	if string(a.Data.X) != `{"a":[1,"x"]}` || string(a.Data.Strict.ID) != `5` || string(a.Data.Y) != string(b.Data.Y) || len(a.Data.Y) == 0 {
		t.Errorf("planted answer %s, without the plant %s", got, plain)
	}
}

// TestOptionalVariables: a nullable variable in a non-null position that
// has a default (spec 5.8.5) takes the default when the request leaves it
// out, also in an input object value (3.10), and raises a field error at
// the field when sent null (6.4.1), which a non-null field propagates, as
// a graphql-js subgraph answers.
func TestOptionalVariables(t *testing.T) {
	hs := handlers(t, "../../testdata/compose/input_coercion/supergraph.graphql")
	cases := []struct {
		name, query, same string
		vars              map[string]any
		errorPath         string
	}{
		{name: "argument left out", query: `query($s: Int) { echo(strict: $s) }`, same: `{ echo(strict: 4) }`},
		{name: "argument sent", query: `query($s: Int) { echo(strict: $s) }`, vars: map[string]any{"s": 3}, same: `{ echo(strict: 3) }`},
		{name: "argument sent null", query: `query($s: Int) { echo(strict: $s) }`, vars: map[string]any{"s": nil}, errorPath: `["echo"]`},
		{name: "variable default null", query: `query($s: Int = null) { echo(strict: $s) }`, errorPath: `["echo"]`},
		{name: "input field left out", query: `query($d: Int) { echo(filter: {inner: {depth: $d}}) }`, same: `{ echo(filter: {inner: {depth: 1}}) }`},
		{name: "input field sent null", query: `query($d: Int) { echo(filter: {inner: {depth: $d}}) }`, vars: map[string]any{"d": nil}, errorPath: `["echo"]`},
		{name: "nullable input field left out", query: `query($z: Int) { echo(filter: {size: $z}) }`, same: `{ echo(filter: {}) }`},
		{name: "nullable input field sent null", query: `query($z: Int) { echo(filter: {size: $z}) }`, vars: map[string]any{"z": nil}, same: `{ echo(filter: {size: null}) }`},
		{name: "list item left out", query: `query($x: Int) { echo(list: [1, $x]) }`, same: `{ echo(list: [1, null]) }`},
	}
	for _, c := range cases {
		got := post(t, hs["a"], c.query, c.vars)
		if c.errorPath != "" {
			if !strings.Contains(got, `"data":{"echo":null}`) || !strings.Contains(got, `"path":`+c.errorPath) {
				t.Errorf("%s: %s answers %s, want echo null with an error at %s", c.name, c.query, got, c.errorPath)
			}
			continue
		}
		if want := post(t, hs["a"], c.same, nil); got != want || strings.Contains(got, "errors") {
			t.Errorf("%s: %s answers %s, %s answers %s", c.name, c.query, got, c.same, want)
		}
	}
	// A default and its absence differ, so the cases above show something.
	if post(t, hs["a"], `{ echo(filter: {size: null}) }`, nil) == post(t, hs["a"], `{ echo(filter: {}) }`, nil) {
		t.Error("size null and size left out (default 3) answer alike: the test shows nothing")
	}
	// Through an entity fetch, a non-null field's error nulls the entity.
	reps := map[string]any{"r": []any{map[string]any{"__typename": "Thing", "id": "1"}}, "s": nil}
	got := post(t, hs["b"], `query($r: [_Any!]!, $s: Float) { _entities(representations: $r) { ... on Thing { score(scale: $s) } } }`, reps)
	if !strings.Contains(got, `"_entities":[{"score":null}]`) || !strings.Contains(got, `"path":["_entities",0,"score"]`) {
		t.Errorf("score(scale: null) through _entities answers %s", got)
	}
}

// TestRoutingSetsSharedLeavesApart: with WithRouting the two subgraphs
// that both resolve Viewer.locale (a value type in both) answer it with
// values of their own, so an answer shows which one a gateway asked, and
// a field of one subgraph answers as without the option. Without it both
// answer alike.
func TestRoutingSetsSharedLeavesApart(t *testing.T) {
	const file = "../../testdata/supergraphs/shareable_root.graphql"
	q := `{ viewer { locale } }`
	plain := handlers(t, file)
	if a, b := post(t, plain["notify"], q, nil), post(t, plain["prefs"], q, nil); a != b {
		t.Fatalf("without WithRouting the subgraphs differ: %s / %s", a, b)
	}
	routed := handlers(t, file, fixturesub.WithRouting())
	a, b := post(t, routed["notify"], q, nil), post(t, routed["prefs"], q, nil)
	if a == b {
		t.Fatalf("with WithRouting both subgraphs answer %s", a)
	}
	if again := post(t, routed["notify"], q, nil); again != a {
		t.Fatalf("not deterministic: %s / %s", a, again)
	}
	own := `{ viewer { unread } }`
	if x, y := post(t, plain["notify"], own, nil), post(t, routed["notify"], own, nil); x != y {
		t.Fatalf("a field of one subgraph changed with WithRouting: %s / %s", x, y)
	}
}

// TestMissingEntities: with WithMissingEntities an entity whose identity
// is 3 modulo 7 is answered null by _entities, without an error, in every
// subgraph; others are answered as without the option.
func TestMissingEntities(t *testing.T) {
	const file = "../../testdata/supergraphs/key_chain.graphql"
	q := `query($r: [_Any!]!) { _entities(representations: $r) { ... on Product { id name } } }`
	reps := map[string]any{"r": []any{
		map[string]any{"__typename": "Product", "id": "3"},
		map[string]any{"__typename": "Product", "id": "4"},
	}}
	plain, _ := postEntities(t, handlers(t, file)["catalog"], q, reps)
	got, raw := postEntities(t, handlers(t, file, fixturesub.WithMissingEntities())["catalog"], q, reps)
	if len(got.Data.Entities) != 2 || got.Data.Entities[0] != nil || len(got.Errors) != 0 {
		t.Fatalf("want the first entity null without an error: %s", raw)
	}
	if plain.Data.Entities[0] == nil || fmt.Sprint(got.Data.Entities[1]) != fmt.Sprint(plain.Data.Entities[1]) {
		t.Fatalf("the second entity changed, or the first was null without the option: %v / %s", plain, raw)
	}
}
