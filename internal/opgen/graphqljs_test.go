package opgen_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"
	"github.com/vektah/gqlparser/v2/parser"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestThrownAwayDocumentsAreInvalidForGraphQLJS validates with graphql-js
// 16 (which both reference gateways run) the documents the generator made
// and threw away because the gateway's rules refuse them (Rejected). A
// document graphql-js accepts there is one the reference gateways answer,
// fedgate refuses, and the differential test can never send: this test is
// where such a gap shows. One class is the references' (docs/differential.md):
// __typename under the response key of a field of another type on
// mutually exclusive object types, which graphql-js compares no type for
// (the spec's SameResponseShape does); it is recognized by the document
// validating once those aliases are renamed.
func TestThrownAwayDocumentsAreInvalidForGraphQLJS(t *testing.T) {
	module := graphqlJS(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	type doc struct {
		Graph         string         `json:"graph"`
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	var docs []doc
	var reasons []string
	schemas := map[string]string{}
	var names []string
	sgs := supergraphs(t)
	for name := range sgs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		sg := sgs[name]
		var b bytes.Buffer
		formatter.NewFormatter(&b).FormatSchema(sg.API)
		schemas[name] = b.String()
		g := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{Mutations: true, Wide: true})
		for seed := uint64(0); seed < 100; seed++ {
			for _, r := range g.Rejected(seed) {
				if !strings.HasPrefix(r.Err.Error(), "invalid") {
					continue // over the alias bound, not invalid
				}
				docs = append(docs, doc{name, r.Op.Query, r.Op.Variables, r.Op.OperationName})
				reasons = append(reasons, r.Err.Error())
			}
		}
	}
	if len(docs) < 200 {
		t.Fatalf("%d documents thrown away: too few to show anything", len(docs))
	}
	input, _ := json.Marshal(map[string]any{"schemas": schemas, "docs": docs})
	in := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "testdata/validate.mjs", module, in).Output()
	if err != nil {
		t.Fatalf("graphql-js: %v", err)
	}
	var valid []bool
	if err := json.Unmarshal(out, &valid); err != nil || len(valid) != len(docs) {
		t.Fatalf("graphql-js answered %d verdicts for %d documents (%v)", len(valid), len(docs), err)
	}
	known, gaps := 0, 0
	for i, ok := range valid {
		if !ok {
			continue
		}
		d := docs[i]
		renamed := renameTypenameAliases(t, d.Query)
		if opgen.Validate(sgs[d.Graph].API, opgen.Operation{Query: renamed, OperationName: d.OperationName, Variables: d.Variables}) == nil {
			known++
			continue
		}
		gaps++
		if gaps <= 5 {
			t.Errorf("%s: graphql-js accepts a document the gateway's rules refuse: %s\n%s\nvariables %v", d.Graph, reasons[i], d.Query, d.Variables)
		}
	}
	t.Logf("%d documents thrown away, %d valid for graphql-js: %d of the references' class, %d gaps", len(docs), known+gaps, known, gaps)
}

// renameTypenameAliases gives a fresh alias to every __typename aliased
// to another name and to every other field aliased __typename.
func renameTypenameAliases(t *testing.T, query string) string {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: query})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	var walk func(set ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if (s.Name == "__typename") != (s.Alias == "__typename") && s.Alias != "" {
					n++
					s.Alias = "renamed" + strconv.Itoa(n)
				}
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			}
		}
	}
	for _, o := range doc.Operations {
		walk(o.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return opgen.Print(doc)
}

// graphqlJS finds the graphql npm package the differential test installs.
func graphqlJS(t *testing.T) string {
	for _, dir := range []string{"../../e2e/difftest/js/node_modules/graphql", "../../e2e/js/node_modules/graphql"} {
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
			abs, _ := filepath.Abs(dir)
			return abs
		}
	}
	t.Skip("graphql (npm) is not installed: run scripts/install-deps.sh")
	return ""
}
