package limits

import (
	"fmt"
	"net/http"

	"github.com/fedgate/gateway/planner"
)

// SuggestedMaxFieldCycles is the value of limits.max_field_cycles for a
// graph with recursive relations whose clients do not walk them deep: how
// many times one field (a schema coordinate, Type.field) may be selected
// on one path of an operation. A recursive schema (the demo's
// Product.reviews, Review.author, User.reviews, Review.product) lets a
// small document ask for a nested list per level, each level multiplying
// the answer: `topProducts { reviews { author { reviews { product {
// reviews ...` 23 levels deep (360 bytes) repeats each of those fields six
// times and answers 233 KB for 0.15-0.3 s of CPU, 29 aliases of it timed
// the demo subgraphs out. At 3 (Hot Chocolate's default field cycle
// depth) the longest such chain is 13 levels. It is off by default: of
// 19,526 operations the differential generator makes with its default
// bounds for the demo and 96 fixtures, 117 select a field more than 3
// times on one path (one of requires_chain's Product.related 11 times),
// and it would refuse them.
const SuggestedMaxFieldCycles = 3

// FieldCycles returns the most times one field is selected on one path
// from op's root, and that field's coordinate (Type.field, the concrete
// type it is selected on). Aliases of a field on one path count as the
// field; __typename does not count.
func FieldCycles(op *planner.Operation) (most int, coord string) {
	if op == nil {
		return 0, ""
	}
	on := map[string]int{}
	var walk func(s *planner.SelectionSet)
	walk = func(s *planner.SelectionSet) {
		if s == nil {
			return
		}
		for _, tf := range s.ByType {
			for _, f := range tf.Fields {
				if f.Selection == nil {
					continue // a leaf ends the path: nothing repeats below it
				}
				k := f.ParentType + "." + f.Name
				on[k]++
				if on[k] > most {
					most, coord = on[k], k
				}
				walk(f.Selection)
				on[k]--
			}
		}
	}
	walk(op.Selection)
	return most, coord
}

// checkCycles refuses op when one field is selected on one path more than
// max times (MAX_FIELD_CYCLES_EXCEEDED, 400); max 0 allows any.
func checkCycles(op *planner.Operation, max int) *Error {
	if max <= 0 {
		return nil
	}
	if n, coord := FieldCycles(op); n > max {
		return &Error{Code: "MAX_FIELD_CYCLES_EXCEEDED", Status: http.StatusBadRequest,
			Message: fmt.Sprintf("the field %s is selected %d times on one path, more than the %d allowed (limits.max_field_cycles)", Clip(coord, 128), n, max)}
	}
	return nil
}
