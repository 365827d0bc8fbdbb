// Package server is the gateway's HTTP handler: it decodes GraphQL over
// HTTP requests, applies the static limits, parses and validates against
// the API schema (documents cached by hash), normalizes, plans (plans
// cached per supergraph version), executes and writes the response.
package server

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	goruntime "runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/ristretto/v2"
	"github.com/fedgate/gateway/auth"
	"github.com/fedgate/gateway/cache"
	"github.com/fedgate/gateway/coprocessor"
	"github.com/fedgate/gateway/executor"
	"github.com/fedgate/gateway/internal/astsize"
	"github.com/fedgate/gateway/internal/flight"
	"github.com/fedgate/gateway/internal/reqerr"
	"github.com/fedgate/gateway/limits"
	"github.com/fedgate/gateway/pkg/hooks"
	"github.com/fedgate/gateway/planner"
	"github.com/fedgate/gateway/playground"
	"github.com/fedgate/gateway/respheaders"
	"github.com/fedgate/gateway/schema"
	"github.com/fedgate/gateway/server/joinwrite"
	"github.com/fedgate/gateway/server/request"
	"github.com/fedgate/gateway/subgraphs"
	"github.com/fedgate/gateway/telemetry"
	"github.com/fedgate/gateway/uploads"
	"github.com/fedgate/gateway/validate"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"
	"github.com/vektah/gqlparser/v2/validator/rules"
	"golang.org/x/sync/semaphore"
)

// Options configure a Server.
type Options struct {
	Limits       limits.Static
	MaxBodyBytes int64
	// MaxInflightBytes is the memory budget of the plans executing at
	// once: each reserves what its plan used last time (the parsed
	// subgraph answers and the response), and a request that does not fit
	// waits for one that does (or for its context to end). Small answers
	// are barely queued, so slow subgraphs do not cap throughput; large
	// ones stop piling up. 0 means no budget.
	MaxInflightBytes int64
	// Introspection enables __schema and __type.
	Introspection bool
	// ExposePlan returns the query plan in extensions when the request
	// carries the header "Fedgate-Include-Plan: true".
	ExposePlan bool
	// PlanningBudget bounds the options the planner evaluates for one
	// operation (planner.Options.Budget; 0 means planner.DefaultBudget):
	// past it the request gets 400 QUERY_PLANNING_FAILED.
	PlanningBudget int
	// Playground serves the GraphiQL playground at / and to browsers
	// asking for a GraphQL path (see servePlayground); off by default.
	// PlaygroundQuery is the operation it shows on a first visit.
	Playground      bool
	PlaygroundQuery string
	// AllowBatch accepts a JSON array of requests in a POST body, up to
	// MaxBatch of them (0: request.DefaultMaxBatch). They run one after
	// another, each under a client slot (MaxInflightPerClient) and
	// reserving the batch's earlier answers from MaxInflightBytes too.
	AllowBatch bool
	MaxBatch   int
	// Policy runs cost analysis and per-client rate limits on every
	// operation after normalization, before execution (see limits.go);
	// nil disables both.
	Policy *limits.Policy
	// Auth configures authentication, field-level authorization, the
	// headers sent to subgraphs, CSRF and CORS (server/auth.go).
	Auth auth.Config
	// Cache configures the response cache, the entity cache, persisted
	// queries and fetch dedupe; the zero value turns them all off.
	Cache cache.Config
	// Redis is the shared (L2) store of the caches; nil keeps them in
	// process.
	Redis *cache.Redis
	// Observe configures load shedding, the request deadline, traces,
	// metrics, the request log and /ready (observe.go).
	Observe Observe
	// HTTP bounds what one client connection may hold: read deadlines,
	// idle time, header size and the memory of bodies being read
	// (HTTPServer applies the listener's part).
	HTTP HTTPOptions
	// ResponseHeaders propagates subgraph response headers to clients
	// (respheaders; docs/config.md).
	ResponseHeaders respheaders.Config
	// Hooks are compiled-in hooks run at the pipeline's stages, in order
	// (pkg/hooks; docs/extending.md).
	Hooks []hooks.Hooks
	// Coprocessor sends the pipeline's stages to an HTTP coprocessor
	// speaking Apollo Router's protocol (docs/extending.md).
	Coprocessor coprocessor.Config
	// Uploads accepts file uploads (GraphQL multipart request spec),
	// streamed to the subgraphs that take them (uploads.go).
	Uploads uploads.Config
	// IncludeSubgraphErrors reports whether the errors a subgraph writes
	// reach clients as written (subgraphs.*.include_errors). Otherwise,
	// and when it is nil, they are redacted: a generic message, path and
	// extensions.code only (executor.Input.RedactErrors).
	IncludeSubgraphErrors func(subgraph string) bool
	// InvalidValuesAsErrors reports each value of a subgraph answer the
	// API schema cannot represent as a field error in "errors"
	// (subgraphs.invalid_values: errors); off, in the response's
	// extensions.valueCompletion, as the reference gateways do
	// (executor.Input.InvalidValuesAsErrors).
	InvalidValuesAsErrors bool
}

// redactErrors is the executor's view of IncludeSubgraphErrors.
func (o *Options) redactErrors(subgraph string) bool {
	return o.IncludeSubgraphErrors == nil || !o.IncludeSubgraphErrors(subgraph)
}

// HTTPOptions bound slow and idle clients (docs/security.md).
type HTTPOptions struct {
	// ReadHeaderTimeout is the time a client has to send the request
	// line and headers.
	ReadHeaderTimeout time.Duration
	// ReadTimeout is the time a client has to send the body, counted
	// from when the handler starts reading it; past it the request is
	// answered 408 REQUEST_TIMEOUT and the connection closed.
	ReadTimeout time.Duration
	// IdleTimeout closes a keep-alive connection idle that long.
	IdleTimeout time.Duration
	// WriteTimeout is the time a client has to read an answer, counted
	// from when it starts to be written (the execution before is not
	// counted): a client that does not read is cut then, and the answer's
	// memory and its max_inflight_requests slot freed. 0 is none.
	WriteTimeout time.Duration
	// TCPUserTimeout is each connection's TCP_USER_TIMEOUT on Linux: data
	// written that the client leaves unacknowledged, or unsent behind its
	// closed receive window, that long ends the connection in the kernel.
	// 0 follows WriteTimeout; negative turns it off.
	TCPUserTimeout time.Duration
	// MaxInflightPerClient is the most requests of one client (as the
	// rate limits identify it: token caller, API key, else address)
	// served at once, counted once the body is read; past it a request
	// gets 429 CLIENT_INFLIGHT_LIMIT with Retry-After while the gateway
	// is busy (executions wait for the memory budget, or half of
	// MaxInflightRequests are taken), so that one caller with slow
	// operations cannot hold every execution slot. Each operation of a
	// batch counts while it runs (its entry gets the error). 0 is
	// unlimited.
	MaxInflightPerClient int
	// MaxHeaderBytes caps the request line and headers (431 past it).
	MaxHeaderBytes int
	// MaxReadingBytes is the memory shared by the bodies being read at
	// once; a body that would take more is refused with 503
	// SERVICE_OVERLOADED. Buffers grow with the bytes received, so slow
	// clients hold little of it. 0 is no budget.
	MaxReadingBytes int64
	// MaxWritingBytes is the memory shared by the answers of 64 KiB or
	// more being written at once (until the client has read them, or
	// WriteTimeout cut it); an answer that would take more is refused
	// with 503 SERVICE_OVERLOADED, and one client's answers hold at most
	// three quarters of it (429 CLIENT_UNREAD_ANSWERS_LIMIT). An answer
	// alone may be larger. 0 is no budget.
	MaxWritingBytes int64
	// MaxConnectionsPerAddress is the most connections one address (an
	// IPv6 address: its network, as the rate limits count it) holds
	// open on the public listener; past it a new one is answered 429
	// CONNECTION_LIMIT and closed. Trusted proxies' are not counted.
	// 0 is unlimited. It applies only while the listener holds
	// ConnectionsBusyAt counted connections or more.
	MaxConnectionsPerAddress int
	// ConnectionsBusyAt is the count of connections on the public
	// listener (trusted proxies' left out) from which
	// MaxConnectionsPerAddress applies; below it every address may hold
	// any number. The default is half the process's file descriptor
	// limit, or under a memory limit (cgroup, GOMEMLIMIT) the connections
	// a quarter of it holds if fewer, so that an unlisted load balancer's
	// connections are refused only when descriptors or memory run short.
	// 0 applies the bound always.
	ConnectionsBusyAt int
	// MaxHeaderCount caps the header lines of a request (the values of
	// every name); past it 431 REQUEST_HEADERS_TOO_MANY. MaxHeaderBytes
	// admits thousands of tiny ones, each copied to every subgraph fetch
	// a forward "*" rule makes. 0 is unlimited.
	MaxHeaderCount int
}

// DefaultHTTPOptions are the defaults of HTTPOptions.
func DefaultHTTPOptions() HTTPOptions {
	return HTTPOptions{ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 15 * time.Second, IdleTimeout: 120 * time.Second,
		WriteTimeout: 30 * time.Second, MaxInflightPerClient: 100, MaxHeaderBytes: 64 << 10, MaxReadingBytes: 64 << 20, MaxWritingBytes: 64 << 20,
		MaxConnectionsPerAddress: 1000, ConnectionsBusyAt: connectionsBusyAt(), MaxHeaderCount: 100}
}

// HTTPServer returns an http.Server for s with the listener's limits of
// Options.HTTP. Its ReadTimeout is a backstop for the paths that do not
// read a body; the GraphQL handler sets its own body deadline and lifts
// it once the body is read, so a long execution is not cut. Serve it on
// the listener s.Listener wraps: large answers then go out in one system
// call instead of two, and net/http's own 431 (max_header_bytes) is
// counted and logged with the listener's other refusals.
func (s *Server) HTTPServer() *http.Server {
	h := s.opts.HTTP
	hs := &http.Server{Handler: s, ReadHeaderTimeout: h.ReadHeaderTimeout, IdleTimeout: h.IdleTimeout, MaxHeaderBytes: h.MaxHeaderBytes,
		ConnContext: connContext}
	if h.ReadHeaderTimeout > 0 && h.ReadTimeout > 0 {
		hs.ReadTimeout = h.ReadHeaderTimeout + h.ReadTimeout
	}
	if h.MaxConnectionsPerAddress > 0 {
		hs.ConnState = newConnLimit(h.MaxConnectionsPerAddress, h.ConnectionsBusyAt, s.opts.Policy, s.obs.refusals).state
	}
	if ut := h.userTimeout(); ut > 0 {
		// A client has WriteTimeout to read what the gateway sent, also
		// once it is out of the handler's hands in the kernel's buffers.
		hs.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
			setUserTimeout(socketOf(c), ut)
			return connContext(ctx, c)
		}
	}
	return hs
}

// userTimeout is the TCP_USER_TIMEOUT the public connections get; 0 is
// none.
func (h HTTPOptions) userTimeout() time.Duration {
	switch {
	case h.TCPUserTimeout < 0:
		return 0
	case h.TCPUserTimeout > 0:
		return h.TCPUserTimeout
	}
	return max(h.WriteTimeout, 0)
}

// socketOf returns the connection under c's wrappers: joinwrite's Conn
// and those with a NetConn method (*tls.Conn, served by ServeTLS).
func socketOf(c net.Conn) net.Conn {
	for range 8 { // wrappers do not nest deeper; a cycle must not hang
		switch w := c.(type) {
		case *joinwrite.Conn:
			c = w.Conn
		case interface{ NetConn() net.Conn }:
			c = w.NetConn()
		default:
			return c
		}
	}
	return c
}

// DefaultOptions are the production defaults, the one place they are
// set: config.Default takes the server section's defaults from here.
// Introspection, the plan view, the playground and batching are off.
func DefaultOptions() Options {
	return Options{Limits: limits.DefaultStatic(), MaxBodyBytes: request.DefaultMaxBodyBytes, MaxBatch: request.DefaultMaxBatch,
		MaxInflightBytes: DefaultMaxInflightBytes(), Auth: auth.DefaultConfig(), Cache: cache.DefaultConfig(), HTTP: DefaultHTTPOptions()}
}

// DefaultMaxInflightBytes is the default of Options.MaxInflightBytes: 4
// MiB per core the Go scheduler uses (GOMAXPROCS, which follows a
// container's CPU limit), at least 8 MiB; 16 MiB on 4 cores. Plans running
// past what the cores can execute add memory (each holds its parsers,
// answers and response buffer), not throughput: under the shared
// harness's load on 2 cores, 8 MiB instead of 16 let 3 of its plans run at
// once instead of 7 and lowered the gateway's peak RSS from 45 to 40 MB,
// with the same CPU per request and the same throughput.
func DefaultMaxInflightBytes() int64 {
	return max(8<<20, int64(goruntime.GOMAXPROCS(0))*4<<20)
}

// Server serves GraphQL requests for the current supergraph.
type Server struct {
	opts      Options
	transport executor.Transport
	rt        atomic.Pointer[runtime]
	rules     *rules.Rules
	// quietRules are rules without suggestions (validationRules).
	quietRules *rules.Rules
	budget     *semaphore.Weighted
	// budgetWaiters counts the executions waiting for budget.
	budgetWaiters atomic.Int32
	// budgetHeld is what each client's executions hold of budget
	// (clientBudget).
	budgetHeld *clientBudget
	// playground is nil when Options.Playground is off.
	playground *playground.Handler
	sec        *security
	caches     *caches
	obs        observer
	// slots counts each client's requests in flight (nil: no bound).
	slots *clientSlots
	// reading is the budget of the bodies being read (nil: none).
	reading *request.Budget
	// writing bounds the answers being written (unread.go).
	writing *writingBudget
	// spool is the budget of the upload bytes spooled at once (nil: none).
	spool *uploads.SpoolBudget
	// mux routes the public paths (routes).
	mux *http.ServeMux
	// wall repeats the rate limit's refusals before the body is read.
	wall rateWall
	// inbound shares executions between identical requests (answer).
	inbound flight.Group[sharedAnswer]
	streams streamsHolder // subscribe.go
	ext     *extensions   // extend.go
	// hashes remembers the hashes of recent documents (dochash.go).
	hashes *hashMemo
	// cacheMaxCost bounds the document and the plan cache of each
	// supergraph version (CacheMaxCost; tests lower it).
	cacheMaxCost int64
}

// planEntry is a cached plan and the memory its last run used.
type planEntry struct {
	plan   *planner.Plan
	weight atomic.Int64
	// reject, in authorization's reject mode, is the answer for callers
	// of these grants instead of a plan.
	reject error
	// policy is the operation's cache policy by its schema hints.
	policy cache.Policy
	// privateFetch memoizes whether an entity fetch of the plan selects
	// PRIVATE fields, by fetch (fetchPrivate).
	privateFetch sync.Map // *planner.Fetch -> bool
	// estimate memoizes the operation's cost estimate for requests
	// without variables.
	estimate limits.EstimateMemo
}

const (
	// minWeight is the least a request reserves from the memory budget.
	minWeight = 64 << 10
	// parsedFactor estimates the memory a byte of subgraph answer costs
	// while a plan runs: parse tree, copies, garbage collector headroom.
	parsedFactor = 24
)

// runtime is everything that belongs to one supergraph version; it is
// swapped whole on reload, so a request never mixes versions.
type runtime struct {
	sg        *schema.Supergraph
	planner   *planner.Planner
	intro     *executor.Introspector
	docs      *ristretto.Cache[string, *document]
	plans     *ristretto.Cache[string, *planEntry]
	transport executor.Transport
	cost      *limits.CostModel
	authz     *auth.Authorizer
	cache     *runtimeCache
}

// document is a parsed and validated query document.
type document struct {
	doc  *ast.QueryDocument
	errs gqlerror.List
	// conditionVars are the variables used by @skip/@include.
	conditionVars []string
	err           error
	// opErrs holds the limits an operation of the document exceeds when
	// it runs (limits.Static.CheckOperations); nil for most documents.
	opErrs map[*ast.OperationDefinition]error
	// introspects marks the operations that select __schema or __type,
	// when introspection is off (they are refused); nil otherwise.
	introspects map[*ast.OperationDefinition]bool
	// normalized hashes the printed document, for the response cache.
	normalized [32]byte
	// queryBytes is the length of the query text, which the tree's
	// positions (and so a plan's arguments) keep alive.
	queryBytes int64
}

// New returns a server for sg that sends fetches through transport.
func New(sg *schema.Supergraph, transport executor.Transport, opts Options) (*Server, error) {
	vrules := rules.NewDefaultRules()
	vrules.AddRule(limits.IntRangeRule.Name, limits.IntRangeRule.RuleFunc)
	vrules.ReplaceRule(limits.FragmentCyclesRule.Name, limits.FragmentCyclesRule.RuleFunc)
	vrules.AddRule(validate.DeferStreamLabelRule.Name, validate.DeferStreamLabelRule.RuleFunc)
	vrules.ReplaceRule(validate.SingleFieldSubscriptionsRule.Name, validate.SingleFieldSubscriptionsRule.RuleFunc)
	wideIntegers(vrules, rules.ValuesOfCorrectTypeRule)
	limits.CapRuleErrors(vrules, limits.MaxValidationErrors)
	s := &Server{opts: opts, transport: transport, rules: vrules, quietRules: quietRules(), reading: request.NewBudget(opts.HTTP.MaxReadingBytes), writing: newWritingBudget(opts.HTTP.MaxWritingBytes),
		spool:        uploads.NewSpoolBudget(opts.Uploads.MaxSpoolBytes, opts.Uploads.MaxTotalBytes),
		cacheMaxCost: CacheMaxCost, hashes: newHashMemo()}
	s.initObserve()
	s.slots = newClientSlots(opts.HTTP.MaxInflightPerClient)
	s.routes()
	if opts.MaxInflightBytes > 0 {
		s.budget = semaphore.NewWeighted(opts.MaxInflightBytes)
		s.budgetHeld = newClientBudget()
	}
	if opts.Playground {
		pg, err := playground.New(playground.Options{DefaultQuery: opts.PlaygroundQuery})
		if err != nil {
			return nil, err
		}
		s.playground = pg
	}
	sec, err := newSecurity(opts.Auth, opts.Policy.CredentialHeaders()...)
	if err != nil {
		return nil, err
	}
	s.sec = sec
	if s.ext, err = newExtensions(opts, s.obs.tracer); err != nil {
		return nil, err
	}
	s.ext.reading = s.reading
	s.ext.sdl = func() string { return s.rt.Load().sg.SDL }
	if s.caches, err = newCaches(opts); err != nil {
		return nil, err
	}
	if err := s.Swap(sg, transport); err != nil {
		return nil, err
	}
	return s, nil
}

// CacheMaxCost bounds the parsed-document cache and the plan cache, each:
// the sum of the estimated bytes of its entries.
const CacheMaxCost = 64 << 20

// cacheCounters is the admission sketch's size of the document and plan
// caches: ristretto counts accesses of about a tenth as many distinct
// keys well (2,000 operations), and the sketch and its bloom filter take
// a fifth of the memory of the 100,000 they had (about 0.3 MB each).
const cacheCounters = 2e4

// Swap atomically replaces the supergraph; requests already running
// finish on the version they started with.
func (s *Server) Swap(sg *schema.Supergraph, transport executor.Transport) error {
	raw := transport
	docs, err := ristretto.NewCache(&ristretto.Config[string, *document]{NumCounters: cacheCounters, MaxCost: s.cacheMaxCost, BufferItems: 64})
	if err != nil {
		return fmt.Errorf("document cache: %w", err)
	}
	plans, err := ristretto.NewCache(&ristretto.Config[string, *planEntry]{NumCounters: cacheCounters, MaxCost: s.cacheMaxCost, BufferItems: 64})
	if err != nil {
		return fmt.Errorf("plan cache: %w", err)
	}
	// Innermost: the hooks and the coprocessor see the JSON request of a
	// fetch that carries files.
	transport = uploads.Transport(transport)
	if s.opts.Cache.Dedupe {
		transport = subgraphs.NewDedupe(transport, &s.caches.stats.FetchesShared)
	}
	transport = s.ext.wrapTransport(transport, raw)
	s.rt.Store(&runtime{sg: sg, planner: planner.New(sg), intro: executor.NewIntrospector(sg.API),
		docs: docs, plans: plans, transport: transport, cost: limits.NewCostModel(sg.Full),
		authz: auth.NewAuthorizer(sg, s.opts.Auth.Authorization), cache: newRuntimeCache(sg, s.opts.Cache)})
	// Running subscriptions whose root field is gone end (subscribe.go).
	s.streams.reloaded(sg)
	return nil
}

// Supergraph returns the supergraph being served.
func (s *Server) Supergraph() *schema.Supergraph { return s.rt.Load().sg }

// decode reads the GraphQL requests of r under the body deadline
// (Options.HTTP.ReadTimeout) and the body read budget, then lifts the
// deadline so that a long execution is not cut by it. A body that does
// not arrive in time closes the connection.
func (s *Server) decode(w http.ResponseWriter, r *http.Request) ([]request.Request, bool, error) {
	return s.decodeWith(w, r, request.Options{MaxBodyBytes: s.opts.MaxBodyBytes, AllowBatch: s.opts.AllowBatch, MaxBatch: s.opts.MaxBatch})
}

// ReadRequests implements subscriptions.Gateway: a stream request's body
// is read as a plain one's, under the body deadline and the read budget
// (before, a stream body was read with neither).
func (s *Server) ReadRequests(w http.ResponseWriter, r *http.Request, maxBytes int64) ([]request.Request, error) {
	reqs, _, err := s.decodeWith(w, r, request.Options{MaxBodyBytes: maxBytes})
	return reqs, err
}

// ReadBudget implements subscriptions.Gateway.
func (s *Server) ReadBudget() *request.Budget { return s.reading }

// decodeWith is decode with the options o (its Budget is the server's
// read budget, whatever o says).
func (s *Server) decodeWith(w http.ResponseWriter, r *http.Request, o request.Options) ([]request.Request, bool, error) {
	rc := http.NewResponseController(w)
	if t := s.opts.HTTP.ReadTimeout; t > 0 {
		_ = rc.SetReadDeadline(time.Now().Add(t))
	}
	o.Budget = s.reading
	reqs, batched, err := request.Decode(r, o)
	if err != nil && reqerr.Status(err) == http.StatusRequestTimeout {
		w.Header().Set("Connection", "close")
		return nil, false, err
	}
	_ = rc.SetReadDeadline(time.Time{})
	return reqs, batched, err
}

// responseBuffers recycles response buffers: a large response is written
// into memory that the previous one grew, not regrown from scratch.
var responseBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func getBuffer() []byte { return (*responseBuffers.Get().(*[]byte))[:0] }

func putBuffer(b []byte) {
	if cap(b) < 16<<10 || cap(b) > 4<<20 {
		return
	}
	b = b[:0]
	responseBuffers.Put(&b)
}

// responseType is the Content-Type of the answer (request.ResponseType),
// and application/graphql-response+json for a client whose Accept offers
// multipart/mixed (incremental delivery) and no JSON type (not even
// through */*): a one-body answer to it, such as the refusal of a document
// that does not validate, is in the media type GraphQL over HTTP prefers
// when it may choose (the client accepts neither), with that type's
// statuses (400, not the legacy 200). Apollo Router and Hive Gateway
// answer such a client 400 too, in a multipart body of one part.
func responseType(accept string) string {
	if request.ResponseType(accept) == request.GraphQLResponseJSON ||
		acceptsIncremental(accept) && request.Quality(accept, request.JSON) == 0 {
		return "application/graphql-response+json; charset=utf-8"
	}
	return "application/json; charset=utf-8"
}

// document parses, checks and validates query, through the cache by
// hash. beforeValidation runs between parsing and everything that costs
// more (static limits, validation), also on a cache hit, with the parsed
// document (nil when it did not parse): the GET checks refuse there, and
// then nothing is cached.
func (s *Server) document(ctx context.Context, rt *runtime, query string, hash [32]byte, beforeValidation func(*ast.QueryDocument) error) (*document, error) {
	key := string(hash[:])
	if d, ok := rt.docs.Get(key); ok {
		if err := beforeValidation(d.doc); err != nil {
			return nil, err
		}
		return d, nil
	}
	d := &document{queryBytes: int64(len(query))}
	_, span := s.startSpan(ctx, telemetry.SpanParse)
	doc, err := s.opts.Limits.Parse(query)
	span.End()
	if cerr := beforeValidation(doc); cerr != nil {
		return nil, cerr
	}
	if err == nil {
		d.opErrs, err = s.opts.Limits.CheckOperations(doc)
	}
	if err != nil {
		d.err = err
	} else {
		d.doc = doc
		_, span := s.startSpan(ctx, telemetry.SpanValidate)
		d.errs = validator.ValidateWithRules(rt.sg.API, doc, s.validationRules(query))
		// Locations as graphql-js gives them, which the reference gateways run.
		d.errs = validate.Locations(rt.sg.API, doc, d.errs)
		span.End()
		if len(d.errs) > limits.MaxValidationErrors {
			d.errs = d.errs[:limits.MaxValidationErrors]
		}
		d.conditionVars = conditionVariables(doc)
		if !s.opts.Introspection && len(d.errs) == 0 {
			d.introspects = introspectingOperations(doc)
		}
		if s.caches.responses != nil && len(d.errs) == 0 {
			// Printing the document costs as much as parsing it: not for
			// one refused as invalid, which no answer is cached for.
			d.normalized = normalizedHash(doc)
		}
	}
	// Charged by what it holds: the query and, when kept, its tree (it was
	// charged its query's length alone: a document of 1,400 fields, 4 KB,
	// held 320 KB).
	rt.docs.Set(key, d, int64(len(query))+astsize.Document(d.doc)+256)
	return d, nil
}

// plan returns the cached plan or builds it. The key holds the supergraph
// version (the cache belongs to one runtime), the document hash, the
// operation name, the values of the @skip/@include variables and the
// caller's authorization grants, so that callers who may see different
// fields never share a plan.
func (s *Server) plan(rt *runtime, hash [32]byte, d *document, op *ast.OperationDefinition, vars map[string]any, grants auth.Grants, labels map[string]bool) (*planEntry, error) {
	var key strings.Builder
	key.Write(hash[:])
	key.WriteString(op.Name)
	for _, v := range d.conditionVars {
		fmt.Fprintf(&key, "|%s=%v", v, vars[v])
	}
	for _, l := range rt.sg.OverrideLabels {
		if labels[l] {
			key.WriteString("|label=" + l)
		}
	}
	key.WriteString(grants.Key)
	k := key.String()
	if p, ok := rt.plans.Get(k); ok {
		return p, nil
	}
	norm, err := planner.Normalize(rt.sg.API, d.doc, op.Name, vars)
	if err != nil {
		return nil, &reqerr.Error{Code: "GRAPHQL_VALIDATION_FAILED", Message: limits.Clip(err.Error(), 256), Status: 400}
	}
	authorized := rt.authz.Authorize(norm, grants)
	if rej := rt.authz.Rejection(authorized); rej != nil {
		entry := &planEntry{reject: rej}
		rt.plans.Set(k, entry, 1024)
		return entry, nil
	}
	// The plan answers norm; it is built from the authorized operation and
	// renders the denied fields as null with an error.
	opts := planner.Options{Labels: labels, Budget: s.opts.PlanningBudget}
	if authorized.Plan != norm {
		opts.Authorized, opts.Denied = authorized.Plan, authorized.DeniedFields
	}
	p, err := rt.planner.Plan(norm, opts)
	if err != nil {
		// Over budget is the document's doing (400); any other failure
		// is the gateway's (the supergraph composed, so it should plan).
		status := 500
		if pe, ok := err.(*planner.Error); ok && pe.OverBudget {
			status = 400
		}
		return nil, &reqerr.Error{Code: "QUERY_PLANNING_FAILED", Message: limits.Clip(err.Error(), 256), Status: status}
	}
	entry := &planEntry{plan: p, policy: rt.cache.policy(d.doc, op)}
	// Charged by what the plan holds (1 KiB a fetch before: a 1.3 KB
	// document's plan of 370 KB was charged 7 KiB, and the cache's 64 MiB
	// held gigabytes), the query text included: the arguments and
	// variable definitions the plan keeps point into it.
	rt.plans.Set(k, entry, 1024+p.Size()+d.queryBytes)
	return entry, nil
}

// activeLabels rolls the progressive @override labels of the form
// percent(N) for one request: each is in force with probability N/100.
// Other labels are off until configured. Labels are visited in sorted
// order, so the plan cache key is deterministic.
func activeLabels(labels []string) map[string]bool {
	var on map[string]bool
	for _, l := range labels {
		var pct float64
		if _, err := fmt.Sscanf(l, "percent(%g)", &pct); err != nil {
			continue
		}
		if rand.Float64()*100 < pct {
			if on == nil {
				on = map[string]bool{}
			}
			on[l] = true
		}
	}
	return on
}

// conditionVariables lists the variables that @skip/@include read.
func conditionVariables(doc *ast.QueryDocument) []string {
	seen := map[string]bool{}
	var out []string
	var walk func(ast.SelectionSet)
	check := func(dirs ast.DirectiveList) {
		for _, d := range dirs {
			if d.Name != "skip" && d.Name != "include" && d.Name != "defer" {
				continue
			}
			if a := d.Arguments.ForName("if"); a != nil && a.Value != nil && a.Value.Kind == ast.Variable && !seen[a.Value.Raw] {
				seen[a.Value.Raw] = true
				out = append(out, a.Value.Raw)
			}
		}
	}
	walk = func(set ast.SelectionSet) {
		for _, s := range set {
			switch s := s.(type) {
			case *ast.Field:
				check(s.Directives)
				walk(s.SelectionSet)
			case *ast.InlineFragment:
				check(s.Directives)
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				check(s.Directives)
			}
		}
	}
	for _, op := range doc.Operations {
		walk(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		walk(f.SelectionSet)
	}
	return out
}
