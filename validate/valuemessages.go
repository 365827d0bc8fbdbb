package validate

import (
	"strings"
	"unicode/utf16"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// valuesRule is the name gqlparser gives its rule for literal values of a
// wrong type (spec 5.6.1), whose messages print the value.
const valuesRule = "ValuesOfCorrectType"

// valueMessages prints the value in each message of ValuesOfCorrectType
// as graphql-js, which the reference gateways run, prints it (its
// print): a block string as a block string ("""x""", gqlparser: "x"),
// a list's items and an object's fields separated by ", " and a field's
// name from its value by ": " ([1, 2] and {a: 1}; gqlparser: [1,2] and
// {a:1}). Run it before tokenLocations, which moves a string's location
// off the position it is recorded at.
func (p *positions) valueMessages(errs gqlerror.List) {
	for _, e := range errs {
		if e == nil || e.Rule != valuesRule || len(e.Locations) != 1 {
			continue
		}
		v := p.values[at{e.Locations[0].Line, e.Locations[0].Column}]
		if v == nil || !printsApart(v) {
			continue
		}
		theirs := v.String()
		i := strings.LastIndex(e.Message, theirs)
		if i < 0 {
			continue
		}
		var b strings.Builder
		printValue(&b, v)
		e.Message = e.Message[:i] + b.String() + e.Message[i+len(theirs):]
	}
}

// printsApart reports whether graphql-js prints v otherwise than
// gqlparser's String does: a block string, a non-empty list or object.
func printsApart(v *ast.Value) bool {
	switch v.Kind {
	case ast.BlockValue:
		return true
	case ast.ListValue:
		return len(v.Children) > 1 || len(v.Children) == 1 && printsApart(v.Children[0].Value)
	case ast.ObjectValue:
		return len(v.Children) > 0
	}
	return false
}

// printValue writes v as graphql-js's print writes a value; a leaf other
// than a block string as gqlparser's String writes it (the same text).
func printValue(b *strings.Builder, v *ast.Value) {
	switch v.Kind {
	case ast.BlockValue:
		b.WriteString(blockString(v.Raw))
	case ast.ListValue:
		b.WriteByte('[')
		for i, c := range v.Children {
			if i > 0 {
				b.WriteString(", ")
			}
			printValue(b, c.Value)
		}
		b.WriteByte(']')
	case ast.ObjectValue:
		b.WriteByte('{')
		for i, c := range v.Children {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c.Name)
			b.WriteString(": ")
			printValue(b, c.Value)
		}
		b.WriteByte('}')
	default:
		b.WriteString(v.String())
	}
}

// blockString writes the block string value s as graphql-js's
// printBlockString does: its lines between """ and """, on lines of
// their own when s has several lines, is longer than 70 characters, or
// ends in a quote or a backslash, and """ inside escaped.
func blockString(s string) string {
	escaped := strings.ReplaceAll(s, `"""`, `\"""`)
	lines := strings.Split(strings.ReplaceAll(strings.ReplaceAll(escaped, "\r\n", "\n"), "\r", "\n"), "\n")
	single := len(lines) == 1
	blank := func(c byte) bool { return c == ' ' || c == '\t' }
	leadingNewline := len(lines) > 1
	for _, l := range lines[1:] {
		if l != "" && !blank(l[0]) {
			leadingNewline = false
			break
		}
	}
	trailingTriple := strings.HasSuffix(escaped, `\"""`)
	trailingQuote := strings.HasSuffix(s, `"`) && !trailingTriple
	trailingSlash := strings.HasSuffix(s, `\`)
	trailingNewline := trailingQuote || trailingSlash
	multiple := !single || utf16Len(s) > 70 || trailingNewline || leadingNewline || trailingTriple
	skipLeading := single && s != "" && blank(s[0])
	var b strings.Builder
	b.WriteString(`"""`)
	if multiple && !skipLeading || leadingNewline {
		b.WriteByte('\n')
	}
	b.WriteString(escaped)
	if multiple || trailingNewline {
		b.WriteByte('\n')
	}
	b.WriteString(`"""`)
	return b.String()
}

// utf16Len is the length of s in UTF-16 code units, as JavaScript's
// String.prototype.length counts it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
