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
// DIFFTEST_MUTATE_SEEDS, DIFFTEST_ERRORS, DIFFTEST_DEFER, DIFFTEST_OPTIONAL, DIFFTEST_EQUIV_SEEDS
// (gen: generated operations as seeds, DIFFTEST_MUTATE_GEN_N per graph,
// with DIFFTEST_OPGEN's bounds).
func TestEquivalentRewrites(t *testing.T) {
	n := envInt(t, "DIFFTEST_EQUIV_N", 10)
	if n == 0 {
		t.Skip("DIFFTEST_EQUIV_N=0")
	}
	seed := uint64(envInt(t, "DIFFTEST_SEED", 1))
	// DIFFTEST_EQUIV_SEEDS=gen: the seeds are generated operations
	// (genSeeds), not the corpus's.
	fromGen := env("DIFFTEST_EQUIV_SEEDS", "") == "gen"
	var corpus []string
	if !fromGen {
		corpus = mutateCorpus(t)
	}
	// With DIFFTEST_ERRORS=2 a subgraph stops at the first non-null field
	// that fails, so which of two failing fields its error names depends
	// on their order, which rewrites change: both answers are right. So
	// with DIFFTEST_OPTIONAL=1, whose seeds send null for non-null
	// arguments with defaults: the field error graphql-js raises there is
	// a non-null field's.
	strictErrors := env("DIFFTEST_ERRORS", "0") != "2" && env("DIFFTEST_OPTIONAL", "0") != "1"
	// DIFFTEST_DEFER=1: the seeds keep their @defer and rewrites add
	// some; a rewrite with @defer is asked incrementally, its payloads
	// merged, and compared with the seed's one-body answer. Errors are
	// then compared by presence: a non-null error inside a deferred
	// fragment nulls that fragment's entry only (docs/differential.md).
	deferOn := env("DIFFTEST_DEFER", "0") == "1"
	ctx := context.Background()
	runner := &difftest.Runner{}
	pairs, differ, unplannable, limitedPairs := 0, 0, 0, 0
	for _, src := range sources(t, env("DIFFTEST_EQUIV_GRAPHS", "all")) {
		g, err := start(t, src)
		if err != nil {
			t.Logf("graph %s left out: %v", src.name, err)
			continue
		}
		mutations := !g.demo && !g.external
		var seeds []opgen.Operation
		if fromGen {
			seeds = genSeeds(t, g, mutations, deferOn, seed)
		} else {
			seeds = mutate.ForSchema(g.sg.API, corpus, mutations)
			if len(seeds) < minSeeds {
				seeds = append(seeds, mutate.RootSeeds(g.sg.API, mutations)...)
			}
		}
		mg := mutate.New(g.sg.API, opgen.HintsFrom(g.sg), seeds, mutate.Options{MaxSteps: envInt(t, "DIFFTEST_MUTATE_STEPS", 0), Defer: deferOn})
		graph := &difftest.Graph{Name: g.name, API: g.sg.API, Fedgate: difftest.Endpoint{Name: "fedgate", URL: g.fedgate}}
		shown := 0
		for i := 0; i < n; i++ {
			base, op, err := mg.Equivalent(difftest.OpSeed(seed, i))
			if err != nil {
				t.Fatalf("graph %s: %v", g.name, err)
			}
			pairs++
			strict, incremental := strictErrors, false
			if !deferOn {
				if stripped, ok := difftest.StripDefer(base); ok {
					base = stripped
				}
			}
			a := runner.Ask(ctx, graph, base)
			var b difftest.Result
			if deferOn && difftest.HasDefer(op) {
				b = withoutAdded(runner.AskIncremental(ctx, graph, op))
				strict, incremental = false, true
			} else {
				b = withoutAdded(runner.Ask(ctx, graph, op))
			}
			if sameAnswer(a, b, strict) || incremental && erredAlike(a, b) {
				continue
			}
			if limited(a) != limited(b) {
				// A rewrite can grow a document past one of fedgate's
				// query limits (max_field_merges, max_aliases), which the
				// seed stays under, or the other way round: a refusal
				// by a limit is no answer to compare (DIFFTEST_LIMITS=loose
				// raises them).
				limitedPairs++
				continue
			}
			if strings.Contains(string(a.Body), "QUERY_PLANNING_FAILED") && strings.Contains(op.Query, "added__typename") {
				// A selection of fields no subgraph reaches below an
				// interface without implementations does not plan, one
				// with __typename does (planner/emptyabstract.go).
				unplannable++
				continue
			}
			differ++
			if shown++; shown <= 3 { // per graph
				t.Errorf("graph %s, seed %d, operation %d: fedgate answers a rewrite otherwise:\n%s\n%s", g.name, seed, i, describe("seed operation", base, a), describe("rewritten", op, b))
			}
		}
		if shown > 3 {
			t.Logf("graph %s: %d pairs answered differently, 3 shown", g.name, shown)
		}
	}
	t.Logf("%d pairs, %d answered differently (%d more where only the rewrite, with __typename added, plans; %d where one of the two was refused by a query limit)", pairs, differ, unplannable, limitedPairs)
}

// sameAnswer: the same data (object keys in any order), the same error
// paths (in any order; with strictErrors false, errors on both sides) and
// the same HTTP status. An answer that is no GraphQL response (a body that
// does not parse, a broken connection) is never the same as another, even
// one that failed too: both requests went to fedgate, which must answer
// every valid operation with a GraphQL response, so two failures are two
// findings, not agreement (they were counted as the same answer before).
func sameAnswer(a, b difftest.Result, strictErrors bool) bool {
	if a.Failure != "" || b.Failure != "" {
		return false
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

// limited reports whether r is a refusal by one of fedgate's query limits
// (codes MAX_ALIASES_EXCEEDED, MAX_FIELD_MERGES_EXCEEDED, ...).
func limited(r difftest.Result) bool {
	for _, c := range r.Codes {
		if strings.HasPrefix(c, "MAX_") && strings.HasSuffix(c, "_EXCEEDED") {
			return true
		}
	}
	return false
}

// erredAlike: the one-body answer a and the merged incremental answer b
// both have errors, and are no request error of one shape (the HTTP
// status aside: a request refused before execution is answered 400 to
// the one-body request's Accept and 200 to the incremental one's, which
// lists application/json). Their data may then differ by design, as the
// differential test's verdict allows (difftest.Runner, erredAlike there): a
// non-null field error inside a deferred fragment nulls that fragment's
// entry only, where the one-body answer propagates the null further up
// (to data: null for a root field's non-null chain).
func erredAlike(a, b difftest.Result) bool {
	return a.Failure == "" && b.Failure == "" && len(a.Errors) > 0 && len(b.Errors) > 0
}

func describe(what string, op opgen.Operation, r difftest.Result) string {
	vars, _ := json.Marshal(op.Variables)
	body := string(r.Body)
	if r.Failure != "" {
		body = r.Failure
	}
	return fmt.Sprintf("%s (operationName %q, variables %s):\n%s\nanswer (HTTP %d): %s", what, op.OperationName, vars, strings.TrimSpace(op.Query), r.Status, body)
}

// withoutAdded drops from r's data the keys of the __typename fields
// Equivalent added (mutate.Added).
func withoutAdded(r difftest.Result) difftest.Result {
	var data any
	if r.Failure != "" || json.Unmarshal([]byte(r.Data), &data) != nil {
		return r
	}
	var drop func(v any)
	drop = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, c := range x {
				if mutate.Added(k) {
					delete(x, k)
					continue
				}
				drop(c)
			}
		case []any:
			for _, c := range x {
				drop(c)
			}
		}
	}
	drop(data)
	b, _ := json.Marshal(data)
	r.Data = string(b)
	return r
}

func TestSameAnswer(t *testing.T) {
	ok := difftest.Parse(200, []byte(`{"data":{"a":1,"b":{"c":2}}}`))
	reordered := difftest.Parse(200, []byte(`{"data":{"b":{"c":2},"a":1}}`))
	erred := difftest.Parse(200, []byte(`{"data":{"a":1,"b":null},"errors":[{"message":"x","path":["b"]}]}`))
	erredElsewhere := difftest.Parse(200, []byte(`{"data":{"a":1,"b":null},"errors":[{"message":"x","path":["b","c"]}]}`))
	panicked := difftest.Parse(500, []byte("panic: runtime error: index out of range"))
	cut := difftest.Parse(200, []byte(`{"data":{"a":`))
	refused := difftest.Parse(400, []byte(`{"errors":[{"message":"x","extensions":{"code":"GRAPHQL_VALIDATION_FAILED"}}]}`))
	for _, tc := range []struct {
		name   string
		a, b   difftest.Result
		strict bool
		want   bool
	}{
		{"key order aside", ok, reordered, true, true},
		{"an error on one side", ok, erred, true, false},
		{"errors at other paths, strict", erred, erredElsewhere, true, false},
		{"errors at other paths, by presence", erred, erredElsewhere, false, true},
		{"another status", ok, refused, true, false},
		{"both no GraphQL answer", panicked, panicked, true, false},
		{"both no GraphQL answer, by presence", panicked, cut, false, false},
		{"one no GraphQL answer", ok, panicked, true, false},
	} {
		if got := sameAnswer(tc.a, tc.b, tc.strict); got != tc.want {
			t.Errorf("%s: sameAnswer = %v, want %v", tc.name, got, tc.want)
		}
	}
}
