package difftest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema/compose"
)

// valueCompletionPaths returns the paths (as JSON) of the entries of a
// response's extensions.valueCompletion, and their codes.
func valueCompletionPaths(t *testing.T, body []byte) (paths, codes []string) {
	t.Helper()
	var r struct {
		Extensions struct {
			ValueCompletion []struct {
				Path       json.RawMessage `json:"path"`
				Extensions struct {
					Code string `json:"code"`
				} `json:"extensions"`
			} `json:"valueCompletion"`
		} `json:"extensions"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("%v: %s", err, body)
	}
	for _, e := range r.Extensions.ValueCompletion {
		paths = append(paths, string(e.Path))
		codes = append(codes, e.Extensions.Code)
	}
	return paths, codes
}

// TestInvalidValuesAgainstReferences asks fedgate and both reference
// gateways the cases of the matrix in docs/differential.md ("Values the
// API schema does not have"), on the schema of the executor's
// TestInvalidValues, whose subgraph plants the answer a field's shape
// argument names: enum values the API schema hides or lacks, built-in
// scalars of the wrong shape, objects of a hidden or unknown runtime type
// in fields, interfaces, unions and lists, at nullable and non-null
// positions, several in one answer. fedgate's data must be both
// references' and its errors Apollo Gateway's (where the null propagates
// Hive Gateway adds "Cannot return null", Apollo Gateway nothing: the
// references disagree and fedgate answers as Apollo Gateway); each value
// fedgate nulls must be in its extensions.valueCompletion at a path where
// Apollo Gateway lists one too (Apollo Gateway lists every invalid value
// of a list a non-null item nulled; fedgate, as graphql-js completes a
// list, the first).
func TestInvalidValuesAgainstReferences(t *testing.T) {
	if _, err := os.Stat("js/node_modules/@apollo/gateway"); err != nil {
		msg := "Apollo Gateway is not installed: run scripts/install-deps.sh (npm ci in e2e/difftest/js)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if _, err := os.Stat("hive/node_modules/@graphql-hive/gateway"); err != nil {
		msg := "Hive Gateway is not installed: run scripts/install-deps.sh (npm ci in e2e/difftest/hive)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	sdl, err := os.ReadFile(filepath.Join("..", "..", "executor", "testdata", "invalid_values", "subgraph.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := compose.Compose([]compose.Subgraph{{Name: "p", URL: "http://127.0.0.1:4999/p", SDL: string(sdl)}})
	if err != nil {
		t.Fatal(err)
	}
	shapes := map[string]string{
		"int": `5`, "string": `"x"`, "HIDDEN": `"HIDDEN"`, "red": `"red"`, "PURPLE": `"PURPLE"`, "RED": `"RED"`,
		"colors":  `["RED","HIDDEN",1,"GREEN","red"]`,
		"strict1": `{"string":5,"color":"RED","name":"n"}`,
		"strict2": `{"string":"s","color":"HIDDEN","name":"n"}`,
		"stricts": `[{"string":"a","color":"RED"},{"string":5,"color":"RED"},{"string":"c","color":"HIDDEN"}]`,
		"book":    `{"__typename":"Book","title":"b"}`,
		"movie":   `{"__typename":"Movie","title":"m"}`,
		"unknown": `{"__typename":"Nope","title":"m"}`,
		"mixed":   `[{"__typename":"Movie","title":"m"},{"__typename":"Book","title":"b"},{"__typename":"Book","title":"c"}]`,
		"results": `[{"__typename":"Movie","title":"m"},{"__typename":"Song","title":"s"},{"__typename":"Movie","title":5}]`,
	}
	plant := func(typ, field, args string) (string, bool) {
		var a struct{ Shape string }
		if json.Unmarshal([]byte(args), &a) != nil {
			return "", false
		}
		raw, ok := shapes[a.Shape]
		return raw, ok
	}
	g, err := start(t, graphSource{name: "invalid_values", sdl: res.SDL}, fixturesub.WithAnswers(plant))
	if err != nil {
		t.Fatal(err)
	}
	urls := startBothReferences(t, g)
	queries := []string{
		`{ color(shape: "HIDDEN") }`,
		`{ color(shape: "PURPLE") }`,
		`{ color(shape: "red") }`,
		`{ color(shape: "int") }`,
		`{ string(shape: "int") }`,
		`{ int(shape: "string") }`,
		`{ a: string(shape: "int") b: int(shape: "string") c: color(shape: "HIDDEN") d: color(shape: "RED") }`,
		`{ colors(shape: "colors") }`,
		`{ colorsNN(shape: "colors") }`,
		`{ colorsNN(shape: "colors") string(shape: "string") }`,
		`{ strict(shape: "strict1") { string color name } }`,
		`{ strict(shape: "strict2") { string color name } }`,
		`{ stricts(shape: "stricts") { string color } }`,
		`{ strictsN(shape: "stricts") { string color } }`,
		`{ wrap { s(shape: "int") n } }`,
		`{ wrap { inner { s(shape: "int") } n } }`,
		`{ wrap { inner { m(shape: "book") { title } } n } }`,
		`{ wrap { inner { m(shape: "unknown") { title } } n } }`,
		`{ one(shape: "book") { title } }`,
		`{ one(shape: "book") { __typename } }`,
		`{ one(shape: "unknown") { title } }`,
		`{ one(shape: "movie") { title } }`,
		`{ oneNN(shape: "book") { title } }`,
		`{ oneNN(shape: "book") { title } string(shape: "string") }`,
		`{ media(shape: "mixed") { title } }`,
		`{ mediaN(shape: "mixed") { title } }`,
		`{ mediaNN(shape: "mixed") { title } }`,
		`{ mediaN(shape: "mixed") { __typename ... on Movie { title } } }`,
		`{ search(shape: "results") { ... on Movie { title } } }`,
		`{ searchNN(shape: "results") { __typename ... on Movie { title } } }`,
		`{ strict(shape: "strict1") { string name } wrap { s(shape: "string") n } }`,
	}
	r := &difftest.Runner{Timeout: 30 * time.Second}
	ask := func(url, q string) difftest.Result {
		return r.Ask(context.Background(), &difftest.Graph{Fedgate: difftest.Endpoint{URL: url}}, opgen.Operation{Query: q})
	}
	for _, q := range queries {
		f, a, h := ask(g.fedgate, q), ask(urls[0], q), ask(urls[1], q)
		for _, res := range []difftest.Result{f, a, h} {
			if res.Failure != "" {
				t.Fatalf("%s: %s", q, res.Failure)
			}
		}
		bodies := "\nfedgate " + string(f.Body) + "\napollo  " + string(a.Body) + "\nhive    " + string(h.Body)
		if f.Data != a.Data || f.Data != h.Data {
			t.Errorf("%s: the data differ%s", q, bodies)
		}
		if !slices.Equal(f.Errors, a.Errors) || !slices.Equal(f.Codes, a.Codes) {
			t.Errorf("%s: errors %v %v, Apollo Gateway's %v %v%s", q, f.Errors, f.Codes, a.Errors, a.Codes, bodies)
		}
		if v := difftest.Judge(f, []difftest.Result{a, h}); v != difftest.Agree {
			t.Errorf("%s: the differential judge says %s%s", q, v, bodies)
		}
		fPaths, fCodes := valueCompletionPaths(t, f.Body)
		aPaths, _ := valueCompletionPaths(t, a.Body)
		if (len(fPaths) == 0) != (len(aPaths) == 0) {
			t.Errorf("%s: valueCompletion paths %v, Apollo Gateway's %v%s", q, fPaths, aPaths, bodies)
		}
		for i, p := range fPaths {
			if !slices.Contains(aPaths, p) {
				t.Errorf("%s: valueCompletion path %s, not one of Apollo Gateway's %v%s", q, p, aPaths, bodies)
			}
			if fCodes[i] != "INVALID_SUBGRAPH_RESPONSE" {
				t.Errorf("%s: valueCompletion code %q%s", q, fCodes[i], bodies)
			}
		}
	}
}
