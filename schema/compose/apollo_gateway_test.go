package compose

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/fedgate/gateway/subgraphs/demo"
)

// TestApolloGatewayServesComposed composes the demo subgraphs with this
// package, loads the supergraph into Apollo Gateway (npm @apollo/gateway,
// scripts/compose/gateway-check.mjs) in front of the running demo
// subgraphs, and checks that Apollo Gateway answers the response-golden
// operations with the data this project's gateway answers them with
// (testdata/responses/<case>.json).
func TestApolloGatewayServesComposed(t *testing.T) {
	if _, err := os.Stat("../../scripts/compose/node_modules/@apollo/gateway"); err != nil {
		t.Skip("no @apollo/gateway: run npm ci in scripts/compose")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	running, err := demo.Start(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var subs []Subgraph
	for _, sg := range running {
		sdl, err := os.ReadFile(filepath.Join("../../subgraphs/demo", sg.Name, "schema.graphqls"))
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, Subgraph{Name: sg.Name, URL: sg.URL, SDL: string(sdl)})
	}
	res, err := Compose(subs)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "supergraph.graphql")
	if err := os.WriteFile(file, []byte(res.SDL), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []string{"entity_jump", "four_subgraphs", "requires", "provides", "compound_key", "union_search",
		"interface_items", "nested_entity_chain", "fragments", "aliases", "typename"}
	args := []string{"../../scripts/compose/gateway-check.mjs", file}
	for _, c := range cases {
		args = append(args, filepath.Join("../../testdata/responses", c+".graphql"))
	}
	cmd := exec.CommandContext(ctx, "node", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("Apollo Gateway: %v\n%s", err, stderr.String())
	}
	lines := bytes.Split(bytes.TrimSpace(out), []byte("\n"))
	if len(lines) != len(cases) {
		t.Fatalf("%d answers for %d operations\n%s", len(lines), len(cases), out)
	}
	for i, c := range cases {
		var apollo struct {
			Data   any   `json:"data"`
			Errors []any `json:"errors"`
		}
		if err := json.Unmarshal(lines[i], &apollo); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		raw, err := os.ReadFile(filepath.Join("../../testdata/responses", c+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var golden struct {
			Body struct {
				Data any `json:"data"`
			} `json:"body"`
		}
		if err := json.Unmarshal(raw, &golden); err != nil {
			t.Fatalf("%s golden: %v", c, err)
		}
		if len(apollo.Errors) > 0 {
			t.Errorf("%s: Apollo Gateway errors %v", c, apollo.Errors)
		}
		if !reflect.DeepEqual(apollo.Data, golden.Body.Data) {
			t.Errorf("%s: Apollo Gateway data\n%s\nwant (testdata/responses)\n%s", c, lines[i], raw)
		}
	}
}
