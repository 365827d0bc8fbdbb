package graphgen

import (
	"os"
	"strconv"
	"testing"

	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema/compose"
	"github.com/vektah/gqlparser/v2"
)

// TestGraphsPlan: fedgate's planner plans generated operations on every
// generated graph, also the graphs with authorization and contexts the
// differential test leaves out (GRAPHGEN_PLAN_SEEDS graphs, 20 operations
// each; every operation validates, so a planning error is the planner's).
func TestGraphsPlan(t *testing.T) {
	seeds := int64(60)
	if v := os.Getenv("GRAPHGEN_PLAN_SEEDS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("GRAPHGEN_PLAN_SEEDS: %v", err)
		}
		seeds = n
	}
	planned := 0
	for seed := int64(0); seed < seeds; seed++ {
		g := GenerateWith(seed, All)
		res, err := compose.Compose(toCompose(g))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		sg := res.Supergraph
		gen := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{Mutations: true})
		p := planner.New(sg)
		for i := uint64(0); i < 20; i++ {
			op, err := gen.Generate(uint64(seed)<<16 | i)
			if err != nil {
				continue // the generator's own limit, not the planner's
			}
			doc, errs := gqlparser.LoadQuery(sg.API, op.Query)
			if len(errs) > 0 {
				t.Fatalf("seed %d operation %d does not validate: %v", seed, i, errs)
			}
			norm, err := planner.Normalize(sg.API, doc, op.OperationName, op.Variables)
			if err != nil {
				t.Errorf("seed %d operation %d: normalize: %v\n%s", seed, i, err, op.Query)
				continue
			}
			if _, err := p.Plan(norm, planner.Options{}); err != nil {
				t.Errorf("seed %d operation %d: plan: %v\n%s", seed, i, err, op.Query)
				continue
			}
			planned++
		}
	}
	t.Logf("planned %d operations on %d graphs", planned, seeds)
}
