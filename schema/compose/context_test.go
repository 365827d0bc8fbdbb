package compose

import (
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestParseContextField splits @fromContext(field:) values as
// @apollo/composition does: ignored tokens before and after "$", the name
// up to the first non-word character, the rest as written.
func TestParseContextField(t *testing.T) {
	cases := []struct{ in, context, selection string }{
		{"$userCtx { locale }", "userCtx", " { locale }"},
		{"  ,$ ctx{ a }", "ctx", "{ a }"},
		{"# comment\n$ctx ... on A { x }", "ctx", " ... on A { x }"},
		{"$ctx", "ctx", ""},
		{"{ locale }", "", ""},
		{"$1ctx { a }", "", ""},
		{"", "", ""},
	}
	for _, c := range cases {
		context, selection := ParseContextField(c.in)
		if context != c.context || selection != c.selection {
			t.Errorf("ParseContextField(%q) = %q, %q; want %q, %q", c.in, context, selection, c.context, c.selection)
		}
	}
}

func parseType(t *testing.T, s string) *ast.Type {
	t.Helper()
	doc, err := parser.ParseQuery(&ast.Source{Input: "query($v: " + s + ") { f }"})
	if err != nil {
		t.Fatal(err)
	}
	return doc.Operations[0].VariableDefinitions[0].Type
}

// TestContextTypeFits: a selection's type fills an argument of the same
// named type and list levels, at least as non-null.
func TestContextTypeFits(t *testing.T) {
	cases := []struct {
		resolved, expected string
		fits               bool
	}{
		{"String", "String", true},
		{"String!", "String", true},
		{"String", "String!", false},
		{"[String]", "[String]", true},
		{"[String!]", "[String]", true},
		{"String", "[String]", false},
		{"[String]", "String", false},
		{"Int", "String", false},
	}
	for _, c := range cases {
		if got := contextTypeFits(parseType(t, c.resolved), parseType(t, c.expected)); got != c.fits {
			t.Errorf("contextTypeFits(%s, %s) = %v, want %v", c.resolved, c.expected, got, c.fits)
		}
	}
}
