package difftest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/mutate"
	"github.com/fedgate/gateway/internal/opgen"
)

// TestEquivalentRewrites compares fedgate with itself, no reference
// needed: a real operation of the repository and a rewrite of it that
// must get the same answer, response key order aside
// (mutate.Generator.Equivalent: fields shuffled, selections moved into
// fragments that apply to the same objects, literals moved to variables
// with the same value, conditions that keep what they guard, a field
// merged with a copy of itself, other operations in the document). A plan
// that depends on how an operation is written, not on what it asks, shows
// here, also on the graphs without a reference (contexts) and where the
// references disagree or crash.
//
// Knobs: DIFFTEST_EQUIV_N (pairs per graph, default 10; 0 skips the
// test), DIFFTEST_EQUIV_GRAPHS (default all: the demo and every fixture,
// and DIFFTEST_EXTERNAL's), DIFFTEST_SEED, DIFFTEST_MUTATE_STEPS,
// DIFFTEST_MUTATE_SEEDS, DIFFTEST_ERRORS.
func TestEquivalentRewrites(t *testing.T) {
	n := envInt(t, "DIFFTEST_EQUIV_N", 10)
	if n == 0 {
		t.Skip("DIFFTEST_EQUIV_N=0")
	}
	seed := uint64(envInt(t, "DIFFTEST_SEED", 1))
	corpus := mutateCorpus(t)
	// With DIFFTEST_ERRORS=2 a subgraph stops at the first non-null field
	// that fails, so which of two failing fields its error names depends
	// on their order, which rewrites change: both answers are right.
	strictErrors := env("DIFFTEST_ERRORS", "0") != "2"
	ctx := context.Background()
	runner := &difftest.Runner{}
	pairs, differ := 0, 0
	for _, src := range sources(t, env("DIFFTEST_EQUIV_GRAPHS", "all")) {
		g, err := start(t, src)
		if err != nil {
			t.Logf("graph %s left out: %v", src.name, err)
			continue
		}
		mutations := !g.demo && !g.external
		seeds := mutate.ForSchema(g.sg.API, corpus, mutations)
		if len(seeds) < minSeeds {
			seeds = append(seeds, mutate.RootSeeds(g.sg.API, mutations)...)
		}
		mg := mutate.New(g.sg.API, opgen.HintsFrom(g.sg), seeds, mutate.Options{MaxSteps: envInt(t, "DIFFTEST_MUTATE_STEPS", 0)})
		graph := &difftest.Graph{Name: g.name, API: g.sg.API, Fedgate: difftest.Endpoint{Name: "fedgate", URL: g.fedgate}}
		for i := 0; i < n; i++ {
			base, op, err := mg.Equivalent(difftest.OpSeed(seed, i))
			if err != nil {
				t.Fatalf("graph %s: %v", g.name, err)
			}
			pairs++
			a := runner.Ask(ctx, graph, base)
			b := runner.Ask(ctx, graph, op)
			if sameAnswer(a, b, strictErrors) {
				continue
			}
			differ++
			if differ <= 20 {
				t.Errorf("graph %s, seed %d, operation %d: fedgate answers a rewrite otherwise:\n%s\n%s", g.name, seed, i, describe("seed operation", base, a), describe("rewritten", op, b))
			}
		}
	}
	t.Logf("%d pairs, %d answered differently", pairs, differ)
}

// sameAnswer: the same data (object keys in any order), the same error
// paths (in any order; with strictErrors false, errors on both sides), or
// both failed.
func sameAnswer(a, b difftest.Result, strictErrors bool) bool {
	if a.Failure != "" || b.Failure != "" {
		return a.Failure != "" && b.Failure != ""
	}
	if !strictErrors && len(a.Errors) > 0 && len(b.Errors) > 0 {
		a.Errors, b.Errors = nil, nil
	}
	ea, eb := slices.Clone(a.Errors), slices.Clone(b.Errors)
	slices.Sort(ea)
	slices.Sort(eb)
	a.Errors, b.Errors = ea, eb
	return difftest.SameUnordered(a, b) && a.Status == b.Status
}

func describe(what string, op opgen.Operation, r difftest.Result) string {
	vars, _ := json.Marshal(op.Variables)
	body := string(r.Body)
	if r.Failure != "" {
		body = r.Failure
	}
	return fmt.Sprintf("%s (operationName %q, variables %s):\n%s\nanswer (HTTP %d): %s", what, op.OperationName, vars, strings.TrimSpace(op.Query), r.Status, body)
}
