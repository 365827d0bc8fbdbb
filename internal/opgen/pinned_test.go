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
	const path = "testdata/pinned.txt"
	if *updatePinned {
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Graphs added since the file was written are not pinned (logged);
	// a pinned graph whose hash changed fails: the generator, or the
	// graph itself, changed (rewrite the file when that was meant).
	pinned := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(string(want)), "\n") {
		if i := strings.LastIndex(l, " "); i > 0 {
			pinned[l[:i]] = l[i+1:]
		}
	}
	var changed []string
	for _, l := range lines {
		i := strings.LastIndex(l, " ")
		h, ok := pinned[l[:i]]
		switch {
		case !ok:
			t.Logf("not pinned (a graph added since testdata/pinned.txt was written): %s", l)
		case h != l[i+1:]:
			changed = append(changed, fmt.Sprintf("%s: was %s, now %s", l[:i], h, l[i+1:]))
		}
	}
	if len(changed) > 0 {
		t.Errorf("the operations of seeds changed with the knobs of earlier sessions (a new knob draws when off?):\n%s", strings.Join(changed, "\n"))
	}
}
