package limits

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	gateway "github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

// refPosition and refMerge are the field-merge count as it was written
// before the merger reused its positions (a map of children per
// position, a fresh tree per operation and fragment): the reference the
// reusing merger must agree with.
type refPosition struct {
	fields, spreads int64
	children        map[string]*refPosition
}

func refMerges(doc *ast.QueryDocument) int64 {
	frags := map[string]*ast.FragmentDefinition{}
	for _, f := range doc.Fragments {
		if _, dup := frags[f.Name]; !dup {
			frags[f.Name] = f
		}
	}
	active := map[string]bool{}
	var work int64
	var add func(p *refPosition, ss ast.SelectionSet)
	add = func(p *refPosition, ss ast.SelectionSet) {
		for _, sel := range ss {
			switch sel := sel.(type) {
			case *ast.Field:
				key := sel.Alias
				if key == "" {
					key = sel.Name
				}
				if p.children == nil {
					p.children = map[string]*refPosition{}
				}
				c := p.children[key]
				if c == nil {
					c = &refPosition{}
					p.children[key] = c
				}
				c.fields++
				work += 2*c.fields - 1
				add(c, sel.SelectionSet)
			case *ast.InlineFragment:
				add(p, sel.SelectionSet)
			case *ast.FragmentSpread:
				p.spreads++
				work += 2*p.spreads - 1
				f := frags[sel.Name]
				if f == nil || active[sel.Name] {
					continue
				}
				active[sel.Name] = true
				add(p, f.SelectionSet)
				delete(active, sel.Name)
			}
		}
	}
	for _, op := range doc.Operations {
		add(&refPosition{}, op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		active[f.Name] = true
		add(&refPosition{}, f.SelectionSet)
		delete(active, f.Name)
	}
	return work
}

// mergeWork is the reusing merger's count for doc, as checkMerges runs it.
func mergeWork(doc *ast.QueryDocument) int64 {
	return countMerges(doc, 1<<62)
}

// TestMergeCountReusesNoPositions: the merger's count, which reuses one
// map and its positions from one tree (operation, fragment) to the next,
// equals a count with a fresh tree each, on documents whose trees share
// response keys (a position left over from the tree before would add to
// the next one's squares) and on the differential test's generated
// operations of every fixture supergraph (several operations and
// fragments per document), and no valid generated operation is refused
// by these limits. The documents are counted from several goroutines at
// once, as concurrent requests do (-race).
func TestMergeCountReusesNoPositions(t *testing.T) {
	docs := []string{
		`query A { me { id name } } query B { me { id name } }`,
		`query A { me { ...F ...F } } query B { me { id } } fragment F on User { id }`,
		`query A { a: me { id } b: me { id } } fragment F on User { id id id } fragment G on User { id }`,
	}
	for i := range 40 { // more positions than the first chunks hold
		docs[0] += ` query Q` + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ` { me { id name email } }`
	}
	sdls := []string{gateway.DemoSupergraph}
	paths, _ := filepath.Glob(filepath.Join("..", "testdata", "supergraphs", "*.graphql"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sdls = append(sdls, string(b))
	}
	generated := 0
	for _, sdl := range sdls {
		sg, err := schema.Load(sdl)
		if err != nil {
			continue // a fixture the gateway refuses on purpose
		}
		gen := opgen.New(sg.API, opgen.HintsFrom(sg), opgen.Options{MaxOperations: 3})
		for seed := uint64(1); seed <= 40; seed++ {
			op, err := gen.Generate(seed)
			if err != nil {
				continue
			}
			docs = append(docs, op.Query)
			generated++
		}
	}
	if generated < 200 {
		t.Fatalf("only %d generated operations", generated)
	}
	s := DefaultStatic()
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := w; i < len(docs); i += 4 {
				doc, err := s.Parse(docs[i])
				if err != nil {
					t.Errorf("%s: %v", docs[i], err)
					continue
				}
				if got, want := mergeWork(doc), refMerges(doc); got != want {
					t.Errorf("merge work %d, want %d, for %s", got, want, docs[i])
				}
				if i >= 3 {
					if err := s.Check(doc); err != nil {
						t.Errorf("a valid generated operation refused: %v\n%s", err, docs[i])
					}
				}
			}
		})
	}
	wg.Wait()
}
