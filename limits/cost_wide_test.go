package limits

import (
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/wideint"
	"github.com/fedgate/gateway/planner"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// TestEstimateWideIntegers: an argument holding an Int literal beyond 64
// bits (valid in ID, Float and custom scalar positions, wideint.Rule)
// costs what it costs with a narrow one in its place. Were its value
// unreadable (ast.Value.Value reads every Int literal as an int64), the
// argument would cost nothing: one wide ID among a thousand weighted ones
// would make the whole list free.
func TestEstimateWideIntegers(t *testing.T) {
	f := loadSupergraph(t, "supergraph.graphql")
	r := rules.NewDefaultRules()
	r.RemoveRule(rules.ValuesOfCorrectTypeRule.Name)
	w := wideint.Rule(rules.ValuesOfCorrectTypeRule)
	r.AddRule(w.Name, w.RuleFunc)
	const wide = "123456789012345678901234567890"
	ids := strings.Repeat("1, ", 99)
	for _, tc := range []struct {
		name, query string
		want        float64
	}{
		{"narrow", `{ lookup(ids: [` + ids + `1]) { id } }`, 301},
		{"one wide", `{ lookup(ids: [` + ids + wide + `]) { id } }`, 301},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := gqlparser.LoadQueryWithRules(f.api, tc.query, r)
			if err != nil {
				t.Fatalf("invalid query: %v", err)
			}
			coerced, verr := validator.VariableValues(f.api, doc.Operations[0], map[string]any{})
			if verr != nil {
				t.Fatal(verr)
			}
			op, nerr := planner.Normalize(f.api, doc, "", coerced)
			if nerr != nil {
				t.Fatal(nerr)
			}
			got, eerr := f.model.Estimate(op, coerced, CostOptions{})
			if eerr != nil {
				t.Fatal(eerr)
			}
			if got != tc.want {
				t.Fatalf("cost %g, want %g (1 × Book 1 + 100 × @cost 3)", got, tc.want)
			}
		})
	}
}
