package validate

import (
	"strings"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// spreadRules are the rules whose errors graphql-js locates at a
// fragment spread's "...": fragments spread where their type can never
// apply (spec 5.5.2.3), and fragment cycles (5.5.2.2; the gateway's rule
// limits.FragmentCyclesRule takes gqlparser's name).
var spreadRules = map[string]bool{"PossibleFragmentSpreads": true, "NoFragmentCycles": true}

// TokenLocations moves error locations that gqlparser puts inside a token
// to the token's start, where graphql-js, which the reference gateways
// run, puts them: a string literal's error at its opening quote (gqlparser:
// after it; after the three quotes of a block string), and a fragment
// spread's error of PossibleFragmentSpreads or NoFragmentCycles at its
// "..." (gqlparser: at
// the fragment's name, or at "on" of an inline fragment). Only when the
// quote, or the "..." followed by spaces, tabs or commas on the same line,
// is where it is expected; otherwise the location stays.
func TokenLocations(doc *ast.QueryDocument, errs gqlerror.List) {
	if doc == nil || len(errs) == 0 {
		return
	}
	type at struct{ line, column int }
	strs := map[at]int{}    // a string's content -> columns back to its quote
	spreads := map[at]int{} // a spread's name or "on" -> columns back to "..."
	var value func(v *ast.Value)
	value = func(v *ast.Value) {
		if v == nil {
			return
		}
		if (v.Kind == ast.StringValue || v.Kind == ast.BlockValue) && v.Position != nil {
			quote := 1
			if v.Kind == ast.BlockValue {
				quote = 3
			}
			// gqlparser's Start is the quote's offset, its Column the
			// content's.
			if p := v.Position; p.Src != nil && p.Start >= 0 && p.Start+quote <= len(p.Src.Input) &&
				strings.Count(p.Src.Input[p.Start:p.Start+quote], `"`) == quote && p.Column-quote >= 1 {
				strs[at{v.Position.Line, v.Position.Column}] = quote
			}
		}
		for _, c := range v.Children {
			value(c.Value)
		}
	}
	spread := func(p *ast.Position) {
		if p == nil || p.Src == nil {
			return
		}
		n := 0
		for i := p.Start - 1; i >= 0 && i < len(p.Src.Input); i-- {
			switch p.Src.Input[i] {
			case ' ', '\t', ',':
				n++
				continue
			}
			if i >= 2 && p.Column-(n+3) >= 1 && p.Src.Input[i-2:i+1] == "..." {
				spreads[at{p.Line, p.Column}] = n + 3
			}
			return
		}
	}
	for _, list := range directiveLists(doc) {
		for _, d := range list {
			for _, a := range d.Arguments {
				value(a.Value)
			}
		}
	}
	var set func(ss ast.SelectionSet)
	set = func(ss ast.SelectionSet) {
		for _, sel := range ss {
			switch s := sel.(type) {
			case *ast.Field:
				for _, a := range s.Arguments {
					value(a.Value)
				}
				set(s.SelectionSet)
			case *ast.InlineFragment:
				spread(s.Position)
				set(s.SelectionSet)
			case *ast.FragmentSpread:
				spread(s.Position)
			}
		}
	}
	for _, op := range doc.Operations {
		for _, v := range op.VariableDefinitions {
			value(v.DefaultValue)
		}
		set(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		set(f.SelectionSet)
	}
	for _, e := range errs {
		if e == nil {
			continue
		}
		for i, l := range e.Locations {
			key := at{l.Line, l.Column}
			if n, ok := strs[key]; ok {
				e.Locations[i].Column -= n
			} else if n, ok := spreads[key]; ok && spreadRules[e.Rule] {
				e.Locations[i].Column -= n
			}
		}
	}
}
