package mutate_test

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/mutate"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/validate"
	"github.com/vektah/gqlparser/v2"
	validatorrules "github.com/vektah/gqlparser/v2/validator/rules"
)

// TestRewritesKeepDeferLabelsUnique: the rewrites that copy selections or
// operations (operations, twice, complement, fragment) never repeat a
// @defer label of their seed: the gateway refuses a document with one
// label twice (DeferStreamLabelRule), so a rewrite with one would be
// answered with an error where its seed is answered with data.
func TestRewritesKeepDeferLabelsUnique(t *testing.T) {
	sg, err := schema.Load(gateway.DemoSupergraph)
	if err != nil {
		t.Fatal(err)
	}
	seeds := []opgen.Operation{{Query: `{ product(upc: "1") { name ... @defer(label: "r") { reviews { body } } } }`}}
	g := mutate.New(sg.API, opgen.HintsFrom(sg), seeds, mutate.Options{Only: []string{"operations", "twice", "complement", "fragment"}, MaxSteps: 3})
	only := validatorrules.NewRules(validate.DeferStreamLabelRule)
	rewritten := 0
	for seed := uint64(0); seed < 200; seed++ {
		_, op, err := g.Equivalent(seed)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !strings.Contains(op.Query, "# mutate: seed 0: \n") {
			rewritten++ // some rewrite was applied
		}
		if _, errs := gqlparser.LoadQueryWithRules(sg.API, op.Query, only); len(errs) > 0 {
			t.Fatalf("seed %d: %v\n%s", seed, errs, op.Query)
		}
	}
	if rewritten < 100 {
		t.Errorf("%d of 200 seeds rewritten, want 100 or more to tell", rewritten)
	}
}
