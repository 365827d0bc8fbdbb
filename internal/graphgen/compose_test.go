package graphgen

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/golden"
	"github.com/fedgate/gateway/schema/compose"
)

func toCompose(g Graph) []compose.Subgraph {
	var out []compose.Subgraph
	for _, s := range g.Subgraphs {
		out = append(out, compose.Subgraph{Name: s.Name, URL: "http://127.0.0.1:4999/" + s.Name, SDL: s.SDL})
	}
	return out
}

// composeSeeds is how many seeds the composition tests try; GRAPHGEN_SEEDS
// raises it.
func composeSeeds(t *testing.T) int64 {
	if v := os.Getenv("GRAPHGEN_SEEDS"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("GRAPHGEN_SEEDS: %v", err)
		}
		return n
	}
	return 300
}

// TestGraphsCompose: schema/compose composes every generated graph.
func TestGraphsCompose(t *testing.T) {
	for seed := int64(0); seed < composeSeeds(t); seed++ {
		g := GenerateWith(seed, All)
		if _, err := compose.Compose(toCompose(g)); err != nil {
			t.Errorf("seed %d: %v\n%s", seed, err, g.Text())
		}
	}
}

// TestGraphsApollo composes the generated graphs with @apollo/composition
// too (scripts/compose/oracle.mjs; skipped without `npm ci` there) and
// wants the same verdict and the same supergraph as schema/compose.
func TestGraphsApollo(t *testing.T) {
	if _, err := os.Stat("../../scripts/compose/node_modules/@apollo/composition"); err != nil {
		t.Skip("no @apollo/composition: run npm ci in scripts/compose")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	dir := t.TempDir()
	n := composeSeeds(t)
	args := []string{"../../scripts/compose/oracle.mjs", "--json"}
	graphs := map[string]Graph{}
	for seed := int64(0); seed < n; seed++ {
		g := GenerateWith(seed, All)
		d := filepath.Join(dir, strconv.FormatInt(seed, 10))
		if err := g.WriteDir(d); err != nil {
			t.Fatal(err)
		}
		graphs[d] = g
		args = append(args, d)
	}
	cmd := exec.Command("node", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	agree := 0
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var r struct {
			Dir        string   `json:"dir"`
			Codes      []string `json:"codes"`
			Errors     []string `json:"errors"`
			Supergraph string   `json:"supergraph"`
		}
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("oracle output: %v", err)
		}
		g := graphs[r.Dir]
		res, cerr := compose.Compose(toCompose(g))
		switch {
		case len(r.Codes) > 0 && cerr == nil:
			t.Errorf("seed %d: Apollo fails (%s), schema/compose composes\n%s", g.Seed, strings.Join(r.Errors, "\n"), g.Text())
		case len(r.Codes) > 0:
			var list compose.Errors
			errors.As(cerr, &list)
			t.Errorf("seed %d: both fail (Apollo %v, ours %v): the generator's mistake\n%s\n%v", g.Seed, r.Codes, list.Codes(), strings.Join(r.Errors, "\n"), cerr)
		case cerr != nil:
			t.Errorf("seed %d: Apollo composes, schema/compose fails: %v\n%s", g.Seed, cerr, g.Text())
		case strings.TrimSpace(r.Supergraph) != strings.TrimSpace(res.SDL):
			t.Errorf("seed %d: supergraphs differ\n%s\n%s", g.Seed, golden.Diff(strings.TrimSpace(r.Supergraph), strings.TrimSpace(res.SDL)), g.Text())
		default:
			agree++
		}
	}
	t.Logf("agreement with @apollo/composition: %d of %d graphs", agree, n)
}
