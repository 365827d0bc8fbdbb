package executor_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/gatewaytest"
)

// treeOfDefaults is the supergraph of testdata/introspection_defaults
// with its types replaced by a binary tree of input types depth deep,
// each field defaulting to {} of the next level (its printed default
// filled in has 2^depth leaves), and args arguments of the root type.
func treeOfDefaults(t testing.TB, depth, args int) string {
	b, err := os.ReadFile("testdata/introspection_defaults.graphql")
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(b), "enum Color")
	var sb strings.Builder
	sb.WriteString(head)
	for i := range depth {
		fmt.Fprintf(&sb, "input T%d @join__type(graph: DEFAULTS) { a: T%d = {} b: T%d = {} }\n", i, i+1, i+1)
	}
	fmt.Fprintf(&sb, "input T%d @join__type(graph: DEFAULTS) { x: Int = 1 }\ntype Query @join__type(graph: DEFAULTS) {\n", depth)
	for i := range args {
		fmt.Fprintf(&sb, "  f%d(a: T0 = {}): Int\n", i)
	}
	sb.WriteString("}\n")
	return sb.String()
}

// BenchmarkIntrospectNestedDefaults introspects the default values of a
// schema's arguments, each an input object whose defaults are filled in:
// under maxPrintedDefault (depth 9, about 8 KB each) and past it (depth
// 16, 1 MB each before it was bounded).
func BenchmarkIntrospectNestedDefaults(b *testing.B) {
	for _, depth := range []int{9, 16} {
		b.Run(fmt.Sprintf("depth%d", depth), func(b *testing.B) {
			g := gatewaytest.Start(b, gatewaytest.WithSupergraph(treeOfDefaults(b, depth, 10)), gatewaytest.WithHandler("defaults", http.NotFoundHandler()))
			body, _ := json.Marshal(map[string]string{"query": `{ __type(name: "Query") { fields { args { defaultValue } } } }`})
			b.ReportAllocs()
			for b.Loop() {
				resp, err := g.Post(context.Background(), body)
				if err != nil || resp.Status != http.StatusOK {
					b.Fatalf("%v %v", resp, err)
				}
				b.SetBytes(int64(len(resp.Body)))
			}
		})
	}
}
