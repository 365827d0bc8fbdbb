package compose

import (
	"math/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fedgate/gateway/schema"
)

// mutate damages an SDL the ways hand edits and truncated transfers do:
// cut it short, drop, duplicate or swap a span, or flip bytes.
func mutate(r *rand.Rand, sdl string) string {
	b := []byte(sdl)
	if len(b) == 0 {
		return sdl
	}
	for n := 1 + r.Intn(3); n > 0; n-- {
		i := r.Intn(len(b))
		j := i + r.Intn(len(b)-i)
		switch r.Intn(5) {
		case 0:
			b = b[:i]
		case 1:
			b = append(b[:i:i], b[j:]...)
		case 2:
			b = append(b[:j:j], append(append([]byte{}, b[i:j]...), b[j:]...)...)
		case 3:
			const junk = "{}()[]:@\"!#\n "
			b[i] = junk[r.Intn(len(junk))]
		case 4:
			b[i], b[j] = b[j], b[i]
		}
		if len(b) == 0 {
			break
		}
	}
	return string(b)
}

// TestMutatedInputs composes damaged corpus subgraphs, and loads damaged
// corpus supergraphs with schema.Load, for a bounded time: every input
// gets a result or an error, never a panic.
func TestMutatedInputs(t *testing.T) {
	budget := 2 * time.Second
	if testing.Short() {
		budget = 300 * time.Millisecond
	}
	var subgraphs, supergraphs []string
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*", "*.graphql"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if filepath.Base(f) == "supergraph.graphql" {
			supergraphs = append(supergraphs, string(data))
		} else {
			subgraphs = append(subgraphs, string(data))
		}
	}
	seed := time.Now().UnixNano()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewSource(seed))
	deadline := time.Now().Add(budget)
	runs := 0
	for time.Now().Before(deadline) {
		a := mutate(r, subgraphs[r.Intn(len(subgraphs))])
		b := subgraphs[r.Intn(len(subgraphs))]
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("Compose panicked: %v\n--- a ---\n%s\n--- b ---\n%s", p, a, b)
				}
			}()
			Compose([]Subgraph{{Name: "a", URL: "http://a", SDL: a}, {Name: "b", URL: "http://b", SDL: b}})
		}()
		sg := mutate(r, supergraphs[r.Intn(len(supergraphs))])
		func() {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("schema.Load panicked: %v\n%s", p, sg)
				}
			}()
			schema.Load(sg)
		}()
		runs++
	}
	t.Logf("%d mutated inputs composed and loaded", runs)
}
