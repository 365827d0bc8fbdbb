package compose

import (
	"errors"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
)

// labelStates lists the @override label states the check runs in (for up
// to four labels: every combination).
func labelStates(sg *schema.Supergraph) []map[string]bool {
	var states []map[string]bool
	for mask := 0; mask < 1<<len(sg.OverrideLabels); mask++ {
		state := map[string]bool{}
		for i, l := range sg.OverrideLabels {
			state[l] = mask&(1<<i) != 0
		}
		states = append(states, state)
	}
	return states
}

// exploreQuery selects every field without required arguments below a
// root type (aliased <Type>_<field>), depth levels of objects deep, with a fragment on each
// possible type of an abstract type.
func exploreQuery(api *ast.Schema, def *ast.Definition, depth int) string {
	var b strings.Builder
	var sel func(d *ast.Definition, depth int)
	sel = func(d *ast.Definition, depth int) {
		b.WriteString("{ __typename")
		if d.Kind == ast.Union || d.Kind == ast.Interface {
			possible := api.GetPossibleTypes(d)
			sort.Slice(possible, func(i, j int) bool { return possible[i].Name < possible[j].Name })
			for _, m := range possible {
				b.WriteString(" ... on " + m.Name + " ")
				sel(m, depth)
			}
			if d.Kind == ast.Union {
				b.WriteString(" }")
				return
			}
		}
	fields:
		for _, f := range d.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			for _, a := range f.Arguments {
				if a.Type.NonNull && a.DefaultValue == nil {
					continue fields
				}
			}
			// Aliased by type: fields of one name in fragments on two
			// types may have different types.
			alias := " " + d.Name + "_" + f.Name + ": " + f.Name
			t := api.Types[f.Type.Name()]
			if t == nil || t.Kind == ast.Scalar || t.Kind == ast.Enum {
				b.WriteString(alias)
				continue
			}
			if depth == 0 {
				continue
			}
			b.WriteString(alias + " ")
			sel(t, depth-1)
		}
		b.WriteString(" }")
	}
	sel(def, depth)
	return b.String()
}

// planQuery plans a query on sg under the labels.
func planQuery(sg *schema.Supergraph, query string, labels map[string]bool) error {
	doc, gerr := gqlparser.LoadQuery(sg.API, query)
	if gerr != nil {
		return errors.New("invalid query: " + gerr.Error())
	}
	op, err := planner.Normalize(sg.API, doc, "", nil)
	if err != nil {
		return err
	}
	_, err = planner.New(sg).Plan(op, planner.Options{Labels: labels})
	return err
}

// errorQuery is the query a SATISFIABILITY_ERROR message names, made a
// valid document (a field of object type gets a selection).
func errorQuery(api *ast.Schema, msg string) string {
	start := strings.Index(msg, "API query:\n")
	end := strings.Index(msg, "\ncannot be satisfied")
	if start < 0 || end < 0 {
		return ""
	}
	q := msg[start+len("API query:\n") : end]
	doc, errs := gqlparser.LoadQuery(api, q)
	if errs == nil && doc != nil {
		return q
	}
	// The last field is an object: select its __typename.
	lines := strings.Split(q, "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "}" && l != "" {
			lines[i] += " { __typename }"
			break
		}
	}
	return strings.Join(lines, "\n")
}

// TestSatisfiabilityAgreesWithPlanner: what composes is what plans. On
// every case of TestSatisfiability, in every @override label state, a
// satisfiable supergraph plans a query selecting every field three
// objects deep, and the query each SATISFIABILITY_ERROR names fails to
// plan (but on the cases marked plannerPlans, where the planner can do
// more than Apollo's composition lets compose).
func TestSatisfiabilityAgreesWithPlanner(t *testing.T) {
	for _, c := range satCases {
		t.Run(c.name, func(t *testing.T) {
			res, err := ComposeWith(c.subgraphs(), Options{SkipSatisfiability: true})
			if err != nil {
				t.Fatal(err)
			}
			sg := res.Supergraph
			for _, labels := range labelStates(sg) {
				errs := &errorList{}
				newSatChecker(sg, labels, errs).run()
				if errs.empty() {
					for _, root := range []*ast.Definition{sg.API.Query, sg.API.Mutation} {
						if root == nil {
							continue
						}
						q := exploreQuery(sg.API, root, 3)
						if root == sg.API.Mutation {
							q = "mutation " + q
						}
						if err := planQuery(sg, q, labels); err != nil {
							t.Errorf("labels %v: satisfiable, but %s does not plan: %v", labels, q, err)
						}
					}
					continue
				}
				planned := 0
				for _, e := range errs.list {
					if e.Code != satErr {
						continue
					}
					q := errorQuery(sg.API, e.Message)
					if q == "" {
						t.Fatalf("no query in %s", e.Message)
					}
					if strings.HasPrefix(q, "mutation") {
						// A mutation runs in one subgraph: the one that
						// cannot reach the reported field may not be the
						// only one there, but none reaches every field.
						q = "mutation " + exploreQuery(sg.API, sg.API.Mutation, 3)
					}
					if err := planQuery(sg, q, labels); err == nil {
						planned++
						if !c.plannerPlans {
							t.Errorf("labels %v: %s is unsatisfiable, but the planner plans it", labels, q)
						}
					} else if strings.HasPrefix(err.Error(), "invalid query") {
						t.Errorf("%v", err)
					}
				}
				if c.plannerPlans && planned == 0 {
					t.Errorf("labels %v: marked plannerPlans, but the planner plans no reported query", labels)
				}
			}
		})
	}
}

// TestRandomAgreesWithPlanner: on random subgraph sets (randomSubgraphs,
// fixed seed), every satisfiable supergraph plans a query selecting every
// field three objects deep. The converse is logged: the planner plans
// some queries composition rejects (a @requires whose inputs only the
// subgraph before the jump has, which Apollo rejects too).
func TestRandomAgreesWithPlanner(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	sat, unsat, unsatPlans := 0, 0, 0
	for i := 0; i < 1000; i++ {
		res, err := ComposeWith(randomSubgraphs(r), Options{SkipSatisfiability: true})
		if err != nil {
			continue
		}
		sg := res.Supergraph
		for _, labels := range labelStates(sg) {
			errs := &errorList{}
			newSatChecker(sg, labels, errs).run()
			if errs.empty() {
				sat++
				q := exploreQuery(sg.API, sg.API.Query, 3)
				if err := planQuery(sg, q, labels); err != nil {
					t.Errorf("satisfiable, but %s does not plan: %v\n%s", q, err, res.SDL)
				}
				continue
			}
			for _, e := range errs.list {
				if e.Code != satErr || strings.HasPrefix(e.Message, "The following supergraph API query:\nmutation") {
					continue
				}
				unsat++
				if err := planQuery(sg, errorQuery(sg.API, e.Message), labels); err == nil {
					unsatPlans++
				} else if strings.HasPrefix(err.Error(), "invalid query") {
					t.Errorf("%v", err)
				}
			}
		}
	}
	if sat < 100 || unsat < 50 {
		t.Fatalf("only %d satisfiable and %d unsatisfiable queries: the generator changed", sat, unsat)
	}
	t.Logf("%d satisfiable supergraphs plan; %d unsatisfiable queries, %d of them planned", sat, unsat, unsatPlans)
}

// TestCorpusPlans: every corpus case that composes plans a query
// selecting every field three objects deep, in every @override label
// state.
func TestCorpusPlans(t *testing.T) {
	for _, c := range loadCorpus(t) {
		res, err := Compose(c.subgraphs)
		if err != nil {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			sg := res.Supergraph
			for _, labels := range labelStates(sg) {
				for _, root := range []*ast.Definition{sg.API.Query, sg.API.Mutation} {
					if root == nil {
						continue
					}
					q := exploreQuery(sg.API, root, 3)
					if root == sg.API.Mutation {
						q = "mutation " + q
					}
					if err := planQuery(sg, q, labels); err != nil {
						t.Errorf("labels %v: %s does not plan: %v", labels, q, err)
					}
				}
			}
		})
	}
}
