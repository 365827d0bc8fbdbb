package difftest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/internal/difftest"
	"github.com/fedgate/gateway/internal/fixturesub"
	"github.com/fedgate/gateway/internal/graphgen"
	"github.com/fedgate/gateway/internal/opgen"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/schema/compose"
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
//	DIFFTEST_STRICT_ERRORS=0 1: also compare errors' messages, request errors'
//	                      locations and extensions.code, where the references
//	                      agree on them (a difference fails the test)
//	DIFFTEST_ERRORS=0     1: fixture subgraphs answer some nullable fields with an error;
//	                      2: also some non-null fields (null propagated in the subgraph)
//	DIFFTEST_SERVE=       seconds: start the graphs and references, print their
//	                      URLs, serve for that long instead of testing (to
//	                      look at one case by hand)
//	DIFFTEST_EXTERNAL=    glob of more supergraph files whose subgraphs already
//	                      run (on loopback, at the URLs the files name); their
//	                      graphs are named after the files and get no mutations
//	DIFFTEST_LIMITS=      loose: fedgate's alias, root field and field merge
//	                      limits ten times the defaults (big documents meet
//	                      them where the references have no limits)
//	DIFFTEST_DEFER=0      1: @defer on some fragments of queries; fedgate is
//	                      asked them also incrementally (payloads merged),
//	                      the references without @defer
//	DIFFTEST_WIDE=0       1: some Float, ID and custom scalar literals are
//	                      integers beyond 64 bits (opgen.Options.Wide)
//	DIFFTEST_OPTIONAL=0   1: nullable variables without a default in non-null
//	                      arguments and input fields that have a default,
//	                      left out, sent null or a value (opgen.Options.Optional)
//	DIFFTEST_ROUTING=0    1: fixture subgraphs answer the leaves of fields several
//	                      subgraphs resolve with values of their own, so which
//	                      subgraph a plan asks shows (fixturesub.WithRouting)
//	DIFFTEST_MISSING=0    1: fixture subgraphs answer null, without an error, for the
//	                      _entities representations of one entity in seven
//	                      (fixturesub.WithMissingEntities)
//	DIFFTEST_SHAPES=0     1: fragments with variables shared by operations, variable
//	                      conditions on key, @requires and entity fields and on
//	                      __typename, a field under 3-4 keys (opgen.Options.Shapes)
//	DIFFTEST_MERGE=0      1: composite fields selected again in (conditional, named,
//	                      nested) fragments next to them with other sub-selections,
//	                      documents of more operations, the running one between
//	                      others (opgen.Options.Merge)
//	DIFFTEST_GRAPHGEN=    random graphs of internal/graphgen, composed by
//	                      schema/compose: a count K (seeds 1..K), a range
//	                      A-B or a comma list of seeds; graphs gen<SEED>
//	                      (with DIFFTEST_REPORT=FILE, their subgraphs in
//	                      FILE.graphs/gen<SEED>/). Set, DIFFTEST_GRAPHS
//	                      defaults to none
//	DIFFTEST_OPGEN=       generator bounds, e.g. depth=8,selections=6,fields=100,
//	                      operations=5,aliases=20 (or "big" for those); unset:
//	                      the generator's defaults
//	DIFFTEST_MUTATE=0     1: operations are real ones (the repository's tests,
//	                      golden files and docs) rewritten as clients write
//	                      them (internal/mutate), checked with graphql-js
//	                      gen: the same rewrites of generated operations
//	                      (DIFFTEST_MUTATE_GEN_N per graph, default 40)
//	DIFFTEST_MUTATE_SEEDS= glob of more files to take seed operations from
//	                      (with DIFFTEST_MUTATE=1), read where they are
//	DIFFTEST_MUTATE_STEPS=5 most transformations stacked on one operation
//	DIFFTEST_MUTATE_ONLY= comma list of transformations to use (all: unset)
//	DIFFTEST_REF_TIMEOUT=20 seconds a reference may take for one request;
//	                      past it (or when it dies) it is restarted, asked
//	                      again alone, and, failing again, the operation
//	                      is counted "reference crashed/timed out"
//	DIFFTEST_REF_HEAP_MB=4096 node's heap cap for each reference
//	DIFFTEST_SUBLOG=      file: every request the fixture subgraphs get,
//	                      with the caller's User-Agent (with DIFFTEST_SERVE)
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

// genOptions reads DIFFTEST_OPGEN into the generator's bounds.
func genOptions(t *testing.T, spec string) opgen.Options {
	var o opgen.Options
	if spec == "big" {
		spec = "depth=8,selections=6,fields=100,operations=5,aliases=20"
	}
	for _, kv := range strings.Split(spec, ",") {
		if strings.TrimSpace(kv) == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			t.Fatalf("DIFFTEST_OPGEN: %q is not NAME=POSITIVE-INT", kv)
		}
		switch strings.TrimSpace(k) {
		case "depth":
			o.MaxDepth = n
		case "selections":
			o.MaxSelections = n
		case "fields":
			o.MaxFields = n
		case "operations":
			o.MaxOperations = n
		case "aliases":
			o.MaxAliases = n
		default:
			t.Fatalf("DIFFTEST_OPGEN: unknown bound %q (depth, selections, fields, operations, aliases)", k)
		}
	}
	return o
}

func withMutations(o opgen.Options, on bool) opgen.Options {
	o.Mutations = on
	return o
}

// authRE finds authorization directives applied in a supergraph.
var authRE = regexp.MustCompile(`@(authenticated|requiresScopes|policy)\b`)

// graphSource is a supergraph and the subgraph handlers behind it.
type graphSource struct {
	name string
	sdl  string
	demo bool
	// external: the subgraphs run elsewhere, at the supergraph's URLs.
	external bool
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
		if authRE.Match(b) {
			// fedgate enforces these directives; the references, as
			// started here, do not: their answers differ by design.
			t.Logf("graph %s left out: it uses @authenticated, @requiresScopes or @policy", name)
			continue
		}
		out = append(out, graphSource{name: name, sdl: string(b)})
	}
	for _, seed := range graphgenSeeds(t, os.Getenv("DIFFTEST_GRAPHGEN")) {
		g := graphgen.Generate(seed)
		var subs []compose.Subgraph
		for _, s := range g.Subgraphs {
			subs = append(subs, compose.Subgraph{Name: s.Name, URL: "http://127.0.0.1:4999/" + s.Name, SDL: s.SDL})
		}
		res, err := compose.Compose(subs)
		if err != nil {
			// The generator means every graph to compose; one that does
			// not is its mistake (or the composer's), not a gateway's.
			t.Errorf("graphgen seed %d does not compose: %v\n%s", seed, err, g.Text())
			continue
		}
		name := fmt.Sprintf("gen%d", seed)
		if report := os.Getenv("DIFFTEST_REPORT"); report != "" {
			// The subgraphs beside the report, to look at a case again
			// (a composition case directory: schema/compose, oracle.mjs).
			if err := g.WriteDir(filepath.Join(report+".graphs", name)); err != nil {
				t.Fatal(err)
			}
		}
		out = append(out, graphSource{name: name, sdl: res.SDL})
	}
	if pattern := os.Getenv("DIFFTEST_EXTERNAL"); pattern != "" {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("DIFFTEST_EXTERNAL=%q names no file (%v)", pattern, err)
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSuffix(filepath.Base(f), filepath.Ext(f))
			for taken(out, name) {
				// The references serve every graph from one directory
				// by name: a second "mutations" would replace the first.
				name += "_ext"
			}
			out = append(out, graphSource{name: name, sdl: string(b), external: true})
		}
	}
	if len(out) == 0 {
		t.Fatalf("DIFFTEST_GRAPHS=%q (and DIFFTEST_GRAPHGEN) name no graph", which)
	}
	return out
}

// graphgenSeeds reads DIFFTEST_GRAPHGEN: "K" (seeds 1..K), "A-B" or
// "S1,S2,...".
func graphgenSeeds(t *testing.T, spec string) []int64 {
	spec = strings.TrimSpace(spec)
	if spec == "" || spec == "0" {
		return nil
	}
	bad := func() {
		t.Fatalf("DIFFTEST_GRAPHGEN=%q: want a count K, a range A-B or seeds S1,S2", spec)
	}
	var out []int64
	switch {
	case strings.Contains(spec, ","):
		for _, f := range strings.Split(spec, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(f), 10, 64)
			if err != nil {
				bad()
			}
			out = append(out, n)
		}
	case strings.Contains(spec, "-"):
		a, b, _ := strings.Cut(spec, "-")
		lo, err1 := strconv.ParseInt(a, 10, 64)
		hi, err2 := strconv.ParseInt(b, 10, 64)
		if err1 != nil || err2 != nil || hi < lo || hi-lo > 10000 {
			bad()
		}
		for n := lo; n <= hi; n++ {
			out = append(out, n)
		}
	default:
		k, err := strconv.ParseInt(spec, 10, 64)
		if err != nil || k < 0 || k > 10000 {
			bad()
		}
		for n := int64(1); n <= k; n++ {
			out = append(out, n)
		}
	}
	return out
}

// taken reports whether a source in srcs is named name.
func taken(srcs []graphSource, name string) bool {
	for _, s := range srcs {
		if s.name == name {
			return true
		}
	}
	return false
}

// started is a graph with its subgraphs and fedgate running.
type started struct {
	name     string
	demo     bool
	external bool
	sg       *schema.Supergraph
	fedgate  string
	refSDL   string
}

// start serves the graph's subgraphs and fedgate on loopback; refSDL is
// the supergraph with the subgraph URLs the references must call. opts
// configure the fixture subgraphs (DIFFTEST_ERRORS adds its own).
func start(t *testing.T, src graphSource, opts ...fixturesub.Option) (*started, error) {
	sg, err := schema.Load(src.sdl)
	if err != nil {
		return nil, fmt.Errorf("loading: %w", err)
	}
	switch env("DIFFTEST_ERRORS", "0") {
	case "1":
		opts = append(opts, fixturesub.WithErrors())
	case "2":
		opts = append(opts, fixturesub.WithNonNullErrors())
	}
	if env("DIFFTEST_MISSING", "0") == "1" {
		opts = append(opts, fixturesub.WithMissingEntities())
	}
	if env("DIFFTEST_ROUTING", "0") == "1" {
		opts = append(opts, fixturesub.WithRouting())
	}
	handlers := fixturesub.Handlers(sg, opts...)
	if src.demo {
		handlers = demo.Handlers()
	}
	urls := map[string]string{}
	refSDL := src.sdl
	for _, g := range sg.Graphs {
		if src.external {
			urls[g.Name] = g.URL
			continue
		}
		h := handlers[g.Name]
		if h == nil {
			return nil, fmt.Errorf("no handler for subgraph %s", g.Name)
		}
		if path := os.Getenv("DIFFTEST_SUBLOG"); path != "" {
			h = logRequests(t, path, src.name+"/"+g.Name, h)
		}
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		urls[g.Name] = srv.URL + demo.Path
		refSDL = strings.ReplaceAll(refSDL, strconv.Quote(g.URL), strconv.Quote(urls[g.Name]))
	}
	client := subgraphs.NewClient(urls, subgraphs.Options{Timeout: 10 * time.Second})
	t.Cleanup(client.Close)
	srvOpts := server.DefaultOptions()
	// The references answer __schema and __type: so does fedgate here.
	srvOpts.Introspection = true
	if env("DIFFTEST_STRICT_ERRORS", "0") == "1" {
		// The references pass subgraph errors on as written; fedgate
		// redacts them by default (subgraphs.*.include_errors), which is
		// deliberate and would make every subgraph error differ.
		srvOpts.IncludeSubgraphErrors = func(string) bool { return true }
	}
	if env("DIFFTEST_LIMITS", "default") == "loose" {
		// Big generated documents meet the limits that only fedgate, of
		// the three, applies; loose limits let the run compare the answers
		// behind those refusals.
		srvOpts.Limits.MaxAliases *= 10
		srvOpts.Limits.MaxRootFields *= 10
		srvOpts.Limits.MaxFieldMerges *= 10
	}
	s, err := server.New(sg, client, srvOpts)
	if err != nil {
		return nil, fmt.Errorf("fedgate: %w", err)
	}
	t.Cleanup(s.Close)
	gw := httptest.NewServer(s)
	t.Cleanup(gw.Close)
	return &started{name: src.name, demo: src.demo, external: src.external, sg: sg, fedgate: gw.URL + "/graphql", refSDL: refSDL}, nil
}

var subLog struct {
	sync.Mutex
	f *os.File
}

// logRequests appends every request h gets to the file path (one line:
// graph/subgraph, the caller's User-Agent, which tells the gateways apart,
// and the body), to see what each gateway sent a subgraph for one
// operation (DIFFTEST_SERVE).
func logRequests(t *testing.T, path, name string, h http.Handler) http.Handler {
	subLog.Lock()
	defer subLog.Unlock()
	if subLog.f == nil {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		subLog.f = f
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		subLog.Lock()
		fmt.Fprintf(subLog.f, "%s %q %s\n", name, r.Header.Get("User-Agent"), body)
		subLog.Unlock()
		h.ServeHTTP(w, r)
	})
}

// knownCase is a line of testdata/known.txt: "GRAPH SEED INDEX HASH # why",
// a case known to differ (the why points at the findings' class). HASH is
// difftest.OpHash of the generated operation, so an entry cannot silently
// cover another operation once the generator changes.
type knownCase struct {
	hash, why string
}

const knownFile = "testdata/known.txt"

func known(t *testing.T) (map[string]knownCase, []string) {
	b, err := os.ReadFile(knownFile)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]knownCase{}
	var header []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "#") {
			header = append(header, line)
			continue
		}
		key, why, _ := strings.Cut(line, "#")
		f := strings.Fields(key)
		if len(f) != 4 {
			t.Fatalf("%s: %q is not GRAPH SEED INDEX HASH # why", knownFile, line)
		}
		out[strings.Join(f[:3], " ")] = knownCase{hash: f[3], why: strings.TrimSpace(why)}
	}
	return out, header
}

// summarize lists the classes, most frequent first, with up to 8 example
// cases each.
func summarize(classes map[string][]string) string {
	names := make([]string, 0, len(classes))
	for c := range classes {
		names = append(names, c)
	}
	sort.Slice(names, func(i, j int) bool {
		if len(classes[names[i]]) != len(classes[names[j]]) {
			return len(classes[names[i]]) > len(classes[names[j]])
		}
		return names[i] < names[j]
	})
	var b strings.Builder
	for _, c := range names {
		ex := classes[c]
		if len(ex) > 8 {
			ex = append(ex[:8:8], "...")
		}
		fmt.Fprintf(&b, "%5d  %s  e.g. %s\n", len(classes[c]), c, strings.Join(ex, " "))
	}
	return b.String()
}

// diedClass names the references of a RefDied case and what happened to
// each ("hive: timed out after 20s").
func diedClass(c difftest.Case) string {
	var parts []string
	for _, a := range c.Answers {
		if a.Result.Died != "" {
			what := a.Result.Died
			if strings.HasPrefix(what, "crashed") && !strings.Contains(what, "FATAL ERROR") {
				what = "crashed" // the stderr tail differs per case
			}
			parts = append(parts, a.Gateway+": "+what)
		}
	}
	return strings.Join(parts, "; ")
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
	which := env("DIFFTEST_GRAPHS", "demo")
	if os.Getenv("DIFFTEST_GRAPHGEN") != "" && os.Getenv("DIFFTEST_GRAPHS") == "" {
		which = "none" // the generated graphs alone
	}
	differential(t, env("DIFFTEST_MUTATE", "0"), envInt(t, "DIFFTEST_N", 200), which)
}

// TestDifferentialMutate is a short run of DIFFTEST_MUTATE=1 (the
// repository's operations rewritten, internal/mutate) on the demo, so that
// make test runs both generators: DIFFTEST_MUTATE_N operations (default
// 60; 0 skips it). TestDifferential with DIFFTEST_MUTATE=1 runs it on any
// graphs.
func TestDifferentialMutate(t *testing.T) {
	n := envInt(t, "DIFFTEST_MUTATE_N", 60)
	if n == 0 || env("DIFFTEST_MUTATE", "0") != "0" {
		t.Skip("DIFFTEST_MUTATE_N=0, or TestDifferential runs DIFFTEST_MUTATE")
	}
	differential(t, "1", n, "demo")
}

// differential runs n operations per graph of which (DIFFTEST_GRAPHS's
// syntax) against the references: generated by opgen, or with mutateOn
// by internal/mutate. A known case of a mutate run is listed in
// testdata/known.txt under the graph name "mutate:GRAPH".
//
// mode is DIFFTEST_MUTATE's value: "0" generated operations, "1" the
// corpus's rewritten, "gen" generated ones rewritten (their known cases
// under "mutategen:GRAPH").
func differential(t *testing.T, mode string, n int, which string) {
	mutateOn := mode != "0"
	if _, err := os.Stat("js/node_modules/@apollo/gateway"); err != nil {
		msg := "Apollo Gateway is not installed: run scripts/install-deps.sh (npm ci in e2e/difftest/js)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg) // CI installs it; a skip there would hide the differential test
		}
		t.Skip(msg)
	}
	seed := uint64(envInt(t, "DIFFTEST_SEED", 1))
	shrink := envInt(t, "DIFFTEST_SHRINK", 150)
	knownCases, knownHeader := known(t)
	update := env("DIFFTEST_UPDATE_KNOWN", "0") == "1"
	var knownNow []string

	dir := t.TempDir()
	var graphs []*started
	for _, src := range sources(t, which) {
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
	refOpts := difftest.ReferenceOptions{StartTimeout: 120 * time.Second,
		Deadline: time.Duration(envInt(t, "DIFFTEST_REF_TIMEOUT", 20)) * time.Second,
		HeapMB:   envInt(t, "DIFFTEST_REF_HEAP_MB", 4096)}
	apollo, err := difftest.StartReference("apollo", "js/refgw.mjs", dir, refOpts)
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
		hive, err := difftest.StartReference("hive", "hive/refgw.mjs", dir, refOpts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(hive.Stop)
		refs = append(refs, hive)
	}

	if secs := envInt(t, "DIFFTEST_SERVE", 0); secs > 0 {
		for _, g := range graphs {
			line := fmt.Sprintf("graph %s: fedgate %s", g.name, g.fedgate)
			for _, r := range refs {
				if _, refused := r.Refused[g.name]; !refused {
					line += fmt.Sprintf(" %s %s", r.Name, r.URL(g.name))
				}
			}
			fmt.Println(line)
		}
		time.Sleep(time.Duration(secs) * time.Second)
		return
	}
	var reportFile *os.File
	if path := os.Getenv("DIFFTEST_REPORT"); path != "" {
		f, err := os.Create(path + ".partial")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		reportFile = f
	}
	runner := &difftest.Runner{ShrinkBudget: shrink, Workers: 2, Keep: []difftest.Verdict{difftest.Review, difftest.RefDied},
		ShrinkReview: env("DIFFTEST_REVIEW", "0") == "1", AliasCheck: true,
		StrictErrors: env("DIFFTEST_STRICT_ERRORS", "0") == "1"}
	if os.Getenv("DIFFTEST_REPORT") != "" {
		runner.Keep = append(runner.Keep, difftest.RefsDisagree, difftest.AliasDivergence, difftest.DocumentDivergence, difftest.RefsSplit)
	}
	genOpts := genOptions(t, env("DIFFTEST_OPGEN", ""))
	genOpts.Defer = env("DIFFTEST_DEFER", "0") == "1"
	genOpts.Wide = env("DIFFTEST_WIDE", "0") == "1"
	genOpts.Optional = env("DIFFTEST_OPTIONAL", "0") == "1"
	genOpts.Shapes = env("DIFFTEST_SHAPES", "0") == "1"
	genOpts.Merge = env("DIFFTEST_MERGE", "0") == "1"
	var corpus []string
	if mode == "1" {
		corpus = mutateCorpus(t)
	}
	var report strings.Builder
	var unknown []string
	restarts := map[string]int{}
	classes := map[string][]string{}
	ctx := context.Background()
	for _, g := range graphs {
		knownName := g.name
		switch mode {
		case "1":
			knownName = "mutate:" + g.name
		case "gen":
			knownName = "mutategen:" + g.name
		}
		hints := opgen.HintsFrom(g.sg)
		dg := &difftest.Graph{
			Name: g.name,
			API:  g.sg.API,
			// The demo's addReview numbers what it adds, so each gateway
			// would see another id; the fixture subgraphs keep no state.
			Gen:     opgen.New(g.sg.API, hints, withMutations(genOpts, !g.demo && !g.external)),
			Fedgate: difftest.Endpoint{Name: "fedgate", URL: g.fedgate},
		}
		if mutateOn {
			dg.Gen = mutateGen(t, g, corpus, !g.demo && !g.external, genOpts.Defer, seed, n)
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
		for key, k := range knownCases {
			f := strings.Fields(key)
			if f[0] != knownName || f[1] != strconv.FormatUint(seed, 10) {
				continue
			}
			i, _ := strconv.Atoi(f[2])
			if op, err := dg.Gen.Generate(difftest.OpSeed(seed, i)); err != nil || difftest.OpHash(op) != k.hash {
				if !update {
					t.Errorf("%s: %q names an operation the generator no longer makes; rerun with DIFFTEST_UPDATE_KNOWN=1 and review the new list", knownFile, key)
				}
				delete(knownCases, key)
			}
		}
		isKnown := func(i int) bool { _, ok := knownCases[caseKey(knownName, seed, i)]; return ok }
		cases, st := runner.Run(ctx, dg, seed, n, isKnown)
		t.Logf("graph %s (%s): %d operations: %d agree, %d differ, %d to review, %d where the references disagree, %d where they all crashed, %d where their alias bug explains it, %d where their handling of the document's other operations does, %d known to differ, %d where a reference crashed/timed out, %d where fedgate agrees with each reference where the other errs, %d whose errors differ in message, locations or code (DIFFTEST_STRICT_ERRORS)",
			g.name, refNames(dg.Refs), st.Ops, st.Agree, st.Differs+st.GeneratorFailures, st.Review, st.RefsDisagree, st.RefsCrashed, st.AliasDivergence, st.DocumentDivergence, len(st.KnownDiffer), st.RefsDied, st.RefsSplit, st.ErrorsDiffer)
		for _, r := range refs {
			if n, why := r.Restarts(); n > restarts[r.Name] {
				t.Logf("reference %s restarted %d times during graph %s; the last time because:\n%s", r.Name, n-restarts[r.Name], g.name, why)
				restarts[r.Name] = n
			}
			if err := r.Broken(); err != nil {
				t.Fatalf("reference %s could not be started again during graph %s: %v", r.Name, g.name, err)
			}
		}
		for _, i := range st.KnownDiffer {
			k := knownCases[caseKey(knownName, seed, i)]
			knownNow = append(knownNow, fmt.Sprintf("%s %s # %s", caseKey(knownName, seed, i), k.hash, k.why))
		}
		if len(st.KnownAgree) > 0 {
			t.Logf("graph %s: known cases that agree now, remove them from testdata/known.txt: %v", g.name, st.KnownAgree)
		}
		for _, c := range cases {
			r := c.Report()
			full := c.FullReport()
			report.WriteString(full)
			report.WriteString("\n")
			if reportFile != nil {
				// Written as it goes, so an interrupted run leaves its cases.
				fmt.Fprintf(reportFile, "%s\n", full)
			}
			switch c.Verdict {
			case difftest.Differs, difftest.Review:
				class := c.Verdict.String() + ": " + difftest.Classify(g.sg.API, hints, c)
				classes[class] = append(classes[class], fmt.Sprintf("%s/%d", g.name, c.Index))
			case difftest.ErrorsDiffer:
				class := c.Verdict.String() + ": " + difftest.StrictClass(c)
				classes[class] = append(classes[class], fmt.Sprintf("%s/%d", g.name, c.Index))
			case difftest.RefDied:
				class := c.Verdict.String() + ": " + diedClass(c)
				classes[class] = append(classes[class], fmt.Sprintf("%s/%d", g.name, c.Index))
				t.Logf("a reference crashed or timed out (not a failure; restarted):\n%s", r)
			}
			if c.Verdict == difftest.Differs || c.Verdict == difftest.ErrorsDiffer {
				unknown = append(unknown, r)
				knownNow = append(knownNow, fmt.Sprintf("%s %s # %s", caseKey(knownName, seed, c.Index), difftest.OpHash(c.Op), difftest.Classify(g.sg.API, hints, c)))
			} else if c.Verdict == difftest.Review {
				t.Logf("to review (not a failure):\n%s", r)
			}
		}
	}
	summary := summarize(classes)
	if summary != "" {
		t.Logf("classes of the cases (graph/operation):\n%s", summary)
	}
	if path := os.Getenv("DIFFTEST_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(summary+"\n"+report.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(path + ".partial")
	}
	if update {
		// Entries of other graphs and seeds stay; this run's are replaced
		// by what differs now.
		ran := map[string]bool{}
		for _, g := range graphs {
			name := g.name
			if mutateOn {
				name = "mutate:" + name
			}
			ran[name+" "+strconv.FormatUint(seed, 10)] = true
		}
		lines := append([]string{}, knownHeader...)
		all, _ := known(t)
		for key, k := range all {
			f := strings.Fields(key)
			if !ran[f[0]+" "+f[1]] {
				knownNow = append(knownNow, fmt.Sprintf("%s %s # %s", key, k.hash, k.why))
			}
		}
		sort.Strings(knownNow)
		lines = append(lines, knownNow...)
		if err := os.WriteFile(knownFile, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s rewritten: %d known cases", knownFile, len(knownNow))
		return
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

// TestSourcesLeaveOutAuthorization: graphs whose answers depend on
// fedgate enforcing authorization directives are not compared.
func TestSourcesLeaveOutAuthorization(t *testing.T) {
	names := map[string]bool{}
	for _, s := range sources(t, "all") {
		names[s.name] = true
	}
	for _, want := range []string{"demo", "key_chain", "requires_nested"} {
		if !names[want] {
			t.Errorf("graph %s missing", want)
		}
	}
	for _, gone := range []string{"auth", "auth_directives", "auth_interface_propagation"} {
		if names[gone] {
			t.Errorf("graph %s uses authorization directives and must be left out", gone)
		}
	}
}
