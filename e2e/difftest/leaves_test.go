package difftest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/internal/opgen"
)

// leafShapes are the answers the leaf_coercion graph's subgraph gives, by
// the name a field's shape argument passes (fixturesub.WithAnswers).
var leafShapes = map[string]string{
	"string": `"abc"`, "numeric": `"12"`, "decimal": `"1.5"`, "empty": `""`, "true-string": `"true"`,
	"int": `5`, "zero": `0`, "negzero": `-0`, "float": `1.5`, "exp": `1e3`, "intfloat": `5.0`,
	"big": `12345678901234567890`, "huge": `1e21`, "beyond": `2147483648`, "tiny": `1e-7`,
	"true": `true`, "false": `false`, "object": `{"a":1,"b":"x"}`, "emptyobject": `{}`, "list": `[1,"x"]`,
	"emptylist": `[]`, "nested": `[[["x"]]]`, "RED": `"RED"`, "HIDDEN": `"HIDDEN"`, "PURPLE": `"PURPLE"`,
	"items": `["a",1,true,null,{"x":1},[2]]`, "iditems": `[[1,"x",1.5],[true]]`, "coloritems": `["RED","HIDDEN",1]`,
}

// leafKnown are the cases where fedgate answers differently from one
// reference or both (docs/differential.md, "Leaf values"): the
// references disagree with each other on an Int beyond 32 bits (Apollo
// Gateway passes the number on, rounded), on an ID answered as a number
// (Apollo Gateway passes the number on, Hive Gateway writes its string,
// as fedgate does) and on a scalar where a list is due (Apollo Gateway
// fails the request); an ID beyond 2^53 keeps its digits in fedgate where
// both references round it, and -0 is written as the subgraph wrote it
// (JavaScript writes 0).
var leafKnown = map[string]string{
	`{ int(shape: "negzero") }`:       "neither",
	`{ float(shape: "negzero") }`:     "neither",
	`{ json(shape: "negzero") }`:      "neither",
	`{ ids(shape: "items") }`:         "hive",
	`{ ids(shape: "coloritems") }`:    "hive",
	`{ int(shape: "big") }`:           "hive",
	`{ int(shape: "beyond") }`:        "hive",
	`{ id(shape: "int") }`:            "hive",
	`{ id(shape: "zero") }`:           "hive",
	`{ id(shape: "negzero") }`:        "hive",
	`{ id(shape: "exp") }`:            "hive",
	`{ id(shape: "intfloat") }`:       "hive",
	`{ id(shape: "huge") }`:           "hive",
	`{ id(shape: "beyond") }`:         "hive",
	`{ id(shape: "big") }`:            "neither",
	`{ ids(shape: "iditems") }`:       "hive",
	`{ strict { id(shape: "int") } }`: "hive",
}

// TestLeafCoercion compares fedgate's answers to leaf values of every
// JSON shape, for each built-in scalar, an enum with an @inaccessible
// value and a custom scalar (nullable, non-null, in lists), with both
// reference gateways': the data must be theirs (leafKnown lists where
// it is one reference's, or neither's, and why), and where fedgate nulls a
// value it must say so with an INVALID_SUBGRAPH_RESPONSE entry at the
// value's path in extensions.valueCompletion and leave "errors" empty, as
// the references do (Apollo Gateway reports it under
// extensions.valueCompletion, Hive Gateway not at all; the spec's field
// error is subgraphs.invalid_values: errors).
var shapeArg = regexp.MustCompile(`shape: "([^"]+)"`)

func TestLeafCoercion(t *testing.T) {
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
	sdl, err := os.ReadFile(filepath.Join("..", "..", "testdata", "supergraphs", "leaf_coercion.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	plant := func(typ, field, args string) (string, bool) {
		var a struct{ Shape string }
		if json.Unmarshal([]byte(args), &a) != nil {
			return "", false
		}
		raw, ok := leafShapes[a.Shape]
		return raw, ok
	}
	g, err := start(t, graphSource{name: "leaf_coercion", sdl: string(sdl)}, fixturesub.WithAnswers(plant))
	if err != nil {
		t.Fatal(err)
	}
	urls := startBothReferences(t, g)

	var queries []string
	names := make([]string, 0, len(leafShapes))
	for s := range leafShapes {
		names = append(names, s)
	}
	sort.Strings(names)
	for _, f := range []string{"string", "int", "float", "boolean", "id", "color", "json"} {
		for _, s := range names {
			queries = append(queries, `{ `+f+`(shape: "`+s+`") }`)
		}
	}
	for _, f := range []string{"string", "int", "float", "boolean", "id", "color", "json"} {
		for _, s := range []string{"int", "string", "object", "true", "HIDDEN", "float"} {
			queries = append(queries, `{ strict { `+f+`(shape: "`+s+`") } }`)
		}
	}
	for _, f := range []string{"strings", "ints", "ids", "colors"} {
		for _, s := range []string{"items", "iditems", "coloritems", "emptylist"} {
			queries = append(queries, `{ `+f+`(shape: "`+s+`") }`)
		}
	}
	r := &difftest.Runner{Timeout: 30 * time.Second}
	ask := func(url, q string) difftest.Result {
		return r.Ask(context.Background(), &difftest.Graph{Fedgate: difftest.Endpoint{URL: url}}, opgen.Operation{Query: q})
	}
	counts := map[string]int{}
	for _, q := range queries {
		f, a, h := ask(g.fedgate, q), ask(urls[0], q), ask(urls[1], q)
		for _, res := range []difftest.Result{f, a, h} {
			if res.Failure != "" {
				t.Fatalf("%s: %s", q, res.Failure)
			}
		}
		matches := "neither"
		switch {
		case f.Data == a.Data && f.Data == h.Data:
			matches = "both"
		case f.Data == h.Data:
			matches = "hive"
		case f.Data == a.Data:
			matches = "apollo"
		}
		counts[matches]++
		want := leafKnown[q]
		if want == "" {
			want = "both"
		}
		if matches != want {
			t.Errorf("%s: fedgate's data matches %s, want %s\nfedgate %s\napollo  %s\nhive    %s", q, matches, want, f.Body, a.Body, h.Body)
		}
		// Every value fedgate nulls is reported: its answer has more
		// nulls than the subgraph's exactly when it has the error.
		shape := shapeArg.FindStringSubmatch(q)[1]
		nulled := strings.Count(f.Data, "null") > strings.Count(leafShapes[shape], "null") ||
			f.Data == "null" || strings.HasSuffix(f.Data, `":null}`) && !strings.Contains(f.Data, ",")
		_, codes := valueCompletionPaths(t, f.Body)
		if invalid := slices.Contains(codes, "INVALID_SUBGRAPH_RESPONSE"); invalid != nulled {
			t.Errorf("%s: a value nulled %v, an INVALID_SUBGRAPH_RESPONSE entry in extensions.valueCompletion %v: %s", q, nulled, invalid, f.Body)
		}
		// As both references: nothing in errors (subgraphs.invalid_values
		// defaults to extensions).
		if len(f.Codes) > 0 {
			t.Errorf("%s: errors %v: %s", q, f.Codes, f.Body)
		}
	}
	t.Logf("%d queries: fedgate's data is both references' in %d, Hive Gateway's alone in %d, neither's in %d", len(queries), counts["both"], counts["hive"], counts["neither"])
}

// startBothReferences starts Apollo Gateway and Hive Gateway on g's
// supergraph alone, stopped when t ends, and returns their URLs for it
// (Apollo's first).
func startBothReferences(t *testing.T, g *started) []string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, g.name+".graphql"), []byte(g.refSDL), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := difftest.ReferenceOptions{StartTimeout: 120 * time.Second, Deadline: 20 * time.Second}
	var urls []string
	for _, ref := range []struct{ name, script string }{{"apollo", "js/refgw.mjs"}, {"hive", "hive/refgw.mjs"}} {
		r, err := difftest.StartReference(ref.name, ref.script, dir, opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(r.Stop)
		if why, refused := r.Refused[g.name]; refused {
			t.Fatalf("%s refused the graph: %s", ref.name, why)
		}
		urls = append(urls, r.URL(g.name))
	}
	return urls
}
