// Command gateway is the federation gateway: serve a supergraph, run the
// demo, or print a query plan.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/vektah/gqlparser/v2"
)

const usage = `gateway: a GraphQL federation gateway.

Usage:
  gateway serve --supergraph FILE [--listen ADDR] [--subgraph-url NAME=URL ...]
  gateway demo [--listen ADDR]
  gateway plan --supergraph FILE [--json] QUERY|@FILE
  gateway compose --config supergraph.yaml [-o FILE]

Commands:
  serve   serve a supergraph SDL (Apollo Federation v2); subgraph URLs come
          from @join__graph(url:) unless overridden
  demo    start the demo subgraphs in process and serve gateway.graphql
  plan    print the query plan of an operation
  compose compose the subgraphs of a rover supergraph.yaml into a supergraph
`

func main() {
	if len(os.Args) < 2 {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serveCmd(os.Args[2:])
	case "demo":
		err = demoCmd(os.Args[2:])
	case "plan":
		err = planCmd(os.Args[2:], os.Stdout)
	case "compose":
		err = composeCmd(os.Args[2:], os.Stdout, os.Stderr)
	case "-h", "--help", "help":
		fmt.Fprint(os.Stdout, usage)
		return
	default:
		fmt.Fprintf(os.Stderr, "gateway: unknown command %q\n\n%s", os.Args[1], usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gateway:", err)
		os.Exit(1)
	}
}

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

func serveCmd(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	file := fs.String("supergraph", "", "supergraph SDL file")
	listen := fs.String("listen", "127.0.0.1:4000", "address to listen on")
	port := fs.Int("port", 0, "port to listen on 127.0.0.1 (shorthand for --listen)")
	overrides := urlOverrides{}
	fs.Var(overrides, "subgraph-url", "override a subgraph URL, NAME=URL (repeatable)")
	debugAddr := fs.String("debug-listen", "", "serve Go profiling (net/http/pprof) on this address, e.g. 127.0.0.1:6060; off by default")
	inflightMB := fs.Int64("max-inflight-mb", server.DefaultOptions().MaxInflightBytes>>20, "memory budget in MiB of the plans executing at once; requests that do not fit wait (0 = no budget)")
	_ = fs.Parse(args)
	if *debugAddr != "" {
		startDebug(*debugAddr)
	}
	if *file == "" {
		return errors.New("serve: --supergraph is required")
	}
	if *port != 0 {
		*listen = fmt.Sprintf("127.0.0.1:%d", *port)
	}
	sdl, err := os.ReadFile(*file)
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		return fmt.Errorf("serve: %s: %w", *file, err)
	}
	opts := server.DefaultOptions()
	opts.MaxInflightBytes = *inflightMB << 20
	return run(sg, overrides, *listen, opts)
}

var demoSupergraph = gateway.DemoSupergraph

func demoCmd(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:4000", "address to listen on")
	_ = fs.Parse(args)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subs, err := demo.Start(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	sg, err := schema.Load(demoSupergraph)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	overrides := urlOverrides{}
	for _, s := range subs {
		overrides[s.Name] = s.URL
		slog.Info("demo subgraph", "name", s.Name, "url", s.URL)
	}
	opts := server.DefaultOptions()
	opts.ExposePlan = true
	return run(sg, overrides, *listen, opts)
}

func run(sg *schema.Supergraph, overrides urlOverrides, listen string, opts server.Options) error {
	urls := map[string]string{}
	for _, g := range sg.Graphs {
		urls[g.Name] = g.URL
	}
	for name, url := range overrides {
		if _, ok := urls[name]; !ok {
			return fmt.Errorf("--subgraph-url: the supergraph has no subgraph %q", name)
		}
		urls[name] = url
	}
	setMemoryLimit(opts.MaxInflightBytes)
	client := subgraphs.NewClient(urls, subgraphs.Options{})
	defer client.Close()
	srv, err := server.New(sg, client, opts)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	done := make(chan error, 1)
	go func() { done <- hs.Serve(ln) }()
	slog.Info("gateway listening", "addr", ln.Addr().String(), "graphql", "http://"+ln.Addr().String()+"/graphql", "subgraphs", len(urls))
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-sig:
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return hs.Shutdown(ctx)
}

func planCmd(args []string, out io.Writer) error {
	fs := flag.NewFlagSet("plan", flag.ExitOnError)
	file := fs.String("supergraph", "", "supergraph SDL file (default: the demo gateway.graphql)")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	opName := fs.String("operation", "", "operation name")
	_ = fs.Parse(args)
	if fs.NArg() != 1 {
		return errors.New("plan: want one QUERY argument (or @FILE)")
	}
	query := fs.Arg(0)
	if strings.HasPrefix(query, "@") {
		b, err := os.ReadFile(query[1:])
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		query = string(b)
	}
	sdl := demoSupergraph
	if *file != "" {
		b, err := os.ReadFile(*file)
		if err != nil {
			return fmt.Errorf("plan: %w", err)
		}
		sdl = string(b)
	}
	sg, err := schema.Load(sdl)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	doc, errs := gqlparser.LoadQuery(sg.API, query)
	if len(errs) > 0 {
		return fmt.Errorf("plan: %s", errs.Error())
	}
	op, err := planner.Normalize(sg.API, doc, *opName, nil)
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	p, err := planner.New(sg).Plan(op, planner.Options{})
	if err != nil {
		return fmt.Errorf("plan: %w", err)
	}
	if *asJSON {
		b, _ := json.MarshalIndent(p, "", "  ")
		_, err = fmt.Fprintln(out, string(b))
		return err
	}
	_, err = fmt.Fprint(out, p.String())
	return err
}

// startDebug serves the pprof handlers on their own listener, never on the
// public one.
func startDebug(addr string) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	go func() {
		if err := http.ListenAndServe(addr, mux); err != nil {
			slog.Error("debug listener", "err", err)
		}
	}()
}

// setMemoryLimit gives the Go runtime a soft memory limit that follows the
// execution budget, unless GOMEMLIMIT is set: the working set is bounded
// by the budget, so the collector may run earlier instead of letting the
// heap double between collections.
func setMemoryLimit(inflight int64) {
	if inflight <= 0 || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	debug.SetMemoryLimit(2*inflight + 12<<20)
}
