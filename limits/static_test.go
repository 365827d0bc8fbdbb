package limits

import (
	"strconv"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/parser"
)

// fragmentBomb returns a document whose fragments F0..F(n-1) each select
// name and spread the next fragment twice, so it expands to 2^n selections.
func fragmentBomb(n int) string {
	var b strings.Builder
	b.WriteString("{me{...F0}}\n")
	for i := range n {
		b.WriteString("fragment F" + itoa(i) + " on User{name ...F" + itoa(i+1) + " ...F" + itoa(i+1) + "}\n")
	}
	b.WriteString("fragment F" + itoa(n) + " on User{id}")
	return b.String()
}

func itoa(i int) string { return strconv.Itoa(i) }

// fragmentChain returns an operation spreading F0, where each Fi spreads
// F(i+1) and the last selects a field: a chain n spreads deep.
func fragmentChain(n int) string {
	var b strings.Builder
	b.WriteString("{...F0}\n")
	for i := range n - 1 {
		b.WriteString("fragment F" + itoa(i) + " on Q{...F" + itoa(i+1) + "}\n")
	}
	b.WriteString("fragment F" + itoa(n-1) + " on Q{a}")
	return b.String()
}

func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

func TestPrescan(t *testing.T) {
	s := Static{MaxNesting: 5}
	tests := []struct {
		name  string
		query string
		code  string
	}{
		{"flat", "{a b c}", ""},
		{"at limit", "{a{b{c{d{e}}}}}", ""},
		{"braces over", "{a{b{c{d{e{f}}}}}}", CodeMaxNestingExceeded},
		{"parens and brackets count", "{a(x:[[{y:[1]}]])}", CodeMaxNestingExceeded},
		{"unbalanced closers ignored", "}}}}}}{a{b}}", ""},
		{"brackets in string", `{a(x:"{{{{{{{{{{[[[[(((") }`, ""},
		{"escaped quote in string", `{a(x:"\"{{{{{{{{{{") }`, ""},
		{"escaped backslash ends string", `{a(x:"\\"){{{{{{}}}}}}}`, CodeMaxNestingExceeded},
		{"braces in block string", `{a(x:"""{{{{{{{{{{""") }`, ""},
		{"escaped triple quote in block string", `{a(x:"""\"""{{{{{{{{""") }`, ""},
		{"four quotes close block string", `{a(x:""" x """"){{{{{{}}}}}}}`, CodeMaxNestingExceeded},
		{"empty string then brace", `{a(x:""){b{c{d{e{f}}}}}}`, CodeMaxNestingExceeded},
		{"braces in comment", "# {{{{{{{{{{\n{a}", ""},
		{"comment ends at CR", "# {{{\r{{{{{{}}}}}}", CodeMaxNestingExceeded},
		{"newline ends unterminated string", "{a(x:\"{{{{{{\n{{{{{{}}}}}})}", CodeMaxNestingExceeded},
		{"unterminated block string", `{a(x:"""{{{{{{{{`, ""},
		{"invalid UTF-8", "{a(x:\"\xff\xfe\")}", CodeParseFailed},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertCode(t, s.Prescan(tt.query), tt.code)
		})
	}

	t.Run("disabled", func(t *testing.T) {
		if err := (Static{}).Prescan(nested("{a", "}", 10000)); err != nil {
			t.Fatal(err)
		}
	})
}

func TestParse(t *testing.T) {
	s := Static{MaxTokens: 20, MaxNesting: 10}
	tests := []struct {
		name    string
		query   string
		code    string
		message string // a substring of the message, if set
	}{
		{"ok", "query Q { me { id name } }", "", ""},
		{"tokens at limit", "{a b c d e f g h i j k l m n o p q r}", "", ""},
		{"tokens over", "{a b c d e f g h i j k l m n o p q r s t u}", CodeMaxTokensExceeded, "more than 20 tokens"},
		{"nesting over", nested("{a", "}", 11), CodeMaxNestingExceeded, "more than 10"},
		{"syntax", "{a", CodeParseFailed, "Syntax Error: Expected Name, found <EOF>"},
		{"syntax location", "{\n  a(", CodeParseFailed, "(line 2, column 5)"},
		{"long name clipped", strings.Repeat("x", 5000), CodeParseFailed, `Unexpected Name "xxxx`},
		{"long string clipped", `"d" "` + strings.Repeat("x", 5000) + `"`, CodeParseFailed, `xxx..."`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := s.Parse(tt.query)
			assertCode(t, err, tt.code)
			if tt.code == "" && doc == nil {
				t.Fatal("nil document")
			}
			if tt.message != "" && !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("message %q does not contain %q", err.Error(), tt.message)
			}
			if err != nil && len(err.Error()) > 200 {
				t.Fatalf("message too long: %d bytes", len(err.Error()))
			}
		})
	}

	t.Run("gqlparser nesting guard when MaxNesting is disabled", func(t *testing.T) {
		_, err := Static{}.Parse(nested("{a", "}", parser.MaxNestingDepth+1))
		assertCode(t, err, CodeMaxNestingExceeded)
	})
}

func TestCheck(t *testing.T) {
	s := Static{MaxDepth: 4, MaxAliases: 3, MaxFields: 20, MaxRootFields: 3, MaxDirectivesPerField: 2, MaxFragmentDepth: 3}
	tests := []struct {
		name  string
		query string
		code  string
	}{
		{"ok", "{me{id name reviews{id body}}}", ""},
		{"depth at limit", "{a{b{c{d}}}}", ""},
		{"depth over", "{a{b{c{d{e}}}}}", CodeMaxDepthExceeded},
		{"depth through fragments", "{a{...F}} fragment F on T{b{...G}} fragment G on T{c{d{e}}}", CodeMaxDepthExceeded},
		{"depth through inline fragments", "{a{... on T{b{... on U{c{d{e}}}}}}}", CodeMaxDepthExceeded},
		{"fragment spread adds no level", "{a{b{...F}}} fragment F on T{c{d}}", ""},
		{"aliases at limit", "{a:x b:x c:x}", ""},
		{"aliases over", "{me{a:x b:x c:x d:x}}", CodeMaxAliasesExceeded},
		{"alias equal to name is no alias", "{x:x y{x:x z:z} w{w:w}}", ""},
		{"aliases through fragments", "{me{...F ...G}} fragment F on T{a:x b:x} fragment G on T{c:x d:x}", CodeMaxAliasesExceeded},
		{"one fragment spread twice at one position merges", "{me{...F ...F}} fragment F on T{a:x b:x}", ""},
		{"spread in a fragment and next to it merges", "{me{a:x ...F ... on T{...F}}} fragment F on T{a:x b:x c:x}", ""},
		{"identical aliased fields merge", "{me{a:x a:x a:x a:x a:x}}", ""},
		{"one alias under four keys counts four times", "{me{a:x} you{a:x} them{a:x} us{a:x}}", CodeMaxAliasesExceeded},
		{"one fragment at two positions counts twice", "{me{...F} you{...F}} fragment F on T{a:x b:x}", CodeMaxAliasesExceeded},
		{"aliased parents multiply the aliases under them", "{a:me{...F} b:me{...F}} fragment F on T{c:x}", CodeMaxAliasesExceeded},
		{"merged children count once", "{me{a:x{b:y}} me{a:x{b:y c:z}} ...F} fragment F on Query{me{a:x{c:z}}}", ""},
		{"merged children that add a key count it", "{me{a:x{b:y}} me{a:x{b:y c:z}} ...F} fragment F on Query{me{a:x{d:z}}}", CodeMaxAliasesExceeded},
		{"one key for two fields on different types counts once", "{n{... on A{k:x} ... on B{k:y} ... on C{k:z} ... on D{k:w}}}", ""},
		{"a key aliased in one selection and plain in another counts", "{n{... on A{x:y} ... on B{x} b:y c:y d:y}}", CodeMaxAliasesExceeded},
		{"selections that never run do not count", "{me{a:x @skip(if:true) b:x @include(if:false) c:x d:x ... @skip(if:true){e:x f:x} ...F @include(if:false)}} fragment F on T{g:x h:x}", ""},
		{"selections skipped by a variable count", "query($v:Boolean!){me{a:x @skip(if:$v) b:x @include(if:$v) c:x d:x @skip(if:false)}}", CodeMaxAliasesExceeded},
		{"too many selections to merge keep the upper bound", "{me{" + strings.Repeat("a:x ", 200) + "}}", CodeMaxAliasesExceeded},
		{"aliases of __typename are not aliases", "{me{a:__typename b:__typename c:__typename e:x f:x g:x} you{a:__typename b:__typename c:__typename}}", ""},
		{"more aliases of __typename at one position than max_aliases", "{me{a:__typename b:__typename c:__typename d:__typename e:x}}", CodeMaxAliasesExceeded},
		{"an alias named __typename counts", "{me{__typename:a c:x d:x e:x}}", CodeMaxAliasesExceeded},
		{"a flood of __typename aliases meets the field limit", "{me{" + strings.Repeat("a:__typename ", 20) + "}}", CodeMaxFieldsExceeded},
		{"root fields over", "{a b c d}", CodeMaxRootFieldsExceeded},
		{"root fields through fragments", "{a ...F} fragment F on Query{b ... on Query{c d}}", CodeMaxRootFieldsExceeded},
		{"nested fields are not root", "{a{b c d e f}}", ""},
		{"one root field repeated merges", "{a a a a a}", ""},
		{"root fragment spread twice merges", "{a ...F ... on Query{...F}} fragment F on Query{b c}", ""},
		{"root keys through fragments", "{a b ...F ...F} fragment F on Query{c d}", CodeMaxRootFieldsExceeded},
		{"aliased root fields are distinct keys", "{a x:a y:a z:a}", CodeMaxRootFieldsExceeded},
		{"fields at limit", "{a{" + strings.Repeat("x ", 19) + "}}", ""},
		{"fields over", "{a{" + strings.Repeat("x ", 20) + "}}", CodeMaxFieldsExceeded},
		{"fields through fragments", "{a{...F ...F ...F}} fragment F on T{x y z w v u t}", CodeMaxFieldsExceeded},
		{"directives at limit", "{a @x @y}", ""},
		{"directives over on field", "{a @x @y @z}", CodeMaxDirectivesExceeded},
		{"directives over on spread", "{...F @x @y @z} fragment F on Q{a}", CodeMaxDirectivesExceeded},
		{"directives over on inline fragment", "{... @x @y @z {a}}", CodeMaxDirectivesExceeded},
		{"directives over on operation", "query @x @y @z {a}", CodeMaxDirectivesExceeded},
		{"directives over on fragment definition", "{...F} fragment F on Q @x @y @z {a}", CodeMaxDirectivesExceeded},
		{"directives over on variable", "query($v: Int @x @y @z) {a}", CodeMaxDirectivesExceeded},
		{"directives in unused fragment", "{a} fragment F on Q{b @x @y @z}", CodeMaxDirectivesExceeded},
		{"fragment cycle terminates", "{me{...A}} fragment A on User{id ...B} fragment B on User{name ...A}", ""},
		{"self spread terminates", "{me{...A}} fragment A on User{id ...A}", ""},
		{"unknown fragment counts as empty", "{me{...Nope}}", ""},
		{"duplicate fragment names", "{me{...A}} fragment A on User{id} fragment A on User{" + strings.Repeat("x ", 50) + "}", ""},
		{"fragment bomb", fragmentBomb(30), CodeMaxFragmentDepth}, // under DefaultStatic: MAX_FIELDS_EXCEEDED (corpus test)
		{"fragment chain at limit", fragmentChain(3), ""},
		{"fragment chain over", fragmentChain(4), CodeMaxFragmentDepth},
		{"unused fragment chain over", "{a} fragment F0 on T{...F1} fragment F1 on T{...F2} fragment F2 on T{...F3} fragment F3 on T{x}", CodeMaxFragmentDepth},
		{"fragment chain inside fields", "{a{...F0}} fragment F0 on T{b{...F1}} fragment F1 on T{...F2} fragment F2 on T{c}", ""},
		{"fragment chain through inline fragment", "{... on Q{...F0}} fragment F0 on Q{... on Q{...F1}} fragment F1 on Q{...F2} fragment F2 on Q{...F3} fragment F3 on Q{a}", CodeMaxFragmentDepth},
		{"long fragment chain does not recurse", fragmentChain(100000), CodeMaxFragmentDepth},
		{"second operation checked", "query A {a} query B {a{b{c{d{e}}}}}", CodeMaxDepthExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := Static{}.Parse(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			assertCode(t, s.Check(doc), tt.code)
		})
	}

	t.Run("disabled limits", func(t *testing.T) {
		doc, err := Static{}.Parse(fragmentBomb(40) + "{" + strings.Repeat("a{", 50) + "b" + strings.Repeat("}", 50) + "}")
		if err != nil {
			t.Fatal(err)
		}
		if err := (Static{}).Check(doc); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("depth 402 without Prescan", func(t *testing.T) {
		q := "{me{" + strings.Repeat("reviews{author{", 200) + "id" + strings.Repeat("}}", 200) + "}}"
		doc, err := Static{MaxTokens: 15000}.Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		assertCode(t, DefaultStatic().Check(doc), CodeMaxDepthExceeded)
	})

	t.Run("nil document", func(t *testing.T) {
		if err := DefaultStatic().Check(nil); err != nil {
			t.Fatal(err)
		}
	})

}

func TestDefaultStatic(t *testing.T) {
	want := Static{MaxTokens: 15000, MaxDepth: 25, MaxAliases: 30, MaxFields: 1500, MaxRootFields: 30, MaxDirectivesPerField: 10, MaxNesting: 100, MaxFragmentDepth: 32, MaxFieldMerges: 30000}
	if got := DefaultStatic(); got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"short", 5, "short"},
		{"abcdef", 3, "abc..."},
		{"ab\u00e9def", 3, "ab..."}, // never splits a rune
		{"", 3, ""},
	}
	for _, tt := range tests {
		if got := Clip(tt.in, tt.n); got != tt.want {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}

	long := strings.Repeat("x", 1000)
	msg := clipQuoted(`Expected Name, found String "` + long + `" and "ok" then "a\"b"`)
	want := `Expected Name, found String "` + strings.Repeat("x", maxEcho) + `..." and "ok" then "a\"b"`
	if msg != want {
		t.Errorf("clipQuoted = %q", msg)
	}
	if got := clipQuoted(`unterminated "` + long); len(got) > maxMessage+3 {
		t.Errorf("clipQuoted of unterminated quote: %d bytes", len(got))
	}
	if got := clipQuoted(strings.Repeat("y", 1000)); len(got) != maxMessage+3 {
		t.Errorf("clipQuoted did not cap the message: %d bytes", len(got))
	}
}
