package executor_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/formatter"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/schema"
)

// fullIntrospection asks for everything graphql-js 16 introspection has,
// including what getIntrospectionQuery asks only behind options
// (directive deprecation, deprecated arguments and input fields, oneOf).
const fullIntrospection = `query {
  __schema {
    description
    queryType { name } mutationType { name } subscriptionType { name }
    types { ...T }
    directives(includeDeprecated: true) {
      name description isRepeatable locations isDeprecated deprecationReason
      args(includeDeprecated: true) { ...V }
    }
  }
  visible: __schema { directives { name } }
}
fragment T on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) { name description args(includeDeprecated: true) { ...V } type { ...R } isDeprecated deprecationReason }
  inputFields(includeDeprecated: true) { ...V }
  interfaces { name }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { name }
}
fragment V on __InputValue { name description type { ...R } defaultValue isDeprecated deprecationReason }
fragment R on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } }
`

// graphqlJS finds the graphql npm package an e2e folder installed.
func graphqlJS(t *testing.T) string {
	for _, dir := range []string{"../e2e/js/node_modules/graphql", "../e2e/difftest/js/node_modules/graphql"} {
		if _, err := os.Stat(filepath.Join(dir, "package.json")); err == nil {
			abs, _ := filepath.Abs(dir)
			return abs
		}
	}
	t.Skip("graphql (npm) is not installed: run scripts/install-deps.sh")
	return ""
}

// TestIntrospectionMatchesGraphQLJS introspects the API schemas of the
// demo, of the composed fixtures and of testdata/introspection_defaults
// with fedgate and with graphql-js 16
// (buildSchema of the same API schema, its types sorted by name as Apollo
// Gateway's API schema has them) and compares the answers, the order of
// __Schema.types included.
func TestIntrospectionMatchesGraphQLJS(t *testing.T) {
	module := graphqlJS(t)
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	sdls := map[string]string{"demo": gateway.DemoSupergraph}
	files, _ := filepath.Glob("../testdata/compose/*/supergraph.graphql")
	more, _ := filepath.Glob("../testdata/supergraphs/*.graphql")
	files = append(files, more...)
	// Default values of every kind, which graphql-js prints coerced.
	files = append(files, "testdata/introspection_defaults.graphql")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		name := strings.TrimSuffix(filepath.Base(f), ".graphql")
		if name == "supergraph" {
			name = filepath.Base(filepath.Dir(f))
		}
		sdls[name] = string(b)
	}
	apis := map[string]string{}
	loaded := map[string]*schema.Supergraph{}
	for name, sdl := range sdls {
		sg, err := schema.Load(sdl)
		if err != nil {
			continue
		}
		var b bytes.Buffer
		formatter.NewFormatter(&b).FormatSchema(sg.API)
		if d := sg.API.Description; d != "" && !strings.Contains(b.String(), "\nschema {") {
			// The formatter leaves out a schema block with default root
			// names, and its description with it.
			fmt.Fprintf(&b, "\n%q\nschema { query: %s", d, sg.API.Query.Name)
			if sg.API.Mutation != nil {
				fmt.Fprintf(&b, " mutation: %s", sg.API.Mutation.Name)
			}
			if sg.API.Subscription != nil {
				fmt.Fprintf(&b, " subscription: %s", sg.API.Subscription.Name)
			}
			b.WriteString(" }\n")
		}
		// graphql-js 16 does not define @defer; fedgate advertises it,
		// so the schema graphql-js builds declares it as served.
		if d := sg.API.Directives["defer"]; d != nil {
			b.WriteString(directiveSDL(d))
		}
		apis[name] = b.String()
		loaded[name] = sg
	}
	if loaded["introspection_defaults"] == nil {
		t.Fatal("testdata/introspection_defaults.graphql does not load")
	}
	input, _ := json.Marshal(map[string]any{"query": fullIntrospection, "schemas": apis})
	in := filepath.Join(t.TempDir(), "input.json")
	if err := os.WriteFile(in, input, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, node, "testdata/introspect.mjs", module, in).Output()
	if err != nil {
		t.Fatalf("graphql-js: %v", err)
	}
	var want map[string]json.RawMessage
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(loaded))
	for name := range loaded {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			sg := loaded[name]
			opts := []gatewaytest.Option{gatewaytest.WithSupergraph(sg.SDL)}
			for _, g := range sg.Graphs {
				opts = append(opts, gatewaytest.WithHandler(g.Name, http.NotFoundHandler()))
			}
			gw := gatewaytest.Start(t, opts...)
			body, _ := json.Marshal(map[string]string{"query": fullIntrospection})
			resp, err := gw.Post(context.Background(), body)
			if err != nil {
				t.Fatal(err)
			}
			got := normalize(t, resp.Body)
			exp := normalize(t, want[name])
			if !reflect.DeepEqual(got, exp) {
				t.Errorf("fedgate's introspection differs from graphql-js's: %s", firstDiff("", exp, got))
			}
		})
	}
}

// directiveSDL prints a directive definition (descriptions, arguments with
// defaults, locations) as SDL.
func directiveSDL(d *ast.DirectiveDefinition) string {
	q := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	var b strings.Builder
	if d.Description != "" {
		b.WriteString("\n" + q(d.Description))
	}
	b.WriteString("\ndirective @" + d.Name)
	if len(d.Arguments) > 0 {
		b.WriteString("(")
		for i, a := range d.Arguments {
			if i > 0 {
				b.WriteString(", ")
			}
			if a.Description != "" {
				b.WriteString(q(a.Description) + " ")
			}
			b.WriteString(a.Name + ": " + a.Type.String())
			if a.DefaultValue != nil {
				b.WriteString(" = " + a.DefaultValue.String())
			}
		}
		b.WriteString(")")
	}
	if d.IsRepeatable {
		b.WriteString(" repeatable")
	}
	locs := make([]string, len(d.Locations))
	for i, l := range d.Locations {
		locs[i] = string(l)
	}
	b.WriteString(" on " + strings.Join(locs, " | ") + "\n")
	return b.String()
}

// normalize decodes a response and sorts by name the lists whose order
// is not compared: directives (graphql-js puts a schema's own before the
// specified ones, fedgate after them, as gateways list them), possible
// types and interfaces. __Schema.types is compared in order.
func normalize(t *testing.T, raw []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, y := range x {
				walk(y)
				if list, ok := y.([]any); ok && (k == "directives" || k == "possibleTypes" || k == "interfaces") {
					sort.Slice(list, func(i, j int) bool { return name(list[i]) < name(list[j]) })
				}
			}
		case []any:
			for _, y := range x {
				walk(y)
			}
		}
	}
	walk(v)
	return v
}

func name(v any) string {
	m, _ := v.(map[string]any)
	s, _ := m["name"].(string)
	return s
}

// firstDiff describes the first place where want and got differ.
func firstDiff(path string, want, got any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: want %v, got %v", path, short(want), short(got))
		}
		keys := map[string]bool{}
		for k := range w {
			keys[k] = true
		}
		for k := range g {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			if !reflect.DeepEqual(w[k], g[k]) {
				p := path + "." + k
				if n := name(w); n != "" {
					p = path + "[" + n + "]." + k
				}
				return firstDiff(p, w[k], g[k])
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: want %v, got %v", path, short(want), short(got))
		}
		for i := range w {
			if !reflect.DeepEqual(w[i], g[i]) {
				return firstDiff(fmt.Sprintf("%s[%d]", path, i), w[i], g[i])
			}
		}
	}
	return fmt.Sprintf("%s: want %v, got %v", path, short(want), short(got))
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 400 {
		return string(b[:400]) + "..."
	}
	return string(b)
}
