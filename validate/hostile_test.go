package validate

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/fedgate/gateway/limits"
)

const hostileSDL = `
type Query { f(i: Int, s: String, l: [Int], in: In): Query n: Int }
input In { i: Int, l: [Int] }
`

// hostileDocuments are documents within the gateway's default static
// limits (limits.DefaultStatic) built to make validation find thousands of
// errors for the location post-processors, or to make their walk long: a
// caller's worst case for Locations.
func hostileDocuments() []struct{ name, query string } {
	rep := func(n int, f func(i int) string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(f(i))
		}
		return b.String()
	}
	spaces := strings.Repeat(" ", 3000)
	return []struct{ name, query string }{
		{"thousands of unknown arguments", "{ f(" + rep(3500, func(i int) string { return fmt.Sprintf("a%d: 1 ", i) }) + ") { n } }"},
		{"thousands of unknown directives", rep(2000, func(i int) string { return fmt.Sprintf("query Q%d @x { n } ", i) })},
		{"repeated directives", rep(450, func(i int) string {
			return fmt.Sprintf("query Q%d @include(if: true) @include(if: true) @skip(if: false) @skip(if: false) { n } ", i)
		})},
		{"an undefined variable in a fragment every operation spreads",
			rep(60, func(i int) string { return fmt.Sprintf("query Q%d { ...F } ", i) }) +
				"fragment F on Query { f(l: [" + strings.Repeat("$v ", 900) + "]) { n } }"},
		{"a variable of the wrong type in a fragment every operation spreads",
			rep(60, func(i int) string { return fmt.Sprintf("query Q%d($v: String) { ...F } ", i) }) +
				"fragment F on Query { f(l: [" + strings.Repeat("$v ", 900) + "]) { n } }"},
		{"a chain of 16 fragments spread by 5 operations",
			rep(5, func(i int) string { return fmt.Sprintf("query Q%d($v: String) { ...F0 } ", i) }) +
				rep(31, func(i int) string {
					return fmt.Sprintf("fragment F%d on Query { a%d: f(i: $v) { n } ...F%d } ", i, i, i+1)
				}) +
				"fragment F31 on Query { a31: f(i: $v) { n } }"},
		{"one response key at many positions, each over many fields",
			"{ " + rep(60, func(i int) string { return fmt.Sprintf("a%d: f { x: f { %s} } ", i, strings.Repeat("n ", 15)) }) +
				rep(10, func(i int) string { return fmt.Sprintf("b%d: f { x: n x: f { n } } ", i) }) + "}"},
		{"variables nested 90 deep", "query($v: String) { f(l: " + strings.Repeat("[", 90) + strings.Repeat("$v ", 3000) + strings.Repeat("]", 90) + ") { n } }"},
		{"2 MiB of strings where numbers go", "{ f(l: [" + rep(700, func(int) string { return `"` + strings.Repeat("s", 3000) + `" ` }) + "]) { n } }"},
		{"2 MiB of block strings", "{ f(l: [" + rep(700, func(int) string { return `"""` + strings.Repeat("s", 3000) + `""" ` }) + "]) { n } }"},
		{"2 MiB between @ and directive names", rep(700, func(i int) string { return fmt.Sprintf("query Q%d @%sx { n } ", i, spaces) })},
		{"2 MiB lines before @ and a name on the next line",
			rep(700, func(i int) string {
				return fmt.Sprintf("query Q%d { f(s: \"%s\") @\nx { n } }\n", i, strings.Repeat("é", 1500))
			})},
		{"2 MiB after ... of spreads", rep(700, func(i int) string { return fmt.Sprintf("query Q%d { ...%sF } ", i, spaces) }) +
			"fragment F on In { i }"},
	}
}

// serverRules are the rules the server validates with, quiet (no
// suggestions, as for any document over 2 KiB) and capped per rule.
func serverRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.ReplaceRule(limits.FragmentCyclesRule.Name, limits.FragmentCyclesRule.RuleFunc)
	for _, swap := range []struct{ loud, quiet core.Rule }{
		{rules.FieldsOnCorrectTypeRule, rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
		{rules.KnownArgumentNamesRule, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.ValuesOfCorrectTypeRule, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.RemoveRule(swap.loud.Name)
		r.AddRule(swap.quiet.Name, swap.quiet.RuleFunc)
	}
	limits.CapRuleErrors(r, limits.MaxValidationErrors)
	return r
}

// TestLocationsHostile: on every hostile document, Locations allocates a
// bounded multiple of the document's size (a proxy of its CPU that does
// not depend on the machine), and changes only locations, adding at most
// what graphql-js names (a definition, an operation, a repeated
// directive's first, a fragment cycle's spreads). Before usesAt, every
// operation's uses were expanded: a fragment of 3,000 variables spread by
// 1,400 operations (30 KB) cost 334 MB and 2.2 s; the static limits now
// refuse such a document (limits.Static.maxValues), and these cases are
// the largest of their shape they accept.
func TestLocationsHostile(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: hostileSDL})
	r := serverRules()
	static := limits.DefaultStatic()
	for _, tc := range hostileDocuments() {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := static.Parse(tc.query)
			if err != nil {
				t.Fatalf("refused by the static limits, so no hostile case: %v", err)
			}
			if _, err := static.CheckOperations(doc); err != nil {
				t.Fatalf("refused by the static limits, so no hostile case: %v", err)
			}
			errs := validator.ValidateWithRules(schema, doc, r)
			if len(errs) == 0 {
				t.Fatal("no validation error: nothing for the post-processors")
			}
			type before struct {
				message string
				locs    int
			}
			was := make([]before, len(errs))
			for i, e := range errs {
				was[i] = before{e.Message, len(e.Locations)}
			}
			var m0, m1 runtime.MemStats
			runtime.ReadMemStats(&m0)
			out := Locations(schema, doc, errs)
			runtime.ReadMemStats(&m1)
			allocated := m1.TotalAlloc - m0.TotalAlloc
			if bound := uint64(16*len(tc.query) + 4<<20); allocated > bound {
				t.Errorf("Locations allocated %d KiB for a document of %d KiB; the bound is %d KiB", allocated>>10, len(tc.query)>>10, bound>>10)
			}
			if len(out) > len(errs) {
				t.Errorf("%d errors out of %d", len(out), len(errs))
			}
			for i, e := range errs {
				if e.Message != was[i].message {
					t.Errorf("message changed: %q, was %q", e.Message, was[i].message)
				}
				if n := len(e.Locations); n > was[i].locs+1 && n > static.MaxFragmentDepth+1 {
					t.Errorf("%d locations, %d before: %v", n, was[i].locs, e)
				}
			}
			t.Logf("%d KiB document, %d errors, Locations allocated %d KiB", len(tc.query)>>10, len(out), allocated>>10)
		})
	}
}

// BenchmarkLocationsHostile measures Locations alone on each hostile
// document (validation's errors made once, outside the loop).
func BenchmarkLocationsHostile(b *testing.B) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: hostileSDL})
	r := serverRules()
	for _, tc := range hostileDocuments() {
		b.Run(tc.name, func(b *testing.B) {
			doc, err := limits.DefaultStatic().Parse(tc.query)
			if err != nil {
				b.Fatal(err)
			}
			errs := validator.ValidateWithRules(schema, doc, r)
			b.ReportAllocs()
			for b.Loop() {
				fresh := make(gqlerror.List, len(errs))
				for i, e := range errs {
					c := *e
					c.Locations = append([]gqlerror.Location(nil), e.Locations...)
					fresh[i] = &c
				}
				Locations(schema, doc, fresh)
			}
		})
	}
}
