package limits

import (
	"github.com/vektah/gqlparser/v2/validator/core"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

// MaxValidationErrors is how many validation errors a document's answer
// carries (its first ones, in the order validation found them).
const MaxValidationErrors = 10

// CapRuleErrors makes each rule of r report at most max errors per
// validation; the errors past them are dropped before they are built.
//
// Validation reports every error it finds, each with a formatted message
// and its locations, and the gateway answers only the first
// MaxValidationErrors. Inside every static limit a document can make a
// rule find thousands: 172 fields of one response key at one position
// (the field-merge bound allows 30,000 pairs) are 7,396 conflicts of
// OverlappingFieldsCanBeMerged, and a 1.2 KB document cost 9.6 ms of
// CPU in `gateway demo`, more than the worst document the static limits
// were measured with (docs/security.md).
//
// The first max errors of the whole validation are kept whatever rule
// reported them: a rule's error past its own first max comes after them
// all, so it was never among the first max of the document.
func CapRuleErrors(r *rules.Rules, max int) {
	for name, inner := range r.GetInner() {
		r.ReplaceRule(name, func(observers *core.Events, addError core.AddErrFunc) {
			// Each validation calls a rule's function once: n counts
			// that validation's errors of this rule.
			n := 0
			inner(observers, func(options ...core.ErrorOption) {
				if n < max {
					n++
					addError(options...)
				}
			})
		})
	}
}
