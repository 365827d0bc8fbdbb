package limits

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// TestCapRuleErrorsBuildsNoMore: a rule that finds an error on every
// field builds at most the cap's errors per validation (its options are
// applied to no more), and each validation counts afresh.
func TestCapRuleErrorsBuildsNoMore(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { a: Int }`})
	doc, err := parser.ParseQuery(&ast.Source{Input: "{ " + strings.Repeat("a ", 1000) + "}"})
	if err != nil {
		t.Fatal(err)
	}
	built := 0
	everyField := core.Rule{Name: "EveryField", RuleFunc: func(observers *core.Events, addError core.AddErrFunc) {
		observers.OnField(func(_ *core.Walker, field *ast.Field) {
			addError(func(e *gqlerror.Error) {
				built++
				e.Message = "field " + field.Name
			})
		})
	}}
	r := rules.NewRules(everyField)
	CapRuleErrors(r, 10)
	for round := range 2 {
		built = 0
		errs := validator.ValidateWithRules(schema, doc, r)
		if len(errs) != 10 || built != 10 {
			t.Errorf("validation %d: %d errors, %d built; want 10 and 10 of the 1000 found", round, len(errs), built)
		}
	}
}

// TestCapRuleErrorsKeepsTheFirst: with every rule capped, a document's
// first MaxValidationErrors errors are the ones the uncapped rules
// report first (messages, locations, order), for documents where one
// rule or several find many.
func TestCapRuleErrorsKeepsTheFirst(t *testing.T) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `
		type Query { me: User search: [Result] }
		type User { id: ID name: String friends(first: Int): [User] }
		type Post { id: ID title: String }
		union Result = User | Post`})
	times := func(n int, unit string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(strings.ReplaceAll(unit, "{i}", strconv.Itoa(i)) + " ")
		}
		return b.String()
	}
	capped := rules.NewDefaultRules()
	CapRuleErrors(capped, MaxValidationErrors)
	for _, tc := range []struct{ name, doc string }{
		{"conflicting aliases", "{ me { " + times(86, "a: id a: name") + "} }"},
		{"one key across union members", "{ search { " + times(40, "... on User { k: id } ... on Post { k: title }") + "} }"},
		{"conflicting arguments", "{ me { " + times(30, "f: friends(first: {i}) { id }") + "} }"},
		{"several rules", "query($u: Int) { me { " + times(20, "x{i} a: id a: name id @include(if: true) @include(if: true) friends(first: $v{i}) { nope }") + "} }"},
		{"unused variables", "query(" + times(50, "$v{i}: Int") + ") { me { id } }"},
		{"few errors", "{ me { a: id a: name nope } }"},
		{"none", "{ me { id name } }"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Input: tc.doc})
			if err != nil {
				t.Fatal(err)
			}
			want := validator.ValidateWithRules(schema, doc, rules.NewDefaultRules())
			got := validator.ValidateWithRules(schema, doc, capped)
			if len(want) > MaxValidationErrors {
				want = want[:MaxValidationErrors]
			}
			if len(got) > MaxValidationErrors {
				got = got[:MaxValidationErrors]
			}
			if len(got) != len(want) {
				t.Fatalf("%d errors, want %d: %v", len(got), len(want), got)
			}
			for i := range got {
				if got[i].Message != want[i].Message || got[i].Rule != want[i].Rule || !sameLocations(got[i].Locations, want[i].Locations) {
					t.Errorf("error %d: %s %v (%s), want %s %v (%s)", i, got[i].Message, got[i].Locations, got[i].Rule,
						want[i].Message, want[i].Locations, want[i].Rule)
				}
			}
		})
	}
}

func sameLocations(a, b []gqlerror.Location) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// BenchmarkConflictingAliases validates 172 fields of one response key
// at one position (inside the field-merge bound): 7,396 conflicts found,
// with every rule capped or not.
func BenchmarkConflictingAliases(b *testing.B) {
	schema := gqlparser.MustLoadSchema(&ast.Source{Input: `type Query { me: User } type User { id: ID name: String }`})
	doc, err := parser.ParseQuery(&ast.Source{Input: "{ me { " + strings.Repeat("a: id a: name ", 86) + "} }"})
	if err != nil {
		b.Fatal(err)
	}
	for _, capped := range []bool{false, true} {
		b.Run("capped="+strconv.FormatBool(capped), func(b *testing.B) {
			r := rules.NewDefaultRules()
			if capped {
				CapRuleErrors(r, MaxValidationErrors)
			}
			b.ReportAllocs()
			for b.Loop() {
				validator.ValidateWithRules(schema, doc, r)
			}
		})
	}
}
