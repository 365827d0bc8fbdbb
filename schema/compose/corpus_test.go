package compose

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/fedgate/gateway/internal/golden"
	"github.com/vektah/gqlparser/v2/ast"
)

var update = flag.Bool("update", false, "rewrite the expected supergraphs of testdata/compose")

const corpusDir = "../../testdata/compose"

// corpusCase is one directory of testdata/compose.
type corpusCase struct {
	name, dir string
	subgraphs []Subgraph
	files     []string
}

func loadCorpus(t *testing.T) []corpusCase {
	t.Helper()
	entries, err := os.ReadDir(corpusDir)
	if err != nil {
		t.Fatal(err)
	}
	var cases []corpusCase
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		c := corpusCase{name: e.Name(), dir: filepath.Join(corpusDir, e.Name())}
		files, _ := filepath.Glob(filepath.Join(c.dir, "*.graphql"))
		sort.Strings(files)
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".graphql")
			if name == "supergraph" {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			c.files = append(c.files, name)
			c.subgraphs = append(c.subgraphs, Subgraph{Name: name, URL: "http://127.0.0.1:4999/" + name, SDL: string(data)})
		}
		cases = append(cases, c)
	}
	if len(cases) < 40 {
		t.Fatalf("%d cases in %s, want at least 40", len(cases), corpusDir)
	}
	return cases
}

// expectedPath is where a valid case's supergraph is kept: the planner
// fixtures in testdata/supergraphs for the cases the planner uses, else
// supergraph.graphql in the case directory.
func (c corpusCase) expectedPath() (string, string) {
	planner := filepath.Join(corpusDir, "..", "supergraphs", c.name+".graphql")
	if _, err := os.Stat(planner); err == nil {
		header := fmt.Sprintf("# Composed by schema/compose from %d subgraphs: %s\n", len(c.files), strings.Join(c.files, ", "))
		return planner, header
	}
	return filepath.Join(c.dir, "supergraph.graphql"), ""
}

// TestCorpus composes every case of testdata/compose: valid cases must
// give their expected supergraph, invalid ones exactly the error codes
// listed in errors.txt.
func TestCorpus(t *testing.T) {
	for _, c := range loadCorpus(t) {
		t.Run(c.name, func(t *testing.T) {
			res, err := Compose(c.subgraphs)
			wantCodes, readErr := os.ReadFile(filepath.Join(c.dir, "errors.txt"))
			if readErr == nil {
				want := strings.Fields(string(wantCodes))
				sort.Strings(want)
				var list Errors
				if !errors.As(err, &list) {
					t.Fatalf("composed, want errors %v", want)
				}
				if got := list.Codes(); strings.Join(got, " ") != strings.Join(want, " ") {
					t.Fatalf("error codes %v, want %v\n%v", got, want, err)
				}
				for _, e := range list {
					if e.Message == "" || e.Code == "" {
						t.Errorf("error without code or message: %#v", e)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("compose: %v", err)
			}
			path, header := c.expectedPath()
			golden.Check(t, path, []byte(header+res.SDL), *update, nil)
		})
	}
}

// TestCorpusApollo composes every case with @apollo/composition too
// (scripts/compose/oracle.mjs; needs node and `npm ci` in scripts/compose,
// else it is skipped) and compares: the same verdict, the same error
// codes, the same supergraph text and the same API schema. It logs the
// agreement count.
func TestCorpusApollo(t *testing.T) {
	if _, err := os.Stat("../../scripts/compose/node_modules/@apollo/composition"); err != nil {
		t.Skip("no @apollo/composition: run npm ci in scripts/compose")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	cases := loadCorpus(t)
	args := []string{"../../scripts/compose/oracle.mjs", "--json"}
	for _, c := range cases {
		args = append(args, c.dir)
	}
	cmd := exec.Command("node", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("oracle: %v\n%s", err, stderr.String())
	}
	type apolloResult struct {
		Dir        string   `json:"dir"`
		Codes      []string `json:"codes"`
		Errors     []string `json:"errors"`
		Supergraph string   `json:"supergraph"`
		API        []string `json:"api"`
	}
	results := map[string]apolloResult{}
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var r apolloResult
		if err := json.Unmarshal(line, &r); err != nil {
			t.Fatalf("oracle output: %v", err)
		}
		results[r.Dir] = r
	}
	agree := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			apollo, ok := results[c.dir]
			if !ok {
				t.Fatal("no oracle result")
			}
			res, cerr := Compose(c.subgraphs)
			if len(apollo.Codes) > 0 {
				var list Errors
				if !errors.As(cerr, &list) {
					t.Fatalf("Apollo fails with %v, we compose\n%s", apollo.Codes, strings.Join(apollo.Errors, "\n"))
				}
				if strings.Join(list.Codes(), " ") != strings.Join(apollo.Codes, " ") {
					t.Fatalf("Apollo codes %v, ours %v\nApollo:\n%s\nours:\n%v", apollo.Codes, list.Codes(), strings.Join(apollo.Errors, "\n"), cerr)
				}
				agree++
				return
			}
			if cerr != nil {
				t.Fatalf("Apollo composes, we fail: %v", cerr)
			}
			if strings.TrimSpace(apollo.Supergraph) != strings.TrimSpace(res.SDL) {
				t.Fatalf("supergraphs differ\n%s", golden.Diff(strings.TrimSpace(apollo.Supergraph), strings.TrimSpace(res.SDL)))
			}
			ours := apiSummary(res.Supergraph.API)
			if strings.Join(ours, "\n") != strings.Join(apollo.API, "\n") {
				t.Fatalf("API schemas differ\n%s", golden.Diff(strings.Join(apollo.API, "\n"), strings.Join(ours, "\n")))
			}
			agree++
		})
	}
	t.Logf("agreement with @apollo/composition: %d of %d cases", agree, len(cases))
}

// apiSummary lists an API schema one element a line, sorted, as
// scripts/compose/oracle.mjs prints Apollo's.
func apiSummary(s *ast.Schema) []string {
	var lines []string
	for name, def := range s.Types {
		if strings.HasPrefix(name, "__") || def.BuiltIn {
			continue
		}
		lines = append(lines, "type "+name+" "+string(def.Kind))
		for _, i := range def.Interfaces {
			lines = append(lines, "implements "+name+" "+i)
		}
		for _, f := range def.Fields {
			if strings.HasPrefix(f.Name, "__") {
				continue
			}
			var args []string
			for _, a := range f.Arguments {
				args = append(args, a.Name+": "+a.Type.String())
			}
			sort.Strings(args)
			lines = append(lines, "field "+name+"."+f.Name+"("+strings.Join(args, ", ")+"): "+f.Type.String())
		}
		if def.Kind == ast.Union {
			for _, m := range def.Types {
				lines = append(lines, "member "+name+" "+m)
			}
		}
		for _, v := range def.EnumValues {
			lines = append(lines, "value "+name+"."+v.Name)
		}
	}
	sort.Strings(lines)
	return lines
}
