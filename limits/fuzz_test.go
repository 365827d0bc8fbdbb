package limits

import (
	"errors"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// FuzzStatic checks that Prescan, Parse and Check never panic, that every
// error is a short *Error, and that Prescan measures the same nesting as
// gqlparser's lexer whenever the lexer reads the whole input.
func FuzzStatic(f *testing.F) {
	seeds := []string{
		"{me{id name}}",
		"query Q($n: Int = 3) @d(a: [1, {b: 2}]) { topProducts(first: $n) { upc ... on Product { name } ...F } } fragment F on Product { price }",
		`{a(x: "str {[(", y: """block {{ \""" }}""", z: "\"\\")}`,
		"# comment {{{\n{a}\r# again [[[\r\n{b}",
		`{a(x: """ """" ) {b}}`,
		"{a(x: 2147483648, y: -2147483649, z: 1.5e300)}",
		"{me{...A}} fragment A on User{id ...B} fragment B on User{name ...A}",
		fragmentBomb(12),
		strings.Repeat("{a", 120) + strings.Repeat("}", 120),
		"{a @x @y @z @w @v @u @t @s @r @q @p @o}",
		"{" + strings.Repeat("a:b ", 40) + "}",
		"{a(x:\"\xff\")}",
		`{a(x:"\u{1F600}\uD83D\uDE00")}`,
		"\ufeff{a}",
		"}}]])){{",
		`"""`,
		`"\`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	small := Static{MaxTokens: 500, MaxDepth: 6, MaxAliases: 5, MaxFields: 40, MaxRootFields: 5, MaxDirectivesPerField: 3, MaxNesting: 20}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 1<<16 {
			return
		}
		for _, s := range []Static{small, DefaultStatic(), {}} {
			doc, err := s.Parse(q)
			checkErr(t, err)
			if err == nil {
				checkErr(t, s.Check(doc))
			}
		}
		if want, ok := lexerNesting(q); ok {
			if got, _ := maxNesting(q, 0); got != want {
				t.Fatalf("Prescan nesting %d, lexer nesting %d", got, want)
			}
		}
	})
}

func checkErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *Error
	if !errors.As(err, &e) || e.Code == "" || e.Status != 400 {
		t.Fatalf("bad error %T %v", err, err)
	}
	if len(e.Message) > maxMessage+64 {
		t.Fatalf("message of %d bytes", len(e.Message))
	}
}

// lexerNesting measures the nesting of {, ( and [ by gqlparser's own
// lexer; ok is false if the lexer fails before the end of q.
func lexerNesting(q string) (deepest int, ok bool) {
	lx := lexer.New(&ast.Source{Input: q})
	depth := 0
	for {
		tok, err := lx.ReadToken()
		if err != nil {
			return 0, false
		}
		switch tok.Kind {
		case lexer.EOF:
			return deepest, true
		case lexer.BraceL, lexer.ParenL, lexer.BracketL:
			depth++
			deepest = max(deepest, depth)
		case lexer.BraceR, lexer.ParenR, lexer.BracketR:
			depth = max(depth-1, 0)
		}
	}
}
