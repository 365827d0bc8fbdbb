package mutate_test

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/mutate"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/validate"
)

func demo(t *testing.T) *schema.Supergraph {
	t.Helper()
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"a.graphql":                  "query A { me { id } }\n",
		"schema.graphql":             "type Query { me: User }\n",
		"doc.md":                     "text\n```graphql\n{ topProducts { upc } }\n```\n```graphql\ntype X { a: Int }\n```\n",
		"x_test.go":                  "package x\nvar q = `{ me { name } }`\nvar r = \"query ($u: String!) { product(upc: $u) { upc } }\"\nvar s = \"not graphql\"\n",
		"t.ts":                       "createTest(/* GraphQL */ `\n  query { me { username } }\n`, {})\nconst tpl = `{ me { ${x} } }`\n",
		"node_modules/dep/x.graphql": "{ ignored }\n",
		".hidden/x.graphql":          "{ ignored }\n",
		"big.graphql":                "{ " + strings.Repeat("a ", 3000) + "}\n",
	}
	for name, text := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := mutate.Collect(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"query ($u: String!) { product(upc: $u) { upc } }",
		"query A { me { id } }",
		"query { me { username } }",
		"{ me { name } }",
		"{ topProducts { upc } }",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Collect:\n got %q\nwant %q", got, want)
	}
}

func TestForSchema(t *testing.T) {
	sg := demo(t)
	docs := []string{
		// Two operations: each seed keeps only the fragments it uses.
		"query A { me { ...U } } query B { topProducts { ...P } } fragment U on User { id } fragment P on Product { upc }",
		// A required variable gets a value; one with a default is not sent.
		"query ($u: String!, $n: Int = 2) { product(upc: $u) { upc } topProducts(first: $n) { upc } }",
		"{ nope }",                            // not this schema's
		"{ __schema { types { name } } }",     // introspection
		"subscription { reviewAdded { id } }", // never a seed
		"{ me { id } }", "{ me { id } }",      // duplicates once
	}
	var got []string
	for _, op := range mutate.ForSchema(sg.API, docs, false) {
		if err := opgen.Validate(sg.API, op); err != nil {
			t.Errorf("seed does not validate: %v\n%s", err, op.Query)
		}
		got = append(got, strings.Join(strings.Fields(op.Query), " ")+" "+op.OperationName)
		if strings.Contains(op.Query, "$u") && op.Variables["u"] != "1" {
			t.Errorf("variables %v: want u given a value", op.Variables)
		}
		if _, sent := op.Variables["n"]; sent {
			t.Errorf("variables %v: n has a default and is not sent", op.Variables)
		}
	}
	want := []string{
		"query A { me { ... U } } fragment U on User { id } A",
		"query B { topProducts { ... P } } fragment P on Product { upc } B",
		"query ($u: String!, $n: Int = 2) { product(upc: $u) { upc } topProducts(first: $n) { upc } } ",
		"query { me { id } } ",
	}
	if !slices.Equal(got, want) {
		t.Errorf("ForSchema:\n got %q\nwant %q", got, want)
	}
}

func TestRootSeeds(t *testing.T) {
	sg := demo(t)
	seeds := mutate.RootSeeds(sg.API, false)
	if len(seeds) != len(sg.API.Query.Fields)-2 { // __schema and __type left out
		t.Errorf("%d root seeds for %d query fields", len(seeds), len(sg.API.Query.Fields))
	}
	for _, op := range seeds {
		if err := opgen.Validate(sg.API, op); err != nil {
			t.Errorf("%v\n%s", err, op.Query)
		}
	}
}

// corpusGenerator is the demo's generator over the repository's corpus.
func corpusGenerator(t *testing.T, opts mutate.Options) (*schema.Supergraph, *mutate.Generator) {
	t.Helper()
	docs, err := mutate.Collect("../..")
	if err != nil {
		t.Fatal(err)
	}
	sg := demo(t)
	seeds := mutate.ForSchema(sg.API, docs, false)
	if len(seeds) < 50 {
		t.Fatalf("%d seed operations for the demo from the repository: too few", len(seeds))
	}
	return sg, mutate.New(sg.API, opgen.HintsFrom(sg), seeds, opts)
}

var (
	appliedRE = regexp.MustCompile(`^# mutate: seed \d+: (.*)\n`)
	seedRE    = regexp.MustCompile(`seed (\d+):`)
)

// TestGenerate: every operation validates, a seed gives the same operation
// every time, and every transformation is applied, alone and stacked.
func TestGenerate(t *testing.T) {
	sg, g := corpusGenerator(t, mutate.Options{Defer: true})
	count := map[string]int{}
	stacked := 0
	for seed := uint64(0); seed < 400; seed++ {
		op, err := g.Generate(seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := opgen.Validate(sg.API, op); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, op.Query)
		}
		again, _ := g.Generate(seed)
		if again.Query != op.Query || again.OperationName != op.OperationName {
			t.Fatalf("seed %d gave two operations:\n%s\n%s", seed, op.Query, again.Query)
		}
		m := appliedRE.FindStringSubmatch(op.Query)
		if m == nil {
			t.Fatalf("seed %d: no comment naming the transformations:\n%s", seed, op.Query)
		}
		names := strings.Split(m[1], ", ")
		if len(names) > 1 {
			stacked++
		}
		for _, n := range names {
			count[n]++
		}
	}
	for _, name := range mutate.TransformNames() {
		if count[name] < 20 {
			t.Errorf("transformation %s applied %d times in 400 operations, want at least 20 (%v)", name, count[name], count)
		}
	}
	if stacked < 200 {
		t.Errorf("%d of 400 operations stack transformations, want at least 200", stacked)
	}
}

// shape is what a transformation's test looks at in a document.
type shape struct {
	aliases, fields, fragments, spreads, conditions, variables, typenames, operations, defers, depth int
}

func shapeOf(t *testing.T, query string) shape {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatal(err)
	}
	var s shape
	s.operations = len(doc.Operations)
	var walk func(set ast.SelectionSet, depth int)
	dirs := func(list ast.DirectiveList) {
		for _, d := range list {
			switch d.Name {
			case "skip", "include":
				s.conditions++
			case "defer":
				s.defers++
			}
		}
	}
	walk = func(set ast.SelectionSet, depth int) {
		s.depth = max(s.depth, depth)
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				s.fields++
				if x.Alias != x.Name {
					s.aliases++
				}
				if x.Name == "__typename" {
					s.typenames++
				}
				dirs(x.Directives)
				walk(x.SelectionSet, depth+1)
			case *ast.InlineFragment:
				s.fragments++
				dirs(x.Directives)
				walk(x.SelectionSet, depth)
			case *ast.FragmentSpread:
				s.spreads++
				dirs(x.Directives)
			}
		}
	}
	for _, o := range doc.Operations {
		s.variables += len(o.VariableDefinitions)
		walk(o.SelectionSet, 0)
	}
	for _, f := range doc.Fragments {
		s.fragments++
		walk(f.SelectionSet, 0)
	}
	return s
}

// TestEachTransformation applies one transformation at a time to the
// demo's seeds and checks that it did what it says.
func TestEachTransformation(t *testing.T) {
	cases := []struct {
		name string
		did  func(before, after shape, op opgen.Operation) bool
	}{
		{"alias", func(b, a shape, op opgen.Operation) bool {
			return a.fields == b.fields && strings.Contains(op.Query, ": ")
		}},
		{"twice", func(b, a shape, _ opgen.Operation) bool { return a.fields > b.fields }},
		{"fragment", func(b, a shape, _ opgen.Operation) bool { return a.fragments > b.fragments }},
		{"spread-again", func(b, a shape, _ opgen.Operation) bool { return a.spreads > b.spreads }},
		{"condition", func(b, a shape, _ opgen.Operation) bool { return a.conditions > b.conditions }},
		{"variable", func(b, a shape, _ opgen.Operation) bool { return a.variables == b.variables+1 }},
		{"typename", func(b, a shape, _ opgen.Operation) bool { return a.typenames == b.typenames+1 }},
		{"operations", func(b, a shape, op opgen.Operation) bool {
			return a.operations > b.operations && op.OperationName != ""
		}},
		{"shuffle", func(b, a shape, _ opgen.Operation) bool { return a == b }},
		{"chain", func(b, a shape, _ opgen.Operation) bool {
			return a.fields >= b.fields+4 && a.typenames >= b.typenames+2
		}},
		{"defer", func(b, a shape, _ opgen.Operation) bool { return a.defers == b.defers+1 }},
		// A spread becomes an inline fragment (the definition goes when
		// it was spread once): one spread less, or one inline fragment more.
		{"inline-spread", func(b, a shape, _ opgen.Operation) bool { return a.spreads < b.spreads || a.fragments > b.fragments }},
		// One field more, inside a fragment, and two conditions on one
		// variable (or two).
		{"complement", func(b, a shape, op opgen.Operation) bool {
			return a.fields > b.fields && a.conditions >= b.conditions+2 && a.fragments+a.spreads > b.fragments+b.spreads
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sg, g := corpusGenerator(t, mutate.Options{Only: []string{c.name}, MaxSteps: 1, Defer: true})
			seeds := g.Seeds()
			// Most seed operations spread no named fragment, so inline-spread
			// has few to work on; it tries more seeds, so that the count does
			// not hang on which documents the repository holds.
			tries, least := uint64(60), 20
			if c.name == "inline-spread" {
				tries, least = 400, 10
			}
			applied := 0
			for seed := uint64(0); seed < tries; seed++ {
				op, err := g.Generate(seed)
				if err != nil {
					t.Fatal(err)
				}
				m := appliedRE.FindStringSubmatch(op.Query)
				base, _ := strings.CutPrefix(op.Query, m[0])
				if m[1] == "" {
					continue // nothing to do on that seed
				}
				applied++
				if err := opgen.Validate(sg.API, op); err != nil {
					t.Fatalf("%v\n%s", err, op.Query)
				}
				idx, _ := strconv.Atoi(seedRE.FindStringSubmatch(m[0])[1])
				from := seeds[idx]
				if !c.did(shapeOf(t, from.Query), shapeOf(t, base), op) {
					t.Errorf("%s did not do its job:\n%s\nfrom\n%s", c.name, base, from.Query)
				}
			}
			t.Logf("applied to %d of %d", applied, tries)
			if applied < least {
				t.Errorf("applied to %d of %d operations, want %d or more", applied, tries, least)
			}
		})
	}
}

// TestEquivalent: Equivalent stacks only rewrites that keep the answer:
// its operations validate, name their seed, never select a field under a
// new response key, never add a field the seed lacks, and leave every
// @skip/@include condition it adds to a value that keeps the selection.
func TestEquivalent(t *testing.T) {
	sg, g := corpusGenerator(t, mutate.Options{MaxSteps: 8})
	allowed := map[string]bool{}
	for _, n := range []string{"shuffle", "fragment", "variable", "condition", "operations", "twice", "inline-spread", "typename", "complement"} {
		allowed[n] = true
	}
	changed := 0
	for seed := uint64(0); seed < 300; seed++ {
		base, op, err := g.Equivalent(seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := opgen.Validate(sg.API, op); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, op.Query)
		}
		m := appliedRE.FindStringSubmatch(op.Query)
		if m[1] != "" {
			changed++
			for _, n := range strings.Split(m[1], ", ") {
				if !allowed[n] {
					t.Fatalf("seed %d: %s is no rewrite that keeps the answer", seed, n)
				}
			}
		}
		keys := func(q string) map[string]bool {
			out := map[string]bool{}
			for _, k := range responseKeys(t, q) {
				out[k] = true
			}
			return out
		}
		before := keys(base.Query)
		running := op
		if only, ok := difftest.SelectedOnly(op); ok {
			running = only // other operations may hold anything
		}
		for k := range keys(running.Query) {
			if alias, _, _ := strings.Cut(k, ":"); !before[k] && !mutate.Added(alias) {
				t.Errorf("seed %d: response key %s is not the seed's:\n%s\nfrom\n%s", seed, k, op.Query, base.Query)
			}
		}
		for name, v := range op.Variables {
			if strings.HasPrefix(name, "c") && v == nil {
				t.Errorf("seed %d: condition variable %s sent null", seed, name)
			}
		}
		if strings.Contains(running.Query, "@include(if: false)") || strings.Contains(running.Query, "@skip(if: true)") {
			if !strings.Contains(base.Query, "@include(if: false)") && !strings.Contains(base.Query, "@skip(if: true)") {
				t.Errorf("seed %d: a literal condition leaves a selection out:\n%s", seed, op.Query)
			}
		}
	}
	if changed < 250 {
		t.Errorf("%d of 300 operations rewritten", changed)
	}
}

// responseKeys lists the response keys (with the field names they
// select) of every field of query's documents, fragments included.
func responseKeys(t *testing.T, query string) []string {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch x := sel.(type) {
			case *ast.Field:
				out = append(out, x.Alias+":"+x.Name)
				walk(x.SelectionSet)
			case *ast.InlineFragment:
				walk(x.SelectionSet)
			}
		}
	}
	for _, o := range doc.Operations {
		walk(o.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return out
}

func TestAdded(t *testing.T) {
	for key, want := range map[string]bool{
		"added__typename1": true, "added__typename27": true,
		"added__typename": false, "added__typenameX": false, "__typename": false, "tn1": false,
	} {
		if got := mutate.Added(key); got != want {
			t.Errorf("Added(%q) = %v, want %v", key, got, want)
		}
	}
}

// TestEquivalentDefer: with Options.Defer, Equivalent also moves
// selections into @defer fragments (the merged payloads are the answer).
func TestEquivalentDefer(t *testing.T) {
	sg, g := corpusGenerator(t, mutate.Options{Defer: true})
	deferred := 0
	for seed := uint64(0); seed < 200; seed++ {
		base, op, err := g.Equivalent(seed)
		if err != nil {
			t.Fatal(err)
		}
		if err := mutate.Validate(sg.API, op); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, op.Query)
		}
		// The gateway refuses a @defer label given twice (a rewrite
		// copying a labelled @defer, as "twice" does, would repeat it).
		if _, errs := gqlparser.LoadQueryWithRules(sg.API, op.Query, labelRules); len(errs) > 0 {
			t.Fatalf("seed %d: %v\n%s", seed, errs, op.Query)
		}
		if strings.Count(op.Query, "@defer") > strings.Count(base.Query, "@defer") {
			deferred++
		}
	}
	if deferred < 20 {
		t.Errorf("%d of 200 rewrites add a @defer, want at least 20", deferred)
	}
}

// labelRules hold the @defer label rule alone.
var labelRules = rules.NewRules(validate.DeferStreamLabelRule)
