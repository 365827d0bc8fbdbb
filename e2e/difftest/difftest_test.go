package difftest

import (
	"bufio"
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
)

// Knobs (environment), with make test's defaults:
//
//	DIFFTEST_N=200        operations per graph
//	DIFFTEST_SEED=1       run seed (operation i has generator seed SEED<<24|i)
//	DIFFTEST_GRAPHS=demo  demo, fixtures, all, or a comma list of graph names
//	DIFFTEST_HIVE=auto    Hive Gateway as the second reference when installed
//	                      (npm ci in hive/; scripts/install-deps.sh does); 0: never
//	DIFFTEST_REPORT=      file to write every case to
//	DIFFTEST_SHRINK=150   re-runs spent minimizing a case (-1: none)
//	DIFFTEST_REVIEW=0     1: minimize the cases to review too (slower)
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func envInt(t *testing.T, name string, def int) int {
	n, err := strconv.Atoi(env(name, strconv.Itoa(def)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return n
}

// graphSource is a supergraph and the subgraph handlers behind it.
type graphSource struct {
	name string
	sdl  string
	demo bool
}

func sources(t *testing.T, which string) []graphSource {
	t.Helper()
	var out []graphSource
	if which == "demo" || which == "all" || strings.Contains(","+which+",", ",demo,") {
		out = append(out, graphSource{name: "demo", sdl: gateway.DemoSupergraph, demo: true})
	}
	files, _ := filepath.Glob("../../testdata/supergraphs/*.graphql")
	more, _ := filepath.Glob("../../testdata/compose/*/supergraph.graphql")
	for _, f := range append(files, more...) {
		name := strings.TrimSuffix(filepath.Base(f), ".graphql")
		if name == "supergraph" {
			name = filepath.Base(filepath.Dir(f))
		}
		if !(which == "fixtures" || which == "all" || strings.Contains(","+which+",", ","+name+",")) {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, graphSource{name: name, sdl: string(b)})
	}
	if len(out) == 0 {
		t.Fatalf("DIFFTEST_GRAPHS=%q names no graph", which)
	}
	return out
}

// started is a graph with its subgraphs and fedgate running.
type started struct {
	name    string
	sg      *schema.Supergraph
	fedgate string
	refSDL  string
}

// start serves the graph's subgraphs and fedgate on loopback; refSDL is
// the supergraph with the subgraph URLs the references must call.
func start(t *testing.T, src graphSource) (*started, error) {
	sg, err := schema.Load(src.sdl)
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	handlers := fixturesub.Handlers(sg)
	if src.demo {
		handlers = demo.Handlers()
	}
	urls := map[string]string{}
	refSDL := src.sdl
	for _, g := range sg.Graphs {
		h := handlers[g.Name]
		if h == nil {
			return nil, fmt.Errorf("no handler for subgraph %s", g.Name)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls[g.Name] = srv.URL + demo.Path
		refSDL = strings.ReplaceAll(refSDL, strconv.Quote(g.URL), strconv.Quote(urls[g.Name]))
	}
	client := subgraphs.NewClient(urls, subgraphs.Options{Timeout: 10 * time.Second})
	t.Cleanup(client.Close)
	s, err := server.New(sg, client, server.DefaultOptions())
	if err != nil {
		return nil, fmt.Errorf("fedgate: %w", err)
	}
	t.Cleanup(s.Close)
	gw := httptest.NewServer(s)
	t.Cleanup(gw.Close)
	return &started{name: src.name, sg: sg, fedgate: gw.URL + "/graphql", refSDL: refSDL}, nil
}

// known reads testdata/known.txt: "GRAPH SEED INDEX # why" lines, cases
// known to differ (see /work/team/difftest-findings.md's classes).
func known(t *testing.T) map[string]string {
	f, err := os.Open("testdata/known.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, why, _ := strings.Cut(line, "#")
		out[strings.Join(strings.Fields(key), " ")] = strings.TrimSpace(why)
	}
	return out
}

func refNames(eps []difftest.Endpoint) string {
	var names []string
	for _, e := range eps {
		names = append(names, e.Name)
	}
	return strings.Join(names, ", ")
}

func caseKey(graph string, seed uint64, index int) string {
	return fmt.Sprintf("%s %d %d", graph, seed, index)
}

func TestDifferential(t *testing.T) {
	if _, err := os.Stat("js/node_modules/@apollo/gateway"); err != nil {
		t.Skip("Apollo Gateway is not installed: run scripts/install-deps.sh (npm ci in e2e/difftest/js)")
	}
	n := envInt(t, "DIFFTEST_N", 200)
	seed := uint64(envInt(t, "DIFFTEST_SEED", 1))
	shrink := envInt(t, "DIFFTEST_SHRINK", 150)
	knownCases := known(t)

	dir := t.TempDir()
	var graphs []*started
	for _, src := range sources(t, env("DIFFTEST_GRAPHS", "demo")) {
		g, err := start(t, src)
		if err != nil {
			t.Logf("graph %s left out: %v", src.name, err)
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, g.name+".graphql"), []byte(g.refSDL), 0o644); err != nil {
			t.Fatal(err)
		}
		graphs = append(graphs, g)
	}
	var refs []*difftest.Reference
	apollo, err := difftest.StartReference("apollo", "js/refgw.mjs", dir, 120*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(apollo.Stop)
	refs = append(refs, apollo)
	_, hiveErr := os.Stat("hive/node_modules/@graphql-hive/gateway")
	switch h := env("DIFFTEST_HIVE", "auto"); {
	case h == "1" && hiveErr != nil:
		t.Fatalf("DIFFTEST_HIVE=1 but Hive Gateway is not installed: %v", hiveErr)
	case h == "0" || hiveErr != nil:
		t.Log("Hive Gateway left out: differences from Apollo Gateway alone are listed for review, not failures")
	default:
		hive, err := difftest.StartReference("hive", "hive/refgw.mjs", dir, 120*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(hive.Stop)
		refs = append(refs, hive)
	}

	runner := &difftest.Runner{ShrinkBudget: shrink, Workers: 2, Keep: []difftest.Verdict{difftest.Review},
		ShrinkReview: env("DIFFTEST_REVIEW", "0") == "1"}
	if os.Getenv("DIFFTEST_REPORT") != "" {
		runner.Keep = append(runner.Keep, difftest.RefsDisagree)
	}
	var report strings.Builder
	var unknown []string
	ctx := context.Background()
	for _, g := range graphs {
		dg := &difftest.Graph{
			Name:    g.name,
			API:     g.sg.API,
			Gen:     opgen.New(g.sg.API, opgen.HintsFrom(g.sg), opgen.Options{Mutations: true}),
			Fedgate: difftest.Endpoint{Name: "fedgate", URL: g.fedgate},
		}
		for _, r := range refs {
			if why, ok := r.Refused[g.name]; ok {
				t.Logf("graph %s: %s refused it: %s", g.name, r.Name, why)
				continue
			}
			dg.Refs = append(dg.Refs, difftest.Endpoint{Name: r.Name, URL: r.URL(g.name)})
		}
		if len(dg.Refs) == 0 {
			continue
		}
		isKnown := func(i int) bool { _, ok := knownCases[caseKey(g.name, seed, i)]; return ok }
		cases, st := runner.Run(ctx, dg, seed, n, isKnown)
		t.Logf("graph %s (%s): %d operations: %d agree, %d differ, %d to review, %d where the references disagree, %d where they all crashed, %d known to differ",
			g.name, refNames(dg.Refs), st.Ops, st.Agree, st.Differs+st.GeneratorFailures, st.Review, st.RefsDisagree, st.RefsCrashed, len(st.KnownDiffer))
		if len(st.KnownAgree) > 0 {
			t.Logf("graph %s: known cases that agree now, remove them from testdata/known.txt: %v", g.name, st.KnownAgree)
		}
		for _, c := range cases {
			r := c.Report()
			report.WriteString(r)
			report.WriteString("\n")
			if c.Verdict == difftest.Differs {
				unknown = append(unknown, r)
			} else if c.Verdict == difftest.Review {
				t.Logf("to review (not a failure):\n%s", r)
			}
		}
	}
	if path := os.Getenv("DIFFTEST_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(report.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sort.Strings(unknown)
	for i, r := range unknown {
		if i == 20 {
			t.Errorf("... and %d more cases (DIFFTEST_REPORT=FILE writes them all)", len(unknown)-20)
			break
		}
		t.Errorf("fedgate differs from the references (add \"GRAPH SEED INDEX # finding\" to e2e/difftest/testdata/known.txt only for a class listed in the findings):\n%s", r)
	}
}
