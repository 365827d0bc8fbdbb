package planner_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
)

var demoSupergraph = sync.OnceValues(func() (*schema.Supergraph, error) {
	return schema.Load(gateway.DemoSupergraph)
})

// FuzzNormalize feeds documents through the gateway's front half: static
// limits, validation against the demo API schema, Normalize and Plan. It
// must never panic; a valid document either plans or returns an error, and
// normalizing and planning it twice gives the same plan.
func FuzzNormalize(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(repoRoot, "testdata", "plans", "*.graphql"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(b), "")
	}
	f.Add(`query A { me { id } } query B { topProducts { upc } }`, "B")
	f.Add(`{ me { ...F } } fragment F on User { id ...F }`, "")
	f.Add(`{ search(term: "a") { ... on Item { upc } ... on User { id } } }`, "")
	f.Add(`{ __schema { types { name } } __type(name: "Product") { fields { name } } }`, "")
	sg, err := demoSupergraph()
	if err != nil {
		f.Fatal(err)
	}
	static := limits.DefaultStatic()
	rs := rules.NewDefaultRules()
	p := planner.New(sg)
	f.Fuzz(func(t *testing.T, query, opName string) {
		if len(query) > 8<<10 {
			t.Skip("larger than the fuzzer needs")
		}
		// The static limits stand before gqlparser as they do in the server:
		// nothing unbounded reaches parse or validation.
		doc, err := static.Parse(query)
		if err != nil {
			return
		}
		if err := static.Check(doc); err != nil {
			return
		}
		if errs := validator.ValidateWithRules(sg.API, doc, rs); len(errs) > 0 {
			return
		}
		plan := func() []byte {
			op, err := planner.Normalize(sg.API, doc, opName, nil)
			if err != nil {
				return nil
			}
			pl, err := p.Plan(op, planner.Options{})
			if err != nil {
				var pe *planner.Error
				if !errors.As(err, &pe) {
					t.Fatalf("Plan returned %T, not *planner.Error: %v", err, err)
				}
				return []byte("error: " + err.Error())
			}
			if pl == nil {
				t.Fatal("Plan returned neither a plan nor an error")
			}
			b, err := json.Marshal(pl)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			_ = pl.String()
			return b
		}
		start := time.Now()
		first, second := plan(), plan()
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("normalizing and planning twice took %v", d)
		}
		if !bytes.Equal(first, second) {
			t.Fatalf("planning twice differs:\n%s\n%s", first, second)
		}
	})
}
