package fedgate

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/fedgate/gateway"
	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/config"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/subgraphs/demo"
	"github.com/fedgate/gateway/subgraphs/registry"
	"github.com/fedgate/gateway/subscriptions"
	"github.com/fedgate/gateway/telemetry"
	"github.com/redis/go-redis/v9"
)

var demoSupergraph = gateway.DemoSupergraph

var serveHelp = help{
	synopsis: "gateway serve [--config FILE] [--supergraph FILE] [--listen ADDR] [--subgraph-url NAME=URL ...]",
	description: `Serves a supergraph SDL (Apollo Federation v2, as composed by rover,
@apollo/composition, Hive or "gateway compose") with the configuration in
--config (docs/config.md). Subgraph URLs come from the supergraph's
@join__graph(url:), then subgraphs.overrides.NAME.url, then
--subgraph-url. Flags override the file's keys they name.

Signals: SIGTERM (and SIGINT) drain: /ready answers 503 for
server.drain_delay, then the requests in flight get
server.shutdown_timeout; SIGHUP reads the supergraph file again and
serves it if it changed and loads (the configuration is read only at
start). /health and /ready are on the public listener, metrics on
telemetry.metrics.prometheus.listen (127.0.0.1:9090).`,
	examples: `cp gateway.example.yaml gateway.yaml
gateway compose --config subgraphs/demo/supergraph.yaml -o supergraph.graphql
gateway serve --config gateway.yaml --supergraph supergraph.graphql
gateway serve --supergraph supergraph.graphql --subgraph-url products=http://127.0.0.1:4103/graphql`,
}

var demoHelp = help{
	synopsis: "gateway demo [--listen ADDR] [--config FILE]",
	description: `Starts the four demo subgraphs (accounts, products, reviews, inventory,
built with gqlgen) on loopback ports in this process and serves the
embedded supergraph composed from them, with the playground at / ,
introspection, the query plan view and batching on. --config may change
any of it: with supergraph.path it serves that file instead (reloaded on
SIGHUP or supergraph.watch), its subgraphs named as a demo one served by
the demo's, the others at their routing URLs.`,
	examples: `gateway demo                     # http://127.0.0.1:4000/
gateway demo --listen 127.0.0.1:8080 --entity-cache`,
}

// sharedFlags are the flags serve and demo have in common; each overrides
// the configuration key it names when given.
type sharedFlags struct {
	config      *string
	listen      *string
	port        *int
	debugListen *string
	redisURL    *string
	maxInflight *int
	reqTimeout  *time.Duration
	drainDelay  *time.Duration
	inflightMB  *int64
	cacheMaxAge *time.Duration
	entityCache *bool
	dedupe      *bool
}

func addSharedFlags(fs *flag.FlagSet) *sharedFlags {
	d := config.Default()
	return &sharedFlags{
		config:      fs.String("config", "", "YAML configuration `FILE` (docs/config.md)"),
		listen:      fs.String("listen", d.Server.Listen, "`ADDR` (host:port) to listen on (server.listen)"),
		port:        fs.Int("port", 0, "`PORT` to listen on at 127.0.0.1 (shorthand for --listen)"),
		debugListen: fs.String("debug-listen", "", "serve Go profiling (pprof) on this `ADDR`, never the public one (server.debug_listen)"),
		redisURL:    fs.String("redis-url", "", "Redis shared by rate limits and caches, `URL` redis://host:port/db, or redis+cluster:// / redis+sentinel:// (redis.url, docs/config.md)"),
		maxInflight: fs.Int("max-inflight-requests", 0, "`N` client requests served at once; more get 503 SERVICE_OVERLOADED, 0 = unlimited (server.max_inflight_requests)"),
		reqTimeout:  fs.Duration("request-timeout", d.Server.RequestTimeout, "deadline of a client request; past it 504 GATEWAY_TIMEOUT (server.request_timeout)"),
		drainDelay:  fs.Duration("drain-delay", 0, "after SIGTERM, how long /ready answers 503 while requests are still served (server.drain_delay)"),
		inflightMB:  fs.Int64("max-inflight-mb", int64(d.Server.MaxInflightBytes)>>20, "memory budget in MiB of the plans executing at once, 0 = none (server.max_inflight_bytes)"),
		cacheMaxAge: fs.Duration("cache-default-max-age", 0, "maxAge of root and object fields without a @cacheControl hint (cache.response.default_max_age)"),
		entityCache: fs.Bool("entity-cache", false, "cache _entities results of every subgraph (cache.entity.enabled)"),
		dedupe:      fs.Bool("dedupe", d.Cache.Dedupe, "share one execution between identical concurrent client queries, and one subgraph call between identical query fetches (cache.inbound_dedupe, cache.dedupe)"),
	}
}

// apply sets the configuration keys of the flags given on the command line.
func (f *sharedFlags) apply(fs *flag.FlagSet, cfg *config.Config) error {
	var err error
	fs.Visit(func(fl *flag.Flag) {
		switch fl.Name {
		case "listen":
			cfg.Server.Listen = *f.listen
		case "port":
			cfg.Server.Listen = fmt.Sprintf("127.0.0.1:%d", *f.port)
		case "debug-listen":
			cfg.Server.DebugListen = *f.debugListen
		case "redis-url":
			cfg.Redis.URL = *f.redisURL
		case "max-inflight-requests":
			cfg.Server.MaxInflightRequests = *f.maxInflight
		case "request-timeout":
			cfg.Server.RequestTimeout = *f.reqTimeout
		case "drain-delay":
			cfg.Server.DrainDelay = *f.drainDelay
		case "max-inflight-mb":
			cfg.Server.MaxInflightBytes = config.ByteSize(*f.inflightMB << 20)
		case "cache-default-max-age":
			cfg.Cache.Response.DefaultMaxAge = *f.cacheMaxAge
		case "entity-cache":
			cfg.Cache.Entity.Enabled = *f.entityCache
		case "dedupe":
			cfg.Cache.Dedupe = *f.dedupe
			cfg.Cache.InboundDedupe = *f.dedupe
		}
	})
	if verr := cfg.Validate(); verr != nil {
		err = fmt.Errorf("after the command-line flags: %w", verr)
	}
	return err
}

func serveCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", serveHelp)
	fs.SetOutput(stderr)
	shared := addSharedFlags(fs)
	file := fs.String("supergraph", "", "supergraph SDL `FILE` (supergraph.path)")
	overrides := urlOverrides{}
	fs.Var(overrides, "subgraph-url", "a subgraph's `NAME=URL` (repeatable; wins over subgraphs.overrides.NAME.url)")
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	// --supergraph is the file's supergraph.path already while the file is
	// checked, so that supergraph.watch in the file is valid beside it.
	base := config.Default()
	base.Supergraph.Path = *file
	cfg, err := config.LoadOver(base, *shared.config)
	if err != nil {
		return err
	}
	if *file != "" {
		cfg.Supergraph.Path = *file
	}
	if err := shared.apply(fs, &cfg); err != nil {
		return err
	}
	if cfg.Supergraph.Path == "" && !cfg.Registry.Enabled {
		fmt.Fprintln(fs.Output(), "gateway serve: a supergraph is required: --supergraph FILE, supergraph.path or registry.enabled "+
			"(gateway compose --config supergraph.yaml -o supergraph.graphql composes one; gateway demo serves the demo's)")
		return errUsage
	}
	sg, err := schema.Load(demoSupergraph) // served by an empty registry without supergraph.path
	if cfg.Supergraph.Path != "" {
		sg, err = loadSupergraph(cfg.Supergraph.Path)
	}
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return run(context.Background(), cfg, sg, overrides, false)
}

// demoDefaults are the defaults of `gateway demo`: everything a developer
// exploring the graph wants on.
func demoDefaults() config.Config {
	cfg := config.Default()
	cfg.Server.Introspection = true
	cfg.Server.Playground = true
	cfg.Server.ExposePlan = true
	cfg.Server.Batching = true
	// The demo's subgraphs are local and shown to their developer.
	cfg.Subgraphs.All.IncludeErrors = true
	// products.uploadProductImage takes a file.
	cfg.Uploads.Enabled = true
	return cfg
}

func demoCmd(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("demo", demoHelp)
	fs.SetOutput(stderr)
	shared := addSharedFlags(fs)
	if err := parse(fs, args, stdout); err != nil {
		return err
	}
	cfg, err := config.LoadOver(demoDefaults(), *shared.config)
	if err != nil {
		return err
	}
	if err := shared.apply(fs, &cfg); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	subs, err := demo.Start(ctx)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	sg, err := schema.Load(demoSupergraph)
	if cfg.Supergraph.Path != "" {
		sg, err = loadSupergraph(cfg.Supergraph.Path)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	// The demo subgraphs serve the supergraph's subgraphs of their names
	// (a supergraph.path may hold others, called at their own URLs, and
	// lack some); swapper keeps to the same rule for a reloaded file.
	overrides := urlOverrides{}
	for _, s := range subs {
		if sg.GraphByName(s.Name) != nil {
			overrides[s.Name] = s.URL // logged by run, in the configured log format
		}
	}
	return run(ctx, cfg, sg, overrides, true)
}

func loadSupergraph(path string) (*schema.Supergraph, error) {
	sdl, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	sg, err := schema.Load(string(sdl))
	if err != nil {
		if roverFile.Match(sdl) {
			return nil, fmt.Errorf("%s is a rover supergraph.yaml, the list of subgraphs to compose, not a supergraph SDL: "+
				"compose it first (gateway compose --config %s -o supergraph.graphql) and give the supergraph.graphql it writes", path, path)
		}
		if strings.Contains(err.Error(), "not a supergraph") {
			// A subgraph's schema, most likely.
			return nil, fmt.Errorf("%s: %w; a supergraph is composed from the subgraphs' schemas: "+
				"list them in a rover supergraph.yaml and run gateway compose --config supergraph.yaml -o supergraph.graphql", path, err)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return sg, nil
}

// roverFile matches a rover supergraph.yaml: a top-level subgraphs: or
// federation_version: key, neither of which a GraphQL document has.
var roverFile = regexp.MustCompile(`(?m)^(subgraphs|federation_version)\s*:`)

// gatewayProcess is a running gateway's parts, for the shutdown.
type gatewayProcess struct {
	cfg     config.Config
	tel     *telemetry.Telemetry
	metrics *http.Server
	// metricsMux is the metrics listener's mux, nil without one; /ready
	// with the subgraphs' health is served there, not publicly.
	metricsMux *http.ServeMux
	redis      *cache.Redis
	// current is the subgraph client of the supergraph being served
	// (for /ready); a reload replaces it.
	current atomic.Pointer[subgraphs.Client]
	// urls and subs serve subscriptions (subscriptions.go).
	urls subgraphURLs
	subs *subscriptions.Engine
}

// swapper returns the function that serves a new supergraph version: a
// client for its subgraphs (--subgraph-url flags of subgraphs it no longer
// has are ignored), an atomic swap, and the replaced client closed (its
// health checks stopped) once the requests that may still use it are past
// their deadline. first, the client run started with, is closed by run.
func (p *gatewayProcess) swapper(srv *server.Server, first *subgraphs.Client, overrides urlOverrides) func(*schema.Supergraph) error {
	grace := p.cfg.Server.RequestTimeout + p.cfg.Server.ShutdownTimeout
	if p.cfg.Server.RequestTimeout == 0 {
		grace = 10 * time.Minute
	}
	return func(sg *schema.Supergraph) error {
		present := urlOverrides{}
		for name, url := range overrides {
			if sg.GraphByName(name) != nil {
				present[name] = url
			}
		}
		c, err := p.newClient(sg, present)
		if err != nil {
			return err
		}
		if err := srv.Swap(sg, c); err != nil {
			c.Close()
			return err
		}
		if old := p.current.Swap(c); old != first {
			time.AfterFunc(grace, old.Close)
		}
		return nil
	}
}

// run builds the gateway from cfg and serves until SIGINT or SIGTERM.
func run(ctx context.Context, cfg config.Config, sg *schema.Supergraph, overrides urlOverrides, demoMode bool) error {
	// SIGHUP reloads the supergraph file instead of ending the process;
	// caught from the start, so that one arriving while the gateway sets
	// up (Redis, the registry, the subgraph client) is held for
	// reloadOnHangup rather than killing it.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	setMemoryLimit(cfg)
	raiseMemoryLimit(cfg.Subscriptions)
	setProfileRate(cfg)
	p := &gatewayProcess{cfg: cfg}
	var err error
	if p.tel, err = telemetry.New(ctx, cfg.Telemetry, telemetry.Options{}); err != nil {
		return err
	}
	slog.SetDefault(p.tel.Logger)
	redis.SetLogger(redisLogger{})
	slog.Info("starting", "build", readBuildInfo().String())
	if cfg.Server.DebugListen != "" {
		startDebug(cfg.Server.DebugListen)
	}
	p.startMetrics()
	if cfg.Redis.URL != "" {
		if p.redis, err = cache.NewRedis(cache.RedisOptions{URL: cfg.Redis.URL, Timeout: cfg.Redis.Timeout, PoolSize: cfg.Redis.PoolSize}); err != nil {
			return fmt.Errorf("redis.url: %w", err)
		}
		defer p.redis.Close()
		p.checkRedis(ctx)
	}
	var reg *registry.Registry
	if cfg.Registry.Enabled {
		if reg, sg, err = p.openRegistry(ctx, sg); err != nil {
			return err
		}
	}
	client, err := p.newClient(sg, overrides)
	if err != nil {
		return err
	}
	defer client.Close()
	p.current.Store(client)
	opts := p.serverOptions(client, demoMode)
	srv, err := server.New(sg, client, opts)
	if err != nil {
		return err
	}
	defer srv.Close()
	if p.metricsMux != nil {
		p.metricsMux.Handle("/ready", srv.ReadyHandler())
	}
	p.startSubscriptions(srv)
	for _, kind := range []string{"response", "entity", "apq"} {
		p.tel.Metrics.ObserveCache(kind, cacheCounts(srv.CacheStats(), kind))
	}
	if reg != nil {
		if err := p.serveRegistry(ctx, reg, srv, client, overrides); err != nil {
			return err
		}
	}
	var file *supergraphFile
	if reg == nil && cfg.Supergraph.Path != "" {
		// The text served, not the file read again: one changed since
		// it was loaded is then a change for SIGHUP and the watch.
		file = &supergraphFile{path: cfg.Supergraph.Path, swap: p.swapper(srv, client, overrides), last: []byte(sg.SDL)}
	}
	if cfg.Supergraph.Watch && file != nil {
		go watchSupergraph(ctx, file, time.Second)
	}
	hupCtx, stopHup := context.WithCancel(ctx)
	defer stopHup()
	go reloadOnHangup(hupCtx, hup, file, reg != nil)
	ln, err := net.Listen("tcp", cfg.Server.Listen)
	if err != nil {
		return fmt.Errorf("server.listen (--listen): %w", err)
	}
	hs := srv.HTTPServer()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- hs.Serve(srv.Listener(ln)) }()
	p.logSubgraphs(demoMode)
	slog.Info("gateway listening", "addr", ln.Addr().String(), "graphql", "http://"+ln.Addr().String()+"/graphql",
		"supergraph", supergraphSource(cfg, reg != nil, demoMode), "supergraph_version", sg.Version, "subgraphs", len(sg.Graphs),
		"playground", cfg.Server.Playground)
	var got os.Signal
	select {
	case err := <-done:
		return err
	case got = <-sig:
	}
	return p.shutdown(srv, hs, got)
}

// redisLogger writes go-redis's own messages (a pool that cannot dial, a
// cluster's slot map reloaded) through the configured logger, as warnings:
// go-redis's default logger writes text lines of its own format to stderr,
// among the JSON ones.
type redisLogger struct{}

func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	slog.WarnContext(ctx, "redis client", "detail", strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
}

// checkRedis asks Redis once at start and warns when it does not answer:
// the gateway serves without it (uncached, each instance counting its own
// limits) and never says so per request, so a mistyped redis.url would
// otherwise go unnoticed. The URL is not logged (it may hold a password).
func (p *gatewayProcess) checkRedis(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, max(p.cfg.Redis.Timeout, 2*time.Second))
	defer cancel()
	if err := p.redis.Client().Ping(ctx).Err(); err != nil {
		slog.Warn("redis.url does not answer; serving without Redis until it does (no shared cache, each instance counts its own rate limits)",
			"err", err.Error())
		return
	}
	slog.Info("redis answering")
}

// supergraphSource says where the supergraph served at start comes from,
// for the start-up log.
func supergraphSource(cfg config.Config, registry, demoMode bool) string {
	switch {
	case registry:
		return "registry"
	case demoMode && cfg.Supergraph.Path == "":
		return "embedded demo"
	}
	return cfg.Supergraph.Path
}

// logSubgraphs logs each subgraph the gateway calls and its URL, once at
// start, so that an operator sees where the requests go.
func (p *gatewayProcess) logSubgraphs(demoMode bool) {
	m := p.urls.m.Load()
	if m == nil {
		return
	}
	msg := "subgraph"
	if demoMode {
		msg = "demo subgraph"
	}
	for _, name := range slices.Sorted(maps.Keys(*m)) {
		slog.Info(msg, "name", name, "url", (*m)[name])
	}
}

// newClient returns the subgraph client for sg's subgraphs. A
// --subgraph-url flag wins over subgraphs.overrides.NAME.url, which wins
// over the supergraph's URL.
func (p *gatewayProcess) newClient(sg *schema.Supergraph, flagURLs urlOverrides) (*subgraphs.Client, error) {
	urls := map[string]string{}
	for _, g := range sg.Graphs {
		urls[g.Name] = g.URL
	}
	cfg := p.cfg.Subgraphs
	cfg.Overrides = map[string]subgraphs.Settings{}
	for name, s := range p.cfg.Subgraphs.Overrides {
		cfg.Overrides[name] = s
	}
	for name, url := range flagURLs {
		if _, ok := urls[name]; !ok {
			return nil, fmt.Errorf("--subgraph-url %s: the supergraph has no subgraph %q; its subgraphs are %s",
				name, name, strings.Join(slices.Sorted(maps.Keys(urls)), ", "))
		}
		urls[name] = url
		if s, ok := cfg.Overrides[name]; ok {
			s.URL = ""
			cfg.Overrides[name] = s
		}
	}
	effective := maps.Clone(urls)
	for name, s := range cfg.Overrides {
		if s.URL != "" {
			effective[name] = s.URL
		}
	}
	p.urls.store(effective)
	return subgraphs.NewClient(urls, subgraphs.Options{Config: &cfg, Tracer: p.tel.Tracer, Propagate: p.tel.Propagate,
		Metrics: p.tel.Metrics, Logger: p.tel.Logger, CacheKeyHeaders: p.cfg.Cache.Response.VaryHeaders,
		TokenHeader: p.cfg.Auth.JWT.Header}), nil
}

// httpOptions maps the server section onto the listener's options. It
// starts from server.DefaultHTTPOptions, so that an option the
// configuration has no key for keeps its default (ConnectionsBusyAt,
// half the descriptor limit) instead of Go's zero, which for
// ConnectionsBusyAt applied the per-address bound always.
func httpOptions(s config.Server) server.HTTPOptions {
	h := server.DefaultHTTPOptions()
	h.ReadHeaderTimeout, h.ReadTimeout, h.IdleTimeout, h.WriteTimeout = s.ReadHeaderTimeout, s.ReadTimeout, s.IdleTimeout, s.WriteTimeout
	h.TCPUserTimeout = s.UserTimeout()
	h.MaxInflightPerClient = s.MaxInflightPerClient
	h.MaxHeaderBytes = int(s.MaxHeaderBytes)
	h.MaxReadingBytes = int64(s.MaxReadingBytes)
	h.MaxWritingBytes = int64(s.MaxWritingBytes)
	h.MaxConnectionsPerAddress = s.MaxConnectionsPerAddress
	h.MaxHeaderCount = s.MaxHeaderCount
	return h
}

// serverOptions maps the configuration onto the server's options.
func (p *gatewayProcess) serverOptions(client *subgraphs.Client, demoMode bool) server.Options {
	cfg := p.cfg
	opts := server.DefaultOptions()
	opts.Limits = cfg.Limits.Static()
	opts.MaxBodyBytes = int64(cfg.Server.MaxBodyBytes)
	opts.MaxInflightBytes = int64(cfg.Server.MaxInflightBytes)
	opts.Introspection = cfg.Server.Introspection
	opts.ExposePlan = cfg.Server.ExposePlan
	opts.PlanningBudget = cfg.Server.MaxPlanningOptions
	opts.Playground = cfg.Server.Playground
	if demoMode {
		opts.PlaygroundQuery = demoPlaygroundQuery
	}
	opts.AllowBatch = cfg.Server.Batching
	opts.MaxBatch = cfg.Server.MaxBatch
	opts.Auth = cfg.Auth
	opts.Cache = cfg.Cache
	opts.ResponseHeaders = cfg.ResponseHeaders
	opts.Hooks = options.hooks
	opts.Coprocessor = cfg.Coprocessor
	opts.Uploads = cfg.Uploads
	subgraphCfg := cfg.Subgraphs
	opts.IncludeSubgraphErrors = func(name string) bool { return subgraphCfg.For(name).IncludeErrors }
	opts.InvalidValuesAsErrors = subgraphCfg.InvalidValues == subgraphs.InvalidValuesErrors
	opts.Redis = p.redis
	popt := limits.PolicyOptions{RedisTimeout: cfg.Redis.Timeout, Logger: p.tel.Logger,
		Observe: func(ctx context.Context, o limits.Outcome) {
			if ri := telemetry.RequestInfoFrom(ctx); ri != nil {
				ri.SetClient(o.Client.ID)
			}
			p.tel.Metrics.OperationCost(ctx, o.Estimated, o.Actual)
			if o.Result == "RATE_LIMITED" || o.Result == "COST_LIMIT_EXCEEDED" {
				p.tel.Metrics.RateLimited(ctx, o.Client.Tier)
			}
		}}
	if p.redis != nil {
		popt.Redis = p.redis.Client()
	}
	opts.Policy = limits.NewPolicy(cfg.Limits, popt)
	opts.HTTP = httpOptions(cfg.Server)
	opts.Observe = server.Observe{Tracer: p.tel.Tracer, Metrics: p.tel.Metrics, RequestLog: p.tel.RequestLog(),
		MaxInflightRequests: cfg.Server.MaxInflightRequests, RequestTimeout: cfg.Server.RequestTimeout,
		Health: func() any { return p.current.Load().Health() }}
	if p.tel.MetricsListen() == "" {
		opts.Observe.MetricsHandler, opts.Observe.MetricsPath = p.tel.MetricsHandler(), p.tel.MetricsPath()
	}
	return opts
}

// cacheCounts reads the hit and miss counters of one cache kind.
func cacheCounts(st *cache.Stats, kind string) func() (int64, int64) {
	return func() (int64, int64) {
		switch kind {
		case "response":
			return st.ResponseHits.Load(), st.ResponseMisses.Load()
		case "entity":
			return st.EntityHits.Load(), st.EntityMisses.Load()
		default:
			return st.APQHits.Load(), st.APQMisses.Load()
		}
	}
}

// startMetrics serves the Prometheus metrics on their own listener when
// telemetry.metrics.prometheus.listen is set.
func (p *gatewayProcess) startMetrics() {
	h := p.tel.MetricsHandler()
	if h == nil || p.tel.MetricsListen() == "" {
		return
	}
	ln, err := net.Listen("tcp", p.tel.MetricsListen())
	if err != nil {
		// Metrics must not keep the gateway from serving.
		slog.Error("metrics listener: not serving metrics", "addr", p.tel.MetricsListen(), "err", err.Error())
		return
	}
	mux := http.NewServeMux()
	mux.Handle(p.tel.MetricsPath(), h)
	p.metricsMux = mux
	p.metrics = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = p.metrics.Serve(ln) }()
	slog.Info("metrics listening", "addr", ln.Addr().String(), "path", p.tel.MetricsPath())
}

// shutdown drains srv: /ready turns 503, new requests are still served
// for the drain delay, then the listener closes and the requests in
// flight get until the shutdown timeout to finish.
func (p *gatewayProcess) shutdown(srv *server.Server, hs *http.Server, sig os.Signal) error {
	srv.Drain()
	slog.Info("shutting down", "signal", sig.String(), "in_flight", srv.InFlight(),
		"drain_delay", p.cfg.Server.DrainDelay.String(), "shutdown_timeout", p.cfg.Server.ShutdownTimeout.String())
	if p.cfg.Server.DrainDelay > 0 {
		time.Sleep(p.cfg.Server.DrainDelay)
	}
	if p.subs != nil {
		// Every subscriber receives complete; upstreams close.
		p.subs.Shutdown()
	}
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.Server.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(ctx)
	if p.metrics != nil {
		_ = p.metrics.Shutdown(ctx)
	}
	tctx, tcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer tcancel()
	if terr := p.tel.Shutdown(tctx); terr != nil {
		slog.Warn("telemetry shutdown", "err", terr.Error())
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return fmt.Errorf("shutdown: requests still in flight after %v: %w", p.cfg.Server.ShutdownTimeout, err)
		}
		return fmt.Errorf("shutdown: %w", err)
	}
	slog.Info("stopped")
	return nil
}

// supergraphFile is the supergraph.path a running gateway serves, for
// its reloads: the file watcher's and SIGHUP's. It remembers the bytes last
// served, so that an unchanged file is not swapped in again.
type supergraphFile struct {
	path string
	swap func(*schema.Supergraph) error
	mu   sync.Mutex
	last []byte
}

// reload reads the file and serves it when it changed. A file that does not
// read or load never replaces the running supergraph: the error says so
// and the previous version stays. It returns whether a new version is
// served.
func (f *supergraphFile) reload() (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := os.ReadFile(f.path)
	if err != nil {
		return false, err
	}
	if bytes.Equal(data, f.last) {
		return false, nil
	}
	sg, err := schema.Load(string(data))
	if err == nil {
		err = f.swap(sg)
	}
	if err != nil {
		return false, err
	}
	f.last = data
	slog.Info("supergraph reloaded", "path", f.path, "version", sg.Version, "subgraphs", len(sg.Graphs))
	return true, nil
}

// watchSupergraph polls f's file and serves each new version that loads;
// one that does not load is logged once and never replaces the running
// supergraph.
func watchSupergraph(ctx context.Context, f *supergraphFile, every time.Duration) {
	// What is served is what was seen: a file changed since it was
	// loaded is a change.
	f.mu.Lock()
	seen := f.last
	f.mu.Unlock()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		data, err := os.ReadFile(f.path)
		if err != nil || bytes.Equal(data, seen) {
			continue
		}
		seen = data
		if _, err := f.reload(); err != nil {
			slog.Error("supergraph reload failed; still serving the previous version", "path", f.path, "err", err.Error())
		}
	}
}

// reloadOnHangup serves what SIGHUP asks for: supergraph.path read again
// now (the configuration file is read only at start). Before, SIGHUP's
// default action ended the process at once, without draining, so an
// operator's "reload" dropped every request in flight.
func reloadOnHangup(ctx context.Context, hup <-chan os.Signal, f *supergraphFile, registry bool) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		switch {
		case registry:
			slog.Warn("SIGHUP: nothing to reload: the schema registry decides the supergraph (gateway subgraph publish)")
		case f == nil:
			slog.Warn("SIGHUP: nothing to reload: no supergraph.path (the demo serves its embedded supergraph)")
		default:
			changed, err := f.reload()
			switch {
			case err != nil:
				slog.Error("SIGHUP: supergraph reload failed; still serving the previous version", "path", f.path, "err", err.Error())
			case !changed:
				slog.Info("SIGHUP: supergraph unchanged", "path", f.path)
			}
		}
	}
}
