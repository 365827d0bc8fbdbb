package planner_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/golden"

	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/vektah/gqlparser/v2"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/plans")

// repoRoot is the module root, seen from this package's directory.
const repoRoot = ".."

// planCase is one testdata/plans/<name>.graphql file. Its leading comment
// lines are headers:
//
//	# supergraph: gateway.graphql           (required, first line; path from the repo root)
//	# operation: Name                       (optional operation name)
//	# variables: {"x": true}                (optional variable values for @skip/@include)
type planCase struct {
	name       string
	path       string
	query      string
	supergraph string
	operation  string
	variables  map[string]any
}

func loadPlanCases(t *testing.T) []*planCase {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(repoRoot, "testdata", "plans", "*.graphql"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no testdata/plans/*.graphql cases")
	}
	var cases []*planCase
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		c := &planCase{name: strings.TrimSuffix(filepath.Base(f), ".graphql"), path: f, query: string(b)}
		if err := c.readHeaders(); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		cases = append(cases, c)
	}
	return cases
}

func (c *planCase) readHeaders() error {
	lines := strings.Split(c.query, "\n")
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "# supergraph:") {
		return fmt.Errorf("the first line must be a comment \"# supergraph: FILE\"")
	}
	for _, line := range lines {
		if !strings.HasPrefix(line, "#") {
			break
		}
		key, value, ok := strings.Cut(strings.TrimSpace(strings.TrimPrefix(line, "#")), ":")
		if !ok {
			continue
		}
		value = strings.TrimSpace(value)
		switch key {
		case "supergraph":
			c.supergraph = value
		case "operation":
			c.operation = value
		case "variables":
			if err := json.Unmarshal([]byte(value), &c.variables); err != nil {
				return fmt.Errorf("variables header: %v", err)
			}
		}
	}
	return nil
}

// loadSupergraph reads and loads the case's supergraph afresh.
func (c *planCase) loadSupergraph(t testing.TB) *schema.Supergraph {
	t.Helper()
	sdl, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(c.supergraph)))
	if err != nil {
		t.Fatalf("supergraph: %v", err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		t.Fatalf("supergraph %s: %v", c.supergraph, err)
	}
	return sg
}

// plan validates, normalizes and plans the case against sg and returns the
// indented JSON and the text form.
func (c *planCase) plan(sg *schema.Supergraph) (jsonOut, textOut []byte, err error) {
	doc, errs := gqlparser.LoadQuery(sg.API, c.query)
	if len(errs) > 0 {
		return nil, nil, fmt.Errorf("validate: %v", errs)
	}
	op, err := planner.Normalize(sg.API, doc, c.operation, c.variables)
	if err != nil {
		return nil, nil, fmt.Errorf("normalize: %v", err)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		return nil, nil, fmt.Errorf("plan: %v", err)
	}
	j, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return nil, nil, fmt.Errorf("marshal: %v", err)
	}
	return append(j, '\n'), []byte(p.String()), nil
}

// TestPlanGolden compares the plan of every testdata/plans case with its
// <case>.plan.json and <case>.plan.txt. Run with -update to rewrite them; a
// missing golden fails.
func TestPlanGolden(t *testing.T) {
	for _, c := range loadPlanCases(t) {
		t.Run(c.name, func(t *testing.T) {
			j, txt, err := c.plan(c.loadSupergraph(t))
			if reason, ok := pinned[c.name]; ok && err != nil {
				t.Fatalf("%v\n(the golden is pinned, written by hand: %s)", err, reason)
			}
			if err != nil {
				t.Fatal(err)
			}
			base := strings.TrimSuffix(c.path, ".graphql")
			golden.Check(t, base+".plan.json", j, *update, pinned)
			golden.Check(t, base+".plan.txt", txt, *update, pinned)
		})
	}
}

// TestPlanDeterministic plans every case several times, each from a freshly
// loaded supergraph (new maps, so new iteration orders), and expects the
// same bytes each time.
func TestPlanDeterministic(t *testing.T) {
	for _, c := range loadPlanCases(t) {
		t.Run(c.name, func(t *testing.T) {
			j0, txt0, err := c.plan(c.loadSupergraph(t))
			if err != nil {
				t.Skipf("not plannable, TestPlanGolden reports it: %v", err)
			}
			for i := 1; i < 5; i++ {
				j, txt, err := c.plan(c.loadSupergraph(t))
				if err != nil {
					t.Fatalf("run %d: %v", i, err)
				}
				if !bytes.Equal(j, j0) || !bytes.Equal(txt, txt0) {
					t.Fatalf("run %d planned differently:\n%s\nfirst run:\n%s", i, txt, txt0)
				}
			}
		})
	}
}

// pinned lists goldens written by hand because the planner's output was
// wrong when they were recorded; -update does not overwrite them. Remove an
// entry once the planner gets the case right.
var pinned = golden.Pinned{}

// TestPlanGraphOrder plans every case over the supergraph with its
// join__Graph values in reverse order and expects the same plan: the
// order in which the supergraph lists subgraphs must not decide a plan.
func TestPlanGraphOrder(t *testing.T) {
	for _, c := range loadPlanCases(t) {
		t.Run(c.name, func(t *testing.T) {
			j0, txt0, err0 := c.plan(c.loadSupergraph(t))
			sdl, err := os.ReadFile(filepath.Join(repoRoot, filepath.FromSlash(c.supergraph)))
			if err != nil {
				t.Fatal(err)
			}
			sg, err := schema.Load(reverseGraphs(t, string(sdl)))
			if err != nil {
				t.Fatal(err)
			}
			j, txt, err := c.plan(sg)
			switch {
			case err0 != nil && err != nil:
				t.Skipf("not plannable in either order, TestPlanGolden reports it: %v", err0)
			case err0 != nil:
				t.Fatalf("plans only with the graphs in reverse order: %v\nreverse order:\n%s", err0, txt)
			case err != nil:
				t.Fatalf("plans only with the graphs in supergraph order: %v\nsupergraph order:\n%s", err, txt0)
			}
			if !bytes.Equal(j, j0) {
				t.Errorf("reversed graph order planned differently:\n%s\nsupergraph order:\n%s", txt, txt0)
			}
		})
	}
}

// reverseGraphs reverses the value lines of the join__Graph enum.
func reverseGraphs(t *testing.T, sdl string) string {
	t.Helper()
	start := strings.Index(sdl, "enum join__Graph {\n")
	if start < 0 {
		t.Fatal("no enum join__Graph")
	}
	start += len("enum join__Graph {\n")
	end := strings.Index(sdl[start:], "}")
	lines := strings.Split(strings.TrimSuffix(sdl[start:start+end], "\n"), "\n")
	for i, j := 0, len(lines)-1; i < j; i, j = i+1, j-1 {
		lines[i], lines[j] = lines[j], lines[i]
	}
	return sdl[:start] + strings.Join(lines, "\n") + "\n" + sdl[start+end:]
}
