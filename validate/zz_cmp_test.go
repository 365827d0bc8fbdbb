package validate

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/fedgate/gateway/limits"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

func TestZZCmp(t *testing.T) {
	sdl, _ := os.ReadFile("/tmp/errs/cmp/token.graphql")
	schema := gqlparser.MustLoadSchema(&ast.Source{Name: "s.graphql", Input: string(sdl)})
	r := rules.NewDefaultRules()
	r.ReplaceRule(limits.FragmentCyclesRule.Name, limits.FragmentCyclesRule.RuleFunc)
	limits.CapRuleErrors(r, limits.MaxValidationErrors)
	var docs []string
	b, _ := os.ReadFile("/tmp/errs/cmp/tdocs.json")
	json.Unmarshal(b, &docs)
	var out [][]string
	for _, q := range docs {
		doc, err := parser.ParseQuery(&ast.Source{Input: q})
		if err != nil {
			out = append(out, []string{err.Error()})
			continue
		}
		errs := Locations(doc, validator.ValidateWithRules(schema, doc, r))
		var lines []string
		for _, e := range errs {
			var locs []string
			for _, l := range e.Locations {
				locs = append(locs, fmt.Sprintf("%d:%d", l.Line, l.Column))
			}
			lines = append(lines, e.Message+" "+strings.Join(locs, " "))
		}
		out = append(out, lines)
	}
	j, _ := json.MarshalIndent(out, "", " ")
	os.WriteFile("/tmp/errs/cmp/fedgate.json", j, 0o644)
}
