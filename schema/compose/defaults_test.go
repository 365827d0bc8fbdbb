package compose

import (
	"errors"
	"strings"
	"testing"
)

// TestDefaultPresence: an argument or input field default that every
// subgraph gives is the supergraph's; one that only some give is none
// (hint INCONSISTENT_DEFAULT_VALUE_PRESENCE), so a gateway fills in no
// value the other subgraphs do not expect; two different defaults are an
// error. As @apollo/composition composes each case.
func TestDefaultPresence(t *testing.T) {
	const head = `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
`
	cases := []struct {
		name   string
		a, b   string
		want   string // a line of the supergraph
		absent string // a text the supergraph must not have
		hint   string
		code   string
	}{
		{name: "argument default everywhere",
			a: `type Query { f(x: Int = 3): Int @shareable }`, b: `type Query { f(x: Int = 3): Int @shareable }`,
			want: "  f(x: Int = 3): Int"},
		{name: "argument default in one subgraph",
			a: `type Query { f(x: Int = 3): Int @shareable }`, b: `type Query { f(x: Int): Int @shareable }`,
			want: "  f(x: Int): Int", absent: "= 3", hint: "INCONSISTENT_DEFAULT_VALUE_PRESENCE"},
		{name: "argument default in the second subgraph",
			a: `type Query { f(x: Int): Int @shareable }`, b: `type Query { f(x: Int = 3): Int @shareable }`,
			want: "  f(x: Int): Int", absent: "= 3", hint: "INCONSISTENT_DEFAULT_VALUE_PRESENCE"},
		{name: "argument defaults that differ",
			a: `type Query { f(x: Int = 3): Int @shareable }`, b: `type Query { f(x: Int = 4): Int @shareable }`,
			code: "FIELD_ARGUMENT_DEFAULT_MISMATCH"},
		{name: "input field default everywhere",
			a: `type Query { f(i: I): Int @shareable } input I { a: Int = 1 }`, b: `type Query { f(i: I): Int @shareable } input I { a: Int = 1 }`,
			want: "  a: Int = 1"},
		{name: "input field default in one subgraph",
			a: `type Query { f(i: I): Int @shareable } input I { a: Int = 1 b: Int }`, b: `type Query { f(i: I): Int @shareable } input I { a: Int b: Int }`,
			want: "  a: Int\n", absent: "= 1", hint: "INCONSISTENT_DEFAULT_VALUE_PRESENCE"},
		{name: "input field defaults that differ",
			a: `type Query { f(i: I): Int @shareable } input I { a: Int = 1 }`, b: `type Query { f(i: I): Int @shareable } input I { a: Int = 2 }`,
			code: "INPUT_FIELD_DEFAULT_MISMATCH"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Compose([]Subgraph{
				{Name: "a", URL: "http://127.0.0.1:4999/a", SDL: head + c.a},
				{Name: "b", URL: "http://127.0.0.1:4999/b", SDL: head + c.b},
			})
			if c.code != "" {
				var list Errors
				if !errors.As(err, &list) || strings.Join(list.Codes(), ",") != c.code {
					t.Fatalf("error %v, want %s", err, c.code)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(res.SDL, c.want) {
				t.Errorf("supergraph lacks %q:\n%s", c.want, res.SDL)
			}
			if c.absent != "" && strings.Contains(res.SDL, c.absent) {
				t.Errorf("supergraph has %q:\n%s", c.absent, res.SDL)
			}
			hinted := false
			for _, h := range res.Hints {
				hinted = hinted || h.Code == c.hint
			}
			if c.hint != "" && !hinted {
				t.Errorf("no hint %s: %v", c.hint, res.Hints)
			}
		})
	}
}
