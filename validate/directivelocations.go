package validate

import "github.com/vektah/gqlparser/v2/gqlerror"

// uniqueDirectivesRule is the name gqlparser gives its rule for a
// directive repeated at one location (spec 5.7.3).
const uniqueDirectivesRule = "UniqueDirectivesPerLocation"

// directiveLocations moves the locations of validation errors about
// directives to where graphql-js, which the reference gateways run, puts
// them: a directive is located at its "@" (gqlparser locates it at its
// name, one column later), and a repeated directive's error names the
// first one too, before the repetition. A directive with a comment
// between its "@" and its name keeps the name's location.
func (p *positions) directiveLocations(errs gqlerror.List) {
	for _, e := range errs {
		if e == nil {
			continue
		}
		if e.Rule == uniqueDirectivesRule && len(e.Locations) == 1 {
			if first, ok := p.firstTwin[at{e.Locations[0].Line, e.Locations[0].Column}]; ok {
				e.Locations = append([]gqlerror.Location{{Line: first.line, Column: first.column}}, e.Locations...)
			}
		}
		for i, l := range e.Locations {
			if to, ok := p.atSign[at{l.Line, l.Column}]; ok {
				e.Locations[i] = gqlerror.Location{Line: to.line, Column: to.column}
			}
		}
	}
}
