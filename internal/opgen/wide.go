package opgen

import (
	"encoding/json"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator/rules"

	"github.com/fedgate/gateway/internal/wideint"
	"github.com/fedgate/gateway/validate"
)

// wideDigits is an integer beyond 64 bits: a valid Float (spec 3.5.2),
// ID (3.5.5) or custom scalar literal that graphql-js accepts and
// gqlparser's own ValuesOfCorrectType refused (wideint.Rule).
const wideDigits = "123456789012345678901234567890"

// wideLiteral returns, with Options.Wide and sometimes, an Int
// literal beyond 64 bits (sometimes negative) for a Float, ID or custom
// scalar position of def, or nil. Off, it draws nothing, so a seed's
// operations stay those generated before it was added. Only literals (and
// variable defaults, which are literals): a JSON number that large is
// rounded by JavaScript gateways; variables get wideJSON's.
func (s *gen) wideLiteral(def *ast.Definition) *ast.Value {
	if !s.opts.Wide || def.Kind != ast.Scalar {
		return nil
	}
	if def.Name != "Float" && def.Name != "ID" && !customScalar(def) {
		return nil
	}
	// IDs are common positions, Float and custom scalar ones rare.
	odds := 3
	if def.Name == "ID" {
		odds = 8
	}
	if s.r.IntN(odds) != 0 {
		return nil
	}
	raw := wideDigits
	if def.Name != "ID" && s.r.IntN(3) == 0 {
		raw = "-" + raw
	}
	return &ast.Value{Kind: ast.IntValue, Raw: raw}
}

// wideID is an integer beyond 2^53 whose float64 prints as these digits
// (JavaScript's shortest form): a JSON number every gateway reads alike.
const wideID = "12345678901234568"

// wideJSON returns, with Options.Wide and one time in eight, an ID
// variable's value beyond 2^53 (a JSON number, as JavaScript clients send
// large ids), or false. Off, it draws nothing.
func (s *gen) wideJSON(def *ast.Definition) (any, bool) {
	if !s.opts.Wide || def.Name != "ID" || s.r.IntN(8) != 0 {
		return nil, false
	}
	return json.Number(wideID), true
}

// Rules are the validation rules generated documents satisfy: gqlparser's
// with the gateway's reading of Int literals beyond 64 bits (valid Float,
// ID and custom scalar values, wideint.Rule) and its @defer label rule
// (validate.DeferStreamLabelRule: a rewrite copying a labelled @defer
// would repeat its label). The generator writes no Int
// literal beyond 32 bits in an Int position, which the gateway refuses
// (limits.IntRangeRule; limits' tests use this package, so it does not
// import limits).
func Rules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.RemoveRule(rules.ValuesOfCorrectTypeRule.Name)
	w := wideint.Rule(rules.ValuesOfCorrectTypeRule)
	r.AddRule(w.Name, w.RuleFunc)
	r.AddRule(validate.DeferStreamLabelRule.Name, validate.DeferStreamLabelRule.RuleFunc)
	return r
}

// LoadQuery parses and validates query against schema with Rules.
func LoadQuery(schema *ast.Schema, query string) (*ast.QueryDocument, gqlerror.List) {
	return gqlparser.LoadQueryWithRules(schema, query, Rules())
}
