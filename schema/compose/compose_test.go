package compose

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestComposeBadInput(t *testing.T) {
	query := Subgraph{Name: "q", URL: "http://q", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { a: Int }`}
	tests := []struct {
		name string
		in   []Subgraph
		code string
	}{
		{"unparsable", []Subgraph{query, {Name: "b", SDL: "type {"}}, "INVALID_GRAPHQL"},
		{"unknown version", []Subgraph{{Name: "a", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v3.0") type Query { a: Int }`}}, "UNKNOWN_FEDERATION_LINK_VERSION"},
		{"conflicting kinds", []Subgraph{query, {Name: "b", SDL: "type Query { b: T } enum T { A }"}, {Name: "c", SDL: "type Query { c: T } scalar T"}}, "TYPE_KIND_MISMATCH"},
		{"no subgraphs", nil, "NO_QUERIES"},
		{"no name", []Subgraph{{Name: "", SDL: "type Query { a: Int }"}}, "INVALID_SUBGRAPH_NAME"},
		{"name twice", []Subgraph{query, query}, "INVALID_SUBGRAPH_NAME"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Compose(tt.in)
			var list Errors
			if !errors.As(err, &list) {
				t.Fatalf("err = %v, want Errors", err)
			}
			if !containsString(list.Codes(), tt.code) {
				t.Fatalf("codes %v, want %s", list.Codes(), tt.code)
			}
		})
	}
}

// TestErrorsNameCoordinate checks that an error carries the subgraph and
// the coordinate.
func TestErrorsNameCoordinate(t *testing.T) {
	_, err := Compose([]Subgraph{{Name: "a", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
type Query { u: User } type User @key(fields: "id") { id(x: Int): ID! }`}})
	var list Errors
	if !errors.As(err, &list) || len(list) == 0 {
		t.Fatalf("err = %v", err)
	}
	e := list[0]
	if e.Code != "KEY_FIELDS_HAS_ARGS" || e.Subgraph != "a" || e.Coordinate != "User.id" || !strings.Contains(e.Message, "[a]") {
		t.Fatalf("got %#v", e)
	}
}

// FuzzCompose composes a fuzzed subgraph next to a fixed one: it must
// give a supergraph or errors, never panic or hang.
func FuzzCompose(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.graphql"))
	for _, file := range files {
		if data, err := os.ReadFile(file); err == nil && filepath.Base(file) != "supergraph.graphql" {
			f.Add(string(data))
		}
	}
	fixed := Subgraph{Name: "fixed", URL: "http://fixed", SDL: `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@shareable"])
type Query { me: User @shareable } type User @key(fields: "id") { id: ID! name: String }`}
	f.Fuzz(func(t *testing.T, sdl string) {
		res, err := Compose([]Subgraph{fixed, {Name: "fuzz", URL: "http://fuzz", SDL: sdl}})
		if err == nil && res.Supergraph == nil {
			t.Fatal("no error and no supergraph")
		}
	})
}

// generated builds n subgraphs with typesEach entity types each; every
// subgraph extends the entities of the previous one.
func generated(n, typesEach int) []Subgraph {
	var subs []Subgraph
	for i := 0; i < n; i++ {
		var b strings.Builder
		b.WriteString(`extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])` + "\n")
		fmt.Fprintf(&b, "type Query {\n")
		for j := 0; j < typesEach; j++ {
			fmt.Fprintf(&b, "  t%d_%d(id: ID!): T%d_%d\n", i, j, i, j)
		}
		b.WriteString("}\n")
		for j := 0; j < typesEach; j++ {
			fmt.Fprintf(&b, "\"Type %d of subgraph %d.\"\ntype T%d_%d @key(fields: \"id\") {\n  id: ID!\n  name: String @shareable\n  count: Int\n  next: T%d_%d\n}\n", j, i, i, j, i, (j+1)%typesEach)
			if i > 0 {
				fmt.Fprintf(&b, "type T%d_%d @key(fields: \"id\") {\n  id: ID!\n  extra%d: [String!]\n}\n", i-1, j, i)
			}
		}
		subs = append(subs, Subgraph{Name: fmt.Sprintf("sub%03d", i), URL: fmt.Sprintf("http://127.0.0.1/%d", i), SDL: b.String()})
	}
	return subs
}

func TestGeneratedComposes(t *testing.T) {
	res, err := Compose(generated(5, 4))
	if err != nil {
		t.Fatal(err)
	}
	if res.Supergraph.API.Types["T3_2"].Fields.ForName("extra4") == nil {
		t.Fatal("T3_2.extra4 missing from the API schema")
	}
}

// BenchmarkCompose100 composes 100 subgraphs with 2,000 types in total.
func BenchmarkCompose100(b *testing.B) {
	subs := generated(100, 20)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Compose(subs); err != nil {
			b.Fatal(err)
		}
	}
}

// TestGraphIDs checks the join__Graph values of awkward subgraph names.
func TestGraphIDs(t *testing.T) {
	sdl := `extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key", "@shareable"])
type Query { a: Int @shareable }`
	res, err := Compose([]Subgraph{{Name: "subgraph1", URL: "http://x", SDL: sdl}, {Name: "Subgraph1", URL: "http://y", SDL: sdl}, {Name: "42-b", URL: "http://z", SDL: sdl}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`_42_B @join__graph(name: "42-b"`, `SUBGRAPH1_1 @join__graph(name: "Subgraph1"`, `SUBGRAPH1_2 @join__graph(name: "subgraph1"`} {
		if !strings.Contains(res.SDL, want) {
			t.Errorf("supergraph lacks %s", want)
		}
	}
}

func TestHints(t *testing.T) {
	head := `extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@key", "@override", "@shareable"])` + "\n"
	res, err := Compose([]Subgraph{
		{Name: "a", URL: "http://a", SDL: head + `type Query { a(f: F, limit: Int): Int @shareable t: T }
input F { x: Int y: Int }
type T @key(fields: "id") { id: ID! n: Int m: Int }`},
		{Name: "b", URL: "http://b", SDL: head + `type Query { a(f: F): Int @shareable }
input F { x: Int }
type T @key(fields: "id") { id: ID! n: Int @override(from: "a") m: Int @override(from: "a", label: "percent(5)") k: Int @override(from: "gone") }`},
	})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, h := range res.Hints {
		got[h.Code] = h.Coordinate
	}
	want := map[string]string{
		"INCONSISTENT_INPUT_OBJECT_FIELD": "F.y",
		"INCONSISTENT_ARGUMENT_PRESENCE":  "Query.a(limit:)",
		"OVERRIDDEN_FIELD_CAN_BE_REMOVED": "T.n",
		"OVERRIDE_MIGRATION_IN_PROGRESS":  "T.m",
		"FROM_SUBGRAPH_DOES_NOT_EXIST":    "T.k",
	}
	for code, coord := range want {
		if got[code] != coord {
			t.Errorf("hint %s at %q, want %q (hints %v)", code, got[code], coord, res.Hints)
		}
	}
}
