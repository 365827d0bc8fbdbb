package compose

import (
	"bytes"
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
// (scripts/compose/oracle.mjs, needs `npm ci` in scripts/compose) and
// compares: the same verdict, the same error codes, the same supergraph.
// It reports the agreement count.
func TestCorpusApollo(t *testing.T) {
	if _, err := os.Stat("../../scripts/compose/node_modules/@apollo/composition"); err != nil {
		t.Skip("no @apollo/composition: run npm ci in scripts/compose")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("no node")
	}
	cases := loadCorpus(t)
	agree := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command("node", "../../scripts/compose/oracle.mjs", c.dir)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("oracle: %v\n%s", err, stderr.String())
			}
			apollo := string(out)
			res, cerr := Compose(c.subgraphs)
			if strings.HasPrefix(apollo, "ERROR ") {
				var codes []string
				for _, line := range strings.Split(strings.TrimSpace(apollo), "\n") {
					f := strings.Fields(line)
					if len(f) > 1 && f[0] == "ERROR" && !containsString(codes, f[1]) {
						codes = append(codes, f[1])
					}
				}
				sort.Strings(codes)
				var list Errors
				if !errors.As(cerr, &list) {
					t.Fatalf("Apollo fails with %v, we compose", codes)
				}
				if strings.Join(list.Codes(), " ") != strings.Join(codes, " ") {
					t.Fatalf("Apollo codes %v, ours %v", codes, list.Codes())
				}
				agree++
				return
			}
			if cerr != nil {
				t.Fatalf("Apollo composes, we fail: %v", cerr)
			}
			if strings.TrimSpace(apollo) != strings.TrimSpace(res.SDL) {
				t.Fatalf("supergraphs differ\n%s", golden.Diff(strings.TrimSpace(apollo), strings.TrimSpace(res.SDL)))
			}
			agree++
		})
	}
	t.Logf("agreement with @apollo/composition: %d of %d cases", agree, len(cases))
}
