package validate

import "github.com/vektah/gqlparser/v2/gqlerror"

// spreadRules are the rules whose errors graphql-js locates at a
// fragment spread's "...": fragments spread where their type can never
// apply (spec 5.5.2.3), and fragment cycles (5.5.2.2; the gateway's rule
// limits.FragmentCyclesRule takes gqlparser's name).
var spreadRules = map[string]bool{"PossibleFragmentSpreads": true, "NoFragmentCycles": true}

// tokenLocations moves error locations that gqlparser puts inside a token
// to the token's start, where graphql-js, which the reference gateways
// run, puts them: a string literal's error at its opening quote (gqlparser:
// after it; after the three quotes of a block string), and a fragment
// spread's error of PossibleFragmentSpreads or NoFragmentCycles at its
// "..." (gqlparser: at the fragment's name, or at "on" of an inline
// fragment). Only when the quote, or the "..." followed by spaces, tabs or
// commas on the same line, is where it is expected (collect checks);
// otherwise the location stays.
func (p *positions) tokenLocations(errs gqlerror.List) {
	for _, e := range errs {
		if e == nil {
			continue
		}
		for i, l := range e.Locations {
			key := at{l.Line, l.Column}
			if quote, ok := p.strs[key]; ok {
				e.Locations[i] = gqlerror.Location{Line: quote.line, Column: quote.column}
			} else if n, ok := p.spreads[key]; ok && spreadRules[e.Rule] {
				e.Locations[i].Column -= n
			}
		}
	}
}
