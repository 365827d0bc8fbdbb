package opgen_test

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"github.com/fedgate/gateway/internal/opgen"
)

// TestFieldsNamedLikeFreshAliases: a schema whose fields are named like
// the generator's fresh aliases (a1, a2, ...; graphgen names an Admin's
// fields so) gets valid operations, and no panic when a fresh alias is a
// response key a field already holds.
func TestFieldsNamedLikeFreshAliases(t *testing.T) {
	api := gqlparser.MustLoadSchema(&ast.Source{Name: "api", Input: `
type Query { a1: T a2: [T] a3(x: Int = 3): T a4: Int }
type T { a1: T a2(x: Int): Int a3: [T!] a4: String a5: T a6(n: Int = 1): T }
`})
	g := opgen.New(api, opgen.Hints{}, opgen.Options{})
	for seed := uint64(0); seed < 3000; seed++ {
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("seed %d: panic: %v", seed, r)
				}
			}()
			if _, err := g.Generate(seed); err != nil {
				t.Fatalf("seed %d: %v", seed, err)
			}
		}()
	}
}
