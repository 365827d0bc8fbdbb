package opgen_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/opgen"
)

var updatePinned = flag.Bool("update-pinned", false, "rewrite testdata/pinned.txt")

// TestSeedsPinned: every knob drawing nothing when off, a seed's operation
// with the knobs of earlier sessions stays what it was, so the cases of
// e2e/difftest/testdata/known.txt and the runs of docs/differential.md can
// be asked again. testdata/pinned.txt holds a hash of the operation of
// seeds 0-39 on the demo and every fixture, for the options below;
// -update-pinned rewrites it (only for a deliberate generator change).
func TestSeedsPinned(t *testing.T) {
	options := map[string]opgen.Options{
		"plain": {Mutations: true},
		"knobs": {Mutations: true, Defer: true, Wide: true, Optional: true, Shapes: true},
	}
	var lines []string
	for name, sg := range supergraphs(t) {
		hints := opgen.HintsFrom(sg)
		for oname, opts := range options {
			g := opgen.New(sg.API, hints, opts)
			h := sha256.New()
			for seed := uint64(0); seed < 40; seed++ {
				op, err := g.Generate(seed)
				if err != nil {
					t.Fatalf("%s seed %d: %v", name, seed, err)
				}
				vars, _ := json.Marshal(op.Variables)
				fmt.Fprintf(h, "%s\x00%s\x00%s\x00", op.Query, op.OperationName, vars)
			}
			lines = append(lines, fmt.Sprintf("%s %s %s", filepath.Base(filepath.Dir(name))+"/"+filepath.Base(name), oname, hex.EncodeToString(h.Sum(nil))[:16]))
		}
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	const path = "testdata/pinned.txt"
	if *updatePinned {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("the operations of seeds changed with the knobs of earlier sessions (a new knob draws when off?):\n%s", lineDiff(string(want), got))
	}
}

func lineDiff(want, got string) string {
	w := map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	var out []string
	for _, l := range strings.Split(got, "\n") {
		if !w[l] {
			out = append(out, "now: "+l)
		}
	}
	return strings.Join(out, "\n")
}
