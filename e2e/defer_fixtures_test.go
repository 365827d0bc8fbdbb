package e2e

import (
	"os"
	"strings"
	"testing"

	gateway "github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/internal/gatewaytest"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
)

// startFixture serves the subgraphs of the supergraph sdl with the
// fixture subgraphs (internal/fixturesub) and fedgate, with its default
// options, in front of them on loopback.
func startFixture(t *testing.T, sdl string) *gatewaytest.Gateway {
	t.Helper()
	sg, err := schema.Load(sdl)
	if err != nil {
		t.Fatal(err)
	}
	opts := []gatewaytest.Option{gatewaytest.WithSupergraph(sdl), gatewaytest.WithServerOptions(server.DefaultOptions())}
	for name, h := range fixturesub.Handlers(sg) {
		opts = append(opts, gatewaytest.WithHandler(name, h))
	}
	return gatewaytest.Start(t, opts...)
}

// askFixture posts query with accept and returns the answer, incremental
// payloads merged (difftest.MergeIncremental).
func askFixture(t *testing.T, g *gatewaytest.Gateway, query string, vars map[string]any, accept string) difftest.Result {
	t.Helper()
	resp := postDefer(t, g, query, accept, vars)
	merged, err := difftest.MergeIncremental(resp.Header.Get("Content-Type"), resp.Body)
	if err != nil {
		t.Fatalf("%v: %s", err, resp.Body)
	}
	return difftest.Parse(resp.Status, merged)
}

// TestDeferFixtures: operations the differential test's @defer runs
// (DIFFTEST_DEFER=1) found answered differently incrementally, on the
// composed fixtures: the merged payloads must be the one-body answer, and
// the operation must really be split (more than one payload).
func TestDeferFixtures(t *testing.T) {
	cases := []struct {
		name, graph, query string
		vars               map[string]any
	}{
		{
			// An @interfaceObject answer without a concrete type: the
			// fragment without a type condition applies to every object.
			name:  "deferred fragment without condition on an interface object",
			graph: "iface_object_shareable",
			query: `{ a1: accounts { ... @defer(label: "d1") { name } } }`,
		},
		{
			name:  "deferred fragment with a null if on an interface object list",
			graph: "interface_object_root",
			query: `query ($v: Boolean = false) { top { ... @defer(label: "d3", if: $v) { id } } }`,
			vars:  map[string]any{"v": nil},
		},
		{
			// One field in a deferred fragment on one implementation
			// and in a primary one on another: the object's concrete type
			// decides which part delivers it (the fixture's topRated is
			// a Movie: deferred there, so that the answer is split; a
			// fragment that applies to no object sends no payload).
			name:  "one field deferred on one implementation of an interface object",
			graph: "iface_object",
			query: `{ library: topRated { ... on Movie @defer(label: "d1") { stars } ... on Book { stars } } }`,
		},
		{
			// The deferred entity fetch asks name under a reserved data
			// key (the response key __typename is the gateway's own).
			name:  "deferred field aliased __typename",
			graph: "demo",
			query: `{ topProducts { ... @defer { __typename: name } } }`,
		},
		{
			// Asset has no implementation: an entity fetch of it answers
			// no object, so the deferred key field stays with the
			// interface object's own fetch (DIFFTEST_MUTATE=1, seed 1303,
			// operation 61, asked it aliased __typename).
			name:  "deferred aliased key of an interface no object implements",
			graph: "empty_interface",
			query: `{ tagged { ... @defer { x: id } } }`,
		},
		{
			// Fetched with the primary part through @provides,
			// delivered with their parts (testdata/plans/defer_provides).
			name:  "deferred fields the primary fetch has through @provides",
			graph: "provides_nested",
			query: `{ threads { starter { id ... @defer { name team { ... @defer { name } } } } } }`,
		},
	}
	gateways := map[string]*gatewaytest.Gateway{}
	for _, c := range cases {
		if gateways[c.graph] != nil {
			continue
		}
		sdl := gateway.DemoSupergraph
		if c.graph != "demo" {
			file := "../testdata/compose/" + c.graph + "/supergraph.graphql"
			if _, err := os.Stat(file); err != nil {
				file = "../testdata/supergraphs/" + c.graph + ".graphql"
			}
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			sdl = string(b)
		}
		gateways[c.graph] = startFixture(t, sdl)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			g := gateways[c.graph]
			whole := askFixture(t, g, c.query, c.vars, "application/json")
			split := askFixture(t, g, c.query, c.vars, deferAccept)
			if whole.Failure != "" || len(whole.Errors) > 0 || whole.Data == "null" {
				t.Fatalf("the one-body answer has errors: %s", whole.Body)
			}
			if !strings.Contains(string(split.Body), `"incrementalPayloads":`) || strings.Contains(string(split.Body), `"incrementalPayloads":1}`) {
				t.Fatalf("not split: %s", split.Body)
			}
			if !difftest.SameUnordered(whole, split) {
				t.Errorf("merged payloads differ from the one-body answer\nwhole  %s\nmerged %s", whole.Body, split.Body)
			}
		})
	}
}
