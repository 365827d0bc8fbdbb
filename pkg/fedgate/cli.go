// Package fedgate is the gateway's command line as a library: a team
// builds its own gateway binary with compiled-in hooks (package
// github.com/fedgate/gateway/pkg/hooks) by calling Main from a main.go of
// a few lines (docs/extending.md). cmd/gateway is the binary without hooks.
package fedgate

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"time"

	"github.com/agnivade/levenshtein"
	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/config"
	"github.com/fedgate/gateway/internal/timerslack"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/vektah/gqlparser/v2"
)

const usage = `gateway: a GraphQL federation gateway for Apollo Federation v2 subgraphs.

Usage:
  gateway COMMAND [flags]

Commands:
  serve    serve a supergraph: gateway serve --config gateway.yaml
  demo     start four demo subgraphs in process and serve them, with the
           playground at http://127.0.0.1:4000/
  plan     print the query plan of an operation
  compose  compose subgraph schemas into a supergraph (rover's supergraph.yaml)
  subgraph publish, check, list, delete or roll back subgraph schemas in a
           running gateway's registry (registry.enabled; docs/registry.md)
  version  the build: module version, commit, Go version
  help     this text; "gateway help COMMAND" (or "gateway COMMAND --help")
           shows a command's synopsis, flags and examples

Examples:
  gateway demo
  gateway serve --config gateway.yaml --supergraph supergraph.graphql
  gateway compose --config subgraphs/demo/supergraph.yaml -o supergraph.graphql
  gateway plan '{ me { name } }'

Configuration is one YAML file (docs/config.md; gateway.example.yaml is a
commented start). Exit status: 0 ok, 1 error, 2 bad usage.
`

// commands maps a command name to its entry point; each parses its own
// flags and prints its help on stdout for -h and --help.
var commands = map[string]func(args []string, stdout, stderr io.Writer) error{
	"serve":    serveCmd,
	"demo":     demoCmd,
	"plan":     planCmd,
	"compose":  composeCmd,
	"subgraph": subgraphCmd,
	"version":  versionCmd,
}

// errUsage marks a command-line mistake (exit status 2); the flag package
// has already printed what was wrong.
var errUsage = errors.New("bad usage")

// Main runs the gateway command line (os.Args) with opts and exits the
// process on error: it is the whole of a custom binary's main.
func Main(opts ...Option) {
	if len(os.Args) > 1 && (os.Args[1] == "serve" || os.Args[1] == "demo") {
		// First, before anything is opened or started: this may replace
		// the process with a new copy of the program (same pid).
		timerslack.FromEnv()
	}
	for _, o := range opts {
		o(&options)
	}
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	name, args := os.Args[1], os.Args[2:]
	switch name {
	case "-h", "--help", "help":
		if len(args) == 0 {
			fmt.Fprint(os.Stdout, usage)
			return
		}
		if len(args) > 1 || commands[args[0]] == nil {
			fmt.Fprintf(os.Stderr, "gateway help: no command %q%s; \"gateway help\" lists the commands\n",
				strings.Join(args, " "), didYouMean(args[0]))
			os.Exit(2)
		}
		_ = commands[args[0]]([]string{"--help"}, os.Stdout, os.Stderr)
		return
	}
	cmd, ok := commands[name]
	if !ok {
		fmt.Fprintf(os.Stderr, "gateway: unknown command %q%s; \"gateway help\" lists the commands\n", name, didYouMean(name))
		os.Exit(2)
	}
	err := cmd(args, os.Stdout, os.Stderr)
	switch {
	case err == nil || errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

// didYouMean names the command closest to a mistyped one (serv, deamo,
// --serve), or is empty when none is close.
func didYouMean(name string) string {
	name = strings.TrimLeft(name, "-")
	best, bestDist := "", 3
	for _, c := range slices.Sorted(maps.Keys(commands)) {
		if d := levenshtein.ComputeDistance(name, c); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %s?)", best)
}

// urlOverrides collects --subgraph-url NAME=URL flags.
type urlOverrides map[string]string

func (u urlOverrides) String() string { return fmt.Sprint(map[string]string(u)) }

func (u urlOverrides) Set(v string) error {
	name, url, ok := strings.Cut(v, "=")
	if !ok || name == "" || url == "" {
		return fmt.Errorf("want NAME=URL, got %q", v)
	}
	u[name] = url
	return nil
}

var planHelp = help{
	synopsis: "gateway plan [--supergraph FILE] [--json] [--operation NAME] QUERY|@FILE",
	description: `Prints the query plan the gateway would run for an operation: Apollo's
text form (Sequence, Parallel, Flatten, Fetch), or JSON with --json. The
operation is the argument, or @FILE to read it from a file. Without
--supergraph the embedded demo supergraph is used.`,
	examples: `gateway plan '{ me { name } }'
gateway plan --json '{ topProducts(first: 2) { name reviews { body } } }'
gateway plan --supergraph supergraph.graphql @query.graphql`,
}

func planCmd(args []string, out, stderr io.Writer) error {
	fs := newFlags("plan", planHelp)
	fs.SetOutput(stderr)
	file := fs.String("supergraph", "", "supergraph SDL `FILE` (default: the embedded demo supergraph)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	opName := fs.String("operation", "", "operation `NAME`, when the document has several")
	if err := parse(fs, args, out); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(fs.Output(), "gateway plan: want one QUERY argument (or @FILE)")
		printShortUsage(fs)
		return errUsage
	}
	query := fs.Arg(0)
	if strings.HasPrefix(query, "@") {
		b, err := os.ReadFile(query[1:])
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		query = string(b)
	}
	sg, err := schema.Load(demoSupergraph)
	if *file != "" {
		sg, err = loadSupergraph(*file) // with serve's hints for a file that is no supergraph
	}
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	doc, errs := gqlparser.LoadQuery(sg.API, query)
	if len(errs) > 0 {
		return fmt.Errorf("plan: %s", strings.TrimSpace(errs.Error()))
	}
	op, err := planner.Normalize(sg.API, doc, *opName, nil)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	var printed interface {
		fmt.Stringer
		json.Marshaler
	} = p
	if op.Kind == "subscription" {
		if printed, err = planner.SplitSubscription(p); err != nil {
			return fmt.Errorf("plan: %w", err)
		}
	}
	if *asJSON {
		b, _ := json.MarshalIndent(printed, "", "  ")
		_, err = fmt.Fprintln(out, string(b))
		return err
	}
	_, err = fmt.Fprint(out, printed.String())
	return err
}

// startDebug serves the pprof handlers on their own listener, never on the
// public one.
func startDebug(addr string) {
	srv := debugServer()
	if !loopbackAddr(addr) {
		slog.Warn("server.debug_listen is not a loopback address: whoever reaches it can read the process's memory profiles and run CPU traces; use 127.0.0.1:PORT", "addr", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		// Profiling must not keep the gateway from serving.
		slog.Error("server.debug_listen: not serving profiles", "err", err.Error())
		return
	}
	slog.Info("debug listening", "addr", ln.Addr().String(), "path", "/debug/pprof/")
	go func() { _ = srv.Serve(ln) }()
}

// loopbackAddr says whether a listen address (host:port) serves loopback
// only; an empty host (":6060") serves every interface.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// debugServer is the profiling server: the pprof handlers, with deadlines
// for headers and idle connections. A profile or trace runs for as long
// as its request asks, so there is no write deadline, nor a read deadline
// past the headers (net/http cancels a request whose connection's read
// deadline passes while it runs).
func debugServer() *http.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	return &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 64 << 10}
}

// setProfileRate stops the runtime's sampling of allocations for heap
// profiles when nothing can read them (no server.debug_listen, and
// GODEBUG does not set memprofilerate).
func setProfileRate(cfg config.Config) {
	runtime.MemProfileRate = profileRate(cfg.Server.DebugListen, os.Getenv("GODEBUG"), runtime.MemProfileRate)
}

// profileRate is the allocation sampling rate for a gateway whose
// profiling listener is debugListen, under GODEBUG godebug, rate being
// the runtime's. The runtime keeps the stack of each sampled allocation
// (one in 512 KB) in a bucket for the life of the process, in a hash
// table of 1.4 MB that the buckets touch page by page: under the load
// harness's query the peak RSS was 0.6-1.1 MB lower without the sampling
// (4 interleaved pairs, docs/bench.md's section "Memory").
func profileRate(debugListen, godebug string, rate int) int {
	if debugListen != "" || strings.Contains(godebug, "memprofilerate") {
		return rate
	}
	return 0
}

// setMemoryLimit gives the Go runtime a soft memory limit that follows the
// execution budget, unless GOMEMLIMIT is set: the working set is bounded
// by the budget, so the collector may run earlier instead of letting the
// heap double between collections.
func setMemoryLimit(cfg config.Config) {
	if limit := memoryLimit(cfg); limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}

// memoryLimit is the soft memory limit for cfg, 0 for none (no execution
// budget): twice the budget plus 12 MiB for the rest of the process, plus
// what the in-process caches may hold once full. Without the caches, a
// deployment whose caches fill past the limit would have the collector
// run without pause (up to half the CPU) for memory it cannot free.
func memoryLimit(cfg config.Config) int64 {
	inflight := int64(cfg.Server.MaxInflightBytes)
	if inflight <= 0 {
		return 0
	}
	return 2*inflight + 12<<20 + cacheBytes(cfg.Cache)
}

// cacheBytes is the most the in-process caches cfg turns on may hold: the
// document and plan caches (always on), the response cache, the entity
// cache and the APQ store.
func cacheBytes(cfg cache.Config) int64 {
	n := 2 * int64(server.CacheMaxCost)
	if cfg.Response.Enabled {
		n += cfg.Response.MaxBytes
	}
	if cfg.Entity.AnySubgraph() {
		n += cfg.Entity.MaxBytes
	}
	if cfg.APQ.Enabled {
		n += cfg.APQ.MaxBytes
	}
	return n
}
