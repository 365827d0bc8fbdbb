package difftest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/mutate"
	"github.com/fedgate/gateway/internal/opgen"
)

// mutateCorpus collects the seed documents of DIFFTEST_MUTATE=1: the
// repository's (tests, golden files, docs) and the files DIFFTEST_MUTATE_SEEDS
// names (a glob, e.g. another test suite's tests, read where they are).
func mutateCorpus(t *testing.T) []string {
	t.Helper()
	roots := []string{"../.."}
	if pattern := os.Getenv("DIFFTEST_MUTATE_SEEDS"); pattern != "" {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("DIFFTEST_MUTATE_SEEDS=%q names no file (%v)", pattern, err)
		}
		roots = append(roots, files...)
	}
	docs, err := mutate.Collect(roots...)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("DIFFTEST_MUTATE: %d seed documents", len(docs))
	return docs
}

// minSeeds: a graph with fewer real seed operations gets mutate.RootSeeds
// too.
const minSeeds = 8

// mutateGen returns the operations of a run of DIFFTEST_MUTATE=1 on one
// graph, each checked with graphql-js (which both references run): a
// document graphql-js refuses is logged (fedgate's rules accepted it) and
// replaced by another seed's rewrite.
func mutateGen(t *testing.T, g *started, docs []string, mutations, deferOn bool, seed uint64, n int) difftest.Generator {
	t.Helper()
	seeds := mutateSeeds(t, g, docs, mutations, deferOn, seed)
	opts := mutate.Options{Defer: deferOn, MaxSteps: envInt(t, "DIFFTEST_MUTATE_STEPS", 0)}
	if only := os.Getenv("DIFFTEST_MUTATE_ONLY"); only != "" {
		opts.Only = strings.Split(only, ",")
	}
	mg := mutate.New(g.sg.API, opgen.HintsFrom(g.sg), seeds, opts)
	fixed := &fixedGen{ops: map[uint64]opgen.Operation{}}
	var sdl bytes.Buffer
	formatter.NewFormatter(&sdl).FormatSchema(g.sg.API)
	pending := map[uint64]uint64{} // operation seed -> generator seed
	for i := 0; i < n; i++ {
		pending[difftest.OpSeed(seed, i)] = difftest.OpSeed(seed, i)
	}
	for round := 0; round < 4 && len(pending) > 0; round++ {
		var keys []uint64
		var ops []opgen.Operation
		for k, s := range pending {
			op, err := mg.Generate(s)
			if err != nil {
				t.Fatalf("graph %s: %v", g.name, err)
			}
			keys = append(keys, k)
			ops = append(ops, op)
		}
		valid := graphqlJSValid(t, sdl.String(), ops)
		for j, k := range keys {
			if valid[j] {
				fixed.ops[k] = ops[j]
				delete(pending, k)
				continue
			}
			v, _ := json.Marshal(ops[j].Variables)
			t.Logf("graph %s: graphql-js refuses a document the gateway's rules accept (operationName %q, variables %s):\n%s", g.name, ops[j].OperationName, v, ops[j].Query)
			pending[k] = pending[k] + 1<<20
		}
	}
	for k := range pending {
		fixed.ops[k] = opgen.Operation{Query: "{ __typename }"}
	}
	return fixed
}

// mutateSeeds returns the seed operations of one graph: with
// DIFFTEST_MUTATE=gen (or DIFFTEST_EQUIV_SEEDS=gen) operations of
// internal/opgen (genSeeds), else the corpus's that validate against the
// graph, and its root field seeds when those are few.
func mutateSeeds(t *testing.T, g *started, docs []string, mutations, deferOn bool, seed uint64) []opgen.Operation {
	t.Helper()
	if docs == nil {
		return genSeeds(t, g, mutations, deferOn, seed)
	}
	seeds := mutate.ForSchema(g.sg.API, docs, mutations)
	if !deferOn {
		// Seeds from the @defer tests, without it (as the references get them).
		for i, op := range seeds {
			if stripped, ok := difftest.StripDefer(op); ok {
				seeds[i] = stripped
			}
		}
	}
	real := len(seeds)
	if real < minSeeds {
		seeds = append(seeds, mutate.RootSeeds(g.sg.API, mutations)...)
	}
	t.Logf("graph %s: %d seed operations (%d from the corpus)", g.name, len(seeds), real)
	return seeds
}

// genSeeds returns DIFFTEST_MUTATE_GEN_N (default 40) operations of
// internal/opgen for g (DIFFTEST_OPGEN's bounds, DIFFTEST_WIDE), seeds
// for the rewrites of DIFFTEST_MUTATE=gen: the corpus gives most fixtures
// only root field seeds of a few leaves, so rewrites there never met deep
// selections, entity chains, fragments on abstract types or several
// operations; generated ones have them all, and the rewrites add what a
// random walk rarely writes on top (a field again under another alias with
// other arguments, selections split into overlapping fragments on the
// abstract types an object belongs to, conditions on those, fragments
// spread again).
func genSeeds(t *testing.T, g *started, mutations, deferOn bool, seed uint64) []opgen.Operation {
	t.Helper()
	opts := genOptions(t, env("DIFFTEST_OPGEN", ""))
	opts.Defer = deferOn
	opts.Wide = env("DIFFTEST_WIDE", "0") == "1"
	opts.Optional = env("DIFFTEST_OPTIONAL", "0") == "1"
	opts.Shapes = env("DIFFTEST_SHAPES", "0") == "1"
	opts.Merge = env("DIFFTEST_MERGE", "0") == "1"
	gen := opgen.New(g.sg.API, opgen.HintsFrom(g.sg), withMutations(opts, mutations))
	var seeds []opgen.Operation
	for i := 0; i < envInt(t, "DIFFTEST_MUTATE_GEN_N", 40); i++ {
		// Other operations than DIFFTEST_MUTATE=0 runs of the same seed.
		op, err := gen.Generate(difftest.OpSeed(seed^genSeedSalt, i))
		if err != nil {
			t.Fatalf("graph %s: %v", g.name, err)
		}
		seeds = append(seeds, op)
	}
	t.Logf("graph %s: %d generated seed operations", g.name, len(seeds))
	return seeds
}

// genSeedSalt sets the seeds of genSeeds apart from the run's own.
const genSeedSalt = 0x67656e73

// fixedGen answers Generate from operations made beforehand.
type fixedGen struct{ ops map[uint64]opgen.Operation }

func (f *fixedGen) Generate(seed uint64) (opgen.Operation, error) {
	op, ok := f.ops[seed]
	if !ok {
		return opgen.Operation{}, fmt.Errorf("no operation made for seed %d", seed)
	}
	return op, nil
}

// graphqlJSValid validates ops with graphql-js against sdl
// (internal/opgen/testdata/validate.mjs): documents and variables.
func graphqlJSValid(t *testing.T, sdl string, ops []opgen.Operation) []bool {
	t.Helper()
	type doc struct {
		Graph         string         `json:"graph"`
		Query         string         `json:"query"`
		Variables     map[string]any `json:"variables"`
		OperationName string         `json:"operationName"`
	}
	var docs []doc
	for _, op := range ops {
		// The references are asked without @defer (difftest.StripDefer).
		if stripped, ok := difftest.StripDefer(op); ok {
			op = stripped
		}
		docs = append(docs, doc{"g", op.Query, op.Variables, op.OperationName})
	}
	input, _ := json.Marshal(map[string]any{"schemas": map[string]string{"g": sdl}, "docs": docs})
	in := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		t.Fatal(err)
	}
	module, _ := filepath.Abs("js/node_modules/graphql")
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", "../../internal/opgen/testdata/validate.mjs", module, in).Output()
	if err != nil {
		t.Fatalf("graphql-js: %v", err)
	}
	var valid []bool
	if err := json.Unmarshal(out, &valid); err != nil || len(valid) != len(ops) {
		t.Fatalf("graphql-js answered %d verdicts for %d documents (%v)", len(valid), len(ops), err)
	}
	return valid
}
