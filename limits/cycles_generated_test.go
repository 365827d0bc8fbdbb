package limits

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	gateway "github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/validator"
)

// TestGeneratedOperationsWithinFieldCycles: the default configuration's
// field cycle limit refuses none of the differential generator's
// operations (with its default bounds; FIELD_CYCLES_BIG=1 for its big
// ones, DIFFTEST_OPGEN=big): 2,000 of the demo's and of client_shapes'
// (the graphs a default cost ceiling refused 15 and 467 of), and 100 of
// every other fixture's (FIELD_CYCLES_OPS=N for N of each). The figures
// are how many SuggestedMaxFieldCycles would refuse, and the operations
// by the most times a field repeats on one path and by depth.
func TestGeneratedOperationsWithinFieldCycles(t *testing.T) {
	if testing.Short() {
		t.Skip("generates thousands of operations")
	}
	others := 100
	if n, err := strconv.Atoi(os.Getenv("FIELD_CYCLES_OPS")); err == nil && n > 0 {
		others = n
	}
	sdls := map[string]string{"demo": gateway.DemoSupergraph}
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "supergraphs", "*.graphql"))
	more, _ := filepath.Glob(filepath.Join("..", "testdata", "compose", "*", "supergraph.graphql"))
	for _, p := range append(paths, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sdls[p] = string(b)
	}
	names := make([]string, 0, len(sdls))
	for k := range sdls {
		names = append(names, k)
	}
	sort.Strings(names)
	opts := opgen.Options{Mutations: true}
	if os.Getenv("FIELD_CYCLES_BIG") != "" {
		opts = opgen.Options{MaxDepth: 8, MaxSelections: 6, MaxFields: 100, MaxOperations: 5, MaxAliases: 20, Mutations: true}
	}
	defaults := DefaultConfig().MaxFieldCycles
	suggested := 0
	total, graphs := 0, 0
	most := map[int]int{}
	hist, depths := map[int]int{}, map[int]int{}
	for _, name := range names {
		sg, err := schema.Load(sdls[name])
		if err != nil {
			continue // a fixture the gateway refuses on purpose
		}
		graphs++
		n := others
		if name == "demo" || strings.Contains(name, "client_shapes") {
			n = max(n, 2000)
		}
		gen := opgen.New(sg.API, opgen.HintsFrom(sg), opts)
		worst := 0
		for seed := range uint64(n) {
			op, err := gen.Generate(seed)
			if err != nil {
				continue
			}
			doc, errs := opgen.LoadQuery(sg.API, op.Query)
			if len(errs) > 0 {
				t.Fatalf("%s seed %d: %v", name, seed, errs)
			}
			for _, o := range doc.Operations {
				vars, verr := validator.VariableValues(sg.API, o, op.Variables)
				if verr != nil {
					continue
				}
				norm, nerr := planner.Normalize(sg.API, doc, o.Name, vars)
				if nerr != nil {
					continue
				}
				total++
				c, _ := FieldCycles(norm)
				worst = max(worst, c)
				hist[c]++
				if err := checkCycles(norm, defaults); err != nil {
					t.Errorf("%s seed %d: the default configuration refuses it: %v\n%s", name, seed, err, op.Query)
				}
				if c > SuggestedMaxFieldCycles {
					suggested++
				}
				d := opDepth(norm.Selection)
				depths[d]++
			}
		}
		most[worst]++
	}
	t.Logf("FIGURE max_field_cycles %d would refuse %d of them; operations by the most times a field repeats on one path %v, by depth %v", SuggestedMaxFieldCycles, suggested, hist, depths)
	t.Logf("FIGURE %d generated operations of %d graphs: graphs by the most times a field repeats on one path: %v", total, graphs, most)
}

func opDepth(s *planner.SelectionSet) int {
	d := 0
	if s == nil {
		return 0
	}
	for _, tf := range s.ByType {
		for _, f := range tf.Fields {
			d = max(d, 1+opDepth(f.Selection))
		}
	}
	return d
}
