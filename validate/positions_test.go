package validate

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// TestCollect: the one walk gathers, for every operation and fragment of
// a document, what the location post-processors read (each want is
// counted by hand on the document: line:column as gqlparser gives them).
func TestCollect(t *testing.T) {
	for _, tc := range []struct {
		name, query string
		want        []string // describe's lines
	}{
		{"field and directive arguments, a directive's @",
			`{ a(x: 1) @d(y: 2) { b } }`,
			[]string{"@ 1:12 at 1:11", "args 1:12 y", "args 1:3 x"}},
		{"a repeated directive names the first of its list only",
			`{ a @d @e @d b @d }`,
			[]string{"@ 1:12 at 1:11", "@ 1:17 at 1:16", "@ 1:6 at 1:5", "@ 1:9 at 1:8", "twin 1:12 of 1:6"}},
		{"@ and name apart: spaces, a line break, a comment",
			"{ a @ ,d b @\n  e c @ # x\n d }",
			[]string{"@ 1:8 at 1:5", "@ 2:3 at 1:12"}},
		{"string literals: plain, block, in a list, a default, a directive of a variable definition",
			`query ($v: String = "x" @d(s: "y")) { a(s: """z""", l: ["w"]) }`,
			[]string{"@ 1:26 at 1:25", "args 1:26 s", "args 1:39 s,l", "str 1:22 at 1:21", "str 1:32 at 1:31", "str 1:47 at 1:44", "str 1:58 at 1:57"}},
		{"spreads and inline fragments: back to the ...",
			"{ ...F ... on Q { a } ...  ,G ...\n on Q { b } }",
			[]string{"spread 1:12 back 4", "spread 1:29 back 6", "spread 1:6 back 3"}},
		{"variables through fragments: every operation that reaches one, in document order",
			"query A { ...F a(x: $w) ...F }\nquery B { ...G }\nfragment F on Q @d(if: $f) { b(x: $v) ...G }\nfragment G on Q { c(x: $g) }",
			[]string{
				"@ 3:18 at 3:17", "args 1:16 x", "args 3:18 if", "args 3:30 x", "args 4:19 x",
				"spread 1:14 back 3", "spread 1:28 back 3", "spread 2:14 back 3", "spread 3:42 back 3",
				"$f 3:24 used by A", "$g 4:24 used by A,B", "$v 3:35 used by A", "$w 1:21 used by A"}},
		{"variables of spread and inline fragment directives",
			"query A { ...F @include(if: $s) ... @skip(if: $t) { a } }\nfragment F on Q { b(x: $v) }",
			[]string{
				"@ 1:17 at 1:16", "@ 1:38 at 1:37", "args 1:17 if", "args 1:38 if", "args 2:19 x",
				"spread 1:14 back 3", "spread 1:37 back 4", "$s 1:29 used by A", "$t 1:47 used by A", "$v 2:24 used by A"}},
		{"a fragment named twice: the first one's variables",
			"query A { ...F }\nfragment F on Q { a(x: $one) }\nfragment F on Q { a(x: $two) }",
			[]string{"args 2:19 x", "args 3:19 x", "spread 1:14 back 3", "$one 2:24 used by A"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := parser.ParseQuery(&ast.Source{Name: "q.graphql", Input: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			got, want := describe(collect(doc)), slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Fatalf("collected\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// describe lists what p holds, one line a position, sorted.
func describe(p *positions) []string {
	var out []string
	for k, list := range p.args {
		var names []string
		for _, a := range list {
			names = append(names, a.Name)
		}
		out = append(out, fmt.Sprintf("args %d:%d %s", k.line, k.column, strings.Join(names, ",")))
	}
	for k, v := range p.atSign {
		out = append(out, fmt.Sprintf("@ %d:%d at %d:%d", k.line, k.column, v.line, v.column))
	}
	for k, v := range p.firstTwin {
		out = append(out, fmt.Sprintf("twin %d:%d of %d:%d", k.line, k.column, v.line, v.column))
	}
	for k, v := range p.strs {
		out = append(out, fmt.Sprintf("str %d:%d at %d:%d", k.line, k.column, v.line, v.column))
	}
	for k, n := range p.spreads {
		out = append(out, fmt.Sprintf("spread %d:%d back %d", k.line, k.column, n))
	}
	for k, v := range p.variables {
		var ops []string
		for _, u := range p.usesAt(k) {
			ops = append(ops, u.op.Name)
		}
		out = append(out, fmt.Sprintf("$%s %d:%d used by %s", v.value.Raw, k.line, k.column, strings.Join(ops, ",")))
	}
	sort.Strings(out)
	return out
}

// errorLocations lists each error's locations, "line:column" joined by
// spaces.
func errorLocations(errs gqlerror.List) []string {
	var got []string
	for _, e := range errs {
		var locs []string
		for _, l := range e.Locations {
			locs = append(locs, fmt.Sprintf("%d:%d", l.Line, l.Column))
		}
		got = append(got, strings.Join(locs, " "))
	}
	return got
}

// errorMessages lists each error's message and locations, "message
// line:column line:column".
func errorMessages(errs gqlerror.List) []string {
	var out []string
	for i, locs := range errorLocations(errs) {
		out = append(out, errs[i].Message+" "+locs)
	}
	return out
}
