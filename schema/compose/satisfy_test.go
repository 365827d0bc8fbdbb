package compose

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const satHeader = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable", "@external", "@requires", "@provides", "@override", "@interfaceObject"])
`

// satCase is a small set of subgraphs and the satisfiability verdict:
// want lists the error codes (none: satisfiable), coord a coordinate one
// of the errors names.
type satCase struct {
	name  string
	subs  map[string]string
	want  []string
	coord string
	// plannerPlans marks an unsatisfiable case whose reported query the
	// planner still plans: composition rejects it as Apollo's does, the
	// planner is more permissive.
	plannerPlans bool
}

const satErr = "SATISFIABILITY_ERROR"

var satCases = []satCase{
	{name: "key_jump", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! }`,
		"b": `type T @key(fields: "id") { id: ID! x: Int }`,
	}},
	{name: "key_not_resolvable", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! }`,
		"b": `type T @key(fields: "id", resolvable: false) { id: ID! x: Int }`,
	}, want: []string{satErr}, coord: "T.x"},
	{name: "key_fields_missing", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! }`,
		"b": `type T @key(fields: "sku") { sku: ID! x: Int }`,
	}, want: []string{satErr}, coord: "T.x"},
	{name: "key_chain", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! }`,
		"b": `type T @key(fields: "id") @key(fields: "sku") { id: ID! sku: ID! }`,
		"c": `type T @key(fields: "sku") { sku: ID! y: Int }`,
	}},
	{name: "compound_key_from_two_subgraphs", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! }`,
		"b": `type T @key(fields: "id") { id: ID! sku: ID! @shareable }`,
		"c": `type T @key(fields: "id sku") { id: ID! sku: ID! @shareable y: Int }`,
	}},
	{name: "requires", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! price: Int }`,
		"b": `type T @key(fields: "id") { id: ID! price: Int @external tax: Int @requires(fields: "price") }`,
	}},
	// Apollo resolves the @requires conditions from b, where price is
	// @external and a cannot be reached; the planner would take price
	// from a before the jump (see TestSatisfiabilityAgreesWithPlanner).
	{name: "requires_inputs_only_before_jump", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id", resolvable: false) { id: ID! price: Int }`,
		"b": `type T @key(fields: "id") { id: ID! price: Int @external tax: Int @requires(fields: "price") }`,
	}, want: []string{satErr}, coord: "T.tax", plannerPlans: true},
	{name: "requires_unreachable", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! price: Int @external tax: Int @requires(fields: "price") }`,
		"b": `type Query { byS(sku: ID): T } type T @key(fields: "sku") { sku: ID! price: Int }`,
	}, want: []string{satErr}, coord: "T.tax"},
	{name: "provides_on_path", subs: map[string]string{
		"a": `type Query { p: P @provides(fields: "name") } type P @key(fields: "id") { id: ID! name: String @external }`,
		"b": `type P @key(fields: "id", resolvable: false) { id: ID! name: String @shareable }`,
	}},
	{name: "provides_not_on_other_path", subs: map[string]string{
		"a": `type Query { p: P @provides(fields: "name") other: P } type P @key(fields: "id") { id: ID! name: String @external }`,
		"b": `type P @key(fields: "id", resolvable: false) { id: ID! name: String @shareable }`,
	}, want: []string{satErr}, coord: "P.name"},
	{name: "provides_nested", subs: map[string]string{
		"a": `type Query { p: P @provides(fields: "owner { name }") } type P @key(fields: "id") { id: ID! owner: U @external } type U @key(fields: "id") { id: ID! name: String @external }`,
		"b": `type P @key(fields: "id", resolvable: false) { id: ID! owner: U @shareable } type U @key(fields: "id", resolvable: false) { id: ID! name: String @shareable }`,
	}},
	{name: "override", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! total: Int }`,
		"b": `type T @key(fields: "id") { id: ID! total: Int @override(from: "a") }`,
	}},
	{name: "override_key_unreachable", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! total: Int }`,
		"b": `type T @key(fields: "id total") { id: ID! total: Int @override(from: "a") }`,
	}, want: []string{satErr}, coord: "T.total"},
	{name: "progressive_override", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! amount: Int }`,
		"b": `type T @key(fields: "id") { id: ID! amount: Int @override(from: "a", label: "percent(10)") }`,
	}},
	{name: "progressive_override_label_on_unreachable", subs: map[string]string{
		"a": `type Query { t: T } type T @key(fields: "id") { id: ID! amount: Int }`,
		"b": `type T @key(fields: "id", resolvable: false) { id: ID! amount: Int @override(from: "a", label: "percent(10)") }`,
	}, want: []string{satErr}, coord: "T.amount"},
	{name: "interface_object", subs: map[string]string{
		"a": `type Query { a: A } interface I @key(fields: "id") { id: ID! } type A implements I @key(fields: "id") { id: ID! name: String }`,
		"b": `type Query { is: [I] } type I @key(fields: "id") @interfaceObject { id: ID! extra: Int }`,
	}},
	{name: "interface_object_key_unreachable", subs: map[string]string{
		"a": `type Query { a: A } interface I @key(fields: "id") { id: ID! } type A implements I @key(fields: "id") { id: ID! name: String }`,
		"b": `type Query { is: [I] } type I @key(fields: "id", resolvable: false) @interfaceObject { id: ID! extra: Int }`,
	}, want: []string{satErr}, coord: "A.extra"},
	{name: "shareable_value_type", subs: map[string]string{
		"a": `type Query { v: V @shareable } type V @shareable { x: Int }`,
		"b": `type Query { v: V @shareable } type V @shareable { x: Int }`,
	}},
	{name: "shareable_value_type_field_elsewhere", subs: map[string]string{
		"a": `type Query { v: V } type V @shareable { x: Int }`,
		"b": `type Query { w: Int } type V @shareable { x: Int y: Int }`,
	}, want: []string{satErr}, coord: "V.y"},
	{name: "shareable_mismatched_runtime_types", subs: map[string]string{
		"a": `type Query { feed: Post @shareable } interface Post { id: ID! } type Article implements Post { id: ID! words: Int }`,
		"b": `type Query { feed: Post @shareable } interface Post { id: ID! } type Video implements Post { id: ID! seconds: Int }`,
	}, want: []string{"SHAREABLE_HAS_MISMATCHED_RUNTIME_TYPES"}, coord: "Query.feed"},
	{name: "mutation_split", subs: map[string]string{
		"a": `type Query { ping: Int } type Mutation { checkout: R @shareable } type R @shareable { total: Int }`,
		"b": `type Query { pong: Int } type Mutation { checkout: R @shareable } type R @shareable { points: Int }`,
	}, want: []string{satErr}},
}

func (c satCase) subgraphs() []Subgraph {
	var out []Subgraph
	for name, sdl := range c.subs {
		out = append(out, Subgraph{Name: name, URL: "http://127.0.0.1:4999/" + name, SDL: satHeader + sdl})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// TestSatisfiability runs the check on its own over small graphs, and
// checks Compose reaches the same verdict.
func TestSatisfiability(t *testing.T) {
	for _, c := range satCases {
		t.Run(c.name, func(t *testing.T) {
			res, err := ComposeWith(c.subgraphs(), Options{SkipSatisfiability: true})
			if err != nil {
				t.Fatalf("compose without the check: %v", err)
			}
			errs := &errorList{}
			checkSatisfiability(res.Supergraph, errs)
			if got, want := strings.Join(errs.list.Codes(), " "), strings.Join(c.want, " "); got != want {
				t.Fatalf("codes %q, want %q\n%v", got, want, errs.list)
			}
			if c.coord != "" {
				found := false
				for _, e := range errs.list {
					found = found || e.Coordinate == c.coord
					if !strings.Contains(e.Message, "The following supergraph API query:") && !strings.Contains(e.Message, "For the following supergraph API query:") {
						t.Errorf("message without the query: %s", e.Message)
					}
				}
				if !found {
					t.Errorf("no error on %s:\n%v", c.coord, errs.list)
				}
			}
			_, full := Compose(c.subgraphs())
			var list Errors
			errors.As(full, &list)
			if got, want := strings.Join(list.Codes(), " "), strings.Join(c.want, " "); got != want {
				t.Errorf("Compose codes %q, want %q", got, want)
			}
		})
	}
}

// TestSatisfiabilityApollo composes the cases of TestSatisfiability with
// @apollo/composition (skipped without node and `npm ci` in
// scripts/compose): the expected verdicts are Apollo's.
func TestSatisfiabilityApollo(t *testing.T) {
	if _, err := os.Stat("../../scripts/compose/node_modules/@apollo/composition"); err != nil {
		t.Skip("no @apollo/composition: run npm ci in scripts/compose")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	root := t.TempDir()
	args := []string{"../../scripts/compose/oracle.mjs", "--json"}
	want := map[string][]string{}
	for _, c := range satCases {
		dir := filepath.Join(root, c.name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, s := range c.subgraphs() {
			if err := os.WriteFile(filepath.Join(dir, s.Name+".graphql"), []byte(s.SDL), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		args = append(args, dir)
		want[dir] = c.want
	}
	cmd := exec.Command("node", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	seen := 0
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var r struct {
			Dir    string   `json:"dir"`
			Codes  []string `json:"codes"`
			Errors []string `json:"errors"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("oracle output: %v", err)
		}
		w, ok := want[r.Dir]
		if !ok {
			t.Fatalf("oracle answered for unknown %s", r.Dir)
		}
		seen++
		if strings.Join(r.Codes, " ") != strings.Join(w, " ") {
			t.Errorf("%s: Apollo %v, want %v\n%s", filepath.Base(r.Dir), r.Codes, w, strings.Join(r.Errors, "\n"))
		}
	}
	if seen != len(satCases) {
		t.Errorf("oracle answered %d cases of %d", seen, len(satCases))
	}
}
