package server

import (
	"github.com/fedgate/gateway/internal/wideint"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/validate"
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// maxSuggestingBytes is the longest document whose validation errors
// suggest the names closest to an unknown one ("Did you mean ...?").
//
// A suggestion is a Levenshtein distance from the unknown name to every
// candidate (the fields of a type, the arguments of a field, the types,
// the enum values), in the product of their lengths: unknown field names
// filling a 2 MiB body cost 243 ms of CPU in `gateway demo` (whose types
// have about ten fields), and a single 1 MB name on a type of 300 fields
// 4.6 s. A document this short costs at most its length times the
// candidates' in suggestions, as it did before; a longer one is validated
// without them.
const maxSuggestingBytes = 2 << 10

// validationRules are the rules query is validated with: with suggestions
// when introspection is on (no caller gets them otherwise: validationError)
// and the query is at most maxSuggestingBytes long, else without
// (quietRules). Both report the same errors otherwise.
func (s *Server) validationRules(query string) *rules.Rules {
	if s.opts.Introspection && len(query) <= maxSuggestingBytes {
		return s.rules
	}
	return s.quietRules
}

// quietRules are gqlparser's default rules and the gateway's, each rule
// that suggests names replaced by its variant that does not.
func quietRules() *rules.Rules {
	r := rules.NewDefaultRules()
	r.AddRule(limits.IntRangeRule.Name, limits.IntRangeRule.RuleFunc)
	r.ReplaceRule(limits.FragmentCyclesRule.Name, limits.FragmentCyclesRule.RuleFunc)
	r.AddRule(validate.DeferStreamLabelRule.Name, validate.DeferStreamLabelRule.RuleFunc)
	r.ReplaceRule(validate.SingleFieldSubscriptionsRule.Name, validate.SingleFieldSubscriptionsRule.RuleFunc)
	for _, swap := range []struct{ loud, quiet core.Rule }{
		{rules.FieldsOnCorrectTypeRule, rules.FieldsOnCorrectTypeRuleWithoutSuggestions},
		{rules.KnownArgumentNamesRule, rules.KnownArgumentNamesRuleWithoutSuggestions},
		{rules.KnownTypeNamesRule, rules.KnownTypeNamesRuleWithoutSuggestions},
		{rules.ScalarLeafsRule, rules.ScalarLeafsRuleWithoutSuggestions},
		{rules.ValuesOfCorrectTypeRule, rules.ValuesOfCorrectTypeRuleWithoutSuggestions},
	} {
		r.RemoveRule(swap.loud.Name)
		r.AddRule(swap.quiet.Name, swap.quiet.RuleFunc)
	}
	wideIntegers(r, rules.ValuesOfCorrectTypeRuleWithoutSuggestions)
	limits.CapRuleErrors(r, limits.MaxValidationErrors)
	return r
}

// wideIntegers replaces the rule inner of r (a variant of gqlparser's
// ValuesOfCorrectType) with wideint.Rule of it: Int literals beyond
// 64 bits are valid Float, ID and custom scalar values.
func wideIntegers(r *rules.Rules, inner core.Rule) {
	r.RemoveRule(inner.Name)
	wide := wideint.Rule(inner)
	r.AddRule(wide.Name, wide.RuleFunc)
}
