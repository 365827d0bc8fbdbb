package limits

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// TestFragmentCyclesRuleMatchesGqlparser: the indexed rule reports what
// gqlparser's NoFragmentCycles reports (messages, order, and its location
// as the last of the cycle's spreads, which graphql-js names all of) for
// documents with and without cycles, unknown spreads, duplicate fragment
// names and spreads nested in fields and inline fragments.
func TestFragmentCyclesRuleMatchesGqlparser(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { a: A } type A { id: ID b: A }`})
	for _, tc := range []struct{ name, doc string }{
		{"no cycle", `{ a { ...F } } fragment F on A { id ...G } fragment G on A { id }`},
		{"cycle of one", `{ a { ...F } } fragment F on A { ...F }`},
		{"cycle of two", `{ a { ...F } } fragment F on A { ...G } fragment G on A { ...F }`},
		{"cycle of three via nested", `{ a { ...F } } fragment F on A { b { ...G } } fragment G on A { ... on A { ...H } } fragment H on A { id ...F }`},
		{"two cycles", `{ a { ...F } } fragment F on A { ...G ...H } fragment G on A { ...F } fragment H on A { ...F ...H }`},
		{"unknown spreads", `{ a { ...F } } fragment F on A { ...X } fragment G on A { ...Y ...F }`},
		{"duplicate names", `{ a { ...F } } fragment F on A { id } fragment F on A { ...F }`},
		{"spread of a later cycle", `{ a { ...A1 } } fragment A1 on A { ...B1 } fragment B1 on A { ...C1 } fragment C1 on A { ...B1 ...A1 }`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tc.doc})
			if err != nil {
				t.Fatal(err)
			}
			want := validator.ValidateWithRules(schema, doc, rules.NewRules(rules.NoFragmentCyclesRule))
			got := validator.ValidateWithRules(schema, doc, rules.NewRules(FragmentCyclesRule))
			if len(got) != len(want) {
				t.Fatalf("got %v, want %v", got, want)
			}
			for i := range got {
				// Located at every spread of the cycle as graphql-js
				// does; the last is the one gqlparser names.
				if got[i].Message != want[i].Message || got[i].Locations[len(got[i].Locations)-1] != want[i].Locations[0] ||
					len(got[i].Locations) != strings.Count(got[i].Message, `", "`)+1+strings.Count(got[i].Message, " via ") {
					t.Errorf("error %d: %q at %v, want %q at %v and one location per spread of the cycle", i, got[i].Message, got[i].Locations, want[i].Message, want[i].Locations)
				}
			}
			if strings.Contains(tc.name, "cycle") && tc.name != "no cycle" && len(got) == 0 {
				t.Errorf("no error for a cycle")
			}
		})
	}
}

// BenchmarkFragmentCycles validates, with one rule, 1,600 fragments each
// spreading an unknown fragment (what fits the token limit):
// gqlparser's rule scans the fragments for each spread.
func BenchmarkFragmentCycles(b *testing.B) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { a: A } type A { id: ID }`})
	var sb strings.Builder
	sb.WriteString("{ a { ...F0 } }")
	for i := range 1600 {
		sb.WriteString(" fragment F" + strconv.Itoa(i) + " on A { id ...X" + strconv.Itoa(i) + " }")
	}
	doc, err := parser.ParseQuery(&ast.Source{Input: sb.String()})
	if err != nil {
		b.Fatal(err)
	}
	for _, r := range []struct {
		name string
		rule *rules.Rules
	}{{"gqlparser", rules.NewRules(rules.NoFragmentCyclesRule)}, {"indexed", rules.NewRules(FragmentCyclesRule)}} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				validator.ValidateWithRules(schema, doc, r.rule)
			}
		})
	}
}
