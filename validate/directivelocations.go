package validate

import (
	"strings"
	"unicode/utf8"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// uniqueDirectivesRule is the name gqlparser gives its rule for a
// directive repeated at one location (spec 5.7.3).
const uniqueDirectivesRule = "UniqueDirectivesPerLocation"

// DirectiveLocations moves the locations of validation errors about
// directives to where graphql-js, which the reference gateways run, puts
// them: a directive is located at its "@" (gqlparser locates it at its
// name, one column later), and a repeated directive's error names the
// first one too, before the repetition. A directive with a comment
// between its "@" and its name keeps the name's location.
func DirectiveLocations(doc *ast.QueryDocument, errs gqlerror.List) {
	if doc == nil || len(errs) == 0 {
		return
	}
	type at struct{ line, column int }
	lists := directiveLists(doc)
	atSign := map[at]at{}           // a directive's name -> its "@"
	first := map[at]*ast.Position{} // a repeated directive's name -> the first's name
	for _, list := range lists {
		seen := map[string]*ast.Position{}
		for _, d := range list {
			if d.Position == nil {
				continue
			}
			name := at{d.Position.Line, d.Position.Column}
			if line, col, ok := atSignOf(d.Position); ok {
				atSign[name] = at{line, col}
			}
			if p, dup := seen[d.Name]; dup {
				first[name] = p
			} else {
				seen[d.Name] = d.Position
			}
		}
	}
	for _, e := range errs {
		if e == nil {
			continue
		}
		if e.Rule == uniqueDirectivesRule && len(e.Locations) == 1 {
			if p := first[at{e.Locations[0].Line, e.Locations[0].Column}]; p != nil {
				e.Locations = append([]gqlerror.Location{{Line: p.Line, Column: p.Column}}, e.Locations...)
			}
		}
		for i, l := range e.Locations {
			if to, ok := atSign[at{l.Line, l.Column}]; ok {
				e.Locations[i] = gqlerror.Location{Line: to.line, Column: to.column}
			}
		}
	}
}

// atSignOf finds the line and column of the "@" before the directive
// name at p, with only white space, line breaks and commas between.
func atSignOf(p *ast.Position) (line, column int, ok bool) {
	if p.Src == nil || p.Start <= 0 || p.Start > len(p.Src.Input) {
		return 0, 0, false
	}
	in := p.Src.Input
	line = p.Line
	i := p.Start - 1
	for ; i >= 0 && in[i] != '@'; i-- {
		switch in[i] {
		case ' ', '\t', ',', '\r':
		case '\n':
			line--
		default:
			return 0, 0, false
		}
	}
	if i < 0 {
		return 0, 0, false
	}
	if line == p.Line {
		return line, p.Column - (p.Start - i), true
	}
	// graphql-js counts a line's columns in UTF-16 units; runes match
	// them outside the astral planes.
	lineStart := strings.LastIndexAny(in[:i], "\n\r") + 1
	return line, utf8.RuneCountInString(in[lineStart:i]) + 1, true
}

// directiveLists lists every list of directives of the document: of its
// operations, variable definitions, fields, fragments and spreads.
func directiveLists(doc *ast.QueryDocument) []ast.DirectiveList {
	var out []ast.DirectiveList
	var set func(ss ast.SelectionSet)
	set = func(ss ast.SelectionSet) {
		for _, sel := range ss {
			switch s := sel.(type) {
			case *ast.Field:
				out = append(out, s.Directives)
				set(s.SelectionSet)
			case *ast.InlineFragment:
				out = append(out, s.Directives)
				set(s.SelectionSet)
			case *ast.FragmentSpread:
				out = append(out, s.Directives)
			}
		}
	}
	for _, op := range doc.Operations {
		out = append(out, op.Directives)
		for _, v := range op.VariableDefinitions {
			out = append(out, v.Directives)
		}
		set(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		out = append(out, f.Directives)
		set(f.SelectionSet)
	}
	return out
}
